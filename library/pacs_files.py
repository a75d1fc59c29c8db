#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: apply one area's directories, files and removed files in one run on the host."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_files
short_description: Apply the directories and files of one hardening area in one module run
description:
  - "Takes every directory, file and removed file of one area of a node's plan (a role's TLS
    material, a product's unit drop-ins, rsyslog's forwarding, ...) and applies them in one module run:
    content, owner, group and mode, in the order given. A run with nothing to change costs one module
    run on the host, not one per path."
  - Every entry is checked before anything changes. Each file with O(files[].validate) is checked by
    that command before any path is written, so a file the program would refuse changes nothing.
  - A file is written through a temporary file in its directory and moved into place; a new file has
    its owner and mode before it is moved, so it is never readable by others. With O(backup), a file
    that is replaced is copied first. A symbolic link at a file's path is read through; when the text
    differs the link is replaced by the file.
  - "The content is given as text, rendered on the controller by the template and file lookups: a role
    hands its templates over with C(lookup('ansible.builtin.template', ...))."
version_added: "0.5.0"
author: pacsguard maintainers (@pacsguard)
options:
  files:
    description: The area's paths, applied in this order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path on the host.
        type: path
        required: true
      state:
        description:
          - C(file) writes O(files[].content); C(directory) creates a directory (and its missing
            parents, with the same owner, group and mode); C(absent) removes a file.
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description: The file's text.
        type: str
      line:
        description:
          - A line the file must hold; the rest of its text is kept (a file not there yet holds the
            line alone). The line is added at the end when no line of the file equals it.
        type: str
      secret_content:
        description:
          - The file's text when it is a secret (a private key). It is never shown, in the diff or
            the output, and Ansible masks it wherever it would be logged.
        type: str
      diff:
        description:
          - Show the text in the diff. A certificate says nothing readable; a summary next to it does.
        type: bool
        default: true
      validate:
        description: A command that checks the file before it is put in place; C(%s) is the file to check.
        type: str
      mode:
        description: The mode, octal (C("0640")) or symbolic (C(go-w)).
        type: raw
      owner:
        description: The owner, a name or a number.
        type: str
      group:
        description: The group, a name or a number.
        type: str
  backup:
    description: Copy a file that is replaced next to it first (C(<file>.<pid>.<time>~)).
    type: bool
    default: false
  units:
    description:
      - The systemd units the area's files serve, kept started and enabled (or stopped and disabled)
        after the files are written, in the same module run (the logic of
        M(pacsguard.pacs.pacs_unit)). systemd rereads its units first when this run wrote a unit
        file or a drop-in.
      - Restarts are not its business; the roles' handlers restart after a change.
    type: list
    elements: dict
    default: []
    suboptions:
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
      paths:
        description:
          - The files the running service loaded (globs). When given, RV(units) says whether a
            restart is pending (PACS-CFG-014), as M(pacsguard.pacs.pacs_unit) does.
        type: list
        elements: str
      warn:
        description: Warn when a restart is pending (with O(units[].paths)).
        type: bool
        default: false
attributes:
  check_mode:
    support: full
    description:
      - Says what would change, with the diff, and writes nothing; files are not validated.
      - A unit whose file this run would write may be unknown to systemd yet; it is shown as it would
        be started and enabled.
      - A file whose directory is missing is shown as a change (an earlier task, a package's
        install, would have made the directory); a real run refuses it.
  diff_mode:
    support: full
    description: One diff per path that changes (content or state, then owner, group and mode), and
      one per unit whose run or boot state changes.
"""

EXAMPLES = r"""
- name: Write the unit drop-ins of Orthanc
  pacs_files:
    files:
      - path: /etc/systemd/system/orthanc.service.d
        state: directory
        owner: root
        group: root
        mode: "0755"
      - path: /etc/systemd/system/orthanc.service.d/pacsguard-sandbox.conf
        content: "{{ lookup('ansible.builtin.template', 'pacsguard-sandbox.conf.j2') }}"
        owner: root
        group: root
        mode: "0644"
  register: drop_ins

- name: Install a private key
  pacs_files:
    files:
      - path: /etc/pacsguard/tls/node.key
        secret_content: "{{ lookup('ansible.builtin.file', 'pki/node.key', rstrip=false) }}"
        owner: root
        group: orthanc
        mode: "0640"

