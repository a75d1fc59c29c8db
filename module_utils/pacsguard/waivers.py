"""Waivers: a site accepts a finding on a host for a while, for a stated reason.

A waived finding stays in every report, marked as waived with its reason and expiry, and does not
fail the gate. On its expiry date it counts again by itself, with a note that the waiver ran out:
nobody has to remember to remove it. (InSpec's waiver files work the same way.)

A waiver names a rule, a reason and an expiry date; where it is defined in inventory (a host, a
group) decides which hosts it covers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from .findings import RULES

WAIVER_FIELDS = frozenset({"rule", "reason", "expires"})


@dataclass(frozen=True)
class Waiver:
    """One accepted finding: which rule, why, and until when (the waiver ends at the start of
    ``expires``)."""

    rule: str
    reason: str
    expires: datetime.date

    def active(self, today: datetime.date) -> bool:
        return today < self.expires

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "reason": self.reason, "expires": self.expires.isoformat()}


def parse(raw: Any, where: str) -> tuple[list[Waiver], list[str]]:
    """Waivers from inventory; errors name the host, the entry and the field."""
    if raw in (None, ""):
        return [], []
    if not isinstance(raw, list):
        return [], [f"{where}: waivers must be a list of rule, reason and expires"]
    waivers, errors = [], []
    for index, entry in enumerate(raw):
        at = f"{where}[{index}]"
        before = len(errors)
        if not isinstance(entry, dict):
            errors.append(f"{at}: must be a mapping with rule, reason and expires")
            continue
        unknown = sorted(map(str, set(entry) - WAIVER_FIELDS))
        if unknown:
            errors.append(f"{at}: unknown field(s) {', '.join(unknown)} (known: expires, reason, rule)")
        rule, reason, expires = entry.get("rule"), entry.get("reason"), entry.get("expires")
        if rule not in RULES:
            errors.append(f"{at}.rule: {rule!r} is not a pacsguard rule ID")
        if not isinstance(reason, str) or not reason.strip():
            errors.append(f"{at}.reason: a waiver needs a reason")
        date = _date(expires)
        if date is None:
            errors.append(f"{at}.expires: {expires!r} is not a date (YYYY-MM-DD); a waiver must end")
        if len(errors) == before:
            waivers.append(Waiver(str(rule), str(reason).strip(), date))  # type: ignore[arg-type]
    return waivers, errors


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def apply(findings: list[dict[str, Any]], waivers: list[Waiver], today: datetime.date
          ) -> list[dict[str, Any]]:
    """The findings, each covered by an active waiver marked ``waived``, each whose waiver ran out
    marked ``waiver_expired`` (it counts again)."""
    out = []
    for finding in findings:
        matching = [w for w in waivers if w.rule == finding.get("id")]
        active = [w for w in matching if w.active(today)]
        marked = dict(finding)
        if active:
            marked["waived"] = max(active, key=lambda w: w.expires).as_dict()
        elif matching:
            marked["waiver_expired"] = max(w.expires for w in matching).isoformat()
        out.append(marked)
    return out
