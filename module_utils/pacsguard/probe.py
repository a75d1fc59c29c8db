"""The probe engine: audit one DICOM endpoint the way an attacker would, and say what it found.

Every check lands in ``checks`` with a status (pass, fail, error, skipped) and a detail; every
failed check also yields a finding. A clean result needs a successful positive control (an
allowlisted AE accepted): a server that refuses everybody proves nothing, so it is inconclusive.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from . import bounded, tlsprobe, webprobe
from .aetitle import validate_ae_title
from .dicomnet import Outcome, Transport, associate
from .findings import Finding, make_finding, severity_rank
from .products import DICOM_PORT

LOG = logging.getLogger(__name__)

NET_RULES = ("PACS-NET-001", "PACS-NET-002", "PACS-NET-003", "PACS-NET-004", "PACS-NET-005",
             "PACS-NET-006")
TLS_RULES = ("PACS-TLS-001", "PACS-TLS-002", "PACS-TLS-003", "PACS-TLS-004", "PACS-TLS-005",
             "PACS-TLS-006")
WEB_RULES = ("PACS-WEB-001", "PACS-WEB-002")
POSITIONS = ("inside", "outside")
# Network checks whose waits count towards the default deadline (AE and TLS families), and the web
# checks added when a web URL is probed; see default_deadline().
NETWORK_CHECKS = 11
WEB_CHECKS = 2
DEADLINE_MARGIN = 2.0


class ProbeInputError(ValueError):
    """A probe argument is unusable; the message names it."""


@dataclass(frozen=True)
class Target:
    """One endpoint to probe and what the probe may use against it."""

    host: str
    called_ae_title: str
    port: int = DICOM_PORT
    calling_ae_title: str | None = None
    foreign_ae_title: str | None = None
    bind_address: str | None = None
    tls_ca: str | None = None
    tls_client_certificate: str | None = None
    tls_client_key: str | None = None
    tls_server_name: str | None = None
    web_url: str | None = None
    timeout: float = 5.0
    intrusive: bool = False
    position: str = "inside"
    peers: tuple[dict[str, Any], ...] = ()
    deadline: float = 0.0

    def validate(self) -> None:
        """Raise ProbeInputError naming the first unusable argument."""
        for name in ("called_ae_title", "calling_ae_title", "foreign_ae_title"):
            value = getattr(self, name)
            if value is None and name != "called_ae_title":
                continue
            ok, reason = validate_ae_title(value)
            if not ok:
                raise ProbeInputError(f"{name} {value!r} {reason}")
        if not 1 <= self.port <= 65535:
            raise ProbeInputError(f"port {self.port} is not a TCP port (1-65535)")
        if not self.timeout > 0:
            raise ProbeInputError(f"timeout {self.timeout} must be a positive number of seconds")
        if not self.deadline >= 0:
            raise ProbeInputError(f"deadline {self.deadline} must be 0 (derived) or a number of seconds")
        if self.position not in POSITIONS:
            raise ProbeInputError(f"position {self.position!r} must be one of {', '.join(POSITIONS)}")
        if bool(self.tls_client_certificate) != bool(self.tls_client_key):
            raise ProbeInputError("tls_client_certificate and tls_client_key go together")
        if self.web_url and not self.web_url.startswith(("http://", "https://")):
            raise ProbeInputError(f"web_url {self.web_url!r} must start with http:// or https://")


@dataclass
class Result:
    """What the probe observed about one endpoint."""

    endpoint: dict[str, Any]
    checks: dict[str, dict[str, str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    verdict: str = "inconclusive"
    duration: float = 0.0

    def check(self, name: str, status: str, detail: str) -> None:
        """Record one check's status and detail."""
        self.checks[name] = {"status": status, "detail": detail}

    def fail(self, rule_id: str, evidence: str, severity: str | None = None) -> None:
        """Record a failed check and its finding."""
        self.check(rule_id, "fail", evidence)
        self.findings.append(make_finding(rule_id, evidence, severity))

    def skip(self, names: tuple[str, ...], detail: str) -> None:
        """Mark checks that do not apply (or cannot run) as skipped."""
        for name in names:
            self.checks.setdefault(name, {"status": "skipped", "detail": detail})

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the module result and the reports."""
        return {
            "endpoint": self.endpoint,
            "checks": self.checks,
            "findings": [f.as_dict() for f in self.findings],
            "verdict": self.verdict,
            "duration": round(self.duration, 3),
        }


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


def default_deadline(target: Target) -> float:
    """The most a probe of ``target`` may take: ``timeout`` for each network check (11 for the AE
    and TLS families, 2 more with a web URL), plus 2 s. Each step has a bound of its own too, so one
    stalling exchange cannot use up the whole of it."""
    checks = NETWORK_CHECKS + (WEB_CHECKS if target.web_url else 0)
    return target.timeout * checks + DEADLINE_MARGIN


def probe(target: Target) -> Result:
    """Run every check against one endpoint. Never raises for network conditions, never outlives
    its deadline (Target.deadline, or default_deadline())."""
    target.validate()
    started = time.monotonic()
    result = Result(endpoint=_endpoint_skeleton(target))
    run = _Run(target, result)
    limit = target.deadline or default_deadline(target)
    try:
        finished = bounded.run(lambda: _all_checks(run), limit)[0]
    except bounded.DeadlineReached:
        finished = False
    if not finished:
        result = _stopped_at_deadline(result, limit)
    result.verdict = _verdict(result, target.position)
    result.duration = time.monotonic() - started
    LOG.debug("probe %s:%s: %s, %d finding(s) in %.3f s", target.host, target.port,
              result.verdict, len(result.findings), result.duration)
    return result


def _all_checks(run: _Run) -> None:
    if run.reach():
        run.network_checks()
    run.web_checks()
    run.firewall_check()


def _stopped_at_deadline(result: Result, limit: float) -> Result:
    """What was observed before the deadline, every check not done marked as an error."""
    for _ in range(5):
        try:
            snapshot = copy.deepcopy(result)
            break
        except RuntimeError:  # the stopped step was still writing; it is ending
            time.sleep(0.05)
    else:
        snapshot = Result(endpoint=dict(result.endpoint))
    detail = (f"the probe stopped at its deadline of {limit:g} s (the server kept an exchange "
              "open); what was observed before is kept")
    snapshot.check("deadline", "error", detail)
    for rule_id in ("reachable", "transport", "positive_control", *NET_RULES, *TLS_RULES, *WEB_RULES,
                    "PACS-FW-001"):
        snapshot.checks.setdefault(rule_id, {"status": "error", "detail": "not run: deadline reached"})
    return snapshot


def _endpoint_skeleton(target: Target) -> dict[str, Any]:
    return {
        "host": target.host,
        "port": target.port,
        "called_ae_title": target.called_ae_title,
        "position": target.position,
        "reachable": False,
        "source_address": None,
        "transport": "unknown",
        "tls": False,
        "tls_versions_accepted": [],
        "certificate": None,
        "implementation_class_uid": None,
        "implementation_version_name": None,
    }


def _verdict(result: Result, position: str) -> str:
    """fail on any finding; pass only when the run could have seen a weakness and did not."""
    if result.findings:
        return "fail"
    if position == "outside":
        return "pass"
    control = result.checks.get("positive_control", {})
    return "pass" if control.get("status") == "pass" else "inconclusive"


class _Run:
    """The state of one probe run (private): target, result, and what earlier steps learned."""

    def __init__(self, target: Target, result: Result) -> None:
        self.target = target
        self.result = result
        self.rogue = rogue_ae_title()
        self.plain = Transport(target.host, target.port, target.timeout, target.bind_address)
        self.secure = self.plain
        self.calling = target.calling_ae_title
        self.foreign = target.foreign_ae_title
        try:
            self.tls_context = tlsprobe.client_context(
                target.tls_ca, target.tls_client_certificate, target.tls_client_key,
                target.tls_server_name)
        except (OSError, ValueError) as exc:
            raise ProbeInputError(f"TLS material unusable (tls_ca, tls_client_certificate, "
                                  f"tls_client_key): {exc}") from exc

    # -- reachability and transport -------------------------------------------------------
    def reach(self) -> bool:
        """TCP connect to the DICOM port; records the source address the host sees."""
        t = self.target
        try:
            with tlsprobe.connect(t.host, t.port, t.timeout, t.bind_address) as sock:
                source = sock.getsockname()[0]
        except OSError as exc:
            detail = f"TCP connect to {t.host}:{t.port} failed: {_oserror_text(exc)}"
            self.result.check("reachable", "error" if t.position == "inside" else "pass", detail)
            self.result.skip(("positive_control", *NET_RULES, *TLS_RULES), "DICOM port unreachable")
            return False
        self.result.endpoint["reachable"] = True
        self.result.endpoint["source_address"] = source
        chosen = choose_controls(t.peers, source)
        self.calling = self.calling or chosen[0]
        self.foreign = self.foreign or chosen[1]
        self.result.check("reachable", "pass", f"TCP connect to {t.host}:{t.port} succeeded")
        return True

    def network_checks(self) -> None:
        """Decide the transport, then run the TLS and AE-title checks over it."""
        rogue_plain = associate(self.plain, self.rogue, self.target.called_ae_title,
                                self._rogue_dimse())
        if rogue_plain.answered:
            self._plaintext_endpoint(rogue_plain)
            self._ae_checks(rogue_plain)
            return
        detection = self._handshake()
        if not detection.accepted:
            detail = (f"the port answered neither DICOM ({rogue_plain.detail}) nor TLS "
                      f"({detection.detail})")
            self.result.check("transport", "error", detail)
            for name in ("positive_control", *NET_RULES, *TLS_RULES):
                self.result.checks.setdefault(name, {"status": "error", "detail": f"not run: {detail}"})
            return
        self._tls_endpoint(rogue_plain, detection)
        rogue = associate(self.secure, self.rogue, self.target.called_ae_title, self._rogue_dimse())
        self._ae_checks(rogue)

    def _rogue_dimse(self) -> tuple[str, ...]:
        return ("echo", "find", "store") if self.target.intrusive else ("echo", "find")

    def _plaintext_endpoint(self, rogue_plain: Outcome) -> None:
        ep = self.result.endpoint
        ep["transport"] = "plaintext"
        self._fingerprint(rogue_plain)
        self.result.check("transport", "pass", "plaintext DICOM")
        if rogue_plain.kind == "accepted":
            evidence = f"{rogue_plain.evidence()} over plaintext TCP"
        else:
            evidence = f"the port negotiates DICOM in plaintext: {rogue_plain.evidence()}"
        self.result.fail("PACS-TLS-001", evidence)
        self.result.skip(TLS_RULES, "the port speaks plaintext DICOM, not TLS")

    def _tls_endpoint(self, rogue_plain: Outcome, detection: tlsprobe.Handshake) -> None:
        t, ep = self.target, self.result.endpoint
        ep["transport"], ep["tls"] = "tls", True
        self.result.check("transport", "pass", "DICOM over TLS")
        self.result.check("PACS-TLS-001", "pass",
                          f"plaintext A-ASSOCIATE-RQ got no DICOM answer ({rogue_plain.detail})")
        self._tls_versions()
        self._tls_suites()
        self._tls_certificate(detection)
        self._tls_client_auth()
        self.secure = Transport(t.host, t.port, t.timeout, t.bind_address, self.tls_context,
                                t.tls_server_name)

    def _fingerprint(self, outcome: Outcome) -> None:
        ep = self.result.endpoint
        if outcome.implementation_class_uid and not ep["implementation_class_uid"]:
            ep["implementation_class_uid"] = outcome.implementation_class_uid
            ep["implementation_version_name"] = outcome.implementation_version_name

    # -- TLS ------------------------------------------------------------------------------
    def _handshake(self, version: Any = None, ciphers: str | None = None) -> tlsprobe.Handshake:
        t = self.target
        identity = (t.tls_client_certificate, t.tls_client_key) if t.tls_client_certificate else None
        return tlsprobe.handshake(t.host, t.port, t.timeout, t.bind_address, version, ciphers,
                                  identity)

    def _tls_versions(self) -> None:
        accepted = [
            name for name, version in tlsprobe.TLS_VERSIONS.items()
            if self._handshake(version).accepted
        ]
        self.result.endpoint["tls_versions_accepted"] = accepted
        legacy = [v for v in accepted if v in ("TLSv1.0", "TLSv1.1")]
        if legacy:
            self.result.fail("PACS-TLS-002", f"TLS handshake completed with {' and '.join(legacy)}")
        else:
            self.result.check("PACS-TLS-002", "pass", f"accepted: {', '.join(accepted) or 'none'}")

    def _tls_suites(self) -> None:
        if "TLSv1.2" not in self.result.endpoint["tls_versions_accepted"]:
            self.result.check("PACS-TLS-004", "pass", "TLS 1.2 not accepted; TLS 1.3 suites are AEAD")
            return
        shake = self._handshake(tlsprobe.TLS_VERSIONS["TLSv1.2"], tlsprobe.NON_BCP195_CIPHER_STRING)
        if shake.accepted:
            suite = shake.cipher or "a suite"
            self.result.fail("PACS-TLS-004",
                             f"TLS 1.2 handshake agreed on {suite} with only non-BCP 195 suites offered")
        else:
            self.result.check("PACS-TLS-004", "pass",
                              f"TLS 1.2 with only non-BCP 195 suites offered refused ({shake.detail})")

    def _tls_certificate(self, detection: tlsprobe.Handshake) -> None:
        if not detection.certificate_der:
            self.result.check("PACS-TLS-005", "error",
                              "server certificate not obtained: the server ends TLS 1.2 handshakes "
                              f"without a trusted client certificate ({detection.detail})")
            return
        facts = tlsprobe.certificate_facts(detection.certificate_der)
        self.result.endpoint["certificate"] = facts
        problems = tlsprobe.certificate_weaknesses(facts)
        if problems:
            worst = max((sev for sev, _ in problems), key=severity_rank)
            self.result.fail("PACS-TLS-005", "server certificate: " + "; ".join(p for _, p in problems),
                             worst)
        else:
            self.result.check("PACS-TLS-005", "pass",
                              f"{facts['key_type']} {facts['key_bits']} bits, {facts['signature_hash']}, "
                              f"{facts['days_left']} days left, CA-issued")

    def _tls_client_auth(self) -> None:
        """PACS-TLS-003 (no client certificate) and PACS-TLS-006 (untrusted client certificate)."""
        t = self.target
        calling = self.calling or self.rogue
        bare = tlsprobe.client_context(t.tls_ca, server_name=t.tls_server_name)
        ident = tlsprobe.throwaway_identity()
        untrusted = tlsprobe.client_context(t.tls_ca, ident.certificate, ident.private_key,
                                            t.tls_server_name)
        for rule_id, context, what in (
            ("PACS-TLS-003", bare, "without a client certificate"),
            ("PACS-TLS-006", untrusted, "with a self-signed client certificate no CA vouches for"),
        ):
            transport = Transport(t.host, t.port, t.timeout, t.bind_address, context, t.tls_server_name)
            outcome = associate(transport, calling, t.called_ae_title)
            self._fingerprint(outcome)
            if outcome.answered:
                self.result.fail(rule_id, f"TLS session {what}: {outcome.evidence()}")
            else:
                self.result.check(rule_id, "pass", f"TLS session {what} refused ({outcome.detail})")

    # -- AE titles -----------------------------------------------------------------------
    def _ae_checks(self, rogue: Outcome) -> None:
        """Positive control, then the rogue, wrong-called and foreign AE checks (PACS-NET-*)."""
        t = self.target
        self._fingerprint(rogue)
        control = None
        if self.calling:
            control = associate(self.secure, self.calling, t.called_ae_title)
            self._fingerprint(control)
            status = "pass" if control.kind == "accepted" else "error"
            self.result.check("positive_control", status, control.evidence())
        else:
            self.result.check("positive_control", "skipped",
                              "no calling AE given or found among the peers at the probe's "
                              "address: refusals prove nothing")
        self._rogue_checks(rogue)
        self._called_ae_check(control, rogue)
        self._foreign_ae_check()

    def _rogue_checks(self, rogue: Outcome) -> None:
        if rogue.kind != "accepted":
            status = "pass" if rogue.kind == "rejected" else "error"
            for rule_id in ("PACS-NET-001", "PACS-NET-003", "PACS-NET-004", "PACS-NET-005"):
                self.result.check(rule_id, status, rogue.evidence())
            if not self.target.intrusive:
                self.result.check("PACS-NET-005", "skipped", "intrusive checks not allowed")
            return
        self.result.fail("PACS-NET-001", rogue.evidence())
        echo, find = rogue.dimse.get("echo"), rogue.dimse.get("find")
        if echo and echo["allowed"]:
            self.result.fail("PACS-NET-004", f"C-ECHO from {rogue.calling_ae} answered {echo['status']}")
        elif echo:
            self.result.check("PACS-NET-004", "pass", f"C-ECHO refused: {echo['status']}")
        if find and find["allowed"]:
            self.result.fail("PACS-NET-003", f"C-FIND (Study Root, STUDY level) from {rogue.calling_ae}"
                                             f" answered with {find['matches']} matching studies")
        elif find:
            self.result.check("PACS-NET-003", "pass", f"C-FIND refused: {find['status']}")
        store = rogue.dimse.get("store")
        if store and store["allowed"]:
            self.result.fail("PACS-NET-005", f"C-STORE of a synthetic probe object from "
                                             f"{rogue.calling_ae} answered {store['status']}")
        elif store:
            self.result.check("PACS-NET-005", "pass", f"C-STORE refused: {store['status']}")
        else:
            self.result.check("PACS-NET-005", "skipped", "intrusive checks not allowed")

    def _called_ae_check(self, control: Outcome | None, rogue: Outcome) -> None:
        if control is not None and control.kind == "accepted":
            calling = self.calling
        elif rogue.kind == "accepted":
            calling = rogue.calling_ae
        else:
            self.result.check("PACS-NET-002", "skipped",
                              "needs a calling AE the node accepts (calling_ae_title)")
            return
        wrong = "PGWRONG" + secrets.token_hex(4).upper()
        outcome = associate(self.secure, calling, wrong)
        if outcome.kind == "accepted":
            self.result.fail("PACS-NET-002", outcome.evidence())
        else:
            self.result.check("PACS-NET-002", "pass" if outcome.answered else "error",
                              outcome.evidence())

    def _foreign_ae_check(self) -> None:
        t = self.target
        if not self.foreign:
            self.result.check("PACS-NET-006", "skipped",
                              "no foreign AE (an allowlisted AE of another address) given or found")
            return
        outcome = associate(self.secure, self.foreign, t.called_ae_title)
        source = self.result.endpoint["source_address"]
        if outcome.kind == "accepted":
            self.result.fail("PACS-NET-006", f"{outcome.evidence()} from {source}")
        else:
            self.result.check("PACS-NET-006", "pass" if outcome.answered else "error",
                              f"{outcome.evidence()} from {source}")

    # -- web and firewall -----------------------------------------------------------------
    def web_checks(self) -> None:
        t = self.target
        if not t.web_url:
            self.result.skip(WEB_RULES, "no web_url given")
            return
        web = webprobe.inspect(t.web_url, t.timeout, t.bind_address)
        self.result.endpoint["web"] = web.summary()
        for rule_id, status, detail in web.verdicts():
            if status == "fail":
                self.result.fail(rule_id, detail)
            else:
                self.result.check(rule_id, status, detail)

    def firewall_check(self) -> None:
        t = self.target
        if t.position != "outside":
            self.result.skip(("PACS-FW-001",), "probe runs from an allowed position")
            return
        open_ports = []
        if self.result.endpoint["reachable"]:
            open_ports.append(f"DICOM {t.host}:{t.port}")
        web = self.result.endpoint.get("web")
        if web and web.get("reachable"):
            open_ports.append(f"web {web['host']}:{web['port']}")
        if open_ports:
            self.result.fail("PACS-FW-001", "TCP connect from an outside position succeeded to "
                                            + " and ".join(open_ports))
        else:
            self.result.check("PACS-FW-001", "pass", "no PACS port answered from an outside position")


def _oserror_text(exc: OSError) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    return exc.strerror or exc.__class__.__name__