- name: Write the front's configuration and unit, and keep it running
  pacs_files:
    files:
      - path: /etc/systemd/system/pacsguard-web-front.service
        content: "{{ lookup('ansible.builtin.template', 'pacsguard-web-front.service.j2') }}"
        mode: "0644"
    units:
      - name: pacsguard-web-front
        state: started
        enabled: true
  register: front
  notify: restart the front
"""

RETURN = r"""
changed_paths:
  description: The paths whose content, state, owner, group or mode changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/orthanc.service.d/pacsguard-sandbox.conf]
checksums:
  description: SHA-1 of each file's wanted text, by path (secrets left out).
  returned: always
  type: dict
  sample: {/var/lib/pacsguard/firewall/candidate.nft: 3b18e512dba79e4c8300dd08aeb37f8e728b8dad}
backups:
  description: The backup of each file replaced with O(backup), by path.
  returned: when a file was replaced with O(backup)
  type: dict
units:
  description:
    - Each unit of O(units) by its full name, its states before any change (C(active),
      C(unit_file_state)), the systemctl C(verbs) run (or that would be), and with
      O(units[].paths) C(pending) and C(summary).
  returned: always
  type: dict
  sample: {"rsyslog.service": {"active": "active", "unit_file_state": "enabled", "verbs": []}}
units_changed:
  description: The units that were started, stopped, enabled or disabled (or would be).
  returned: always
  type: list
  elements: str
"""

import os
import shlex

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.files import requested_attributes, write_atomically
from ansible.module_utils.pacsguard.fileset import (
    Entry,
    FileSetError,
    action,
    attribute_diff,
    checksum,
    conflict,
    content_diff,
    entries_from,
    observe,
    orphans,
    with_line,
)
from ansible.module_utils.pacsguard.units import UnitError, keep, reload, writes_units, written

FILE_OPTIONS = {
    "path": {"type": "path", "required": True},
    "state": {"type": "str", "choices": ["file", "directory", "absent"], "default": "file"},
    "content": {"type": "str"},
    "secret_content": {"type": "str", "no_log": True},
    "line": {"type": "str"},
    "diff": {"type": "bool", "default": True},
    "validate": {"type": "str"},
    "mode": {"type": "raw"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
}


UNIT_OPTIONS = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["started", "stopped"]},
    "enabled": {"type": "bool"},
    "paths": {"type": "list", "elements": "str"},
    "warn": {"type": "bool", "default": False},
}


def _units(module: AnsibleModule, changed_paths: list[str]) -> dict[str, dict]:
    """O(units) kept as asked after the files (systemd rereading its units first when one was
    written); each unit's result by name."""
    if not module.params["units"]:
        return {}
    systemctl = module.get_bin_path("systemctl", required=True)

    def run(argv: list[str]) -> tuple[int, str, str]:
        return module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    if writes_units(changed_paths) and not module.check_mode:
        reload(run, systemctl)
    units = {}
    for wanted in module.params["units"]:
        unit = keep(run, systemctl, wanted, module.check_mode, written(wanted["name"], changed_paths))
        if unit.get("pending") and wanted["warn"]:
            module.warn(f"restart pending: {unit['summary']}")
        units[unit.pop("name")] = unit
    return units


def _validate(module: AnsibleModule, entry: Entry) -> str | None:
    """Run the entry's check on its text in the module's private directory; why it failed, or None."""
    temp = os.path.join(module.tmpdir, "pacs-files-validate")
    with open(temp, "w", encoding="utf-8") as out:
        out.write(entry.text or "")
    try:
        command = [part.replace("%s", temp) for part in shlex.split(entry.validate or "")]
        code, out, err = module.run_command(command, environ_update={"LANG": "C", "LC_ALL": "C"})
    finally:
        os.unlink(temp)
    if code == 0:
        return None
    said = (err or out).strip().replace(temp, entry.path)
    return f"{entry.path}: {entry.validate.split()[0]} refused it ({said[-600:] or f'exit status {code}'})"


def _apply(module: AnsibleModule, entry: Entry, todo: str | None) -> str | None:
    """Make the entry's content or state so; the backup's path, if one was made."""
    attributes = requested_attributes({"mode": entry.mode, "owner": entry.owner, "group": entry.group})
    if todo == "create":
        _make_directory(module, entry)
    elif todo == "remove":
        os.unlink(entry.path)
    elif todo == "write":
        return write_atomically(module, entry.path, entry.text or "", module.params["backup"], **attributes)
    return None


