"""Position checks (PACS-FW-001): what answers at all, and from where. From an allowed position the
DICOM port must be reachable; from an outside one, no PACS port may answer.
"""

from __future__ import annotations

import socket

from .. import tlsprobe
from ..findings import family
from .association import choose_controls
from .model import Run

RULES = family("PACS-FW")


def reach(run: Run) -> bool:
    """TCP connect to the DICOM port; records the source address the host sees and chooses the
    control and foreign AE titles from the peers by it."""
    target, result = run.target, run.result
    try:
        with tlsprobe.connect(target.host, target.port, target.timeout, target.bind_address) as sock:
            source = sock.getsockname()[0]
    except OSError as exc:
        if not tlsprobe.closed_port(exc):
            # it accepted TCP, then dropped it: open, and the checks that follow judge what it does
            result.endpoint["reachable"] = True
            result.check("reachable", "pass", f"TCP connect to {target.host}:{target.port} was accepted, "
                                              f"then {_oserror_text(exc)}")
            return True
        detail = f"TCP connect to {target.host}:{target.port} failed: {_oserror_text(exc)}"
        result.check("reachable", "error" if target.position == "inside" else "pass", detail)
        return False
    result.endpoint["reachable"] = True
    result.endpoint["source_address"] = source
    chosen = choose_controls(target.peers, source)
    run.calling = run.calling or chosen[0]
    run.foreign = run.foreign or chosen[1]
    result.check("reachable", "pass", f"TCP connect to {target.host}:{target.port} succeeded")
    return True


def check(run: Run) -> None:
    """PACS-FW-001 from an outside position: a TCP connection to any port the node serves (its DICOM
    port, its web port, every other port given, such as a TLS front's local back end) is a finding;
    only a refused or unanswered connection counts as closed."""
    target, result = run.target, run.result
    if target.position != "outside":
        result.skip(RULES, "probe runs from an allowed position")
        return
    ports = {target.port: "DICOM"}
    web = result.endpoint.get("web")
    if web:
        ports.setdefault(int(web["port"]), "web")
    for port in target.other_ports:
        ports.setdefault(int(port), "other")
    opened, closed = [], []
    for port, what in ports.items():
        if what == "DICOM" and "reachable" in result.checks:
            is_open = bool(result.endpoint["reachable"])
            why = result.checks["reachable"]["detail"]
        elif what == "web" and web is not None:
            is_open, why = bool(web["reachable"]), f"web port: {web.get('error', '')}"
        else:
            is_open, why = _connects(run, port)
        (opened if is_open else closed).append(f"{what} {target.host}:{port}" + ("" if is_open else
                                                                                 f" ({why})"))
    if opened:
        result.fail("PACS-FW-001",
                    "TCP connect from an outside position succeeded to " + " and ".join(opened))
    else:
        result.check("PACS-FW-001", "pass", "no port of the node accepted TCP from an outside position: "
                                            + "; ".join(closed))


def _connects(run: Run, port: int) -> tuple[bool, str]:
    """Whether a TCP connection to ``port`` succeeds, and why not."""
    target = run.target
    try:
        with tlsprobe.connect(target.host, port, target.timeout, target.bind_address):
            return True, "connected"
    except OSError as exc:
        return not tlsprobe.closed_port(exc), _oserror_text(exc)


def _oserror_text(exc: OSError) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return exc.strerror or exc.__class__.__name__
