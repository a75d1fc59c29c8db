"""Audit reports: one JSON document per run (stable schema) and JUnit XML for CI front-ends.

JUnit layout: one <testsuite> per host, one <testcase> per check (rule) on that host; a failed
check carries one <failure> per finding, a check that could not run an <error>, one that does
not apply <skipped>. Jenkins and GitLab show these natively.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from typing import Any

from .changes import compare
from .findings import RULES, SEVERITIES, at_or_above, controls_line, controls_of, is_host_rule
from .htmlreport import render as render_html
from .release import VERSION
from .sarif import sarif_log
from .waivers import Waiver, days_left
from .waivers import apply as apply_waivers

SCHEMA = "pacsguard.audit/1"


POLICY_NOT_VALID = "pacsguard policy is not valid, nothing was changed: "


HOST_PART_LOST = "the configuration audit on the host did not complete (the run lost the host)"


def host_outcome(result: dict[str, Any] | None) -> dict[str, Any]:
    """A node's host part from its registered pacs_host_audit result (service_state on): the
    evidence, or why there is none (no result while other nodes have one, the host unreachable, the
    module failed). Never a host part that passes on what it did not read."""
    if not result:
        return {"checks": {}, "findings": [], "error": HOST_PART_LOST}
    if result.get("unreachable"):
        return {"checks": {}, "findings": [],
                "error": f"configuration audit: host unreachable: {result.get('msg') or 'no connection'}"}
    if not isinstance(result.get("checks"), dict) or "PACS-CFG-014" not in result["checks"]:
        return {"checks": {}, "findings": [],
                "error": f"configuration audit: {result.get('msg') or 'no result from the host'}"}
    return {"product": result.get("product", ""), "version": result.get("version", ""),
            "config_files": result.get("config_files", []), "error": "",
            "checks": result["checks"], "findings": result.get("findings", [])}


def fleet_outcomes(nodes: list[str], policies: dict[str, Any], callers: dict[str, Any],
                   host_results: dict[str, Any], probe_ran: bool, policy_error: str = "",
                   host_nodes: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every node of the play as the report takes it (pacs_audit_report's results), from what the
    audit gathered once for the fleet: its policy's errors (or the policy batch's own failure, which
    is every node's), its vantage and waivers, whether the network part ran, and its host part
    (host_results: the registered pacs_host_audit result by node; a node of host_nodes without one
    is an error when the host part ran on any node)."""
    host_ran = bool(host_results)
    outcomes = {}
    for name in nodes:
        inputs = callers.get(name) or {}
        errors = (policies.get(name) or {}).get("errors") or []
        error = policy_error or (POLICY_NOT_VALID + "; ".join(map(str, errors)) if errors else "")
        outcome: dict[str, Any] = {"result": {}, "error": error, "network": probe_ran or error != "",
                                   "waivers": inputs.get("waivers") or []}
        if "vantage" in inputs:
            outcome["vantage"] = inputs["vantage"]
        if name in host_results or (host_ran and name in (host_nodes or [])):
            outcome["host"] = host_outcome(host_results.get(name))
        outcomes[name] = outcome
    return outcomes


