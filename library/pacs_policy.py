#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: check a PACS node's policy (peers, AE titles, TLS material) before any change."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_policy
short_description: Check a PACS node's pacsguard policy and return it resolved
description:
  - Checks the policy one inventory entry gives a node (its product, AE title, ports, the peer
    allowlist, the admin sources, the DICOM TLS material and the REST users) and fails with every
    problem at once, each naming the variable, the peer and the field. Run it on the controller
    (C(delegate_to=localhost)) before any task that changes a host; the C(pacs_policy) role does.
  - Returns the policy resolved once for every role, the firewall and the audit to read - each
    value the user did not give filled in from the one table of product defaults (Orthanc DICOM
    4242 and web 8042, dcmqrscp 104 and a plaintext port 11113 behind the TLS front), peers with
    their defaults (port 104, services [echo]), addresses canonical, and the node's own address.
  - "AE titles follow DICOM PS3.5 (at most 16 characters, no backslash or control characters, not
    all spaces); AE titles and peer names must be unique (AE titles case-insensitively, as Orthanc
    compares them); peer addresses are canonical IP addresses without scope IDs, because PACS
    products compare them literally; names, AE titles and addresses must survive the languages
    they are written into (stunnel, dcmqrscp.cfg, nftables)."
  - "TLS material follows the non-downgrading BCP 195 profile of PS3.15: the key belongs to the
    certificate, the certificate is valid now and not signed with SHA-1, RSA keys have 2048+ bits
    and EC keys 256+; min_version is TLSv1.2 or TLSv1.3."
  - Never changes anything.
version_added: "0.1.0"
author: pacsguard maintainers (@pacsguard)
options:
  product:
    description:
      - The PACS product (C(pacs_product)), one of C(orthanc) and C(dcmqrscp).
      - Required (with O(ae_title)) unless O(node) or O(nodes) is given.
    type: str
  ae_title:
    description: The node's own AE title (C(pacs_ae_title)).
    type: str
  node:
    description:
      - One node's options as one mapping (C(product), C(ae_title), C(dicom_port), C(peers), ...),
        as each node of O(nodes) gives them; checked and returned as with the options themselves.
        The roles pass what they gathered with the same input list as the audit's batch.
      - Mutually exclusive with O(product) and O(nodes).
    type: dict
  nodes:
    description:
      - Many nodes at once, node name to a mapping of the options above (C(product), C(ae_title),
        C(dicom_port), C(peers), ...). Each node is checked on its own and gets its own result
        under RV(policies); one module process serves a whole fleet (the audit uses it).
      - Mutually exclusive with O(product).
    type: dict
  node_errors:
    description:
      - With O(nodes), nodes whose options could not be read, node name to why; each is returned
        under RV(policies) with no policy and that error, as a node whose policy is not valid.
    type: dict
    default: {}
  dicom_port:
    description: The node's DICOM port (C(pacs_dicom_port)); the product's default when omitted.
    type: raw
  http_port:
    description: The node's web/REST port (C(pacs_http_port)); the product's default when omitted.
    type: raw
  plaintext_port:
    description:
      - Where a product without DICOM TLS of its own listens behind the TLS front, loopback only
        (C(pacs_plaintext_port)); the product's default when omitted.
    type: raw
  http_plaintext_port:
    description:
      - Where the product's web server listens behind pacsguard's web TLS front (with O(web_tls)),
        loopback only (C(pacs_http_plaintext_port)); the product's default when omitted (Orthanc
        18042).
    type: raw
  product_tls:
    description:
      - Whether the installed product serves DICOM TLS itself, as read on the host by the
        M(pacsguard.pacs.pacs_product_tls) module (dcmqrscp from DCMTK 3.6.9). With O(tls), a
        product that has a plaintext port gets pacsguard's TLS front unless this is true; omitted
        (the audit, which builds nothing) the front is assumed and peers are not checked against
        what it can map.
    type: bool
  product_version:
    description:
      - The upstream version of the installed (or, before it is installed, the candidate) package,
        as read on the host by M(pacsguard.pacs.pacs_product_tls); returned as RV(policy.product_version).
    type: str
  product_tls_settings:
    description:
      - Whether that release sets its TLS floor and suites itself (Orthanc from 1.12.4), as read by
        M(pacsguard.pacs.pacs_product_tls); decides the product's TLS settings in the plan.
    type: bool
  address:
    description: The node's own address as peers and probes reach it (C(pacs_address)).
    type: str
  host:
    description:
      - The address or name Ansible connects to (C(ansible_host)); the node's address when it is an IP.
    type: str
  fact_address:
    description:
      - The address of the node's default route from gathered facts, used when O(address) is not
        given and O(host) is not an IP address (a container name, say).
    type: str
  peers:
    description: The allowlist (C(pacs_peers)); see docs/usage.md for the fields.
    type: raw
    default: []
  admin_sources:
    description: Addresses or networks allowed to the web/REST API and SSH (C(pacs_admin_sources)).
    type: raw
    default: []
  log_collectors:
    description:
      - Where the node's logs go (C(pacs_log_collectors)), syslog over TLS (RFC 5425), each with
        C(name), C(address), C(port) (default 6514), C(server_name) (the name in the collector's
        certificate), C(ca) (default the CA of O(tls)) and C(client_certificate) (default true with
        O(tls)); see docs/usage.md.
    type: raw
    default: []
  tls:
    description: DICOM TLS material and settings (C(pacs_tls)); empty means no TLS.
    type: raw
    default: {}
  web_tls:
    description:
      - HTTPS on the web/REST port (C(pacs_web_tls)) from pacsguard's web TLS front, with its own
        C(certificate) and C(private_key), optional C(min_version) and, for administrators' client
        certificates, C(ca) with C(require_client_certificate).
      - Empty on a product with a web port and O(tls) set means O(tls)'s certificate, key and
        C(min_version) serve HTTPS (no client certificate asked for). C(enabled) V(false) (or
        V(false)) leaves the product's web server on the web port; so does empty without O(tls).
    type: raw
    default: {}
  material:
    description:
      - Read and check the TLS files named by O(tls) and O(web_tls). An audit from a position that
        holds no copy of the node's key sets it false; the settings are still checked.
    type: bool
    default: true
  rest_users:
    description: REST API users as a list of C(name) and C(password); checked, never returned.
    type: raw
  tokens:
    description:
      - "Role settings, by variable name, that are written into systemd units, stunnel or nftables
        files and must each be one plain token (letters, digits and C(. _ / @ : + -)); checked with
        the policy in the same run, as the module C(pacs_render_check) checks them alone."
    type: dict
    default: {}
  suites:
    description:
      - The site's TLS suites (C(pacs_tls_suites)) for DICOM TLS and the web port, C(tls12) and
        C(tls13) lists of OpenSSL names, each optional; a narrower choice within the non-downgrading
        BCP 195 profile, never a wider one. The profile's suites when omitted.
    type: raw
  front_port_base:
    description:
      - First of the local ports of pacsguard's TLS front, one per peer counting up
        (C(pacs_tls_front_port_base)); V(41100) when omitted. None of them may be one of the node's ports.
    type: raw
  front_source_prefix:
    description:
      - First two octets of the loopback addresses the TLS front connects to the product from, one
        per peer (C(pacs_tls_front_source_prefix), C(127.N)); V(127.77) when omitted.
    type: raw
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
requirements:
  - cryptography (on the controller, when TLS is configured)
