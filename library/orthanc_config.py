#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: set keys in Orthanc's configuration directory, idempotently and atomically."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: orthanc_config
short_description: Set keys in Orthanc's configuration directory without ever defining one twice
description:
  - "Orthanc reads every C(*.json) file of its configuration directory (JSON with C(//) and
    C(/* */) comments), merges their top-level keys, and refuses to start when a key is defined in
    two files. This module sets top-level keys where Orthanc will read them once: a key already
    defined in some file is changed in that file (in place: comments and every other line stay as
    they were); a key defined nowhere is added to O(file)."
  - A key defined twice within one file is refused too (Orthanc would take the last one silently).
  - A directory that already defines a key twice is refused with the key and both files named,
    before anything is written.
  - Values are compared after parsing, so formatting differences are not changes. Keys listed in
    O(merge) are objects updated entry by entry (e.g. add one C(DicomModalities) entry and keep the
    others); other keys are replaced whole.
  - Each changed file is written to a temporary file in the same directory and moved into place;
    with O(backup) the previous version is kept next to it (a name Orthanc does not load).
  - "Before writing, the merged result is checked the way Orthanc checks it at start-up: with
    C(DicomTlsEnabled) true, the certificate, key and trusted-certificates files must exist."
  - The diff shows the changed keys only, never a whole file, and prints a value only when its key
    is on an allowlist of settings that are never secret (the allow flags, ports, AE titles, TLS
    file paths and versions, modality entries field by field, user names); any other value shows as
    C((value not shown)), and is scrubbed from verbose output, whatever its name.
  - Secrets are also scrubbed from all output, O(settings) included -
    O(secret_settings), C(RegisteredUsers), any value under a key naming a password, secret, token
    or credential, the password of C(OrthancPeers) and DICOMweb server entries, and the password in
    a URL or C(HttpProxy).
  - A new file is created with its mode, owner and group already set, never readable by others.
version_added: "0.1.0"
author: pacsguard maintainers (@pacsguard)
options:
  path:
    description: Orthanc's configuration directory.
    type: path
    default: /etc/orthanc
  file:
    description: File name (in O(path)) that receives keys no file defines yet.
    type: str
    default: pacsguard.json
  settings:
    description: Top-level keys and their values.
    type: dict
    default: {}
  secret_settings:
    description:
      - Like O(settings), for values that must not be logged (C(RegisteredUsers)). Masked in diffs.
      - A key may not appear in both O(settings) and O(secret_settings).
    type: dict
    default: {}
  secret_file:
    description:
      - File name (in O(path)) that receives the keys of O(secret_settings) no file defines yet
        (C(credentials.json), where Debian keeps C(RegisteredUsers)); O(file) when not given.
    type: str
  merge:
    description: Keys whose object value is merged into the current one instead of replacing it.
    type: list
    elements: str
    default: []
  check_files:
    description:
      - Refuse a result Orthanc would not start with because a TLS file it names is missing.
      - Turn off only in check mode, when earlier tasks would have created those files.
    type: bool
    default: true
  root_writes_only:
    description:
      - Also make every file Orthanc loads from O(path) (by Orthanc's own rule, see
        O(file)) owned by root and writable by root only; group and read bits stay as they are.
        A file the service user may write lets a compromised Orthanc rewrite its own allowlist.
      - Unlike O(owner) and O(mode), which apply to the files this module writes, this reaches the
        files of plugins and of people too.
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of each file before changing it.
    type: bool
    default: true
  backup_keep:
    description: How many backups of each file to keep (the oldest go first); 0 keeps them all.
    type: int
    default: 5
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Computes and reports the change and its diff; writes nothing.
  diff_mode:
    support: full
    description: >-
      One before/after per changed file, of its changed keys only; values off the allowlist not shown.
notes:
  - O(owner), O(group) and O(mode) apply to every file the module writes, so credentials can be made
    readable by the Orthanc service alone.
"""

EXAMPLES = r"""
- name: Only listed modalities may associate, from their own address
  orthanc_config:
    path: /etc/orthanc
    settings:
      DicomAlwaysAllowEcho: false
      DicomAlwaysAllowStore: false
      DicomCheckModalityHost: true
      DicomModalities:
        ct01: {AET: CT01, Host: 10.20.0.11, Port: 104, AllowEcho: true, AllowStore: true}

- name: Add one modality, keep the others
  orthanc_config:
    settings:
      DicomModalities:
        rws1: {AET: RWS1, Host: 10.20.1.5, Port: 11112, AllowFind: true}
    merge: [DicomModalities]

- name: REST users, readable by the service alone
  orthanc_config:
    secret_settings:
      RegisteredUsers: {admin: "{{ vault_orthanc_admin_password }}"}
    owner: root
    group: orthanc
    mode: "0640"
"""

RETURN = r"""
changed_keys:
  description: Keys whose value changed (names only, never values).
  returned: always
  type: list
  elements: str
  sample: [DicomCheckModalityHost, DicomModalities]
key_files:
  description: For each requested key, the file that holds it.
  returned: always
  type: dict
  sample: {DicomAet: orthanc.json, RegisteredUsers: credentials.json, DicomTlsEnabled: pacsguard.json}
files:
  description: Files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/orthanc/orthanc.json]
