"""Hostile and broken servers on loopback, for proving that the probe's waits and reads are bounded.

Each answers a connection the way a tarpit, a broken implementation or an attacker's honeypot
would: too slowly, too much, or not at all after a good start. They run in this process and stop
with Server.stop(); nothing leaves loopback.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time

from pacslab import Server, serve_connections


def _read_pdu(conn: socket.socket) -> bytes:
    """One PDU from the client (header and body), or b'' when it went away."""
    header = b""
    while len(header) < 6:
        chunk = conn.recv(6 - len(header))
        if not chunk:
            return b""
        header += chunk
    length = struct.unpack(">L", header[2:6])[0]
    body = b""
    while len(body) < length:
        chunk = conn.recv(min(65536, length - len(body)))
        if not chunk:
            return b""
        body += chunk
    return header + body


def _associate_ac(request: bytes) -> bytes:
    """An A-ASSOCIATE-AC for ``request`` that accepts its first presentation context."""
    called, calling = request[10:26], request[26:42]
    items = request[74:]
    context_id = 1
    while items:
        kind, length = items[0], struct.unpack(">H", items[2:4])[0]
        if kind == 0x20:
            context_id = items[4]
            break
        items = items[4 + length:]
    app = b"\x10\x00" + struct.pack(">H", 21) + b"1.2.840.10008.3.1.1.1"
    syntax = b"1.2.840.10008.1.2"
    transfer = b"\x40\x00" + struct.pack(">H", len(syntax)) + syntax
    context = b"\x21\x00" + struct.pack(">H", 4 + len(transfer)) + bytes([context_id, 0, 0, 0]) + transfer
    max_pdu = b"\x51\x00\x00\x04" + struct.pack(">L", 16384)
    uid = b"1.2.826.0.1.3680043.9.9999"
    user = max_pdu + b"\x52\x00" + struct.pack(">H", len(uid)) + uid
    user_item = b"\x50\x00" + struct.pack(">H", len(user)) + user
    body = b"\x00\x01\x00\x00" + called + calling + bytes(32) + app + context + user_item
    return b"\x02\x00" + struct.pack(">L", len(body)) + body


def dribble_accept(conn: socket.socket, stop: threading.Event) -> None:
    """Read the A-ASSOCIATE-RQ, then send a valid A-ASSOCIATE-AC one byte per second."""
    request = _read_pdu(conn)
    for byte in _associate_ac(request) if request else b"":
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(1.0)


def huge_pdu(conn: socket.socket, stop: threading.Event) -> None:
    """Answer with an A-ASSOCIATE-AC header announcing 4 GiB, then stream zeros as fast as it can."""
    if not _read_pdu(conn):
        return
    conn.sendall(b"\x02\x00" + struct.pack(">L", 0xFFFFFFF0))
    block = bytes(65536)
    while not stop.is_set():
        conn.sendall(block)


def accept_then_silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accept the association at once, then never answer a DIMSE request (nor a release)."""
    request = _read_pdu(conn)
    if request:
        conn.sendall(_associate_ac(request))
    while not stop.is_set() and conn.recv(65536):
        pass


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Say nothing and hold the connection (after a TLS handshake when wrapped)."""
    stop.wait()


def garbage(conn: socket.socket, stop: threading.Event) -> None:
    """Answer anything with bytes that are no DICOM PDU at all."""
    conn.recv(65536)
    conn.sendall(b"\xde\xad\xbe\xef" * 64)


def http_dribble(conn: socket.socket, stop: threading.Event) -> None:
    """An HTTP server that sends its status line and headers one byte per second."""
    conn.recv(65536)
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]":
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(1.0)


def http_endless(conn: socket.socket, stop: threading.Event) -> None:
    """An HTTP 200 whose JSON body never ends."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[")
    block = b'"x",' * 16384
    while not stop.is_set():
        conn.sendall(block)


def start(name: str, tls: ssl.SSLContext | None = None) -> Server:
    """One of the servers above by its function's name, optionally behind TLS."""
    return serve_connections(name, "HOSTILE", globals()[name], tls)


def tls_server_context(certificate: str, private_key: str) -> ssl.SSLContext:
    """A TLS server context that completes handshakes with any client (no client certificate)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, private_key)
    return context
