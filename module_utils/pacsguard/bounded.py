"""Waits a hostile server cannot stretch.

Socket timeouts bound each read, not a conversation: a server that sends one byte per second, or
completes a handshake and then says nothing while the client waits for a DIMSE answer, keeps a
reader busy forever (pynetdicom's reader thread blocks in recv, and Association.kill() waits for
it). Here each network step runs in a worker thread against a deadline; the sockets it opens are
registered, and when the deadline passes they are shut down, which ends every blocked read at once
and lets the step unwind. A step that overruns is reported as such; it never hangs the caller.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()
# After its sockets are shut down, a step gets this long to unwind before it is left behind.
UNWIND_SECONDS = 2.0


class DeadlineReached(Exception):
    """The probe's overall deadline passed; no further network step may start."""


class Overrun(TimeoutError):
    """A step did not finish within its own deadline (its sockets have been shut down)."""


class Sockets:
    """The sockets one step opened (and the steps it runs in turn register here too)."""

    def __init__(self, parent: Sockets | None = None) -> None:
        self.parent = parent
        self.items: list[Any] = []
        self.notes: list[str] = []
        self.cancelled = False
        self._lock = threading.Lock()

    def add(self, item: Any) -> None:
        with self._lock:
            self.items.append(item)
            cancelled = self.cancelled
        if self.parent:
            self.parent.add(item)
        if cancelled:
            _shutdown(item)

    def note(self, text: str) -> None:
        """Why a step ended early (a cap hit), for the step's own report."""
        with self._lock:
            self.notes.append(text)
        if self.parent:
            self.parent.note(text)

    def cancel(self) -> None:
        """Shut down every registered socket now, and any registered later."""
        with self._lock:
            self.cancelled = True
            items = list(self.items)
        for item in items:
            _shutdown(item)

    def is_cancelled(self) -> bool:
        return self.cancelled or (self.parent.is_cancelled() if self.parent else False)


def current() -> Sockets | None:
    """The registry of the step running in this thread, if any."""
    return getattr(_local, "sockets", None)


def register(item: Any) -> None:
    """Put a socket under the running step's deadline."""
    registry = current()
    if registry is not None:
        registry.add(item)


def ensure_running() -> None:
    """Raise DeadlineReached when the deadline of this step or an enclosing one has passed."""
    registry = current()
    if registry is not None and registry.is_cancelled():
        raise DeadlineReached("deadline reached")


def _shutdown(item: Any) -> None:
    """End blocked reads on a socket: shutdown() wakes a thread in recv(), close() alone does not."""
    sock = getattr(item, "socket", item)
    if not isinstance(sock, socket.socket):
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def run(step: Callable[[], T], seconds: float) -> tuple[bool, T | None, list[str]]:
    """Run ``step`` for at most ``seconds``: (finished, its value, notes). An exception of the step
    is raised here; an overrun returns (False, None, notes) once its sockets are shut down."""
    registry = Sockets(current())
    box: dict[str, Any] = {}

    def work() -> None:
        _local.sockets = registry
        try:
            box["value"] = step()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="pacsguard-step", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        registry.cancel()
        worker.join(UNWIND_SECONDS)
        return False, None, registry.notes
    if "error" in box:
        raise box["error"]
    return True, box.get("value"), registry.notes


def within(step: Callable[[], T], seconds: float) -> tuple[T, list[str]]:
    """``step``'s value and notes; Overrun when it did not finish in ``seconds``, DeadlineReached
    when an enclosing deadline passed meanwhile."""
    finished, value, notes = run(step, seconds)
    if finished:
        return value, notes  # type: ignore[return-value]
    ensure_running()
    raise Overrun(f"no complete answer within {seconds:g} s")
