"""The SARIF 2.1.0 report: valid against the schema, stable fingerprints, waivers as suppressions,
locations a viewer can show."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest

from pacsguard.findings import CONTROLS, RULES, make_finding
from pacsguard.reports import build_report, host_entry, write_reports
from pacsguard.sarif import fingerprint, sarif_log
from pacsguard.waivers import Waiver

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())
TODAY = datetime.date(2026, 12, 4)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMA)


def _report(port: int = 4242, waived: bool = False, now: datetime.datetime | None = None) -> dict:
    rogue = make_finding("PACS-NET-001", "A-ASSOCIATE-AC to calling AE PG-ROGUE-1A2B").as_dict()
    echo = make_finding("PACS-NET-004", "C-ECHO answered 0x0000").as_dict()
    network = {"verdict": "fail", "endpoint": {"host": "10.20.0.5", "port": port},
               "findings": [rogue, echo], "checks": {}}
    host_part = {"checks": {}, "findings": [make_finding(
        "PACS-CFG-008", "/etc/orthanc/credentials.json is readable by every local user (0644)").as_dict()]}
    waivers = [Waiver("PACS-NET-004", "modality vendor fix due in Q1", TODAY + datetime.timedelta(days=30))]
    hosts = [host_entry("archive1", network, waivers=waivers if waived else [], today=TODAY,
                        host_result=host_part),
             host_entry("archive2", None, "vantage unreachable", today=TODAY)]
    return build_report(hosts, "high", True, now=now)


def test_the_log_is_valid_sarif_2_1_0(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  children:\n    pacs:\n      hosts:\n        archive1:\n"
                         "          pacs_product: orthanc\n")
    log = sarif_log(_report(waived=True), [str(inventory)])
    errors = sorted(_validator().iter_errors(log), key=str)
    assert not errors, [error.message for error in errors[:5]]
    # and the validator does validate: a level SARIF does not know is refused
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "critical"
    assert list(_validator().iter_errors(broken))


def test_the_catalogue_is_the_tools_rules_with_their_controls_as_taxonomies():
    run = sarif_log(_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    net1 = rules[0]
    assert net1["defaultConfiguration"]["level"] == "error"
    assert net1["properties"]["security-severity"] == "9.5"
    assert net1["help"]["text"].startswith(RULES["PACS-NET-001"].remediation)
    taxa = {taxonomy["name"]: {taxon["id"] for taxon in taxonomy["taxa"]} for taxonomy in run["taxonomies"]}
    for relationship in net1["relationships"]:
        assert relationship["target"]["id"] in taxa[relationship["target"]["toolComponent"]["name"]]
    assert {r["target"]["id"] for r in net1["relationships"]} == set(
        CONTROLS["PACS-NET-001"].nist_800_53 + CONTROLS["PACS-NET-001"].hipaa)


def test_results_point_at_the_inventory_entry_and_the_configuration_file(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    archive0:\n    archive1:\n      ansible_host: 10.20.0.5\n")
    results = sarif_log(_report(), [str(inventory), str(tmp_path / "missing.yml")])["runs"][0]["results"]
    network = next(r for r in results if r["ruleId"] == "PACS-NET-001")
    physical = network["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == f"file://{inventory}"
    assert physical["region"]["startLine"] == 4
    assert network["locations"][0]["logicalLocations"][0]["name"] == "archive1"
    host = next(r for r in results if r["ruleId"] == "PACS-CFG-008")
    assert host["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///etc/orthanc/credentials.json"
    assert host["properties"]["source"] == "host"


def test_fingerprints_stay_across_runs_and_tell_nodes_rules_and_endpoints_apart():
    first = sarif_log(_report(now=datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)))
    second = sarif_log(_report(now=datetime.datetime(2026, 12, 4, tzinfo=datetime.timezone.utc)))
    prints = [r["partialFingerprints"]["pacsguard/v1"] for r in first["runs"][0]["results"]]
    assert prints == [r["partialFingerprints"]["pacsguard/v1"] for r in second["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
    moved = sarif_log(_report(port=11112))["runs"][0]["results"][0]["partialFingerprints"]["pacsguard/v1"]
    assert moved != prints[0]
    assert fingerprint("a", "PACS-NET-001", "h:1") != fingerprint("b", "PACS-NET-001", "h:1")


def test_a_waived_finding_is_a_suppression_with_its_reason_and_others_are_not():
    results = sarif_log(_report(waived=True))["runs"][0]["results"]
    echo = next(r for r in results if r["ruleId"] == "PACS-NET-004")
    assert echo["suppressions"] == [{"kind": "external", "status": "accepted",
                                     "justification": "modality vendor fix due in Q1 "
                                                      "(waived until 2027-01-03)"}]
    assert "suppressions" not in next(r for r in results if r["ruleId"] == "PACS-NET-001")


def test_a_node_the_audit_could_not_judge_is_a_notification_not_silence():
    invocation = sarif_log(_report())["runs"][0]["invocations"][0]
    assert invocation["properties"]["gate"] == "fail"
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == [
        "archive2: error: vantage unreachable"]


@pytest.mark.parametrize("basename", ["pacsguard-audit", "nightly.2026-12-04"])
def test_the_sarif_file_is_written_beside_the_json(tmp_path, basename):
    paths = write_reports(_report(), str(tmp_path), basename)
    assert paths["sarif"] == str(tmp_path / f"{basename}.sarif")
    assert not list(_validator().iter_errors(json.loads(Path(paths["sarif"]).read_text())))
