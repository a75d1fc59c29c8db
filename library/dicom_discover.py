#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: find the DICOM endpoints of a network. Logic: module_utils/pacsguard/discovery.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dicom_discover
short_description: Find DICOM endpoints on networks, in plaintext and TLS, and the ones no inventory lists
description:
  - Sweeps every address of O(networks) on O(ports), concurrently from one process, and on every port
    that accepts a TCP connection sends one A-ASSOCIATE-RQ for the Verification SOP class from a
    calling AE title nobody lists, reads the answer and releases the association. An A-ASSOCIATE-AC
    means the endpoint accepts any calling AE title. A port that answers with a TLS record, or
    closes without a word, is tried once more over TLS (no client certificate, the server not
    verified). On O(web_ports) it first sends one C(GET /system) to tell the product (Orthanc).
  - Nothing intrusive is sent, ever, no C-ECHO, no query, no store; a refusal with "called AE title
    not recognised" is tried again with the next of O(called_ae_titles), a few products' defaults.
  - Every wait is bounded by O(timeout); O(concurrency) bounds the sockets open at once and O(rate)
    the connections started per second; O(max_addresses) refuses a sweep larger than meant.
  - Each endpoint that speaks DICOM (or TLS with a client certificate required) and that O(known)
    does not list is a PACS-DISC-001 finding. RV(inventory) is an Ansible inventory of everything
    found. Evidence holds protocol facts only, never patient data.
  - Never changes anything.
