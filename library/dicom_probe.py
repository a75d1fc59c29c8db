#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: audit one DICOM endpoint from the network. Logic: module_utils/pacsguard."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dicom_probe
short_description: Audit a DICOM endpoint from the network the way an attacker would
description:
  - Connects to a DICOM port and checks whether it accepts unknown calling AE titles, a wrong
    called AE title, an allowlisted AE from a foreign address, plaintext, TLS 1.0/1.1, cipher
    suites outside the non-downgrading BCP 195 profile, TLS sessions without a client certificate
    or with an untrusted one; whether an unknown AE may C-ECHO, C-FIND (and C-STORE when
    I(intrusive)); whether the web/REST API hands out patient data without credentials, serves
    non-local clients in plaintext, accepts a product's default credential (each tried once, where
    credentials are asked for) or answers DICOMweb QIDO-RS without credentials; and, from an outside
    position, whether the ports answer at all.
  - Every failed check is a finding with a stable rule ID (PACS-NET-*, PACS-TLS-*, PACS-WEB-*,
    PACS-FW-001). Evidence holds counts and protocol facts, never patient data.
  - Without a successful positive control (an allowlisted AE accepted) a run without findings is
    C(inconclusive), not clean.
  - Every network wait is bounded by O(timeout); each exchange by a small multiple of it (an
    association by O(timeout) x (3 + its DIMSE checks), a TLS handshake or HTTP request by
    2 x O(timeout)), however slowly a server trickles its answer; and the whole run by O(deadline).
    A server that hits a bound gets a check with status C(error) saying which, never a hung job.
  - What a server controls is capped as well, PDU length (1 MiB), C-FIND responses counted (1000),
    HTTP body read (4 MiB); a service the server does not offer is reported as such, not as a failure.
  - Never changes anything.
version_added: "0.1.0"
author: pacsguard maintainers (@pacsguard)
requirements:
  - pynetdicom >= 3.0
  - pydicom >= 3.0
  - cryptography
options:
  host: &host
    description: Address of the DICOM endpoint (or O(targets) for many).
    type: str
  port: &port
    description: DICOM (or DICOM TLS) port.
    type: int
    default: 104
  called_ae_title: &called_ae_title
    description: The node's own AE title (PS3.5 AE, 1-16 characters). Required with O(host).
    type: str
  calling_ae_title: &calling_ae_title
    description:
      - An allowlisted AE title bound to the probe's source address, used as the positive control.
      - When omitted, taken from I(peers) (the peer whose address holds the probe's source address).
    type: str
  foreign_ae_title: &foreign_ae_title
    description:
      - An allowlisted AE title bound to another address; accepting it from here is PACS-NET-006.
      - When omitted, taken from I(peers).
    type: str
  peers: &peers
    description:
      - The policy's peer list (C(pacs_peers)); C(ae_title) and C(address) choose
        I(calling_ae_title) and I(foreign_ae_title), and the calling peer's C(services) are what
        PACS-NET-007 expects the node to grant it (every other service must be refused).
    type: list
    elements: dict
    default: []
  bind_address: &bind_address
    description: Source address of the probe's connections (DICOM and web).
    type: str
  tls_ca: &tls_ca
    description: PEM file of the CA(s) that sign the server certificate; verifies the server when given.
    type: path
  tls_client_certificate: &tls_client_certificate
    description: PEM client certificate of an allowlisted peer, for the positive control over mutual TLS.
    type: path
  tls_client_key: &tls_client_key
    description: PEM private key of I(tls_client_certificate).
    type: path
  tls_server_name: &tls_server_name
    description: Name to check in the server certificate (with I(tls_ca)); no name check when omitted.
    type: str
  web_url: &web_url
    description: Base URL of the product's web/REST API (e.g. Orthanc's), for PACS-WEB-001, 002, 003 and 005.
    type: str
  timeout: &timeout
    description: Seconds for each network wait (connect, TLS handshake, ACSE, DIMSE, HTTP).
    type: float
    default: 5
  deadline: &deadline
    description:
      - Seconds the whole run may take, after which it stops and returns what it observed, with
        the checks not done marked C(error).
      - 0 derives it as O(timeout) x the number of network checks (16, or 32 with O(web_url)) + 2,
        plus O(timeout) per port of O(other_ports).
    type: float
    default: 0
  intrusive: &intrusive
    description: Also try a C-STORE of a synthetic, clearly labelled object as an unknown AE (PACS-NET-005).
    type: bool
    default: false
  position: &position
    description:
      - C(inside) when the probe runs from an allowed address; C(outside) when it runs from a
        position the firewall should stop (then any open port is PACS-FW-001).
    type: str
    choices: [inside, outside]
    default: inside
  other_ports: &other_ports
    description:
      - Every other TCP port the node serves besides O(port) and the port of O(web_url), such as
        the local back end behind a TLS front. From an O(position=outside) position a TCP
        connection to any of them is PACS-FW-001 too.
    type: list
    elements: int
    default: []
  targets:
    description:
      - Many endpoints probed concurrently in this one call (instead of O(host)), each with its own
        options (every option above but O(targets) and O(workers)) and a C(name) its result is
        returned under in RV(probes). A target whose options are unusable gets its own C(error);
        the others are probed.
      - This is how the audit probes every node that shares a vantage (one process, not one per node).
    type: list
    elements: dict
    suboptions:
      name:
        description: The name the target's result is returned under in RV(probes) (the inventory host).
        type: str
        required: true
      host: {<<: *host, required: true}
      called_ae_title: {<<: *called_ae_title, required: true}
      port: *port
      calling_ae_title: *calling_ae_title
      foreign_ae_title: *foreign_ae_title
      peers: *peers
      bind_address: *bind_address
      tls_ca: *tls_ca
      tls_client_certificate: *tls_client_certificate
      tls_client_key: *tls_client_key
      tls_server_name: *tls_server_name
      web_url: *web_url
      timeout: *timeout
      deadline: *deadline
      intrusive: *intrusive
      position: *position
      other_ports: *other_ports
  workers:
    description:
      - How many endpoints of O(targets) are probed at the same time.
      - More than 16 targets are spread over one process per CPU the module may use (at most one
        per 16 targets), each probing its share with its share of O(workers); a process that does
        not report within its share's deadlines is ended and its targets get an error result.
    type: int
    default: 32
