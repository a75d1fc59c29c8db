#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: write dcmqrscp's peer allowlist (HostTable, AETable) from a peer list."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dcmqrscp_config
short_description: Write DCMTK dcmqrscp's allowlist from a peer list, keeping the rest of dcmqrscp.cfg
description:
  - Makes the AETable row of O(ae_title) admit exactly O(peers), each through a HostTable entry
    C((AETitle, address, port)) under a symbolic name C(pacsguard_<peer name>). HostTable entries
    pacsguard does not own, other rows, comments and every other line stay as they are; an unchanged
    row keeps its spacing.
  - "dcmqrscp's matching rules: AE titles are compared case-sensitively; the host is compared with
    the peer's reverse DNS name, or with its IP address only when dcmqrscp runs with C(-dhl). Run it
    with C(-dhl) when peers are given by address (the pacs_dcmqrscp role does)."
  - "Access is per storage area, not per peer: the row gets the union of the peers' services
    (C(store) needs W; C(find), C(get), C(move), C(find_worklist) need R; C(echo) needs none). Each
    peer that receives more than its own services is returned in RV(granularity_warnings)."
  - With O(drop_any), other rows that admit C(ANY) calling AE are removed (their storage areas stay).
  - No peer removes the row of O(ae_title), so nobody can associate to it. Further rows of
    O(ae_title) are removed too (dcmqrscp admits a peer when any of them lists it).
  - "Before writing, the file is read back by dcmqrscp's own rules (its separators, quotes, and its
    511-byte line buffer): unless dcmqrscp would load it and admit exactly O(peers) on that row,
    nothing is written. AE titles and addresses that dcmqrscp.cfg cannot carry as one token are
    refused; a row too long for one line lists its peers through group entries."
version_added: "0.1.0"
author: pacsguard maintainers (@pacsguard)
options:
  path:
    description: The configuration file.
    type: path
    default: /etc/dcmtk/dcmqrscp.cfg
  ae_title:
    description: The called AE title whose row admits the peers (C(pacs_ae_title)).
    type: str
    required: true
  storage:
    description:
      - The row's storage area (a directory dcmqrscp owns).
      - When omitted, an existing row keeps its own area (and the studies in it) and a new row gets
        O(storage_root)/O(ae_title).
    type: path
  storage_root:
    description: Parent of the storage area of a new row when O(storage) is omitted.
    type: path
    default: /var/lib/dcmtk/db
  quota:
    description: The row's quota, C((maxStudies, maxBytesPerStudy)), used when the row is created.
    type: str
    default: (200, 1024mb)
  peers:
    description: The allowlist, entries with C(name), C(ae_title), C(address), C(port), C(services).
    type: list
    elements: dict
    required: true
  settings:
    description:
      - Global settings before the tables, e.g. C(NetworkTCPPort), C(UserName), C(MaxAssociations).
      - Each is changed in place on its own line; a missing one is added after the last setting.
    type: dict
    default: {}
  drop_any:
    description: Remove other rows that admit any calling AE.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: true
  backup_keep:
    description: How many backups of the file to keep (the oldest go first); 0 keeps them all.
    type: int
    default: 5
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Computes the change and its diff; writes nothing.
  diff_mode:
    support: full
    description: Before and after of the file.
"""

EXAMPLES = r"""
- name: Admit the CT scanner and the reading room, nobody else
  dcmqrscp_config:
    ae_title: ARCHIVE1
    storage: /var/lib/dcmtk/db/ARCHIVE1
    settings: {NetworkTCPPort: 11112}
    peers:
      - {name: ct-scanner-1, ae_title: CT01, address: 10.20.0.11, port: 104, services: [echo, store]}
      - {name: reading-room, ae_title: RWS1, address: 10.20.1.5, port: 11112, services: [echo, find]}
"""

RETURN = r"""
access:
  description: The access the row grants (R, RW or W), or C(none) when no peer is listed.
  returned: always
  type: str
  sample: RW
storage:
  description: The storage area of the row (kept, given or new).
  returned: always
  type: str
  sample: /var/lib/dcmtk/db/ARCHIVE1
granularity_warnings:
  description: Peers that receive more than their own services, because access is per storage area.
  returned: always
  type: list
  elements: str
removed_any_rows:
  description: AE titles of other rows that admitted any calling AE and were removed.
  returned: always
  type: list
  elements: str
backup_file:
  description: The backup, when one was made.
  returned: changed and O(backup)
  type: str
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.pacsguard.dcmqrscp import (
    Config,
    DcmqrscpConfigError,
    access_for,
    apply_peers,
    open_rows,
    parse,
    render,
    set_settings,
    verify_written,
)
from ansible.module_utils.pacsguard.files import requested_attributes, write_atomically
from ansible.module_utils.pacsguard.products import PEER_DEFAULTS

ARGUMENT_SPEC: dict[str, Any] = {
    "path": {"type": "path", "default": "/etc/dcmtk/dcmqrscp.cfg"},
    "ae_title": {"type": "str", "required": True},
    "storage": {"type": "path"},
    "storage_root": {"type": "path", "default": "/var/lib/dcmtk/db"},
    "quota": {"type": "str", "default": "(200, 1024mb)"},
    "peers": {"type": "list", "elements": "dict", "required": True},
    "settings": {"type": "dict", "default": {}},
    "drop_any": {"type": "bool", "default": True},
    "backup": {"type": "bool", "default": True},
    "backup_keep": {"type": "int", "default": 5},
}


def _storage(config: Config, params: dict[str, Any]) -> str:
    """The area asked for, else the existing row's own, else a new one under storage_root."""
    if params["storage"]:
        return params["storage"]
    existing = next((row for row in config.rows if row.ae_title == params["ae_title"]), None)
    return existing.storage if existing else os.path.join(params["storage_root"], params["ae_title"])


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, add_file_common_args=True, supports_check_mode=True)
    params = module.params
    for index, peer in enumerate(params["peers"]):
        missing = [key for key in ("name", "ae_title", "address") if not peer.get(key)]
        if missing:
            module.fail_json(msg=f"peers[{index}]: missing {', '.join(missing)}")
    try:
        with open(params["path"], encoding="utf-8") as handle:
            before = handle.read()
        config = parse(before)
        opened = [title for title in open_rows(config) if title != params["ae_title"]]
        storage = _storage(config, params)
        warnings = apply_peers(config, params["ae_title"], storage, params["peers"],
                               params["quota"], params["drop_any"])
        set_settings(config, {key: str(value) for key, value in params["settings"].items()})
        after = render(config)
        verify_written(after, params["ae_title"], params["peers"], params["drop_any"])
    except OSError as exc:
        module.fail_json(msg=f"{params['path']}: {exc.strerror or exc}")
    except DcmqrscpConfigError as exc:
        module.fail_json(msg=f"{params['path']}: {exc}; nothing was changed")
    services = [service for peer in params["peers"]
                for service in peer.get("services", PEER_DEFAULTS["services"])]
    result: dict[str, Any] = {
        "changed": after != before,
        "storage": storage,
        "access": access_for(services) if params["peers"] else "none",
        "granularity_warnings": warnings,
        "removed_any_rows": opened if params["drop_any"] else [],
        "diff": {"before": before, "after": after, "before_header": params["path"],
                 "after_header": params["path"]},
    }
    if result["changed"] and not module.check_mode:
        backup = write_atomically(module, params["path"], after, params["backup"],
                                  **requested_attributes(params), keep=params["backup_keep"])
        if backup:
            result["backup_file"] = backup
    file_args = module.load_file_common_arguments(params)
    result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