version_added: "0.9.0"
author: pacsguard maintainers (@pacsguard)
options:
  networks:
    description: Addresses and networks to sweep (C(10.20.0.0/24), C(10.20.1.5)); IPv4 or IPv6.
    type: list
    elements: str
    required: true
  ports:
    description:
      - TCP ports to try on every address. By default the usual DICOM ports (104, 11112), DICOM TLS
        and ISCL (2762, 2761), and every product's own DICOM and web ports (Orthanc 4242 and 8042).
    type: list
    elements: int
  web_ports:
    description: Which of O(ports) get an HTTP request first (by default every product's web port).
    type: list
    elements: int
  known:
    description:
      - The endpoints the inventory lists, each with C(name), C(address) and either C(ports) or
        C(product) with C(dicom_port) and C(http_port) (the product's defaults fill what is left out).
      - An endpoint found here is C(managed); any other DICOM endpoint is PACS-DISC-001.
    type: list
    elements: dict
    default: []
  policies:
    description:
      - "Also known, the nodes of a C(pacs_policy) batch (node name to its C(policy), C(errors) and
        C(warnings)): every node whose policy resolved, at the address and ports of its plan."
    type: dict
    default: {}
  calling_ae_title:
    description: The calling AE title of the requests; a fresh C(PG-DISC-XXXX) when omitted.
    type: str
  called_ae_titles:
    description:
      - Called AE titles tried in turn while the answer is "called AE title not recognised"; at most 8.
    type: list
    elements: str
    default: [ANY-SCP, ORTHANC, DCMQRSCP, STORESCP]
  timeout:
    description: Seconds for each connect, TLS handshake and read.
    type: float
    default: 3
  concurrency:
    description: Sockets open at the same time (1-1000).
    type: int
    default: 100
  rate:
    description:
      - New connections per second, across the whole sweep (at most 10000), on average over 50 ms.
      - Closed ports answer from the target's kernel; what reaches a service is a handful of
        requests per open port, whatever the rate.
    type: float
    default: 5000
  max_addresses:
    description: The most addresses the O(networks) may hold; a larger sweep is refused.
    type: int
    default: 4096
attributes:
  check_mode:
    support: full
    description: The module never changes anything; it runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
requirements:
  - Python 3.8 or later on the host it runs on (the sweep uses only the standard library)
"""

EXAMPLES = r"""
- name: Find the DICOM endpoints of the imaging VLANs
  pacsguard.pacs.dicom_discover:
    networks: [10.20.0.0/24, 10.20.1.0/24]
    known:
      - {name: archive1, address: 10.20.0.5, product: orthanc}
  register: pacs_discover_found

- name: A gentle sweep of one subnet on the two usual ports
  pacsguard.pacs.dicom_discover:
    networks: [10.30.0.0/24]
    ports: [104, 11112]
    rate: 50
    concurrency: 10
"""

RETURN = r"""
endpoints:
  description:
    - Every open port, with C(service) (C(dicom), C(tls), C(web), C(silent) or C(unknown)),
      C(transport), C(association) (C(accepted), C(rejected), C(aborted)), C(rejection),
      C(accepts_any_calling_ae), C(client_certificate_required), C(called_ae_title),
      C(implementation_class_uid), C(implementation_version_name), C(toolkit), C(product),
      C(version), C(managed), C(inventory_name) and C(detail).
  returned: always
  type: list
  elements: dict
  sample: [{"address": "10.20.0.9", "port": 104, "service": "dicom", "transport": "plaintext",
            "association": "accepted", "accepts_any_calling_ae": true, "toolkit": "DCMTK",
            "managed": false, "detail": "A-ASSOCIATE-AC to a calling AE title nobody lists"}]
findings:
  description: A PACS-DISC-001 finding per unmanaged DICOM endpoint (the finding model of the audit).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts (addresses, ports, probed, open, dicom, tls, web, accepting_any_calling_ae,
    unmanaged), the calling AE title used and the duration in seconds.
  returned: always
  type: dict
  sample: {"addresses": 254, "ports": 6, "probed": 1524, "open": 4, "dicom": 3, "tls": 0, "web": 1,
           "accepting_any_calling_ae": 2, "unmanaged": 1, "calling_ae_title": "PG-DISC-3F8E", "duration": 3.2}
inventory:
  description:
    - An Ansible inventory (YAML-ready) of the endpoints, a host per endpoint in the groups
      C(pacs_discovered_dicom), C(pacs_discovered_tls), C(pacs_discovered_web) and
      C(pacs_discovered_other); the unmanaged DICOM ones also in C(pacs_discovered_unmanaged).
  returned: always
  type: dict
lines:
  description: One line per endpoint for people (address, port, service, whether it is listed, detail).
  returned: always
  type: list
  elements: str
  sample: ["10.20.0.9:104 dicom (not in the inventory) accepts any calling AE"]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible.module_utils.pacsguard.discovery import (
        CALLED_AE_TITLES,
        DEFAULT_CONCURRENCY,
        DEFAULT_RATE,
        DEFAULT_TIMEOUT,
        MAX_ADDRESSES,
        DiscoveryInputError,
        Sweep,
        known_from_policies,
        run,
    )
except ImportError:
    DISCOVERY_IMPORT_ERROR: str | None = traceback.format_exc()
    CALLED_AE_TITLES, DEFAULT_CONCURRENCY, DEFAULT_RATE, DEFAULT_TIMEOUT, MAX_ADDRESSES = (), 0, 0.0, 0.0, 0
else:
    DISCOVERY_IMPORT_ERROR = None

ARGUMENT_SPEC = {
    "networks": {"type": "list", "elements": "str", "required": True},
    "ports": {"type": "list", "elements": "int"},
    "web_ports": {"type": "list", "elements": "int"},
    "known": {"type": "list", "elements": "dict", "default": []},
    "policies": {"type": "dict", "default": {}},
    "calling_ae_title": {"type": "str"},
    "called_ae_titles": {"type": "list", "elements": "str", "default": list(CALLED_AE_TITLES)},
    "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    "concurrency": {"type": "int", "default": DEFAULT_CONCURRENCY},
    "rate": {"type": "float", "default": DEFAULT_RATE},
    "max_addresses": {"type": "int", "default": MAX_ADDRESSES},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if DISCOVERY_IMPORT_ERROR:
        module.fail_json(msg="pacsguard's module_utils could not be imported",
                         exception=DISCOVERY_IMPORT_ERROR)
    options = {key: value for key, value in module.params.items() if value is not None}
    options.setdefault("calling_ae_title", "")
    options["known"] = options["known"] + known_from_policies(options.pop("policies"))
    try:
        result = run(Sweep(**options))
    except DiscoveryInputError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
