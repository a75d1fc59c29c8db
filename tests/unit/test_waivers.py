"""Waivers: a waived finding stays in the reports, out of the gate, until its expiry brings it back."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from pacsguard import waivers
from pacsguard.findings import make_finding
from pacsguard.reports import build_report, host_entry, junit_xml, summary_lines

TODAY = datetime.date(2026, 11, 27)
PROBE = {
    "verdict": "fail",
    "checks": {"PACS-WEB-002": {"status": "fail", "detail": "plaintext HTTP to 10.0.0.5"},
               "PACS-TLS-001": {"status": "fail", "detail": "plaintext DICOM"}},
    "findings": [make_finding("PACS-WEB-002", "plaintext HTTP answered 401 to non-local source").as_dict(),
                 make_finding("PACS-TLS-001", "A-ASSOCIATE-AC over plaintext TCP").as_dict()],
}
WEB_WAIVER = {"rule": "PACS-WEB-002", "reason": "web front planned in Q1 (change 4711)",
              "expires": "2027-01-31"}


def _report(raw, today=TODAY, fail_on="high"):
    parsed, errors = waivers.parse(raw, "node: pacs_audit_waivers", TODAY)
    assert errors == []
    return build_report([host_entry("node", PROBE, "", parsed, today)], fail_on, True)


def test_a_waived_finding_stays_in_the_report_and_out_of_the_gate():
    report = _report([WEB_WAIVER, {**WEB_WAIVER, "rule": "PACS-TLS-001"}])
    web = next(f for f in report["hosts"][0]["findings"] if f["id"] == "PACS-WEB-002")
    assert web["waived"] == {"rule": "PACS-WEB-002", "reason": WEB_WAIVER["reason"], "expires": "2027-01-31"}
    assert report["summary"]["gate"] == "pass" and report["summary"]["waived_findings"] == 2
    assert report["summary"]["findings"] == 2  # nothing hidden
    suite = ET.fromstring(junit_xml(report))[0]
    skipped = [case.find("skipped").get("message") for case in suite if case.find("skipped") is not None]
    assert any(message.startswith("waived until 2027-01-31: web front planned") for message in skipped)
    assert suite.get("failures") == "0"


def test_only_the_waived_rule_is_spared():
    report = _report([WEB_WAIVER])
    assert report["summary"]["gate"] == "fail" and report["summary"]["gating_findings"] == 1
    assert "WEB-002(waived)" in summary_lines(report)[2]


def test_an_expired_waiver_brings_the_finding_back_by_itself():
    report = _report([WEB_WAIVER, {**WEB_WAIVER, "rule": "PACS-TLS-001"}],
                     today=datetime.date(2027, 1, 31))
    assert report["summary"]["gate"] == "fail" and report["summary"]["waived_findings"] == 0
    assert report["summary"]["expired_waivers"] == ["node PACS-TLS-001", "node PACS-WEB-002"]
    assert "waiver expired, the finding counts again: node PACS-WEB-002" in summary_lines(report)


@pytest.mark.parametrize("raw, message", [
    ([{"rule": "PACS-WEB-002", "reason": "front planned next quarter"}], "[0].expires: None is not a date"),
    ([{"rule": "PACS-WEB-002", "reason": " ", "expires": "2027-01-01"}],
     "[0].reason: a waiver needs a reason"),
    ([{"rule": "PACS-WEB-999", "reason": "x", "expires": "2027-01-01"}], "[0].rule: 'PACS-WEB-999' is not"),
    ([{**WEB_WAIVER, "reason": "x"}], "[0].reason: 'x' does not say why"),
    ([{**WEB_WAIVER, "reason": "accepted, fine"}], "does not say why"),
    ([{**WEB_WAIVER, "expires": "9999-12-31"}], "is 2912112 days away; a waiver runs at most 90 days"),
    ([{**WEB_WAIVER, "rule": "PACS-NET-001"}], "PACS-NET-001 is critical and this site does not waive"),
    ([{**WEB_WAIVER, "hosts": ["a"]}], "[0]: unknown field(s) hosts"),
    ({"rule": "PACS-WEB-002"}, "must be a list"),
])
def test_a_waiver_without_rule_reason_or_end_is_refused(raw, message):
    parsed, errors = waivers.parse(raw, "node: pacs_audit_waivers", TODAY)
    assert parsed == [] and any(message in error for error in errors), errors


def test_a_site_sets_the_longest_term_and_may_allow_critical_waivers():
    long = [{**WEB_WAIVER, "expires": "2027-11-01"}]
    assert waivers.parse(long, "n", TODAY)[1]  # 339 days: over the default
    parsed, errors = waivers.parse(long, "n", TODAY, waivers.Limits(max_days=365))
    assert errors == [] and parsed[0].expires.isoformat() == "2027-11-01"
    critical = [{**WEB_WAIVER, "rule": "PACS-WEB-001"}]
    assert waivers.parse(critical, "n", TODAY, waivers.Limits(allow_critical=True))[1] == []
    assert waivers.Limits(max_days=0).check() and waivers.Limits(max_days=True).check()


def test_the_summary_shows_every_waiver_in_force_with_its_days_left():
    now = datetime.datetime(2026, 11, 27, 12, tzinfo=datetime.timezone.utc)
    parsed, _errors = waivers.parse([WEB_WAIVER], "node: pacs_audit_waivers", TODAY)
    report = build_report([host_entry("node", PROBE, "", parsed, TODAY)], "high", True, now)
    assert report["summary"]["active_waivers"] == [{"host": "node", **WEB_WAIVER, "days_left": 65,
                                                    "findings": 1}]
    assert ("waiver in force: node PACS-WEB-002, 65 day(s) left (until 2027-01-31), 1 finding(s) held "
            "back: web front planned in Q1 (change 4711)") in summary_lines(report)
