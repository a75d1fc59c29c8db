#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: read a rendered configuration back and refuse it unless it says what was meant."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_render_check
short_description: Read a rendered pacsguard configuration back before it is written to a host
description:
  - Parses text rendered from a pacsguard template with the rules of the program that will read it
    and fails unless the program would see exactly what the policy meant. Catches a value that
    carried a line break, separator or quote into another language, whatever check it slipped past.
  - "Run it on the controller (C(delegate_to: localhost)) before the task that writes the file; it
    never changes anything."
  - "O(language=tokens): every value of O(values) must be one plain token (letters, digits and
    C(. _ / @ : + -)), as role settings written into systemd units, stunnel and nftables must be."
  - "O(language=stunnel): the TLS front's file must hold one service per route (C(accept), C(connect),
    C(local) as meant and nothing else), the global options given in O(options), and no C(exec),
    C(client), C(include) or C(pty) anywhere."
version_added: "0.2.0"
author: pacsguard maintainers (@pacsguard)
options:
  language:
    description: The program whose rules apply.
    type: str
    choices: [stunnel, tokens]
    required: true
  content:
    description:
      - The rendered text (for example C(lookup('ansible.builtin.template', ...))).
      - Required with O(language=stunnel).
    type: str
  values:
    description: For O(language=tokens), variable name to the value it must be a plain token.
    type: dict
    default: {}
  routes:
    description: For O(language=stunnel), the front's routes (C(name), C(front_port), C(source)).
    type: list
    elements: dict
    default: []
  backend_port:
    description: For O(language=stunnel), the product's plaintext port every service connects to.
    type: int
  options:
    description: Global options and the values they must have once read back.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
"""

EXAMPLES = r"""
- name: Refuse role settings that would not stay one token in a unit file
  pacs_render_check:
    language: tokens
    values:
      pacs_dcmqrscp_config: "{{ pacs_dcmqrscp_config }}"
      pacs_dcmqrscp_user: "{{ pacs_dcmqrscp_user }}"
  delegate_to: localhost

- name: Read the front's configuration back before writing it
  pacs_render_check:
    language: stunnel
    content: "{{ lookup('ansible.builtin.template', 'etc/pacsguard/tls-front.conf.j2') }}"
    routes: "{{ pacs_tls_front_routes }}"
    backend_port: "{{ pacs_policy_resolved.plaintext_port }}"
    options: {requireCert: "yes", sslVersionMin: TLSv1.2}
  delegate_to: localhost
"""

RETURN = r"""
services:
  description: The service names read back (O(language=stunnel)).
  returned: success
  type: list
  elements: str
  sample: [peer-ct-scanner-1, peer-reading-room]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.controllertasks import (
    RENDER_CHECK_RULES,
    RENDER_CHECK_SPEC,
    run_render_check,
)


def main() -> None:
    """The check in this module's process; the pacs_policy role's action plugin runs the same code in
    the controller's task worker (module_utils/pacsguard/controllertasks.py)."""
    module = AnsibleModule(argument_spec=RENDER_CHECK_SPEC, supports_check_mode=True, **RENDER_CHECK_RULES)
    result, _secrets = run_render_check(module.params)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
