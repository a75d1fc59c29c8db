#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: has a pacsguard nftables table drifted from the one last loaded?"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_nft_drift
short_description: Tell whether an nftables table drifted from the copy saved when it was last loaded
description:
  - "Lists the live table (C(nft list table inet TABLE)) and compares it with the listing saved on
    the host when pacsguard last loaded and confirmed it. A table flushed, rolled back or edited by
    hand since then has drifted: RV(reload) tells the role to load it again."
  - In check mode a drifted or missing table is reported as changed (a real run would load it
    again), with the saved listing as the diff's before and the live one as its after, so a rule
    somebody added by hand shows as a C(+) line.
  - Used for every table pacsguard loads (pacs_firewall, pacs_nftables); never changes anything.
version_added: "0.9.0"
author: pacsguard maintainers (@pacsguard)
options:
  table:
    description: The table's name (family inet).
    type: str
    required: true
  saved:
    description: The listing saved when the table was last loaded and confirmed.
    type: path
    required: true
  applied:
    description:
      - The table file last loaded and confirmed; its SHA-1 is returned as RV(applied_checksum), so
        that the role compares it with the candidate it wrote in the same run, without a task of its own.
    type: path
attributes:
  check_mode:
    support: full
    description: Read-only; in check mode drift is reported as the change a real run would make.
  diff_mode:
    support: full
    description: In check mode, the saved listing against the live one.
requirements:
  - nft on the host
"""

EXAMPLES = r"""
- name: Compare the live firewall table with the one last confirmed
  pacs_nft_drift:
    table: pacsguard
    saved: /var/lib/pacsguard/firewall/applied.live
  register: firewall_drift
"""

RETURN = r"""
loaded:
  description: Whether the table is loaded.
  returned: success
  type: bool
saved:
  description: Whether a listing was saved when the table was last loaded.
  returned: success
  type: bool
drifted:
  description: Whether the live table differs from the saved listing (both exist).
  returned: success
  type: bool
missing:
  description: Whether the table was loaded once (a listing is saved) and is not loaded now.
  returned: success
  type: bool
reload:
  description: Whether a real run must load the table again (not loaded, never saved, or drifted).
  returned: success
  type: bool
live:
  description: The live listing (empty when the table is not loaded).
  returned: success
  type: str
applied_checksum:
  description: SHA-1 of the file O(applied), or null when it was not given or does not exist.
  returned: success
  type: str
msg:
  description: What was found, in a sentence.
  returned: success
  type: str
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from ansible.module_utils.pacsguard.nftables import table_drift
except ImportError:
    IMPORT_ERROR: str | None = traceback.format_exc()
else:
    IMPORT_ERROR = None

# A listing larger than this is not a table pacsguard wrote.
MAX_LISTING = 4 * 1024 * 1024


def _saved(module: AnsibleModule, path: str) -> str | None:
    """The saved listing, None when there is none."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(MAX_LISTING + 1)
    except (OSError, UnicodeDecodeError) as exc:
        module.fail_json(msg=f"cannot read the saved listing {path}: {exc}")
    if len(text) > MAX_LISTING:
        module.fail_json(msg=f"the saved listing {path} is larger than {MAX_LISTING} bytes")
    return text


def main() -> None:
    module = AnsibleModule(argument_spec={"table": {"type": "str", "required": True},
                                          "saved": {"type": "path", "required": True},
                                          "applied": {"type": "path"}},
                           supports_check_mode=True)
    if IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pacsguard's module_utils"), exception=IMPORT_ERROR)
    table, path = module.params["table"], module.params["saved"]
    nft = module.get_bin_path("nft", required=True)
    rc, out, _err = module.run_command([nft, "list", "table", "inet", table],
                                       environ_update={"LANG": "C", "LC_ALL": "C"})
    live = out if rc == 0 else None
    saved = _saved(module, path)
    found = table_drift(live, saved)
    applied = module.params["applied"]
    applied_checksum = (module.digest_from_file(applied, "sha1")
                        if applied and os.path.isfile(applied) else None)
    result = {**found, "live": live or "", "applied_checksum": applied_checksum,
              "changed": module.check_mode and (found["drifted"] or found["missing"])}
    if found["drifted"]:
        result["msg"] = f"table inet {table} drifted from the one last loaded"
        if module.check_mode:  # shown with --diff only
            result["diff"] = {"before": saved, "after": live, "before_header": f"{path} (last loaded)",
                              "after_header": f"nft list table inet {table} (live)"}
    elif found["missing"]:
        result["msg"] = f"table inet {table} is not loaded: nothing it guards is guarded"
    elif not found["saved"]:
        result["msg"] = f"table inet {table} has never been loaded by pacsguard"
    else:
        result["msg"] = f"table inet {table} is the one last loaded"
    module.exit_json(**result)


if __name__ == "__main__":
    main()
