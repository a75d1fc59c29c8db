import json
import xml.etree.ElementTree as ET

import pytest

from pacsguard.findings import make_finding
from pacsguard.reports import build_report, host_entry, junit_xml, summary_lines, write_reports


def _result(verdict, findings, checks):
    return {"verdict": verdict, "endpoint": {"host": "127.0.0.1"},
            "findings": [f.as_dict() for f in findings], "checks": checks}


def _sample_hosts():
    open_finding = make_finding("PACS-NET-001", "A-ASSOCIATE-AC to calling AE PGROGUE1")
    echo_finding = make_finding("PACS-NET-004", "C-ECHO answered 0x0000")
    insecure = _result("fail", [open_finding, echo_finding], {
        "positive_control": {"status": "pass", "detail": "A-ASSOCIATE-AC"},
        "PACS-NET-001": {"status": "fail", "detail": open_finding.evidence},
        "PACS-NET-004": {"status": "fail", "detail": echo_finding.evidence},
        "PACS-NET-005": {"status": "skipped", "detail": "intrusive checks not allowed"},
    })
    clean = _result("pass", [], {
        "positive_control": {"status": "pass", "detail": "A-ASSOCIATE-AC"},
        "PACS-NET-001": {"status": "pass", "detail": "A-ASSOCIATE-RJ"},
    })
    return [host_entry("insecure", insecure), host_entry("clean", clean),
            host_entry("broken", None, "TLS material unusable")]


def test_gate_fails_on_threshold_and_inconclusive():
    hosts = _sample_hosts()
    report = build_report(hosts, "high", fail_on_inconclusive=False)
    assert report["summary"]["gate"] == "fail"
    assert report["summary"]["gating_findings"] == 1
    assert report["summary"]["by_severity"]["medium"] == 1
    assert build_report(hosts[1:2], "high", True)["summary"]["gate"] == "pass"
    # only a medium finding: passes at high, fails at medium
    medium_only = [host_entry("m", _result("fail", [make_finding("PACS-NET-004", "e")], {}))]
    assert build_report(medium_only, "high", False)["summary"]["gate"] == "pass"
    assert build_report(medium_only, "medium", False)["summary"]["gate"] == "fail"
    # a host that could not be probed fails the gate only when asked to
    assert build_report(hosts[1:], "critical", True)["summary"]["gate"] == "fail"
    assert build_report(hosts[1:], "critical", False)["summary"]["gate"] == "pass"
    assert report["summary"]["inconclusive_hosts"] == ["broken"]


def test_junit_has_a_case_per_check_and_a_failure_per_finding(tmp_path):
    report = build_report(_sample_hosts(), "high", True)
    paths = write_reports(report, str(tmp_path / "out"))
    root = ET.parse(paths["junit"]).getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"insecure", "clean", "broken"}
    insecure = suites["insecure"]
    assert (insecure.get("tests"), insecure.get("failures"), insecure.get("skipped")) == ("4", "2", "1")
    failures = insecure.findall("testcase/failure")
    assert {f.get("type") for f in failures} == {"critical", "medium"}
    case = next(c for c in insecure.findall("testcase") if c.find("failure") is not None)
    assert case.get("classname") == "pacsguard.insecure"
    assert case.get("name").startswith("PACS-NET-00")
    assert "Remediation:" in case.find("failure").text
    assert "Controls: NIST SP 800-53 AC-3" in case.find("failure").text
    assert suites["clean"].get("failures") == "0"
    assert suites["broken"].get("errors") == "1"
    assert root.get("failures") == "2"
    document = json.loads((tmp_path / "out" / "pacsguard-audit.json").read_text())
    assert document["schema"] == "pacsguard.audit/1"
    assert [h["name"] for h in document["hosts"]] == ["insecure", "clean", "broken"]
    assert all(finding["controls"]["nist_800_53"] for finding in document["hosts"][0]["findings"])


