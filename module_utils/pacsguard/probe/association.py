"""Association and AE-title checks (PACS-NET-*): does the node admit only the AE titles its policy
lists, from their own addresses, called by its own AE title, with the services they were granted?
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from ..dicomnet import Outcome, associate
from ..findings import family
from ..products import PEER_DEFAULTS, SERVICES
from .model import Run

RULES = family("PACS-NET")
# The DIMSE check that asks for each service a peer may be granted, without reading or moving data
# (store only when intrusive checks are allowed: it leaves a probe object in the archive).
_SERVICE_CHECKS = {"echo": "echo", "find": "find_none", "get": "get", "move": "move",
                   "find_worklist": "find_worklist", "store": "store"}
# The most requests the least-privilege check makes (one per service but store), for deadlines.
LEAST_PRIVILEGE_CHECKS = len(SERVICES) - 1
# What an unknown AE's refusal answers at once (its association was refused).
_ROGUE_RULES = ("PACS-NET-001", "PACS-NET-003", "PACS-NET-004", "PACS-NET-005")


def choose_controls(
    peers: tuple[dict[str, Any], ...], source_address: str
) -> tuple[str | None, str | None]:
    """Pick the positive-control AE and the foreign AE from the policy's peer list.

    The control is the first peer whose address (an IP or a network) holds the probe's source
    address; the foreign AE is the first peer whose address does not. Either may be None.
    """
    try:
        source = ipaddress.ip_address(source_address)
    except ValueError:
        return None, None
    calling = foreign = None
    for peer in peers:
        try:
            network = ipaddress.ip_network(str(peer.get("address", "")), strict=False)
        except ValueError:
            continue
        title = peer.get("ae_title")
        if source in network:
            calling = calling or title
        else:
            foreign = foreign or title
    return calling, foreign


def rogue_ae_title() -> str:
    """A calling AE title no allowlist holds: PGROGUE plus 8 random hex digits (15 chars)."""
    return "PGROGUE" + secrets.token_hex(4).upper()


def check(run: Run, rogue: Outcome) -> None:
    """Positive control, then the rogue, wrong-called and foreign AE checks."""
    target = run.target
    run.fingerprint(rogue)
    control = None
    ungranted = _ungranted(run)
    if run.calling:
        # the least-privilege requests (PACS-NET-007) ride on the control's own association
        asks = tuple(_SERVICE_CHECKS[s] for s in ungranted[0]) if isinstance(ungranted, tuple) else ()
        control = associate(run.secure, run.calling, target.called_ae_title, asks)
        run.fingerprint(control)
        status = "pass" if control.kind == "accepted" else "error"
        run.result.check("positive_control", status, control.evidence())
    else:
        run.result.check("positive_control", "skipped",
                         "no calling AE given or found among the peers at the probe's "
                         "address: refusals prove nothing")
    _rogue(run, rogue)
    _called_ae(run, control, rogue)
    _foreign_ae(run)
    _least_privilege(run, control, ungranted)


def _rogue(run: Run, rogue: Outcome) -> None:
    """PACS-NET-001 (unknown AE accepted), -004 (C-ECHO), -003 (C-FIND), -005 (C-STORE)."""
    result = run.result
    if rogue.kind != "accepted":
        status = "pass" if rogue.kind == "rejected" else "error"
        for rule_id in _ROGUE_RULES:
            result.check(rule_id, status, rogue.evidence())
        if not run.target.intrusive:
            result.check("PACS-NET-005", "skipped", "intrusive checks not allowed")
        return
    result.fail("PACS-NET-001", rogue.evidence())
    echo, find, store = (rogue.dimse.get(name) for name in ("echo", "find", "store"))
    if echo and echo["allowed"]:
        result.fail("PACS-NET-004", f"C-ECHO from {rogue.calling_ae} answered {echo['status']}")
    elif echo:
        result.check("PACS-NET-004", "pass", f"C-ECHO refused: {echo['status']}")
    if find and find["allowed"]:
        result.fail("PACS-NET-003", f"C-FIND (Study Root, STUDY level) from {rogue.calling_ae}"
                                    f" answered with {find['matches']} matching studies")
    elif find:
        result.check("PACS-NET-003", "pass", f"C-FIND refused: {find['status']}")
    if store and store["allowed"]:
        result.fail("PACS-NET-005", f"C-STORE of a synthetic probe object from "
                                    f"{rogue.calling_ae} answered {store['status']}")
    elif store:
        result.check("PACS-NET-005", "pass", f"C-STORE refused: {store['status']}")
    else:
        result.check("PACS-NET-005", "skipped", "intrusive checks not allowed")


def _called_ae(run: Run, control: Outcome | None, rogue: Outcome) -> None:
    """PACS-NET-002: an AE the node accepts, calling a wrong called AE title."""
    if control is not None and control.kind == "accepted":
        calling = run.calling
    elif rogue.kind == "accepted":
        calling = rogue.calling_ae
    else:
        run.result.check("PACS-NET-002", "skipped",
                         "needs a calling AE the node accepts (calling_ae_title)")
        return
    wrong = "PGWRONG" + secrets.token_hex(4).upper()
    outcome = associate(run.secure, str(calling), wrong)
    if outcome.kind == "accepted":
        run.result.fail("PACS-NET-002", outcome.evidence())
    else:
        run.result.check("PACS-NET-002", "pass" if outcome.answered else "error", outcome.evidence())


def _foreign_ae(run: Run) -> None:
    """PACS-NET-006: an allowlisted AE title of another address, used from here."""
    if not run.foreign:
        run.result.check("PACS-NET-006", "skipped",
                         "no foreign AE (an allowlisted AE of another address) given or found")
        return
    outcome = associate(run.secure, run.foreign, run.target.called_ae_title)
    source = run.result.endpoint["source_address"]
    if outcome.kind == "accepted":
        run.result.fail("PACS-NET-006", f"{outcome.evidence()} from {source}")
    else:
        run.result.check("PACS-NET-006", "pass" if outcome.answered else "error",
                         f"{outcome.evidence()} from {source}")


def _ungranted(run: Run) -> tuple[list[str], set[str]] | str:
    """The services the policy does not grant the peer at the probe's position, to ask for (C-STORE
    only when intrusive), and those it grants; or why there is nothing to ask."""
    peer = next((p for p in run.target.peers if p.get("ae_title") == run.calling), None)
    if not run.calling or peer is None:
        return f"the services granted to {run.calling} are not known (give the policy's peers)"
    granted = set(peer.get("services", PEER_DEFAULTS["services"]))
    return [s for s in SERVICES if s not in granted and (s != "store" or run.target.intrusive)], granted


def _least_privilege(run: Run, control: Outcome | None, ungranted: tuple[list[str], set[str]] | str) -> None:
    """PACS-NET-007: the services the policy does not grant the peer at the probe's position, each
    asked for once under that peer's AE title on the control's association (a no-match request:
    nothing is read or moved)."""
    if control is None or control.kind != "accepted":
        run.result.check("PACS-NET-007", "skipped",
                         "needs a listed peer at the probe's address that the node accepts")
        return
    if isinstance(ungranted, str):
        run.result.check("PACS-NET-007", "skipped", ungranted)
        return
    others, granted = ungranted
    if not others:
        run.result.check("PACS-NET-007", "pass", f"{run.calling} is granted every service tried")
        return
    answers = {s: control.dimse.get(_SERVICE_CHECKS[s], {}) for s in others}
    allowed = [s for s, answer in answers.items() if answer.get("allowed")]
    summary = "; ".join(f"{s}: {answers[s].get('status', control.detail)}" for s in others)
    where = f"{run.calling} (granted {', '.join(sorted(granted)) or 'nothing'})"
    if allowed:
        run.result.fail("PACS-NET-007", f"{where} may use {', '.join(allowed)} though the policy does "
                                        f"not grant it ({summary})")
    else:
        run.result.check("PACS-NET-007", "pass", f"{where} refused every other service ({summary})")
