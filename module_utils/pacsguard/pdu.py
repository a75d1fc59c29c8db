"""The few upper-layer PDUs the association-level checks need, built and read by hand (PS3.8 9.3).

An association attempt that sends no DIMSE request needs four PDUs: A-ASSOCIATE-RQ out, then
A-ASSOCIATE-AC, -RJ or A-ABORT back, and A-RELEASE-RQ/-RP after an acceptance. Speaking them over a
plain socket costs a fraction of a pynetdicom association (two polling threads per attempt), which
is what a probe of many endpoints and a discovery sweep spend their time on. Nothing here imports
Ansible or pynetdicom; what a server sends is read within bounds and kept only in the shape its
standard gives it.
"""

# socket.timeout is TimeoutError from Python 3.10 only; a vantage may run an older Python.
# ruff: noqa: UP041

from __future__ import annotations

import socket
import struct
import time

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
VERIFICATION = b"1.2.840.10008.1.1"
IMPLICIT_LE = b"1.2.840.10008.1.2"
# What pacsguard says of itself in its requests (PS3.7 D.3.3.2): a UID derived from a UUID (PS3.5
# B.2, root 2.25), pacsguard having no registered root of its own; each caller names its version.
IMPLEMENTATION_CLASS_UID = b"2.25.21322896970704297046273184704471849815"
# The largest PDU pacsguard asks to receive (PS3.8 D.1, maximum length sub-item).
MAX_RECEIVE = 16384
# PDU types (PS3.8 9.3.1)
ASSOCIATE_AC, ASSOCIATE_RJ, RELEASE_RP, ABORT = 0x02, 0x03, 0x06, 0x07
HEADER = struct.Struct(">BBI")
RELEASE_RQ = HEADER.pack(0x05, 0, 4) + bytes(4)
ABORT_RQ = HEADER.pack(0x07, 0, 4) + bytes(4)
UID_CHARS = "0123456789."
NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._- "


# Linux only (elsewhere a server's split writes cost the delayed acknowledgement).
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


# What an association that asks for nothing once accepted proposes.
VERIFICATION_ONLY = ((VERIFICATION, (IMPLICIT_LE,)),)


def associate_rq(called: str, calling: str, version: bytes,
                 contexts: tuple[tuple[bytes, tuple[bytes, ...]], ...] = VERIFICATION_ONLY) -> bytes:
    """An A-ASSOCIATE-RQ (PS3.8 9.3.2) proposing ``contexts`` (abstract syntax, transfer syntaxes),
    with context IDs 1, 3, 5 ... in their order; ``version`` is the implementation version name (at
    most 16 characters)."""
    context = b"".join(
        _item(0x20, bytes([2 * index + 1, 0, 0, 0]) + _item(0x30, abstract)
              + b"".join(_item(0x40, syntax) for syntax in syntaxes))
        for index, (abstract, syntaxes) in enumerate(contexts))
    user = _item(0x50, _item(0x51, struct.pack(">I", MAX_RECEIVE)) + _item(0x52, IMPLEMENTATION_CLASS_UID)
                 + _item(0x55, version))
    body = (struct.pack(">HH", 1, 0) + called.ljust(16).encode("ascii") + calling.ljust(16).encode("ascii")
            + bytes(32) + _item(0x10, APPLICATION_CONTEXT) + context + user)
    return HEADER.pack(0x01, 0, len(body)) + body


def items(data: bytes) -> list[tuple[int, bytes]]:
    """Variable items (type, value) of a PDU body or a user-information item; stops at a truncation."""
    found, offset = [], 0
    while offset + 4 <= len(data):
        kind, _reserved, length = struct.unpack_from(">BBH", data, offset)
        found.append((kind, data[offset + 4:offset + 4 + length]))
        offset += 4 + length
    return found


def server_text(value: bytes | str, allowed: str, limit: int) -> str | None:
    """A value the server chose, kept only as the standard shapes it (a UID: digits and dots, at most
    64; a version name: at most 16 characters, PS3.7 D.3.3.2), else None. It can land in an
    inventory written for Ansible, where a brace could be read as a template."""
    text = value.rstrip(b"\x00 ").decode("ascii", "replace") if isinstance(value, bytes) else value.strip()
    return text if 0 < len(text) <= limit and all(c in allowed for c in text) else None


def read_accept(body: bytes) -> tuple[str | None, str | None, bool]:
    """(implementation class UID, implementation version name, whether a presentation context was
    accepted) of an A-ASSOCIATE-AC body (PS3.8 9.3.3: variable items from byte 68 of the body)."""
    uid = version = None
    accepted = False
    for kind, value in items(body[68:]):
        if kind == 0x21 and len(value) >= 3:
            accepted = accepted or value[2] == 0
        elif kind == 0x50:
            for sub, subvalue in items(value):
                if sub == 0x52:
                    uid = server_text(subvalue, UID_CHARS, 64)
                elif sub == 0x55:
                    version = server_text(subvalue, NAME_CHARS, 16)
    return uid, version, accepted


def accepted_contexts(body: bytes) -> dict[int, bytes]:
    """Context ID to transfer syntax of each presentation context an A-ASSOCIATE-AC body accepted
    (result 0, PS3.8 9.3.3.2)."""
    accepted = {}
    for kind, value in items(body[68:]):
        if kind == 0x21 and len(value) >= 4 and value[2] == 0:
            syntax = next((sub for code, sub in items(value[4:]) if code == 0x40), b"")
            accepted[value[0]] = syntax.rstrip(b"\x00 ")
    return accepted


def read_reject(body: bytes) -> tuple[int, int, int] | None:
    """(result, source, reason) of an A-ASSOCIATE-RJ body (PS3.8 9.3.4), None when it is truncated."""
    return (body[1], body[2], body[3]) if len(body) >= 4 else None


def recv_exactly(conn: socket.socket, count: int, deadline: float) -> bytes:
    """``count`` bytes from a blocking socket by ``deadline`` (time.monotonic()), however slowly
    the server trickles them: socket.timeout when they are not all there in time, ConnectionError
    when the connection closes first."""
    data = bytearray()
    while len(data) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("the answer was not complete in time")
        conn.settimeout(left)
        if _QUICKACK is not None:
            # acknowledge at once: a server that writes a PDU in two parts (DCMTK) otherwise waits
            # for this side's delayed acknowledgement (about 40 ms) before the second
            conn.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        chunk = conn.recv(min(count - len(data), 65536))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)