"""

EXAMPLES = r"""
- name: Check and resolve the policy before touching the host
  pacs_policy:
    product: "{{ pacs_product }}"
    ae_title: "{{ pacs_ae_title }}"
    dicom_port: "{{ pacs_dicom_port | default(omit) }}"
    address: "{{ pacs_address | default(omit) }}"
    host: "{{ ansible_host | default(inventory_hostname) }}"
    peers: "{{ pacs_peers }}"
    admin_sources: "{{ pacs_admin_sources | default([]) }}"
    tls: "{{ pacs_tls | default({}) }}"
  delegate_to: localhost
  register: pacs_policy_result
"""

RETURN = r"""
policy:
  description: The resolved policy every role reads.
  returned: success, when O(product) is given
  type: dict
  contains:
    product: {description: The product., type: str}
    ae_title: {description: The node's AE title., type: str}
    address: {description: "The node's own address (see O(address), O(host), O(fact_address)).", type: str}
    dicom_port: {description: The DICOM port peers connect to., type: int}
    http_port: {description: "The web/REST port, null when the product has none.", type: int}
    plaintext_port: {description: "The product's loopback-only port behind the TLS front, or null.",
                     type: int}
    listen_port: {description: "Where the product itself listens (plaintext_port behind a front).",
                  type: int}
    local_ports: {description: Ports the firewall keeps to loopback., type: list, elements: int}
    tls_front: {description: "Whether pacsguard's TLS front serves DICOM TLS before the product.",
                type: bool}
    web_tls: {description: "pacs_web_tls normalised (or taken from pacs_tls), with C(profile) and
                            C(source) (V(pacs_web_tls) or V(pacs_tls)); null when the web port is not
                            served over HTTPS by pacsguard's web TLS front.", type: dict}
    http_plaintext_port: {description: "The product's loopback-only web port behind the web TLS
                                        front, or null.", type: int}
    http_listen_port: {description: "Where the product's web server itself listens (http_plaintext_port
                                     behind the web front), null without one.", type: int}
    peers: {description: "Peers with defaults filled in (port, services, tls).", type: list, elements: dict}
    admin_sources: {description: Canonical networks., type: list, elements: str}
    log_collectors: {description: "The collectors, checked, with defaults filled in (port, ca,
                                   client_certificate) and each one's queue name.", type: list,
                     elements: dict}
    tls: {description: "pacs_tls normalised, with C(profile) (the BCP 195 suites); null without TLS.",
          type: dict}
    material_checked: {description: Whether the TLS files were read and checked., type: bool}
    hardening_role: {description: "The role that hardens the node's product (empty when none does).",
                     type: str}
    product_version: {description: "The product's upstream version read on the host, empty when not read.",
                      type: str}
    tls_settings_since: {description: "The release from which the product's own settings set its TLS floor
                                      and suites, null when it has none.", type: str}
    plan:
      description:
        - What the roles write and the audit probes, computed from this policy; roles render it.
        - C(front_routes), each peer's TLS front service (C(name), C(ae_title), C(address),
          C(front_port), C(source)), empty without the front; C(allowlist), the product's allowlist in
          the shape its configuration module takes (Orthanc's DicomModalities, else the peers as the
          product sees them, behind the front each from its C(source)); C(firewall), C(dicom_ports),
          C(web_ports), C(loopback_ports) and the sets C(peers_v4), C(peers_v6), C(admin_v4),
          C(admin_v6); C(probe), the probe's target (C(host), C(port), C(called_ae_title),
          C(peers), C(web_url), C(other_ports)); C(verify), what a restarted node must refuse
          (C(refusals), C(tls_refusals)) and whether its DICOM port speaks TLS (C(tls));
          C(own_tls_settings), whether the installed release sets its TLS floor and suites itself
          (null when not read).
      type: dict
  sample:
    product: orthanc
    ae_title: ARCHIVE1
    address: 10.20.0.5
    dicom_port: 4242
    http_port: 8042
    plaintext_port: null
    listen_port: 4242
    local_ports: []
    tls_front: false
    web_tls: null
    http_plaintext_port: null
    http_listen_port: 8042
    peers: [{name: ct-scanner-1, ae_title: CT01, address: 10.20.0.11, port: 104,
             services: [echo, store], tls: true}]
    admin_sources: [10.0.0.0/24]
    tls: {certificate: /etc/pki/archive1.crt, private_key: /etc/pki/archive1.key, ca: /etc/pki/ca.crt,
          require_client_certificate: true, min_version: TLSv1.2,
          profile: {tls12_suites: [ECDHE-RSA-AES128-GCM-SHA256], tls13_suites: [TLS_AES_128_GCM_SHA256]}}
    material_checked: true
policies:
  description: With O(nodes), per node its C(policy) (as RV(policy), or null), C(errors) and C(warnings).
  returned: when O(nodes) is given
  type: dict
  sample: {"archive1": {"policy": {"product": "orthanc", "dicom_port": 4242}, "errors": [], "warnings": []}}
messages:
  description: With O(nodes), one line per error and warning of every node, named by the node.
  returned: when O(nodes) is given
  type: list
  elements: str
policy_warnings:
  description: Things that are allowed but weaken the node (also shown as Ansible warnings).
  returned: when O(product) is given
  type: list
  elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from ansible.module_utils.pacsguard.controllertasks import (
        POLICY_RULES,
        POLICY_SPEC,
        missing_cryptography,
        run_policy,
    )
except ImportError:
    POLICY_IMPORT_ERROR: str | None = traceback.format_exc()
    POLICY_SPEC, POLICY_RULES = {}, {}
else:
    POLICY_IMPORT_ERROR = None


def main() -> None:
    """The check in this module's process; the pacs_policy role's action plugin runs the same code in
    the controller's task worker (module_utils/pacsguard/controllertasks.py)."""
    module = AnsibleModule(argument_spec=POLICY_SPEC, supports_check_mode=True, **POLICY_RULES)
    if POLICY_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pacsguard's module_utils"), exception=POLICY_IMPORT_ERROR)
    missing = missing_cryptography(module.params)
    if missing:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=missing)
    result, secrets = run_policy(module.params)
    module.no_log_values.update(secrets)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
