"""What changed since the last report: new, fixed and remaining findings, and a gate on new ones."""

from __future__ import annotations

import json

from pacsguard.changes import read_previous
from pacsguard.findings import make_finding
from pacsguard.reports import build_report, host_entry, summary_lines
from pacsguard.sarif import sarif_log


def _hosts(*found: tuple[str, str, str], port: int = 4242) -> list[dict]:
    """Hosts with the given (host, rule, evidence) network findings; every named host is there."""
    names = sorted({name for name, _rule, _evidence in found} | {"archive1", "archive2"})
    return [host_entry(name, {"verdict": "fail", "endpoint": {"host": f"10.0.0.{index}", "port": port},
                              "checks": {},
                              "findings": [make_finding(rule, evidence).as_dict()
                                           for host, rule, evidence in found if host == name]})
            for index, name in enumerate(names, start=1)]


def _roundtrip(report: dict) -> dict:
    return json.loads(json.dumps(report))


def test_without_an_earlier_report_every_finding_is_new():
    report = build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True)
    assert report["changes"]["previous"] is None
    assert [f["change"] for f in report["hosts"][0]["findings"]] == ["new"]
    assert report["summary"]["changes"] == {"since": None, "new": 1, "fixed": 0, "remaining": 0}
    assert "changes: no earlier report to compare with (1 new, 0 fixed, 0 remaining)" in summary_lines(report)


def test_new_fixed_and_remaining_are_told_apart_and_evidence_may_change():
    last = _roundtrip(build_report(_hosts(("archive1", "PACS-NET-001", "accepted"),
                                          ("archive1", "PACS-NET-003", "C-FIND: 12 matches"),
                                          ("archive2", "PACS-NET-004", "C-ECHO answered")), "high", True))
    now = build_report(_hosts(("archive1", "PACS-NET-003", "C-FIND: 13 matches"),
                              ("archive2", "PACS-NET-004", "C-ECHO answered"),
                              ("archive2", "PACS-WEB-001", "200 with 3 patients")), "high", True,
                       previous=last, previous_path="reports/pacsguard-audit.json")
    changes = now["changes"]
    assert changes["previous"] == {"path": "reports/pacsguard-audit.json",
                                   "generated_at": last["generated_at"]}
    assert [(e["host"], e["rule"]) for e in changes["new"]] == [("archive2", "PACS-WEB-001")]
    assert [(e["host"], e["rule"]) for e in changes["fixed"]] == [("archive1", "PACS-NET-001")]
    assert sorted((e["host"], e["rule"]) for e in changes["remaining"]) == [
        ("archive1", "PACS-NET-003"), ("archive2", "PACS-NET-004")]
    lines = summary_lines(now)
    assert f"changes since the report of {last['generated_at']}: 1 new, 1 fixed, 2 remaining" in lines
    assert "new: archive2 PACS-WEB-001 (critical)" in lines and "fixed: archive1 PACS-NET-001" in lines
    assert lines[-1].startswith("gate: FAIL")


def test_the_same_rule_on_another_endpoint_is_a_new_finding():
    last = _roundtrip(build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True))
    moved = build_report(_hosts(("archive1", "PACS-NET-001", "accepted"), port=11112), "high", True,
                         previous=last)
    assert [e["where"] for e in moved["changes"]["new"]] == ["10.0.0.1:11112"]
    assert [e["where"] for e in moved["changes"]["fixed"]] == ["10.0.0.1:4242"]


def test_a_node_this_run_left_out_is_not_fixed():
    last = _roundtrip(build_report(_hosts(("archive3", "PACS-NET-001", "accepted")), "high", True))
    now = build_report(_hosts(), "high", True, previous=last)
    assert now["changes"]["fixed"] == []


def test_the_gate_may_count_new_findings_only():
    last = _roundtrip(build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True))
    known = build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True,
                         previous=last, new_only=True)
    assert (known["summary"]["gate"], known["summary"]["gating_findings"]) == ("pass", 0)
    assert "the gate counts new findings only (pacs_audit_fail_on_new_only)" in summary_lines(known)
    fresh = build_report(_hosts(("archive1", "PACS-NET-001", "accepted"), ("archive2", "PACS-NET-002", "x")),
                         "high", True, previous=last, new_only=True)
    assert (fresh["summary"]["gate"], fresh["summary"]["gating_findings"]) == ("fail", 1)
    # without an earlier report nothing is known: everything counts
    alone = build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True, new_only=True)
    assert alone["summary"]["gate"] == "fail"
    # and by default every finding counts, known or not
    assert build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True,
                        previous=last)["summary"]["gate"] == "fail"


def test_sarif_says_which_results_are_new_when_there_is_a_baseline():
    last = _roundtrip(build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True))
    now = build_report(_hosts(("archive1", "PACS-NET-001", "accepted"), ("archive2", "PACS-NET-004", "e")),
                       "high", True, previous=last)
    states = {r["ruleId"]: r["baselineState"] for r in sarif_log(now)["runs"][0]["results"]}
    assert states == {"PACS-NET-001": "unchanged", "PACS-NET-004": "new"}
    first = build_report(_hosts(("archive1", "PACS-NET-001", "accepted")), "high", True)
    assert all("baselineState" not in r for r in sarif_log(first)["runs"][0]["results"])


def test_an_earlier_report_is_read_with_bounds_and_checked_for_what_it_is(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(build_report(_hosts(), "high", True)))
    assert read_previous(str(good))[0]["schema"] == "pacsguard.audit/1"
    for name, text, why in (("junk.json", "{not json", "not JSON"),
                            ("other.json", json.dumps({"schema": "other/1", "hosts": []}), "not a pacsguard"),
                            ("deep.json", "[" * 100 + "]" * 100, "nested deeper than 64")):
        path = tmp_path / name
        path.write_text(text)
        document, problem = read_previous(str(path))
        assert document is None and why in problem, problem
    assert "No such file" in read_previous(str(tmp_path / "missing.json"))[1]
