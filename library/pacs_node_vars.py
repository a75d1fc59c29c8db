#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the pacs_node_vars action (roles/pacs_policy/action_plugins/pacs_node_vars.py):
it runs on the controller, in Ansible itself; there is no module code to run on a host."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_node_vars
short_description: Read the same variables of every node of the play, each in its own context
description:
  - An action that runs once for the play (C(run_once)) on the controller. For each node of
    O(nodes) it reads the variables named in O(variables) as that node sees them at this task, and
    validates the node's values of the options in O(argument_spec) as Ansible validates a role's
    arguments. It uses public interfaces only, taking the node's own variables from C(hostvars)
    (inventory, group and host vars, facts, registered values, extra vars) and the play's from this
    task (play and role vars, role defaults, task vars); each value is templated with the node's
    variables and C(hostvars).
  - Precedence is Ansible's as far as the two views show it; a play value over a key no node of the
    play sets for itself counts as a role default when it equals the O(argument_spec) default.
  - It stands in for a gathering task and an argument validation task per node, each of which costs
    every node of a fleet a worker process. The pacs_policy role's batch entry point (the audit,
    discovery) uses it.
  - Errors are each node's own (RV(errors)); the task fails only on bad arguments.
version_added: "0.9.0"
author: pacsguard maintainers (@pacsguard)
options:
  variables:
    description:
      - Result key to a mapping of field to the variable it is read from; a list of names takes the
        first one defined, C(a.b) reads key C(b) of mapping C(a), a mapping nests. A field whose
        variables are all undefined for a node is left out of that node's result.
    type: dict
    required: true
  nodes:
    description: The nodes; by default the play's hosts that are still active (C(ansible_play_hosts)).
    type: list
    elements: str
  argument_spec:
    description:
      - Options of a role's entry point (C(argument_specs.<entry>.options) of its
        C(meta/argument_specs.yml)); each node's values of those it defines are validated, and O(variables)
        reads them as validated (typed, with the spec's defaults).
    type: dict
    default: {}
  argument_spec_name:
    description: What O(argument_spec) belongs to, named in the errors (for example C(pacs_audit)).
    type: str
    default: argument spec
attributes:
  check_mode:
    support: full
    description: It reads variables only.
  diff_mode:
    support: none
    description: It changes nothing.
"""

EXAMPLES = r"""
- name: Gather every node's policy inputs, each in its own context, in one task
  pacs_node_vars:
    variables:
      inputs:
        product: pacs_product
        host: [ansible_host, inventory_hostname]
        fact_address: ansible_facts.default_ipv4.address
      caller:
        timeout: pacs_audit_timeout
    argument_spec: >-
      {{ (lookup('ansible.builtin.file', 'meta/argument_specs.yml') | from_yaml)
         .argument_specs.main.options }}
    argument_spec_name: pacs_audit
  run_once: true
  register: pacs_policy_gathered
"""

RETURN = r"""
nodes:
  description: Node name to a mapping of the O(variables) keys to the fields read in that node's context.
  returned: always
  type: dict
  sample: {"pacs1": {"inputs": {"product": "orthanc", "ae_title": "ARCHIVE1"}}}
by_key:
  description: The same values by O(variables) key, then node name (what a caller hands on for a whole fleet).
  returned: always
  type: dict
  sample: {"inputs": {"pacs1": {"product": "orthanc", "ae_title": "ARCHIVE1"}}}
errors:
  description: Node name to why its variables could not be templated or its options are not valid.
  returned: always
  type: dict
  sample:
    pacs2: "pacs_audit: argument 'pacs_audit_timeout' is of type str and we were unable to convert to float"
"""
