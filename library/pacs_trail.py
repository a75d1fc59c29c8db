#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: pacsguard's own audit trail, one RFC 5424 record per hardening run that changed a node."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_trail
short_description: Leave one RFC 5424 record on the node of a hardening run that changed it
description:
  - With O(state=begin), returns the digests of the files pacsguard manages on the node (content, mode
    and owner of each). With O(state=end) and those digests as O(before), compares them with the files
    now; when any changed, sends one syslog record in RFC 5424 form to the node (APP-NAME C(pacsguard),
    MSGID C(harden), structured data C(pacsguard@32473) with the policy's digest, the files changed and
    the run's user). rsyslog, set up by the role pacs_log, forwards it to the policy's collectors.
  - The record goes to pacsguard's rsyslog socket (C(/run/pacsguard-trail.sock)) where rsyslog listens
    on it, else to C(/dev/log).
  - The record names files, never their content.
version_added: "0.5.0"
author: pacsguard maintainers (@pacsguard)
options:
  state:
    description: V(begin) reads the digests; V(end) compares and sends the record.
    type: str
    required: true
    choices: [begin, end]
  product:
    description: The node's product (which of its files pacsguard manages).
    type: str
    required: true
  before:
    description: The digests O(state=begin) returned (required with V(end)).
    type: dict
  policy:
    description: The node's resolved policy (only its digest is sent).
    type: raw
  user:
    description: Who ran the hardening (the controller's user, or AWX's launching user).
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: In check mode nothing changed on the node, so no record is sent.
  diff_mode:
    support: none
    description: The record names the files changed; there is nothing to diff.
"""

EXAMPLES = r"""
- name: Record the managed files before hardening
  pacs_trail:
    state: begin
    product: "{{ pacs_product }}"
  register: pacs_log_trail_begin

- name: Leave the run's record if it changed the node
  pacs_trail:
    state: end
    product: "{{ pacs_product }}"
    before: "{{ pacs_log_trail_begin.digests }}"
    policy: "{{ pacs_policy_resolved }}"
    user: "{{ lookup('ansible.builtin.env', 'USER') }}"
"""

RETURN = r"""
digests:
  description: The managed files' digests (path to SHA-256, mode, uid, gid).
  returned: always
  type: dict
changed_files:
  description: The managed files that changed since O(before) (O(state=end)).
  returned: always
  type: list
  elements: str
record:
  description: The RFC 5424 record sent, empty when nothing changed.
  returned: always
  type: str
  sample: >-
    <37>1 2026-12-04T12:00:00.000000+00:00 pacs1 pacsguard 4242 harden [pacsguard@32473
    policy="3f2a" changes="1" changed="/etc/orthanc/pacsguard.json" user="ops"] hardening changed 1
    managed file(s)
sent_to:
  description: The socket the record went to, empty when none was sent.
  returned: always
  type: str
"""

import os
import socket
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from ansible.module_utils.pacsguard.auditlog import (
        TRAIL_SOCKET,
        changed_paths,
        digests,
        managed_patterns,
        trail_fields,
        trail_message,
    )
except ImportError:
    IMPORT_ERROR = traceback.format_exc()
else:
    IMPORT_ERROR = None


def _send(record: str) -> str:
    """Send one datagram to the first syslog socket that takes it; '' when none does."""
    for path in (TRAIL_SOCKET, "/dev/log"):
        if not os.path.exists(path):
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            try:
                sock.sendto(record.encode("utf-8", errors="replace"), path)
            except OSError:
                continue
        return path
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "required": True, "choices": ["begin", "end"]},
            "product": {"type": "str", "required": True},
            "before": {"type": "dict"},
            "policy": {"type": "raw"},
            "user": {"type": "str", "default": ""},
        },
        required_if=[("state", "end", ("before",))],
        supports_check_mode=True,
    )
    if IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pacsguard's module_utils"), exception=IMPORT_ERROR)
    params = module.params
    now = digests(managed_patterns(params["product"]))
    if params["state"] == "begin":
        module.exit_json(changed=False, digests=now, changed_files=[], record="", sent_to="")
    changed = changed_paths(params["before"], now)
    record, sent_to = "", ""
    if changed and not module.check_mode:
        fields = trail_fields(params["policy"], changed, params["user"])
        record = trail_message(socket.gethostname(), fields,
                               f"hardening changed {len(changed)} managed file(s)", pid=os.getpid())
        sent_to = _send(record)
        if not sent_to:
            module.warn("no syslog socket took pacsguard's record of this run (rsyslog and journald down?)")
    module.exit_json(changed=bool(record), digests=now, changed_files=changed, record=record, sent_to=sent_to)


if __name__ == "__main__":
    main()