def test_summary_lines_count_per_host():
    lines = summary_lines(build_report(_sample_hosts(), "high", True))
    insecure = next(line for line in lines if line.startswith("insecure"))
    assert insecure.split()[1:7] == ["fail", "blocks", "1", "0", "1", "0"]
    assert "NET-001,NET-004" in insecure
    assert next(line for line in lines if line.startswith("clean")).split()[1:3] == ["pass", "ok"]
    # why a host proves nothing, and what nothing could test, are in the summary, not only the JSON
    assert "broken: error: TLS material unusable" in lines
    assert "insecure: not tested here: NET-005 (see the report)" in lines
    assert lines[-1].startswith("gate: FAIL")
    # a failing host below the gate says so next to gate: PASS
    at_critical = summary_lines(build_report(_sample_hosts()[:2], "critical", True))
    insecure = next(line for line in at_critical if line.startswith("insecure"))
    assert insecure.split()[1:3] == ["fail", "blocks"]
    medium = [host_entry("m", _result("fail", [make_finding("PACS-NET-004", "e")],
                                      {"positive_control": {"status": "pass", "detail": "ok"}}))]
    lines = summary_lines(build_report(medium, "high", True))
    assert lines[2].split()[1:3] == ["fail", "ok"] and lines[-1].startswith("gate: PASS")


def test_a_basename_cannot_leave_the_report_directory(tmp_path):
    import pytest

    from pacsguard.reports import write_reports
    report = build_report([host_entry("a", {}, "x")], "high", True)
    for name in ("../escape", "/tmp/abs", "..", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="plain file name stem"):
            write_reports(report, str(tmp_path / "reports"), name)
    assert not (tmp_path / "escape.json").exists()


def test_control_characters_in_details_keep_the_junit_file_valid():
    import xml.etree.ElementTree as ET
    hostile = {"checks": {"PACS-NET-001": {"status": "error", "detail": "bad\x00\x07\x1b[31m answer"}},
               "findings": [], "verdict": "inconclusive", "endpoint": {}}
    document = junit_xml(build_report([host_entry("h", hostile, ""), host_entry("e", {}, "err\x01or")],
                                      "high", True))
    root = ET.fromstring(document)
    assert "\\x07" in document.decode() and "err\\x01or" in document.decode()
    assert root.get("errors") == "2"


def _host_part(findings=(), checks=None, error=""):
    checks = checks or {f.id: {"status": "fail", "detail": f.evidence} for f in findings}
    return {"checks": checks, "findings": [f.as_dict() for f in findings], "error": error}


def test_one_entry_holds_both_parts_each_finding_with_its_source():
    drift = make_finding("PACS-CFG-011", "orthanc.json:330 modality 'x' admits X9 from 192.0.2.9")
    probe = _result("pass", [], {"positive_control": {"status": "pass", "detail": "AC"}})
    entry = host_entry("node", probe, host_result=_host_part([drift]))
    assert entry["verdict"] == "fail" and entry["parts"] == ["network", "host"]
    assert [(f["id"], f["source"]) for f in entry["findings"]] == [("PACS-CFG-011", "host")]
    assert set(entry["checks"]) == {"positive_control", "PACS-CFG-011"}
    assert build_report([entry], "high", True)["summary"]["gate"] == "fail"


def test_the_host_part_alone_is_reported_without_a_probe_error():
    entry = host_entry("node", None, network=False,
                       host_result=_host_part(checks={"PACS-CFG-001": {"status": "pass", "detail": "ok"}}))
    assert entry["verdict"] == "pass" and entry["error"] == "" and entry["parts"] == ["host"]
    assert host_entry("node", None, network=False)["verdict"] == "error"   # nothing ran


def test_a_probe_error_keeps_the_host_evidence_and_a_host_error_is_an_error():
    secret = make_finding("PACS-CFG-008", "private key node.key is readable by every local user")
    entry = host_entry("node", None, "vantage unreachable", host_result=_host_part([secret]))
    assert entry["verdict"] == "error" and [f["id"] for f in entry["findings"]] == ["PACS-CFG-008"]
    probe = _result("pass", [], {"positive_control": {"status": "pass", "detail": "AC"}})
    unreachable = host_entry("node", probe, host_result=_host_part(error="host unreachable"))
    assert unreachable["verdict"] == "error" and "host unreachable" in unreachable["error"]
    unreadable = host_entry("node", probe, host_result=_host_part(
        checks={"PACS-CFG-001": {"status": "error", "detail": "broken.json: line 3 column 15"}}))
    assert unreadable["verdict"] == "inconclusive"
    report = build_report([unreadable], "high", True)
    assert report["summary"]["gate"] == "fail"
    assert any("broken.json: line 3" in line for line in summary_lines(report))


