#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: does a service run the configuration its files hold, or is a restart pending?"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_service_state
short_description: Tell whether a PACS service runs an older configuration than its files
description:
  - "Compares the start of a systemd service's main process with the modification times of its
    configuration files and unit files. A file changed after the start (or a unit systemd has not
    reloaded) means the running service does not apply it yet: a restart is pending."
  - A PACS reads its allowlist when it starts. When a role may not restart it (for example
    C(pacs_orthanc_restart_allowed=false)) this module is how every later run, and the audit, still
    sees that the policy on disk is not the policy in force.
  - Read-only. With O(warn=true) a pending restart is also a warning of the run.
version_added: "0.3.0"
author: pacsguard maintainers (@pacsguard)
options:
  service:
    description: The systemd service name.
    type: str
  product:
    description:
      - Instead of O(service) and O(paths), the services pacsguard runs for this product and the
        files each reads at start, as the roles set them up by default (Orthanc; dcmqrscp and its
        TLS front). Services that do not run are left out. The top-level values describe the first
        running service; O(product) results carry all of them in RV(services).
      - The product is one of the products of pacsguard's registry (module_utils/pacsguard/products.py).
    type: str
  paths:
    description:
      - Files the service reads at start. Globs are expanded; a directory stands for the files
        directly in it. The unit file and its drop-ins are always compared too.
    type: list
    elements: str
    default: []
  warn:
    description: Add a warning to the run when a restart is pending.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
"""

EXAMPLES = r"""
- name: Say whether Orthanc still runs an older configuration
  pacs_service_state:
    service: orthanc
    paths: ['/etc/orthanc/*.[jJ][sS][oO][nN]', /etc/pacsguard/orthanc-openssl.cnf]
  register: orthanc_state
"""

RETURN = r"""
pending:
  description: True when the service runs and a restart is needed for its files to be in force.
  returned: success
  type: bool
  sample: true
active:
  description: Whether systemd reports the service active.
  returned: success
  type: bool
started:
  description: The main process's start, seconds since the epoch (null when not running).
  returned: success
  type: float
  sample: 1795774012.4
newer:
  description: The files changed after the start, each with how many seconds after.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "/etc/orthanc/pacsguard.json", "seconds_after_start": 312.5}]
need_daemon_reload:
  description: Whether the unit changed on disk and systemd has not reloaded it.
  returned: success
  type: bool
missing:
  description: Patterns of O(paths) that matched no file.
  returned: success
  type: list
  elements: str
checks:
  description: >-
    PACS-CFG-014 with its status (pass, fail, skipped when the service is not running or systemd is
    not the host's init system).
  returned: success
  type: dict
  sample: {"PACS-CFG-014": {"status": "fail", "detail": "orthanc runs an older configuration ..."}}
findings:
  description: The PACS-CFG-014 finding when a restart is pending (the audit's finding model).
  returned: success
  type: list
  elements: dict
services:
  description: With O(product), the state of each service (the same keys as the top level).
  returned: when O(product) is given
  type: list
  elements: dict
summary:
  description: One line saying what was found.
  returned: success
  type: str
  sample: >-
    orthanc runs an older configuration than its files: changed since it started:
    /etc/orthanc/pacsguard.json (312 s after)
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.products import names
from ansible.module_utils.pacsguard.service import (
    ServiceStateError,
    combined,
    find_systemctl,
    observe,
    observe_product,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "service": {"type": "str"},
            "product": {"type": "str"},
            "paths": {"type": "list", "elements": "str", "default": []},
            "warn": {"type": "bool", "default": True},
        },
        required_one_of=[("service", "product")],
        mutually_exclusive=[("service", "product")],
        supports_check_mode=True,
    )
    params = module.params
    if params["product"] is not None and params["product"] not in names():
        module.fail_json(msg=f"product {params['product']!r} is not one of {', '.join(names())}")
    systemctl = find_systemctl(module.get_bin_path)

    def run(argv: list[str]) -> tuple[int, str, str]:
        return module.run_command(argv, environ_update={"LANG": "C"})

    try:
        if params["service"]:
            states = [observe(params["service"], params["paths"], run, systemctl)]
        else:
            states = observe_product(params["product"], run, systemctl)
    except ServiceStateError as exc:
        module.fail_json(msg=str(exc))
    for item in states:
        if item.pending and params["warn"]:
            module.warn(f"restart pending: {item.summary()}")
    first = next((item for item in states if item.active), states[0])
    result = first.as_dict()
    result["checks"], result["findings"] = combined(states)
    if params["product"]:
        result["services"] = [item.as_dict() for item in states]
        result["pending"] = any(item.pending for item in states)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
