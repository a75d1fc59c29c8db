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
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.units import steps

_C = {"LANG": "C", "LC_ALL": "C"}


def _show(module: AnsibleModule, systemctl: str, name: str) -> dict[str, str]:
    """The unit's LoadState, ActiveState and UnitFileState."""
    rc, out, err = module.run_command(
        [systemctl, "show", "--property=LoadState,ActiveState,UnitFileState", "--", name], environ_update=_C)
    if rc:
        module.fail_json(msg=f"systemctl show {name} failed: {(err or out).strip()}")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _run(module: AnsibleModule, argv: list[str]) -> None:
    rc, out, err = module.run_command(argv, environ_update=_C)
    if rc:
        module.fail_json(msg=f"{' '.join(argv[1:])} failed: {(err or out).strip()}")


def main() -> None:
    module = AnsibleModule(argument_spec={
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["started", "stopped"]},
        "enabled": {"type": "bool"},
        "daemon_reload": {"type": "bool", "default": False},
    }, supports_check_mode=True)
    params = module.params
    name = params["name"] if "." in params["name"] else f"{params['name']}.service"
    systemctl = module.get_bin_path("systemctl", required=True)
    if params["daemon_reload"] and not module.check_mode:
        _run(module, [systemctl, "daemon-reload"])
    found = _show(module, systemctl, name)
    if found.get("LoadState") != "loaded":
        module.fail_json(msg=f"systemd has no unit {name} (LoadState {found.get('LoadState', 'unknown')})")
    active, boot = found.get("ActiveState", ""), found.get("UnitFileState", "")
    verbs, active_after, boot_after = steps(active, boot, params["state"], params["enabled"])
    if not module.check_mode:
        for verb in verbs:
            _run(module, [systemctl, verb, "--", name])
    module.exit_json(changed=bool(verbs), active=active, unit_file_state=boot, diff={
        "before_header": name, "after_header": name,
        "before": f"active: {active}\nunit file: {boot}\n",
        "after": f"active: {active_after}\nunit file: {boot_after}\n"})


if __name__ == "__main__":
    main()
