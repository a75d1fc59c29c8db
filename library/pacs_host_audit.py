#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: the PACS-CFG configuration audit, run on the PACS host itself."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_host_audit
short_description: Audit a PACS node's own configuration and audit trail on the host (PACS-CFG, PACS-LOG)
description:
  - Reads the PACS product's configuration the way the product does and reports the PACS-CFG-001 to
    PACS-CFG-013 and PACS-CFG-015 rules, and the audit trail's PACS-LOG-001 to PACS-LOG-005 (the
    product's log level and de-identification, log files' modes, the journal's persistence, rsyslog's
    forwarding to the collectors over verified TLS), in the finding model of
    M(pacsguard.pacs.dicom_probe) (rule, severity, title, evidence,
    remediation, references), with a status for every rule in RV(checks).
  - "The product is found from systemd: the unit that runs it (C(orthanc.service), C(dcmqrscp.service),
    or any unit whose C(ExecStart) runs C(Orthanc) or C(dcmqrscp)), its command line (Orthanc's
    configuration file or directory, dcmqrscp's C(-c) file, C(-dhl)), its drop-ins, C(User=) and
    sandbox. Orthanc's C(*.json) files are merged as Orthanc merges them (JSON with comments; a key in
    two files is an error, as it stops Orthanc). A TLS front's stunnel configuration is read when its
    unit is enabled."
  - Without O(product), the product is detected (an unmanaged host can be audited). The version comes
    from the Debian package database.
  - Evidence names the file, line, key and value; never a password (a weak or default one is named by
    its user only) and never patient data. The storage area and the database are never opened.
  - An unreadable or unparsable file is an C(error) for the rules that need it, naming the file and
    line; the other rules still run.
  - Read-only. Needs to read the product's configuration and keys (run it with become).