attributes:
  check_mode:
    support: full
    description: The module never changes anything; it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
"""

EXAMPLES = r"""
- name: Probe an Orthanc from the controller, with the CT's certificate as positive control
  dicom_probe:
    host: 10.20.0.5
    port: 4242
    called_ae_title: ARCHIVE1
    calling_ae_title: CT01
    foreign_ae_title: RWS1
    tls_ca: /etc/pacsguard/ca.crt
    tls_client_certificate: /etc/pacsguard/ct01.crt
    tls_client_key: /etc/pacsguard/ct01.key
    web_url: http://10.20.0.5:8042
  register: probe

- name: Probe from a rogue position; any open port is a finding
  dicom_probe:
    host: 10.20.0.5
    port: 4242
    called_ae_title: ARCHIVE1
    position: outside
  delegate_to: rogue-vlan-host

- name: Probe two archives in one call
  dicom_probe:
    targets:
      - {name: archive-1, host: 10.20.0.5, port: 4242, called_ae_title: ARCHIVE1}
      - {name: archive-2, host: 10.20.0.6, port: 104, called_ae_title: ARCHIVE2}
  register: probes
"""

RETURN = r"""
findings:
  description: One entry per weakness found.
  returned: always
  type: list
  elements: dict
  sample:
    - id: PACS-NET-001
      severity: critical
      title: Association accepted from an unknown calling AE title
      evidence: A-ASSOCIATE-AC to calling AE PGROGUE7F3A01BC (called AE ARCHIVE1)
      remediation: Allowlist the peers ...
      references: ["HHS HC3 Alert, June 2021: ..."]
checks:
  description: Every check by name (rule ID, C(reachable), C(transport), C(positive_control)) with
    C(status) (pass, fail, error, skipped) and C(detail).
  returned: always
  type: dict
  sample: {"PACS-TLS-002": {"status": "pass", "detail": "accepted: TLSv1.2, TLSv1.3"}}