def _make_directory(module: AnsibleModule, entry: Entry) -> None:
    """The directory and any missing parent, each with the entry's owner, group and mode (as
    ansible.builtin.file makes them)."""
    missing = []
    path = entry.path
    while not os.path.exists(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        os.mkdir(path, 0o700)
        if entry.mode is None:
            os.chmod(path, 0o755)
        args = module.load_file_common_arguments(
            {"mode": entry.mode, "owner": entry.owner, "group": entry.group}, path=path)
        module.set_fs_attributes_if_different(args, False)


def _attributes(module: AnsibleModule, entry: Entry) -> tuple[bool, dict | None]:
    """Owner, group and mode made so (or said, in check mode); whether they changed, and the diff."""
    if entry.state == "absent" or not os.path.exists(entry.path):
        return False, None
    found: dict = {"before": {}, "after": {}}
    args = module.load_file_common_arguments(
        {"mode": entry.mode, "owner": entry.owner, "group": entry.group}, path=entry.path)
    differs = module.set_fs_attributes_if_different(args, False, found)
    return differs, attribute_diff(entry.path, found)


def main() -> None:
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True,
                                 "options": FILE_OPTIONS},
                       "backup": {"type": "bool", "default": False},
                       "units": {"type": "list", "elements": "dict", "default": [], "options": UNIT_OPTIONS}},
        supports_check_mode=True)
    try:
        entries = entries_from(module.params["files"])
    except FileSetError as exc:
        module.fail_json(msg=f"pacs_files: {exc}. Nothing was changed.")
    seen = {entry.path: observe(entry.path) for entry in entries}
    try:
        entries = [with_line(entry, seen[entry.path]) for entry in entries]
    except FileSetError as exc:
        module.fail_json(msg=f"pacs_files: {exc}. Nothing was changed.")
    problems = [why for entry in entries if (why := conflict(entry, seen[entry.path]))]
    # In check mode an earlier task (a package's install) may be what would make a file's directory.
    problems += [] if module.check_mode else orphans(entries)
    if problems:
        module.fail_json(msg="pacs_files: " + "; ".join(problems) + ". Nothing was changed.")
    todo = {entry.path: action(entry, seen[entry.path]) for entry in entries}
    if not module.check_mode:
        refused = [why for entry in entries if entry.validate and todo[entry.path] == "write"
                   and (why := _validate(module, entry))]
        if refused:
            module.fail_json(msg="pacs_files: " + "; ".join(refused) + ". Nothing was changed.")
    diffs, changed_paths, backups = [], [], {}
    for entry in entries:
        shown = content_diff(entry, seen[entry.path], todo[entry.path])
        if not module.check_mode:
            try:
                saved = _apply(module, entry, todo[entry.path])
            except OSError as exc:
                module.fail_json(msg=f"pacs_files: {entry.path}: {exc.strerror or exc}. Changed before it: "
                                     f"{', '.join(changed_paths) or 'nothing'}.", changed_paths=changed_paths)
            if saved:
                backups[entry.path] = saved
        differs, attribute_change = _attributes(module, entry)
        diffs.extend(change for change in (shown, attribute_change) if change)
        if todo[entry.path] or differs:
            changed_paths.append(entry.path)
    try:
        units = _units(module, changed_paths)
    except UnitError as exc:
        done = ", ".join(changed_paths) or "nothing"
        module.fail_json(msg=f"pacs_files: {exc}. Changed before it: {done}.",
                         changed_paths=changed_paths)
    units_changed = [name for name, unit in units.items() if unit["verbs"]]
    diffs.extend(units[name].pop("diff") for name in units_changed)
    for unit in units.values():
        unit.pop("diff", None)
    result = {
        "changed": bool(changed_paths or units_changed), "changed_paths": changed_paths, "diff": diffs,
        "units": units, "units_changed": units_changed,
        "checksums": {entry.path: checksum(entry.text or "") for entry in entries
                      if entry.state == "file" and not entry.secret},
    }
    if backups:
        result["backups"] = backups
    module.exit_json(**result)


if __name__ == "__main__":
    main()
