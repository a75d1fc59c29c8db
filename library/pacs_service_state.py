#!/usr/bin/python
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
author: pacsguard
options:
  service:
    description: The systemd service name.
    type: str
    required: true
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
    paths: [/etc/orthanc/*.json, /etc/pacsguard/orthanc-openssl.cnf]
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
summary:
  description: One line saying what was found.
  returned: success
  type: str
  sample: >-
    orthanc runs an older configuration than its files: changed since it started:
    /etc/orthanc/pacsguard.json (312 s after)
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.service import PROPERTIES, parse_show, state


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "service": {"type": "str", "required": True},
            "paths": {"type": "list", "elements": "str", "default": []},
            "warn": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, err = module.run_command(
        [systemctl, "show", module.params["service"], *(f"--property={p}" for p in PROPERTIES)],
        environ_update={"LANG": "C"})
    if rc != 0:
        module.fail_json(msg=f"systemctl show {module.params['service']} failed: {err.strip()}")
    result = state(module.params["service"], parse_show(out), module.params["paths"], time.time(),
                   time.monotonic())
    if result.pending and module.params["warn"]:
        module.warn(f"restart pending: {result.summary()}")
    module.exit_json(changed=False, **result.as_dict())


if __name__ == "__main__":
    main()
