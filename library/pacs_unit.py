#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: keep a systemd unit running and enabled (or stopped and disabled), asking once."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_unit
short_description: Keep a systemd unit started and enabled, or stopped and disabled, in one query
description:
  - "Reads the unit's load, active and enablement state with one C(systemctl show), and starts,
    stops, enables or disables it only when that differs. A run with nothing to change costs one
    command on the host (C(ansible.builtin.systemd_service) runs several)."
  - Restarts are not its business; the roles' handlers restart with C(ansible.builtin.systemd_service).
  - A unit systemd does not know fails the task, naming it.
version_added: "0.5.0"
author: pacsguard maintainers (@pacsguard)
options:
  name:
    description: The unit, with or without C(.service).
    type: str
    required: true
  state:
    description: C(started) or C(stopped); left as it is when not given.
    type: str
    choices: [started, stopped]
  enabled:
    description: Whether the unit starts at boot; left as it is when not given.
    type: bool
  daemon_reload:
    description: Have systemd reread its unit files first (after a unit was written).
    type: bool
    default: false
  paths:
    description:
      - The files the running service loaded (globs; a directory means the files in it). When given,
        RV(pending) says whether the service started before one of them, its unit or a drop-in last
        changed (PACS-CFG-014), from the same C(systemctl show).
    type: list
    elements: str
  warn:
    description: Warn when a restart is pending (with O(paths)).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Says what would change and changes nothing.
  diff_mode:
    support: full
    description: The unit's active and enablement state before and after.
"""

EXAMPLES = r"""
- name: Keep rsyslog running and enabled at boot
  pacs_unit:
    name: rsyslog
    state: started
    enabled: true

- name: Keep Orthanc running; is it older than its configuration?
  pacs_unit:
    name: orthanc
    state: started
    enabled: true
    paths: [/etc/orthanc/*.json]
  register: orthanc_unit
"""

RETURN = r"""
active:
  description: The unit's ActiveState before any change (C(active), C(inactive), C(failed), ...).
  returned: always
  type: str
  sample: active
unit_file_state:
  description: The unit's UnitFileState before any change (C(enabled), C(disabled), C(static), ...).
  returned: always
  type: str
  sample: enabled
pending:
  description: Whether the service runs an older configuration than its files (a restart is owed).
  returned: when O(paths) is given
  type: bool
summary:
  description: One line on the service against its files.
  returned: when O(paths) is given
  type: str
  sample: orthanc started after every file of its configuration changed
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.units import UnitError, keep, reload


def main() -> None:
    module = AnsibleModule(argument_spec={
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["started", "stopped"]},
        "enabled": {"type": "bool"},
        "daemon_reload": {"type": "bool", "default": False},
        "paths": {"type": "list", "elements": "str"},
        "warn": {"type": "bool", "default": False},
    }, supports_check_mode=True)
    params = module.params
    systemctl = module.get_bin_path("systemctl", required=True)

    def run(argv: list[str]) -> tuple[int, str, str]:
        return module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    try:
        if params["daemon_reload"] and not module.check_mode:
            reload(run, systemctl)
        unit = keep(run, systemctl, params, module.check_mode)
    except UnitError as exc:
        module.fail_json(msg=str(exc))
    if unit.get("pending") and params["warn"]:
        module.warn(f"restart pending: {unit['summary']}")
    module.exit_json(changed=bool(unit.pop("verbs")), **{k: v for k, v in unit.items() if k != "name"})


if __name__ == "__main__":
    main()