version_added: "0.4.0"
author: pacsguard maintainers (@pacsguard)
options:
  product:
    description:
      - The product to audit; detected when omitted.
      - One of the products of pacsguard's registry (module_utils/pacsguard/products.py).
    type: str
  service:
    description: The systemd service that runs the product, when it is not the product's usual one.
    type: str
  config:
    description:
      - The configuration to read instead of the one on the unit's command line (Orthanc a file or a
        directory, dcmqrscp a file).
    type: path
  front_service:
    description: The TLS front's service (dcmqrscp); its stunnel configuration is judged for PACS-CFG-007.
    type: str
    default: pacsguard-tls-front
  peers:
    description:
      - The policy's peers (C(pacs_policy_resolved.peers)) for PACS-CFG-011 (drift). Without them that
        rule is skipped.
    type: list
    elements: dict
  ae_title:
    description: The node's own AE title from the policy.
    type: str
    default: ""
  log_collectors:
    description:
      - The policy's log collectors (C(pacs_policy_resolved.log_collectors)) for PACS-LOG-005, each with
        name, address and port. rsyslog must forward to every one of them over TLS with the collector
        verified. Without them any such forward counts, and none at all is a medium finding.
    type: list
    elements: dict
  root:
    description: Audit the host mounted at this directory (a container's root file system, an image).
    type: path
    default: /
  service_state:
    description:
      - "Also judge PACS-CFG-014 in the same call, as M(pacsguard.pacs.pacs_service_state) does with
        O(pacsguard.pacs.pacs_service_state#module:product): does each service pacsguard runs for the
        product run an older configuration than its files (a restart pending)? The audit's host part
        is then one module run per node."
      - Reads the running host's systemd, so it needs O(root=/).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
requirements:
  - python3-cryptography or the openssl command on the host (certificates, PACS-CFG-012)
"""

EXAMPLES = r"""
- name: Audit an unmanaged host (the product is detected)
  pacs_host_audit:
  become: true
  register: host_audit

- name: Audit a hardened Orthanc against its policy
  pacs_host_audit:
    product: orthanc
    peers: "{{ pacs_policy_resolved.peers }}"
    ae_title: "{{ pacs_policy_resolved.ae_title }}"
  become: true
"""

RETURN = r"""
product:
  description: The product audited.
  returned: success
  type: str
  sample: orthanc
detected:
  description: Whether the product was detected (no O(product) given).
  returned: success
  type: bool
version:
  description: The installed package version ('' when the package database does not list it).
  returned: success
  type: str
  sample: 1.10.1+dfsg-2+deb12u1
service:
  description: The unit that runs the product ('' when none does).
  returned: success
  type: str
  sample: orthanc.service
unit:
  description: The unit's file, drop-ins and the user the service runs as.
  returned: success
  type: dict
  sample: {"path": "/lib/systemd/system/orthanc.service", "dropins": [], "user": "orthanc"}
config_files:
  description: The configuration files read.
  returned: success
  type: list
  elements: str
  sample: ["/etc/orthanc/credentials.json", "/etc/orthanc/orthanc.json"]
config_error:
  description: Why the configuration could not be used ('' when it could), with file and line.
  returned: success
  type: str
front:
  description: The TLS front's service and configuration file, when one exists.
  returned: success
  type: dict
  sample: {"service": "pacsguard-tls-front.service", "config": "/etc/pacsguard/tls-front.conf"}
checks:
  description: Every PACS-CFG rule with its status (pass, fail, error, skipped) and detail.
  returned: success
  type: dict
  sample:
    PACS-CFG-002: {"status": "fail", "detail": "/etc/orthanc/orthanc.json:129 DicomCheckCalledAet = false"}
findings:
  description: One finding per failed rule (id, severity, title, evidence, remediation, references).
  returned: success
  type: list
  elements: dict
services:
  description: >-
    With O(service_state=true), the state of each service of the product (the keys of
    M(pacsguard.pacs.pacs_service_state)'s RV(pacsguard.pacs.pacs_service_state#module:services)).
  returned: when O(service_state=true)
  type: list
  elements: dict
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from ansible.module_utils.pacsguard.hostaudit.audit import HostAuditError, run
    from ansible.module_utils.pacsguard.service import (
        ServiceStateError,
        combined,
        find_systemctl,
        observe_product,
    )
except ImportError:
    AUDIT_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    AUDIT_IMPORT_ERROR = None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "product": {"type": "str"},
            "service": {"type": "str"},
            "config": {"type": "path"},
            "front_service": {"type": "str", "default": "pacsguard-tls-front"},
            "peers": {"type": "list", "elements": "dict"},
            "ae_title": {"type": "str", "default": ""},
            "log_collectors": {"type": "list", "elements": "dict"},
            "root": {"type": "path", "default": "/"},
            "service_state": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    if AUDIT_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pacsguard's module_utils"), exception=AUDIT_IMPORT_ERROR)
    params = module.params
    if params["service_state"] and os.path.realpath(params["root"]) != "/":
        module.fail_json(msg=f"service_state reads the running host's systemd; it cannot judge the host at "
                             f"root={params['root']}")

    def command(argv: list[str]) -> tuple[int, str, str]:
        return module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    try:
        result = run(
            root=params["root"],
            product=params["product"],
            service=params["service"],
            config=params["config"],
            front_service=params["front_service"],
            peers=params["peers"],
            ae_title=params["ae_title"],
            command=command,
            log_collectors=params["log_collectors"],
        )
        if params["service_state"]:
            add_service_state(module, result, command)
    except (HostAuditError, ServiceStateError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


def add_service_state(module: AnsibleModule, result: dict, command) -> None:
    """PACS-CFG-014 judged on the product's services (the audit found or was given a product of the
    registry), its check and finding added to the result."""
    systemctl = find_systemctl(module.get_bin_path)
    states = observe_product(result["product"], command, systemctl)
    checks, findings = combined(states)
    result["checks"].update(checks)
    result["findings"] = result["findings"] + findings
    result["services"] = [item.as_dict() for item in states]


if __name__ == "__main__":
    main()
