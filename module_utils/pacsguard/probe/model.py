"""What a probe run works with: its target, its result, and the state the check families share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import tlsprobe
from ..aetitle import validate_ae_title
from ..dicomnet import Outcome, Transport
from ..findings import Finding, make_finding
from ..products import DICOM_PORT

POSITIONS = ("inside", "outside")


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
    # every other TCP port the node serves (a TLS front's local back end, a plaintext port): from an
    # outside position each must refuse TCP too (PACS-FW-001)
    other_ports: tuple[int, ...] = ()

    def validate(self) -> None:
        """Raise ProbeInputError naming the first unusable argument."""
        for name in ("called_ae_title", "calling_ae_title", "foreign_ae_title"):
            value = getattr(self, name)
            if value is None and name != "called_ae_title":
                continue
            ok, reason = validate_ae_title(value)
            if not ok:
                raise ProbeInputError(f"{name} {value!r} {reason}")
        for port in (self.port, *self.other_ports):
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise ProbeInputError(f"port {port!r} is not a TCP port (1-65535)")
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
        """Mark checks that do not apply as skipped (a check already recorded keeps its status)."""
        for name in names:
            self.checks.setdefault(name, {"status": "skipped", "detail": detail})

    def not_run(self, names: tuple[str, ...], detail: str) -> None:
        """Mark checks that could not run as errors (a check already recorded keeps its status)."""
        for name in names:
            self.checks.setdefault(name, {"status": "error", "detail": f"not run: {detail}"})

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the module result and the reports."""
        return {
            "endpoint": self.endpoint,
            "checks": self.checks,
            "findings": [f.as_dict() for f in self.findings],
            "verdict": self.verdict,
            "duration": round(self.duration, 3),
        }


class Run:
    """The state of one probe run that the check families share: the target, the result, the
    transports (plaintext, and TLS once detected), and the AE titles chosen for the checks."""

    def __init__(self, target: Target, result: Result, rogue: str) -> None:
        self.target = target
        self.result = result
        self.rogue = rogue
        self.plain = Transport(target.host, target.port, target.timeout, target.bind_address)
        self.secure = self.plain
        # the TLS 1.2 handshake of the version measurement (PACS-TLS-004 builds on it)
        self.tls12 = tlsprobe.Handshake(False, detail="not measured")
        self.calling = target.calling_ae_title
        self.foreign = target.foreign_ae_title
        try:
            self.tls_context = tlsprobe.client_context(
                target.tls_ca, target.tls_client_certificate, target.tls_client_key,
                target.tls_server_name)
        except (OSError, ValueError) as exc:
            raise ProbeInputError(f"TLS material unusable (tls_ca, tls_client_certificate, "
                                  f"tls_client_key): {exc}") from exc

    def rogue_dimse(self) -> tuple[str, ...]:
        """What the unknown AE tries once associated (C-STORE only when intrusive checks are allowed)."""
        return ("echo", "find", "store") if self.target.intrusive else ("echo", "find")

    def fingerprint(self, outcome: Outcome) -> None:
        """Keep the first implementation class UID and version name the server sent."""
        endpoint = self.result.endpoint
        if outcome.implementation_class_uid and not endpoint["implementation_class_uid"]:
            endpoint["implementation_class_uid"] = outcome.implementation_class_uid
            endpoint["implementation_version_name"] = outcome.implementation_version_name


def endpoint_skeleton(target: Target) -> dict[str, Any]:
    """The endpoint facts before anything was observed."""
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
