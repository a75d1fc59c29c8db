"""What the configuration audit works with: the node read from the host, and the checks it records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..findings import HOST_FAMILIES, Finding, family, make_finding, severity_rank
from ..service import RULE as SERVICE_RULE
from .host import Host, Unit

# Every rule of the configuration audit, in report order (PACS-CFG-014 is pacs_service_state's).
RULE_IDS: tuple[str, ...] = tuple(rule for prefix in HOST_FAMILIES for rule in family(prefix)
                                  if rule != SERVICE_RULE)


class Unreadable(Exception):
    """A file a rule needs could not be read or parsed; the message names the file (and line)."""


class Skipped(Exception):
    """A rule does not apply here; the message says why."""


@dataclass
class Front:
    """A TLS front before the product (pacsguard's stunnel service, or another stunnel unit)."""

    unit: Unit
    config_path: str
    settings: dict[str, str] = field(default_factory=dict)  # global options
    services: dict[str, dict[str, str]] = field(default_factory=dict)
    error: str = ""


@dataclass
class Node:
    """One PACS product on the host as the audit found it."""

    host: Host
    product: str
    version: str = ""
    unit: Unit | None = None
    user: str = "root"
    group: str = ""
    config_paths: list[str] = field(default_factory=list)
    config: Any = None  # the product's parsed configuration (per product)
    config_error: str = ""
    front: Front | None = None
    peers: list[dict[str, Any]] | None = None
    ae_title: str = ""

    def need_config(self) -> Any:
        """The parsed configuration, or Unreadable with the reason (rules that need it error)."""
        if self.config_error:
            raise Unreadable(self.config_error)
        return self.config


@dataclass
class Audit:
    """Checks (every rule: pass, fail, error or skipped) and one finding per failed rule."""

    checks: dict[str, dict[str, str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def record(self, rule_id: str, problems: list[tuple[str, str | None]], ok: str) -> None:
        """Pass with ``ok`` when there is no problem; else fail with every problem as evidence, at
        the worst severity among them (None: the rule's own)."""
        errors = [text for text, sev in problems if sev == "error"]
        problems = [(text, sev) for text, sev in problems if sev != "error"]
        if not problems:
            self.checks[rule_id] = (
                {"status": "error", "detail": "; ".join(errors)}
                if errors
                else {"status": "pass", "detail": ok}
            )
            return
        evidence = "; ".join([text for text, _severity in problems] + errors)
        severities = [sev for _text, sev in problems if sev]
        worst = max(severities, key=severity_rank) if severities else None
        self.checks[rule_id] = {"status": "fail", "detail": evidence}
        self.findings.append(make_finding(rule_id, evidence, worst))

    def judge(self, rule_id: str, judge: Callable[[], tuple[list[tuple[str, str | None]], str]]) -> None:
        """Run one rule: record its problems, its skip reason, or an error when the configuration
        holds a value of a type the product would not accept either (never a traceback)."""
        try:
            problems, ok = judge()
        except Skipped as exc:
            self.skip(rule_id, str(exc))
        except Unreadable as exc:
            self.error(rule_id, str(exc))
        except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
            kind = type(exc).__name__
            self.error(rule_id, f"the configuration holds a value of an unexpected type ({kind}: {exc})")
        else:
            self.record(rule_id, problems, ok)

    def skip(self, rule_id: str, reason: str) -> None:
        self.checks[rule_id] = {"status": "skipped", "detail": reason}

    def error(self, rule_id: str, reason: str) -> None:
        self.checks[rule_id] = {"status": "error", "detail": reason}

    def as_dict(self) -> dict[str, Any]:
        return {"checks": self.checks, "findings": [f.as_dict() for f in self.findings]}
