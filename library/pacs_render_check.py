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
from ansible.module_utils.pacsguard.languages import check_plain_token
from ansible.module_utils.pacsguard.stunnel import StunnelConfigError, front_services, verify

ARGUMENT_SPEC = {
    "language": {"type": "str", "choices": ["stunnel", "tokens"], "required": True},
    "content": {"type": "str"},
    "values": {"type": "dict", "default": {}},
    "routes": {"type": "list", "elements": "dict", "default": []},
    "backend_port": {"type": "int"},
    "options": {"type": "dict", "default": {}},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("language", "stunnel", ("backend_port", "content"))])
    params = module.params
    if params["language"] == "tokens":
        errors = [f"{name}: {reason}" for name, value in sorted(params["values"].items())
                  for ok, reason in [check_plain_token(value)] if not ok]
        if errors:
            module.fail_json(msg="nothing was changed: " + "; ".join(errors))
        module.exit_json(changed=False)
    services = front_services(params["routes"], params["backend_port"])
    try:
        verify(params["content"], services, {k: str(v) for k, v in params["options"].items()})
    except StunnelConfigError as exc:
        module.fail_json(msg=f"the rendered {params['language']} configuration is not the one meant, "
                         f"nothing was written: {exc}")
    module.exit_json(changed=False, services=sorted(services))


if __name__ == "__main__":
    main()
