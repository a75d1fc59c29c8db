#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the pacs_audit_targets action (roles/pacs_audit/action_plugins/pacs_audit_targets.py):
it runs on the controller, in Ansible itself; there is no module code to run on a host."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_audit_targets
short_description: Group the nodes' probe targets by the vantage that probes them
description:
  - An action that runs once for the play (C(run_once)) on the controller, internal to the
    C(pacs_audit) role. For each node of O(nodes) whose policy resolved, it takes the probe target
    of the node's plan (address, DICOM port, AE titles, peers, web URL, loopback-only ports) with
    the audit's options for that node, and lists it under the node's vantage.
  - An option left empty is not set (the probe's default); a web URL of the node's own replaces the
    one its plan derives. A node whose policy is not valid, or that has no options, is not probed
    (the report shows it as an error).
version_added: "0.9.0"
author: pacsguard maintainers (@pacsguard)
options:
  nodes:
    description: The nodes, in the order their targets are listed (C(ansible_play_hosts)).
    type: list
    elements: str
    required: true
  policies:
    description: The C(pacs_policy) batch's result, node name to its C(policy), C(errors) and C(warnings).
    type: dict
    required: true
  callers:
    description: Node name to what the audit gathered in its context, C(vantage) and C(probe) options.
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: It reads its arguments only.
  diff_mode:
    support: none
    description: It changes nothing.
"""

EXAMPLES = r"""
- name: Put together each vantage's probe targets
  pacs_audit_targets:
    nodes: "{{ ansible_play_hosts }}"
    policies: "{{ pacs_policy_many.policies }}"
    callers: "{{ pacs_policy_many.callers }}"
  run_once: true
  register: pacs_audit_grouped
"""

RETURN = r"""
targets:
  description: Vantage to the targets its M(pacsguard.pacs.dicom_probe) call checks.
  returned: always
  type: dict
  sample: {"localhost": [{"name": "pacs1", "host": "10.20.0.5", "port": 4242, "called_ae_title": "ARCHIVE1"}]}
"""