def host_entry(name: str, probe_result: dict[str, Any] | None, error: str = "",
               waivers: list[Waiver] | None = None, today: datetime.date | None = None,
               host_result: dict[str, Any] | None = None, network: bool = True,
               vantage: str | None = None) -> dict[str, Any]:
    """One host's part of the report. ``probe_result`` is the network probe's result (``error`` when
    it could not run; ``network`` false when the run left the network part out), ``host_result`` the
    configuration audit read on the host (checks and findings in the probe's model). Each finding
    says its ``source`` (network or host); findings an active waiver covers are marked ``waived``
    (they stay in the report, out of the gate). A host check in error (a configuration that cannot be
    read) makes an otherwise passing host inconclusive."""
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    host_result = host_result or {}
    probe_result = probe_result or {}
    if network and not error and not probe_result:
        error = "no probe result"
    network_ok = network and not error
    # every finding with its rule's controls, from the catalogue whatever produced it
    raw = ([{**f, "source": "network", "controls": controls_of(f.get("id", ""))}
            for f in probe_result.get("findings", [])] if network_ok else []) \
        + [{**f, "source": "host", "controls": controls_of(f.get("id", ""))}
           for f in host_result.get("findings", [])]
    findings = apply_waivers(raw, waivers or [], today)
    host_checks = host_result.get("checks", {})
    errors = [text for text in (error, host_result.get("error", "")) if text]
    if not network and not host_result:
        errors.append("neither the network nor the host part ran")
    if errors:
        verdict = "error"
    elif not network:
        verdict = "fail" if findings else "pass"
    else:
        verdict = probe_result.get("verdict", "error")
    if verdict == "pass" and host_result.get("findings"):
        verdict = "fail"
    if verdict == "pass" and any(check["status"] == "error" for check in host_checks.values()):
        verdict = "inconclusive"
    error = "; ".join(errors)
    return {
        "name": name,
        "verdict": verdict,
        "error": error,
        "parts": [part for part, ran in (("network", network), ("host", bool(host_result))) if ran],
        "endpoint": probe_result.get("endpoint", {}) if network_ok else {},
        "checks": {**(probe_result.get("checks", {}) if network_ok else {}), **host_checks},
        "findings": findings,
        "waivers": [w.as_dict() for w in waivers or []],
        **({"vantage": vantage} if vantage else {}),
    }


def _gating(findings: list[dict[str, Any]], fail_on: str, new_only: bool) -> list[dict[str, Any]]:
    """The findings that fail the gate: at or above ``fail_on``, not waived, and with ``new_only``
    only those the previous report did not have."""
    counted = [f for f in findings
               if not f.get("waived") and (not new_only or f.get("change") != "remaining")]
    return at_or_above(counted, fail_on)


