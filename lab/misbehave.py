"""A relay that puts a real server's ports behind one misbehaving connection.

Every connection to the relay's ports is numbered in arrival order (over all its ports) and piped
to the real server, except connection number ``step``, which gets ``mode`` instead: the server
accepts TCP and then resets, sends a TLS alert, stalls, floods, or answers garbage. Run once with
no mode, the relay counts the connections a probe makes; run with each mode at each step, it shows
what the probe concludes when exactly one of its exchanges goes wrong. Loopback only.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field

MODES = ("reset", "alert", "stall", "flood", "garbage")
# A fatal TLS alert (handshake_failure) in a TLS 1.2 record.
TLS_ALERT = b"\x15\x03\x03\x00\x02\x02\x28"
# What "too much" sends: more than any read cap of the probe, in chunks, until the client goes.
FLOOD_BYTES = 24 * 2**20
GARBAGE = bytes(range(7, 71))


@dataclass
class Relay:
    """Listening ports (one per backend port) and what happened on them."""

    backends: dict[str, tuple[str, int]]
    mode: str | None = None
    step: int = -1
    ports: dict[str, int] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # the backend name of each connection, in order
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sockets: list[socket.socket] = field(default_factory=list)

    def start(self) -> Relay:
        for name, backend in self.backends.items():
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            listener.settimeout(0.2)
            self._sockets.append(listener)
            self.ports[name] = listener.getsockname()[1]
            threading.Thread(target=self._accept, args=(listener, name, backend), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self, listener: socket.socket, name: str, backend: tuple[str, int]) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with self._lock:
                index = len(self.seen)
                self.seen.append(name)
                self._sockets.append(conn)
            bad = self.mode if index == self.step else None
            threading.Thread(target=self._serve, args=(conn, backend, bad), daemon=True).start()

    def _serve(self, conn: socket.socket, backend: tuple[str, int], bad: str | None) -> None:
        with contextlib.suppress(OSError):
            if bad is None:
                _pipe(conn, backend, self._stop)
            else:
                _MISBEHAVIOURS[bad](conn, self._stop)
        with contextlib.suppress(OSError):
            conn.close()


def _pipe(conn: socket.socket, backend: tuple[str, int], stop: threading.Event) -> None:
    """Copy both ways until either side ends."""
    upstream = socket.create_connection(backend, timeout=5)

    def copy(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=copy, args=(upstream, conn), daemon=True)
    other.start()
    copy(conn, upstream)
    other.join(10)
    upstream.close()


def _reset(conn: socket.socket, stop: threading.Event) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _alert(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(2)
    with contextlib.suppress(OSError):
        conn.recv(65536)
    conn.sendall(TLS_ALERT)


def _stall(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)


def _flood(conn: socket.socket, stop: threading.Event) -> None:
    chunk = b"A" * 65536
    sent = 0
    while sent < FLOOD_BYTES and not stop.is_set():
        conn.sendall(chunk)
        sent += len(chunk)


def _garbage(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(2)
    with contextlib.suppress(OSError):
        conn.recv(65536)
    conn.sendall(GARBAGE)


_MISBEHAVIOURS = {"reset": _reset, "alert": _alert, "stall": _stall, "flood": _flood, "garbage": _garbage}
