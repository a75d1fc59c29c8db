"""Position checks (PACS-FW-001): what answers at all, and from where. From an allowed position the
DICOM port must be reachable; from an outside one, no PACS port may answer.
"""

from __future__ import annotations

import socket

from .. import tlsprobe
from .association import choose_controls
from .model import Run

RULES = ("PACS-FW-001",)


def reach(run: Run) -> bool:
    """TCP connect to the DICOM port; records the source address the host sees and chooses the
    control and foreign AE titles from the peers by it."""
    target, result = run.target, run.result
    try:
        with tlsprobe.connect(target.host, target.port, target.timeout, target.bind_address) as sock:
            source = sock.getsockname()[0]
    except OSError as exc:
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
    """PACS-FW-001 from an outside position: any open DICOM or web port is a finding."""
    target, result = run.target, run.result
    if target.position != "outside":
        result.skip(RULES, "probe runs from an allowed position")
        return
    open_ports = []
    if result.endpoint["reachable"]:
        open_ports.append(f"DICOM {target.host}:{target.port}")
    web = result.endpoint.get("web")
    if web and web.get("reachable"):
        open_ports.append(f"web {web['host']}:{web['port']}")
    if open_ports:
        result.fail("PACS-FW-001", "TCP connect from an outside position succeeded to "
                                   + " and ".join(open_ports))
    else:
        result.check("PACS-FW-001", "pass", "no PACS port answered from an outside position")


def _oserror_text(exc: OSError) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return exc.strerror or exc.__class__.__name__