endpoint:
  description: What the probe learned about the endpoint.
  returned: always
  type: dict
  contains:
    reachable: {description: TCP connect succeeded., type: bool}
    source_address: {description: The probe's address as the endpoint sees it., type: str}
    transport: {description: "C(plaintext), C(tls) or C(unknown).", type: str}
    tls: {description: The port speaks DICOM TLS., type: bool}
    tls_versions_accepted: {description: TLS versions whose handshake the server completes., type: list}
    certificate:
      description: Server certificate facts (expiry, days left, self-signed, key type and bits,
        signature hash); no subject names.
      type: dict
    implementation_class_uid: {description: Fingerprint from the A-ASSOCIATE-AC., type: str}
    implementation_version_name: {description: Fingerprint from the A-ASSOCIATE-AC., type: str}
    web: {description: Web probe statuses and entry counts., type: dict}
  sample:
    reachable: true
    transport: tls
    tls_versions_accepted: [TLSv1.2, TLSv1.3]
    implementation_version_name: OFFIS_DCMTK_367
verdict:
  description: C(fail) (findings), C(pass) (no finding and the positive control was accepted, or
    nothing answered from an outside position) or C(inconclusive).
  returned: always
  type: str
  sample: inconclusive
duration:
  description: Seconds the probe took.
  returned: always
  type: float
  sample: 0.31
probes:
  description:
    - With O(targets), each target's result by its C(name) (the keys above), or C(error) (and
      C(verdict) C(error)) when its options were unusable. The top-level keys are then absent.
  returned: with O(targets)
  type: dict
  sample: {"archive-1": {"verdict": "fail", "findings": [], "checks": {}, "endpoint": {}, "duration": 0.3}}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.pacsguard.products import DICOM_PORT

try:
    from ansible.module_utils.pacsguard.probe import (
        LIBRARY_IMPORT_ERROR,
        ProbeInputError,
        Target,
        probe,
        probe_many,
    )
except ImportError:
    PROBE_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    PROBE_IMPORT_ERROR = LIBRARY_IMPORT_ERROR

# The options of one endpoint: the module's own with O(host), each entry's with O(targets).
TARGET_SPEC = {
    "host": {"type": "str"},
    "port": {"type": "int", "default": DICOM_PORT},
    "called_ae_title": {"type": "str"},
    "calling_ae_title": {"type": "str"},
    "foreign_ae_title": {"type": "str"},
    "peers": {"type": "list", "elements": "dict", "default": []},
    "bind_address": {"type": "str"},
    "tls_ca": {"type": "path"},
    "tls_client_certificate": {"type": "path"},
    "tls_client_key": {"type": "path", "no_log": False},
    "tls_server_name": {"type": "str"},
    "web_url": {"type": "str"},
    "timeout": {"type": "float", "default": 5},
    "intrusive": {"type": "bool", "default": False},
    "deadline": {"type": "float", "default": 0},
    "position": {"type": "str", "default": "inside", "choices": ["inside", "outside"]},
    "other_ports": {"type": "list", "elements": "int", "default": []},
}
ARGUMENT_SPEC = {
    **TARGET_SPEC,
    "targets": {"type": "list", "elements": "dict",
                "options": {"name": {"type": "str", "required": True},
                            **{key: {**spec, "required": key in ("host", "called_ae_title")}
                               for key, spec in TARGET_SPEC.items()}}},
    "workers": {"type": "int", "default": 32},
}


def _target(params: dict) -> Target:
    """A Target from one endpoint's options (ProbeInputError names a bad one)."""
    options = {key: params[key] for key in TARGET_SPEC}
    options["peers"] = tuple(options["peers"] or ())
    options["other_ports"] = tuple(options["other_ports"] or ())
    target = Target(**options)
    target.validate()
    return target


def _many(module: AnsibleModule) -> None:
    """Probe every target concurrently; each gets its own result or its own error."""
    results: dict[str, dict] = {}
    valid: dict[str, Target] = {}
    for entry in module.params["targets"]:
        if entry["name"] in results or entry["name"] in valid:
            module.fail_json(msg=f"targets: the name {entry['name']!r} is given twice")
        try:
            valid[entry["name"]] = _target(entry)
        except ProbeInputError as exc:
            results[entry["name"]] = {"verdict": "error", "error": str(exc)}
    for name, result in zip(valid, probe_many(list(valid.values()), module.params["workers"]), strict=True):
        results[name] = result.as_dict()
    module.exit_json(changed=False, probes=results)


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_together=[("tls_client_certificate", "tls_client_key")],
        required_one_of=[("host", "targets")],
        mutually_exclusive=[("host", "targets")],
        required_by={"host": "called_ae_title"},
    )
    if PROBE_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pynetdicom, pydicom and cryptography"),
                         exception=PROBE_IMPORT_ERROR)
    if module.params["targets"] is not None:
        _many(module)
    try:
        result = probe(_target(module.params))
    except ProbeInputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result.as_dict())


if __name__ == "__main__":
    main()
