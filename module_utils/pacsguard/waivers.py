"""Waivers: a site accepts a finding on a host for a while, for a stated reason.

A waived finding stays in every report, marked as waived with its reason and expiry, and does not
fail the gate. On its expiry date it counts again by itself, with a note that the waiver ran out:
nobody has to remember to remove it. (InSpec's waiver files work the same way.)

A waiver names a rule, a reason and an expiry date; where it is defined in inventory (a host, a
group) decides which hosts it covers. A site sets its limits (Limits): the longest term a waiver may
run (90 days unless the site says otherwise), whether a critical finding may be waived at all (not
unless the site says so), and a reason must say something (a few words, not a letter).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from .findings import RULES

WAIVER_FIELDS = frozenset({"rule", "reason", "expires"})
# The site's defaults: a waiver runs at most this many days from the run that reads it, and a
# critical finding (patient data open to anybody) is not waivable.
MAX_DAYS = 90
# A reason is at least this long and this many words ("ok", "x", "tbd" are not reasons).
REASON_MIN_CHARS = 15
REASON_MIN_WORDS = 3


@dataclass(frozen=True)
class Limits:
    """What a site allows of its waivers."""

    max_days: int = MAX_DAYS
    allow_critical: bool = False

    def check(self) -> str:
        """'' when usable, else why not."""
        if isinstance(self.max_days, bool) or not isinstance(self.max_days, int) or self.max_days < 1:
            return f"the longest waiver term must be a whole number of days, 1 or more, got {self.max_days!r}"
        return ""


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


def parse(raw: Any, where: str, today: datetime.date | None = None,
          limits: Limits | None = None) -> tuple[list[Waiver], list[str]]:
    """Waivers from inventory, within the site's limits; errors name the host, the entry and the
    field (and the setting that would allow what is refused)."""
    limits = limits or Limits()
    today = today or datetime.date.today()
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
        elif RULES[str(rule)].severity == "critical" and not limits.allow_critical:
            errors.append(f"{at}.rule: {rule} is critical and this site does not waive critical "
                          "findings (pacs_audit_waivers_critical_allowed)")
        reason_error = _reason_problem(reason)
        if reason_error:
            errors.append(f"{at}.reason: {reason_error}")
        date = _date(expires)
        if date is None:
            errors.append(f"{at}.expires: {expires!r} is not a date (YYYY-MM-DD); a waiver must end")
        elif (date - today).days > limits.max_days:
            errors.append(f"{at}.expires: {date.isoformat()} is {(date - today).days} days away; a waiver "
                          f"runs at most {limits.max_days} days (pacs_audit_waiver_max_days)")
        if len(errors) == before:
            waivers.append(Waiver(str(rule), " ".join(str(reason).split()), date))  # type: ignore[arg-type]
    return waivers, errors


def _reason_problem(reason: Any) -> str:
    """Why a waiver's reason is not one ('' when it is)."""
    if not isinstance(reason, str) or not reason.strip():
        return "a waiver needs a reason"
    text = " ".join(reason.split())
    if len(text) < REASON_MIN_CHARS or len(text.split()) < REASON_MIN_WORDS:
        return (f"{text!r} does not say why: give at least {REASON_MIN_WORDS} words and "
                f"{REASON_MIN_CHARS} characters (what is accepted, why, and what ends it)")
    return ""


def days_left(waiver: dict[str, str], today: datetime.date) -> int:
    """Days from ``today`` until a waiver (as_dict()) ends."""
    return (datetime.date.fromisoformat(waiver["expires"]) - today).days


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