def build_report(hosts: list[dict[str, Any]], fail_on: str, fail_on_inconclusive: bool,
                 now: datetime.datetime | None = None, previous: dict[str, Any] | None = None,
                 previous_path: str = "", new_only: bool = False) -> dict[str, Any]:
    """The JSON report document, with its summary and gate decision. ``previous`` is the last
    report (what is new, fixed and remaining since: changes.compare); ``new_only`` gates on new
    findings alone."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    changes = compare(hosts, previous, previous_path)
    findings = [f for host in hosts for f in host["findings"]]
    waived = [f for f in findings if f.get("waived")]
    gating = _gating(findings, fail_on, new_only)
    unsure = [h["name"] for h in hosts if h["verdict"] in ("inconclusive", "error")]
    failed = bool(gating) or (fail_on_inconclusive and bool(unsure))
    return {
        "schema": SCHEMA,
        "tool": {"name": "pacsguard", "version": VERSION},
        "generated_at": now.isoformat(timespec="seconds"),
        "fail_on": fail_on,
        "fail_on_inconclusive": fail_on_inconclusive,
        "fail_on_new_only": new_only,
        "summary": {
            "hosts": len(hosts),
            "findings": len(findings),
            "by_severity": {sev: sum(f["severity"] == sev for f in findings)
                            for sev in reversed(SEVERITIES)},
            "gating_findings": len(gating),
            "waived_findings": len(waived),
            "expired_waivers": sorted({f"{host['name']} {f['id']}" for host in hosts
                                       for f in host["findings"] if f.get("waiver_expired")}),
            "active_waivers": _active_waivers(hosts, now.date()),
            "inconclusive_hosts": unsure,
            "changes": {"since": (changes["previous"] or {}).get("generated_at"),
                        **{kind: len(changes[kind]) for kind in ("new", "fixed", "remaining")}},
            "gate": "fail" if failed else "pass",
        },
        "changes": changes,
        "hosts": hosts,
    }


def junit_xml(report: dict[str, Any]) -> bytes:
    """The report as JUnit XML."""
    suites = ET.Element("testsuites", name="pacsguard audit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in report["hosts"]:
        suite = ET.SubElement(suites, "testsuite", name=host["name"])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        cases = ({"probe": {"status": "error", "detail": host["error"]}} if host["error"] else {}) \
            | host["checks"]
        by_rule = {f["id"]: f for f in host["findings"]}
        for check, outcome in cases.items():
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", name=_case_name(check),
                                 classname=f"pacsguard.{host['name']}")
            status, detail = outcome["status"], outcome["detail"]
            if status == "fail" and check in by_rule and by_rule[check].get("waived"):
                waiver = by_rule[check]["waived"]
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"waived until {waiver['expires']}: "
                                                       f"{waiver['reason']} ({detail})")
            elif status == "fail" and check in by_rule:
                finding = by_rule[check]
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", type=finding["severity"],
                                        message=f"[{finding['severity']}] {finding['title']}")
                failure.text = (f"Evidence: {finding['evidence']}\n"
                                f"Remediation: {finding['remediation']}\n"
                                f"References: {'; '.join(finding['references'])}\n"
                                f"Controls: {controls_line(finding.get('controls') or {})}")
            elif status in ("error", "fail"):
                counts["errors"] += 1
                ET.SubElement(case, "error", message=detail)
            elif status == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=detail)
            else:
                ET.SubElement(case, "system-out").text = detail
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    for element in suites.iter():
        element.text = _xml_text(element.text)
        for key, value in element.attrib.items():
            element.set(key, _xml_text(value) or "")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


# Characters XML 1.0 cannot carry at all, even escaped (control characters but tab and line breaks).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str | None) -> str | None:
    """Text a JUnit reader can parse: characters XML cannot hold are written as \\xNN."""
    if text is None:
        return None
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)


# A report name is a plain file name stem: it cannot leave the report directory.
REPORT_BASENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_basename(basename: str) -> None:
    """ValueError unless ``basename`` is a plain file name stem (a path or '..' would leave the
    report directory)."""
    if not REPORT_BASENAME.fullmatch(basename) or ".." in basename:
        raise ValueError(f"basename {basename!r} must be a plain file name stem (letters, digits, "
                         "'.', '-', '_'; no path, no '..')")


def _case_name(check: str) -> str:
    """'PACS-NET-001 Association accepted ...' for rules, 'positive control' for the others."""
    rule = RULES.get(check)
    return f"{check} {rule.title}" if rule else check.replace("_", " ")


def _active_waivers(hosts: list[dict[str, Any]], today: datetime.date) -> list[dict[str, Any]]:
    """Every waiver in force, per host, with its days left and how many findings it holds back."""
    active = []
    for host in hosts:
        for waiver in host.get("waivers", []):
            left = days_left(waiver, today)
            if left > 0:
                held = sum(1 for f in host["findings"]
                           if (f.get("waived") or {}).get("rule") == waiver["rule"])
                active.append({"host": host["name"], **waiver, "days_left": left, "findings": held})
    return active


def _gates(host: dict[str, Any], report: dict[str, Any]) -> str:
    """What the host means for the gate: 'blocks' (a finding at or above fail_on, or an
    inconclusive host when that fails the run) or 'ok' (its findings, if any, are below the gate
    or waived)."""
    gating = _gating(host["findings"], report["fail_on"], report.get("fail_on_new_only", False))
    unsure = report["fail_on_inconclusive"] and host["verdict"] in ("inconclusive", "error")
    return "blocks" if gating or unsure else "ok"


def _why_unsure(host: dict[str, Any]) -> str:
    """The reason a host's audit proves nothing: its error, or what its positive control saw."""
    if host["error"]:
        return host["error"]
    unreadable = [f"{rule}: {check['detail']}" for rule, check in host["checks"].items()
                  if check["status"] == "error" and is_host_rule(rule)]
    if unreadable and host["verdict"] == "inconclusive":
        return "; ".join(unreadable)
    control = host["checks"].get("positive_control") or host["checks"].get("deadline") or {}
    return control.get("detail") or "no allowlisted AE was accepted"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A short fixed-width table for the end of a run: one line per host (its verdict and what it
    means for the gate), the reasons behind inconclusive hosts, the checks nothing could test,
    then the gate."""
    header = (f"{'host':<24} {'verdict':<13} {'gate':<6} {'crit':>4} {'high':>4} {'med':>4} "
              f"{'low':>4}  rules")
    lines = [header, "-" * len(header)]
    notes = []
    for host in report["hosts"]:
        sev = [sum(f["severity"] == s for f in host["findings"])
               for s in ("critical", "high", "medium", "low")]
        rules = ",".join(sorted({f["id"].replace("PACS-", "") + ("(waived)" if f.get("waived") else "")
                                 for f in host["findings"]}))
        lines.append(f"{host['name'][:24]:<24} {host['verdict']:<13} {_gates(host, report):<6} "
                     f"{sev[0]:>4} {sev[1]:>4} {sev[2]:>4} {sev[3]:>4}  {rules or '-'}")
        if host["verdict"] in ("inconclusive", "error"):
            notes.append(f"{host['name']}: {host['verdict']}: {_why_unsure(host)}")
        untested = sorted(name.replace("PACS-", "") for name, check in host["checks"].items()
                          if check["status"] == "skipped" and name in RULES
                          and "not apply" not in check["detail"])
        if untested:
            notes.append(f"{host['name']}: not tested here: {', '.join(untested)} (see the report)")
    lines += notes + _change_lines(report)
    summary = report["summary"]
    waived = f", {summary['waived_findings']} waived" if summary["waived_findings"] else ""
    lines.append(f"gate: {summary['gate'].upper()} (fail on {report['fail_on']} or worse"
                 f"{', or an inconclusive host' if report['fail_on_inconclusive'] else ''}); "
                 f"{summary['gating_findings']} gating finding(s) of {summary['findings']}{waived}")
    for expired in summary["expired_waivers"]:
        lines.append(f"waiver expired, the finding counts again: {expired}")
    for waiver in summary.get("active_waivers", []):
        lines.append(f"waiver in force: {waiver['host']} {waiver['rule']}, {waiver['days_left']} day(s) left "
                     f"(until {waiver['expires']}), {waiver['findings']} finding(s) held back: "
                     f"{waiver['reason']}")
    return lines


def _change_lines(report: dict[str, Any]) -> list[str]:
    """What changed since the previous report, and what the gate counts of it."""
    changes = report.get("changes")
    if not changes:
        return []
    counts = (f"{len(changes['new'])} new, {len(changes['fixed'])} fixed, "
              f"{len(changes['remaining'])} remaining")
    if changes["previous"] is None:
        lines = [f"changes: no earlier report to compare with ({counts})"]
    else:
        lines = [f"changes since the report of {changes['previous']['generated_at']}: {counts}"]
    lines += [f"new: {entry['host']} {entry['rule']} ({entry['severity']})" for entry in changes["new"]
              if changes["previous"] is not None]
    lines += [f"fixed: {entry['host']} {entry['rule']}" for entry in changes["fixed"]]
    if report.get("fail_on_new_only"):
        lines.append("the gate counts new findings only (pacs_audit_fail_on_new_only)")
    return lines


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write via a temporary file in the same directory and rename over the target."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pacsguard-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_reports(report: dict[str, Any], directory: str, basename: str = "pacsguard-audit",
                  inventory_sources: list[str] | None = None) -> dict[str, str]:
    """Write <basename>.json, .junit.xml, .sarif and .html into ``directory`` (the
    SARIF results of network findings point at the nodes' lines of ``inventory_sources``); return
    their paths. ValueError when ``basename`` is not a plain name (a path or '..' would write
    elsewhere)."""
    check_basename(basename)
    paths = {
        "json": os.path.join(directory, f"{basename}.json"),
        "junit": os.path.join(directory, f"{basename}.junit.xml"),
        "sarif": os.path.join(directory, f"{basename}.sarif"),
        "html": os.path.join(directory, f"{basename}.html"),
    }
    write_atomic(paths["json"], (json.dumps(report, indent=2, sort_keys=False) + "\n").encode())
    write_atomic(paths["junit"], junit_xml(report))
    sarif = sarif_log(report, inventory_sources)
    write_atomic(paths["sarif"], (json.dumps(sarif, indent=2) + "\n").encode())
    write_atomic(paths["html"], render_html(report).encode())
    return paths
