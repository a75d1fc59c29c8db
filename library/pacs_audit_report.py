#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: write the audit's JSON and JUnit reports and decide the gate."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_audit_report
short_description: Write pacsguard audit reports (JSON, JUnit XML) and decide whether the run fails
description:
  - Collects the C(dicom_probe) results of every audited host into one JSON document (schema
    C(pacsguard.audit/1)) and one JUnit XML file (a test suite per host, a test case per check, a
    failure per finding), writes both atomically, and says whether the run must fail.
  - The reports are the audit's output on the controller, not a change to any managed host, so
    the module reports C(changed=false) and writes them in check mode too (a CI job running the
    audit with C(--check) still gets its reports).
version_added: "0.1.0"
author: pacsguard maintainers (@pacsguard)
options:
  results:
    description:
      - Host name to its outcome, a dict with C(result) (the registered C(dicom_probe) result),
        C(error) (why the probe could not run), C(waivers), C(host) (the checks and findings of
        M(pacsguard.pacs.pacs_host_audit) and M(pacsguard.pacs.pacs_service_state) read on the
        host) and C(network) (false when the run left the network probe out, for example
        C(--tags host)). An empty outcome counts as an error.
      - "C(waivers) is a list of C(rule) (a rule ID), C(reason) and C(expires) (a date): a finding of
        that rule on that host is reported as waived, with its reason, and does not fail the gate
        until the expiry date; from then on it counts again, and the summary says the waiver ran out.
        A waiver without a reason that says why (3 words, 15 characters), without an end date, with
        an end further than O(waiver_max_days) away, or of a critical rule while
        O(waivers_critical_allowed) is false, is refused, and no report is written."
      - Required unless O(fleet) is given.
    type: dict
  fleet:
    description:
      - Instead of O(results), what the audit gathered once for the play, from which every node's
        outcome is put together; C(nodes) (every node of the play), C(policies) (the pacs_policy
        batch's node to C(policy), C(errors) and C(warnings)), C(callers) (node to its C(vantage) and
        C(waivers)), C(host_results) (node to its registered M(pacsguard.pacs.pacs_host_audit) result,
        run with O(pacsguard.pacs.pacs_host_audit#module:service_state=true)), C(host_nodes) (the nodes
        whose host part was asked for; one without a result is an error when any node has one),
        C(probe_ran) (whether the network part ran) and C(policy_error) (why the policy batch itself
        failed, every node's error).
    type: dict
    suboptions:
      nodes: {type: list, elements: str, required: true, description: Every node of the play.}
      policies: {type: dict, default: {}, description: "The nodes' policies, errors and warnings."}
      callers: {type: dict, default: {}, description: "The nodes' vantages and waivers."}
      host_results: {type: dict, default: {}, description: The host part's module result by node.}
      host_nodes: {type: list, elements: str, default: [], description: The nodes with a host part.}
      probe_ran: {type: bool, default: false, description: Whether the network part ran.}
      policy_error: {type: str, default: "", description: Why the policy batch failed.}
  probes:
    description:
      - Network probe results by host name, for outcomes without their own C(result) (the
        C(probes) of M(pacsguard.pacs.dicom_probe) calls with
        O(pacsguard.pacs.dicom_probe#module:targets), one per vantage). A result with C(error) is
        that host's probe error.
    type: dict
    default: {}
  vantage_errors:
    description:
      - Why a vantage's probe call did not run (vantage unreachable, module failure), by vantage; an
        outcome whose C(vantage) is listed and that has no probe result is an error with that reason.
    type: dict
    default: {}
  directory:
    description:
      - Where the reports go; created when missing. Give an absolute path; a relative one is taken
        from the directory the module runs in, which for a local connection is the playbook's.
    type: path
    required: true
  basename:
    description:
      - File name stem; the module writes C(<basename>.json), C(<basename>.junit.xml),
        C(<basename>.sarif) (SARIF 2.1.0) and C(<basename>.html) (one self-contained page for people).
    type: str
    default: pacsguard-audit
  inventory_sources:
    description:
      - The inventory files (C(ansible_inventory_sources)); each SARIF result of a network finding
        points at the line of the file that names its node.
    type: list
    elements: str
    default: []
  fail_on:
    description: The gate fails when a finding of this severity or worse exists.
    type: str
    choices: [info, low, medium, high, critical]
    default: high
  fail_on_inconclusive:
    description: The gate also fails when a host's audit was inconclusive or could not run.
    type: bool
    default: true
  compare_with:
    description:
      - The earlier report to say what changed since (new, fixed and remaining findings, in the
        summary, the JSON's C(changes), each finding's C(change) and SARIF's C(baselineState)).
      - V(last), the report this run replaces (C(<directory>/<basename>.json); none yet, no
        comparison, and one that is not a pacsguard report is a warning); a path, a given report
        (an error when it cannot be read); V(none), no comparison.
    type: str
    default: last
  fail_on_new_only:
    description:
      - Count only findings the earlier report did not have towards the gate (for a pipeline that
        adopts pacsguard on an estate that is not clean yet). Without an earlier report every
        finding is new. Inconclusive hosts count as O(fail_on_inconclusive) says.
    type: bool
    default: false
  waiver_max_days:
    description: The longest term of a waiver, in days from the run (the site's policy).
    type: int
    default: 90
  waivers_critical_allowed:
    description: Whether a finding of a critical rule may be waived at all.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Same behaviour in check mode (reports are output, not host state).
  diff_mode:
    support: none
    description: The reports are the run's output, written anew each run, not state to diff.
"""

EXAMPLES = r"""
- name: Write the reports and decide the gate
  pacs_audit_report:
    results: "{{ pacs_audit_outcomes }}"
    directory: "{{ playbook_dir }}/../reports"
    fail_on: high
  register: report
"""

RETURN = r"""
gate:
  description: C(fail) when the run must fail, else C(pass).
  returned: always
  type: str
  sample: fail
summary:
  description: Counts (hosts, findings, by severity, gating findings) and inconclusive hosts.
  returned: always
  type: dict
  sample: {"hosts": 3, "findings": 9, "gating_findings": 6, "waived_findings": 1,
           "expired_waivers": [], "active_waivers": [{"host": "archive1", "rule": "PACS-NET-007",
           "reason": "dcmqrscp grants retrieve to every listed peer", "expires": "2027-02-01",
           "days_left": 60, "findings": 1}], "gate": "fail"}
summary_lines:
  description: A short fixed-width table, one line per host, and the gate decision.
  returned: always
  type: list
  elements: str
paths:
  description: Paths of the JSON, JUnit, SARIF and HTML reports.
  returned: always
  type: dict
  sample: {"json": "reports/pacsguard-audit.json", "junit": "reports/pacsguard-audit.junit.xml",
           "sarif": "reports/pacsguard-audit.sarif", "html": "reports/pacsguard-audit.html"}
"""

import datetime
import os
import traceback

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible.module_utils.pacsguard.changes import read_previous
    from ansible.module_utils.pacsguard.reports import (
        build_report,
        check_basename,
        fleet_outcomes,
        host_entry,
        summary_lines,
        write_reports,
    )
    from ansible.module_utils.pacsguard.waivers import Limits
    from ansible.module_utils.pacsguard.waivers import parse as parse_waivers
except ImportError:
    REPORTS_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    REPORTS_IMPORT_ERROR = None


def _previous(module: AnsibleModule, directory: str) -> tuple[dict | None, str]:
    """The earlier report O(compare_with) names, and its path (None: no comparison)."""
    choice = module.params["compare_with"]
    if choice in ("", "none"):
        return None, ""
    last = choice == "last"
    path = os.path.join(directory, f"{module.params['basename']}.json") if last else choice
    if last and not os.path.exists(path):
        return None, ""
    previous, problem = read_previous(path)
    if previous is None and last:
        module.warn(f"compare_with last: {problem}; nothing to compare with")
    elif previous is None:
        module.fail_json(msg=f"compare_with: {problem}; no report was written")
    return previous, path


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "results": {"type": "dict"},
            "fleet": {"type": "dict", "options": {
                "nodes": {"type": "list", "elements": "str", "required": True},
                "policies": {"type": "dict", "default": {}},
                "callers": {"type": "dict", "default": {}},
                "host_results": {"type": "dict", "default": {}},
                "host_nodes": {"type": "list", "elements": "str", "default": []},
                "probe_ran": {"type": "bool", "default": False},
                "policy_error": {"type": "str", "default": ""}}},
            "probes": {"type": "dict", "default": {}},
            "vantage_errors": {"type": "dict", "default": {}},
            "directory": {"type": "path", "required": True},
            "basename": {"type": "str", "default": "pacsguard-audit"},
            "inventory_sources": {"type": "list", "elements": "str", "default": []},
            "fail_on": {"type": "str", "default": "high",
                        "choices": ["info", "low", "medium", "high", "critical"]},
            "fail_on_inconclusive": {"type": "bool", "default": True},
            "compare_with": {"type": "str", "default": "last"},
            "fail_on_new_only": {"type": "bool", "default": False},
            "waiver_max_days": {"type": "int", "default": 90},
            "waivers_critical_allowed": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
        required_one_of=[("results", "fleet")],
        mutually_exclusive=[("results", "fleet")],
    )
    if REPORTS_IMPORT_ERROR:
        module.fail_json(msg="pacsguard module_utils not importable", exception=REPORTS_IMPORT_ERROR)
    limits = Limits(module.params["waiver_max_days"], module.params["waivers_critical_allowed"])
    if limits.check():
        module.fail_json(msg=f"waiver_max_days: {limits.check()}")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    hosts = []
    problems = []
    fleet = module.params["fleet"]
    results = module.params["results"] if fleet is None else fleet_outcomes(**fleet)
    for name, outcome in sorted(results.items()):
        outcome = outcome or {}
        probe_result = outcome.get("result") or module.params["probes"].get(name) or {}
        vantage_error = module.params["vantage_errors"].get(outcome.get("vantage") or "")
        if not outcome.get("error") and (probe_result.get("error") or (not probe_result and vantage_error)):
            reason = probe_result.get("error") or f"vantage {outcome['vantage']}: {vantage_error}"
            outcome, probe_result = {**outcome, "error": reason}, {}
        # network false: the run left the probe out (--tags host); only the host part is reported.
        network = outcome.get("network", True) is not False
        error = outcome.get("error") or ("" if probe_result.get("checks") or not network else
                                         "no probe result (vantage unreachable or play aborted)")
        waivers, errors = parse_waivers(outcome.get("waivers"), f"{name}: pacs_audit_waivers", today, limits)
        problems += errors
        hosts.append(host_entry(name, probe_result, error, waivers, today,
                                host_result=outcome.get("host") or {}, network=network,
                                vantage=outcome.get("vantage")))
    if problems:
        module.fail_json(msg="waivers are not valid, no report was written: " + "; ".join(problems))
    directory = os.path.abspath(module.params["directory"])
    try:
        check_basename(module.params["basename"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    previous, previous_path = _previous(module, directory)
    report = build_report(hosts, module.params["fail_on"], module.params["fail_on_inconclusive"],
                          previous=previous, previous_path=previous_path,
                          new_only=module.params["fail_on_new_only"])
    try:
        paths = write_reports(report, directory, module.params["basename"],
                              module.params["inventory_sources"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"cannot write reports to {module.params['directory']}: {exc}")
    module.exit_json(changed=False, gate=report["summary"]["gate"], summary=report["summary"],
                     summary_lines=summary_lines(report), paths=paths)


if __name__ == "__main__":
    main()