def test_every_node_of_the_play_gets_an_outcome_from_what_the_audit_gathered():
    from pacsguard.reports import fleet_outcomes

    invalid = ["pacs_ae_title: empty", "pacs_peers: missing"]
    policies = {"a": {"policy": {}, "errors": [], "warnings": []},
                "b": {"policy": None, "errors": invalid, "warnings": []}}
    callers = {"a": {"vantage": "localhost", "waivers": [{"rule": "PACS-NET-004"}]},
               "b": {"vantage": "rogue"}}
    audited = {"product": "orthanc", "version": "1.10.1", "config_files": ["/etc/orthanc/orthanc.json"],
               "checks": {"PACS-CFG-014": {"status": "pass", "detail": "started after"}}, "findings": [],
               "changed": False, "services": []}
    outcomes = fleet_outcomes(["a", "b", "c"], policies, callers, {"a": audited}, probe_ran=True)
    assert outcomes["a"] == {"result": {}, "error": "", "network": True, "vantage": "localhost",
                             "waivers": [{"rule": "PACS-NET-004"}],
                             "host": {"product": "orthanc", "version": "1.10.1", "error": "",
                                      "config_files": ["/etc/orthanc/orthanc.json"],
                                      "checks": audited["checks"], "findings": []}}
    assert outcomes["b"]["error"] == ("pacsguard policy is not valid, nothing was changed: "
                                      "pacs_ae_title: empty; pacs_peers: missing")
    # a node the audit gathered nothing for is still reported (an empty outcome is an error later)
    assert outcomes["c"] == {"result": {}, "error": "", "network": True, "waivers": []}
    # --tags host: no network part, except where the policy already failed
    quiet = fleet_outcomes(["a", "b"], policies, callers, {}, probe_ran=False)
    assert (quiet["a"]["network"], quiet["b"]["network"]) == (False, True)
    # the policy batch itself failed: every node's error
    failed = fleet_outcomes(["a", "c"], {}, {}, {}, probe_ran=False, policy_error="inventory unreadable")
    assert [outcome["error"] for outcome in failed.values()] == ["inventory unreadable"] * 2


@pytest.mark.parametrize("registered, error", [
    ({"unreachable": True, "msg": "ssh: connect to host node port 22: Connection refused", "changed": False},
     "configuration audit: host unreachable: ssh: connect to host node port 22: Connection refused"),
    ({"unreachable": True}, "configuration audit: host unreachable: no connection"),
    ({"failed": False, "msg": "systemctl show orthanc failed: Access denied"},     # failed_when: false
     "configuration audit: systemctl show orthanc failed: Access denied"),
    ({"failed": False, "msg": "could not find orthanc or dcmqrscp on this host"},
     "configuration audit: could not find orthanc or dcmqrscp on this host"),
    ({"skipped": True, "skip_reason": "Conditional result was False"},
     "configuration audit: no result from the host"),
    # the configuration rules without the service state (service_state left off) is not a whole host part
    ({"checks": {"PACS-CFG-001": {"status": "pass", "detail": "ok"}}, "findings": []},
     "configuration audit: no result from the host"),
])
def test_a_host_part_that_did_not_read_the_host_is_an_error_never_a_pass(registered, error):
    from pacsguard.reports import fleet_outcomes

    outcome = fleet_outcomes(["n"], {}, {}, {"n": registered}, probe_ran=True, host_nodes=["n"])["n"]
    assert outcome["host"] == {"checks": {}, "findings": [], "error": error}
    entry = host_entry("n", _result("pass", [], {"positive_control": {"status": "pass", "detail": "AC"}}),
                       host_result=outcome["host"])
    assert entry["verdict"] == "error" and error in entry["error"]


def test_a_node_the_run_lost_is_an_error_when_the_host_part_ran_and_absent_when_it_did_not():
    from pacsguard.reports import HOST_PART_LOST, fleet_outcomes

    audited = {"product": "dcmqrscp", "checks": {"PACS-CFG-014": {"status": "skipped", "detail": "-"}},
               "findings": []}
    ran = fleet_outcomes(["a", "b", "c"], {}, {}, {"a": audited}, probe_ran=True, host_nodes=["a", "b"])
    assert ran["a"]["host"]["error"] == "" and ran["b"]["host"]["error"] == HOST_PART_LOST
    assert "host" not in ran["c"]                   # its host part was off
    # --tags probe: the host part ran nowhere, so no node is missing one
    probe_only = fleet_outcomes(["a", "b"], {}, {}, {}, probe_ran=True, host_nodes=["a", "b"])
    assert all("host" not in outcome for outcome in probe_only.values())
