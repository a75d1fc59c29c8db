#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: the address the controller reaches a node from."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_controller_address
short_description: The address the controller reaches a node from
description:
  - Says which of the controller's addresses a connection to O(destination) would leave from (what
    C(ip -o route get) says as C(src)). pacs_firewall always admits that address, so that a run
    cannot lock the controller out.
  - Asks the kernel by connecting a UDP socket, which picks the route and sends nothing.
  - "Run it on the controller (C(delegate_to: localhost)); the pacs_firewall role carries an action
    plugin of the same name that answers in the task's worker, without a module process."
  - Never fails and never changes anything.
version_added: "0.10.0"
author: pacsguard maintainers (@pacsguard)
options:
  destination:
    description: The node's address (an IP address; anything else gives an empty RV(address)).
    type: str
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
"""

EXAMPLES = r"""
- name: Find the address the controller reaches the node from
  pacs_controller_address:
    destination: "{{ pacs_policy_resolved.address }}"
  delegate_to: localhost
  register: route
"""

RETURN = r"""
address:
  description: The controller's source address toward O(destination); empty when there is no route.
  returned: always
  type: str
  sample: 10.20.0.2
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.controllertasks import source_address


def main() -> None:
    module = AnsibleModule(argument_spec={"destination": {"type": "str"}}, supports_check_mode=True)
    module.exit_json(changed=False, address=source_address(module.params["destination"] or ""))


if __name__ == "__main__":
    main()
