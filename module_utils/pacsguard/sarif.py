"""The audit report as SARIF 2.1.0, for the code-scanning views teams already watch.

One run: pacsguard is the tool, its rule catalogue the tool's rules (help, severity, tags), and the
controls each rule evidences three taxonomies (NIST SP 800-53, HIPAA, DICOM PS3.15). Each finding is
a result with a fingerprint that stays the same across runs for the same node, rule and endpoint,
so a view tracks it from one night to the next; a waived finding is a suppression with its reason.
A network finding points at the node's entry in the inventory, a host finding at the configuration
file its evidence names. Hosts the audit could not judge are the run's notifications.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

from .changes import identity, where
from .findings import CONTROLS, RULES

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# SARIF levels by severity, and the numeric security severity code-scanning views sort by.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
TAXONOMIES = (
    ("nist_800_53", "NIST SP 800-53", "5", "NIST"),
    ("hipaa", "HIPAA Security Rule (45 CFR Part 164)", "2013", "HHS"),
    ("dicom_ps3_15", "DICOM PS3.15 Security and System Management Profiles", "2025", "NEMA"),
)
FINGERPRINT = "pacsguard/v1"
# The longest inventory file read to find a node's line.
MAX_INVENTORY = 4 * 1024 * 1024


def _rule(rule_id: str) -> dict[str, Any]:
    """The catalogue's rule as a SARIF reporting descriptor."""
    rule, controls = RULES[rule_id], CONTROLS[rule_id].as_dict()
    family = rule_id.rsplit("-", 1)[0].lower()
    return {
        "id": rule_id,
        "name": "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", rule.title)),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} ({rule.severity})."},
        "help": {"text": f"{rule.remediation}\nReferences: {'; '.join(rule.references)}",
                 "markdown": f"{rule.remediation}\n\n" + "\n".join(f"- {ref}" for ref in rule.references)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[rule.severity], "precision": "high",
                       "tags": ["security", family, rule.severity],
                       "controls": controls},
        "relationships": [{"target": {"id": control, "toolComponent": {"name": name}}, "kinds": ["relevant"]}
                          for key, name, _version, _org in TAXONOMIES for control in controls[key]],
    }


def _taxonomies() -> list[dict[str, Any]]:
    """One tool component per control framework, with every control a rule maps to."""
    taxonomies = []
    for key, name, version, organization in TAXONOMIES:
        taxa = sorted({control for controls in CONTROLS.values() for control in controls.as_dict()[key]})
        taxonomies.append({"name": name, "version": version, "organization": organization,
                           "taxa": [{"id": taxon} for taxon in taxa]})
    return taxonomies


def fingerprint(host: str, rule_id: str, endpoint: str) -> str:
    """Stable across runs: the node, the rule and where it was seen (changes.identity), nothing
    that changes by itself."""
    return hashlib.sha256(f"{host}\x1f{rule_id}\x1f{endpoint}".encode()).hexdigest()


def inventory_lines(sources: list[str], names: list[str]) -> dict[str, tuple[str, int]]:
    """Where each node is named in the inventory: the first file of ``sources`` (files, not
    directories or scripts) and line that names it as a host (YAML ``name:`` or an INI line)."""
    found: dict[str, tuple[str, int]] = {}
    wanted = set(names)
    for source in sources:
        if not os.path.isfile(source) or os.path.getsize(source) > MAX_INVENTORY:
            continue
        try:
            with open(source, encoding="utf-8", errors="replace") as handle:
                lines = handle.read(MAX_INVENTORY).splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, start=1):
            token = re.match(r"\s*([^\s:#=\[\]]+)\s*(:|\s|$)", line)
            if token and token.group(1) in wanted and token.group(1) not in found:
                found[token.group(1)] = (source, number)
    return found


def _location(host: dict[str, Any], finding: dict[str, Any], inventory: dict[str, tuple[str, int]]
              ) -> dict[str, Any]:
    """Where a viewer shows the result: the file a host finding names, the node's inventory line."""
    location: dict[str, Any] = {"logicalLocations": [{"name": host["name"], "kind": "module",
                                                      "fullyQualifiedName": host["name"]}]}
    place = where(host, finding)
    if finding.get("source") == "host":
        if place.startswith("/"):
            location["physicalLocation"] = {"artifactLocation": {"uri": f"file://{place}"}}
    elif host["name"] in inventory:
        path, line = inventory[host["name"]]
        location["physicalLocation"] = {"artifactLocation": {"uri": _uri(path)},
                                        "region": {"startLine": line}}
    return location


def _uri(path: str) -> str:
    """A relative inventory path as it is (the repository's), an absolute one as a file URI."""
    return f"file://{path}" if os.path.isabs(path) else path.replace(os.sep, "/")


def _result(host: dict[str, Any], finding: dict[str, Any], index: dict[str, int],
            inventory: dict[str, tuple[str, int]], previous: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding["id"], "ruleIndex": index[finding["id"]], "level": LEVELS[finding["severity"]],
        "message": {"text": f"{host['name']}: {finding['title']}: {finding['evidence']}"},
        "locations": [_location(host, finding, inventory)],
        "partialFingerprints": {FINGERPRINT: fingerprint(*identity(host, finding))},
        "properties": {"host": host["name"], "severity": finding["severity"],
                       "source": finding.get("source", "network"), "controls": finding.get("controls", {})},
    }
    if finding.get("change") and previous:
        result["baselineState"] = "new" if finding["change"] == "new" else "unchanged"
    waiver = finding.get("waived")
    if waiver:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{waiver['reason']} (waived until {waiver['expires']})"}]
    return result


def _unjudged(host: dict[str, Any]) -> str:
    """Why a node has no verdict of its own, in one line."""
    return f"{host['name']}: {host['verdict']}" + (f": {host['error']}" if host.get("error") else "")


def sarif_log(report: dict[str, Any], inventory_sources: list[str] | None = None) -> dict[str, Any]:
    """The report (reports.build_report) as one SARIF 2.1.0 log."""
    index = {rule_id: position for position, rule_id in enumerate(RULES)}
    hosts = report["hosts"]
    inventory = inventory_lines(inventory_sources or [], [host["name"] for host in hosts])
    summary = report["summary"]
    notifications = [{"level": "error", "message": {"text": _unjudged(host)}}
                     for host in hosts if host["verdict"] in ("error", "inconclusive")]
    generated = report["generated_at"].replace("+00:00", "Z")
    compared = bool((report.get("changes") or {}).get("previous"))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": report["tool"]["name"], "version": report["tool"]["version"],
                                "semanticVersion": report["tool"]["version"],
                                "rules": [_rule(rule_id) for rule_id in RULES]}},
            "taxonomies": _taxonomies(),
            "invocations": [{"executionSuccessful": True, "endTimeUtc": generated,
                             "toolExecutionNotifications": notifications,
                             "properties": {"gate": summary["gate"], "fail_on": report["fail_on"]}}],
            "results": [_result(host, finding, index, inventory, compared)
                        for host in hosts for finding in host["findings"]],
            "properties": {"schema": report["schema"], "hosts": summary["hosts"]},
        }],
    }