restricted:
  description: With O(root_writes_only), the files whose owner or mode was made so (after links).
  returned: when O(root_writes_only) is true
  type: list
  elements: str
  sample: [/etc/orthanc/plugin.json]
backups:
  description: Backup file per written file, when O(backup) is true.
  returned: changed and not check mode
  type: dict
  sample: {/etc/orthanc/orthanc.json: /etc/orthanc/orthanc.json.1234.2026-11-26@15:00:00~}
"""

import json
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.files import requested_attributes, write_atomically
from ansible.module_utils.pacsguard.orthanc import (
    OrthancConfigError,
    load_dir,
    merged,
    missing_tls_files,
    plan,
    secrets_in,
    unprintable_strings,
)

ARGUMENT_SPEC: dict[str, Any] = {
    "path": {"type": "path", "default": "/etc/orthanc"},
    "file": {"type": "str", "default": "pacsguard.json"},
    "settings": {"type": "dict", "default": {}},
    "secret_settings": {"type": "dict", "default": {}, "no_log": True},
    "secret_file": {"type": "str"},
    "merge": {"type": "list", "elements": "str", "default": []},
    "check_files": {"type": "bool", "default": True},
    "root_writes_only": {"type": "bool", "default": False},
    "backup": {"type": "bool", "default": True},
    "backup_keep": {"type": "int", "default": 5},
}


def _apply_attributes(module: AnsibleModule, paths: list[str], changed: bool) -> bool:
    """Owner, group and mode of every managed file; True when any had to change."""
    for path in paths:
        if os.path.exists(path) or not module.check_mode:
            args = module.load_file_common_arguments(module.params, path=path)
            changed = module.set_fs_attributes_if_different(args, changed)
    return changed


def _root_writes_only(module: AnsibleModule, names: list[str], result: dict[str, Any]) -> bool:
    """Every file Orthanc loads owned by root and writable by root only; True when any changed (or
    anything changed before). Each file made so is listed in the result's ``restricted``."""
    result["restricted"] = []
    for name in names:
        # links followed, as Orthanc follows them: the file it reads is made so, not the link
        path = os.path.realpath(os.path.join(module.params["path"], name))
        if os.path.exists(path):
            args = module.load_file_common_arguments({"owner": "root", "mode": "go-w"}, path=path)
            if module.set_fs_attributes_if_different(args, False):
                result["restricted"].append(path)
    return result["changed"] or bool(result["restricted"])


def _render(keys: dict[str, Any]) -> str:
    """The changed keys of one file as the diff prints them (sorted JSON, one key per line)."""
    return "".join(f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)}\n" for key, value in keys.items())


def _hide_secrets(module: AnsibleModule, wanted: dict[str, Any], files: dict[str, Any]) -> None:
    """Every value the diff would not print, in the settings given, and every password found in the
    files read, is scrubbed from all output (Ansible's no_log values), whichever option carried it."""
    for key, value in wanted.items():
        module.no_log_values.update(secrets_in(key, value) | unprintable_strings(key, value))
    for config in files.values():
        for key, value in config.data.items():
            module.no_log_values.update(secrets_in(key, value))


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, add_file_common_args=True,
                           supports_check_mode=True)
    params = module.params
    for option in ("file", "secret_file"):
        name = params[option] if params[option] is not None else params["file"]
        if os.sep in name or not name.endswith(".json"):
            module.fail_json(msg=f"{option} must be a *.json name inside path, got {name!r}")
    both = sorted(set(params["settings"]) & set(params["secret_settings"]))
    if both:
        module.fail_json(msg=f"keys given in both settings and secret_settings: {', '.join(both)}")
    wanted = {**params["settings"], **params["secret_settings"]}
    try:
        files = load_dir(params["path"])
        _hide_secrets(module, wanted, files)
        change = plan(files, wanted, params["file"], frozenset(params["merge"]),
                      {key: params["secret_file"] or params["file"] for key in params["secret_settings"]})
        missing = missing_tls_files(merged(files, change.texts))
    except OrthancConfigError as exc:
        module.fail_json(msg=f"{params['path']}: {exc}")
    if missing and params["check_files"]:
        module.fail_json(msg="DICOM TLS is enabled but Orthanc would not start, files missing: "
                             + ", ".join(missing))
    paths = [os.path.join(params["path"], name) for name in sorted(change.texts)]
    managed = sorted({os.path.join(params["path"], name) for name in change.key_files.values()})
    result: dict[str, Any] = {
        "changed": bool(change.texts),
        "changed_keys": change.changed_keys,
        "key_files": change.key_files,
        "files": paths,
        "diff": [{"before_header": f"{path} (changed keys)", "after_header": f"{path} (changed keys)",
                  "before": _render(change.shown_before[os.path.basename(path)]),
                  "after": _render(change.shown_after[os.path.basename(path)])} for path in paths],
    }
    if not module.check_mode:
        attributes = requested_attributes(params)
        backups = {path: write_atomically(module, path, change.texts[os.path.basename(path)],
                                          module.params["backup"], **attributes,
                                          keep=module.params["backup_keep"]) for path in paths}
        result["backups"] = {path: backup for path, backup in backups.items() if backup}
    result["changed"] = _apply_attributes(module, managed, result["changed"])
    if params["root_writes_only"]:
        result["changed"] = _root_writes_only(module, sorted(set(files) | set(change.texts)), result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
