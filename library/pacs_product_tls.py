#!/usr/bin/python
# Copyright: (c) 2026, pacsguard maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module: does the PACS on this host serve DICOM TLS itself? Logic: producttls.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pacs_product_tls
short_description: Tell whether the PACS product on a host serves DICOM TLS itself
description:
  - Reads on the host whether the installed PACS product speaks DICOM TLS of its own, or needs
    pacsguard's TLS front (role C(pacs_tls_front)) to do it. The C(pacs_policy) role runs it for
    dcmqrscp nodes with C(pacs_tls) and hands the answer to
    M(pacsguard.pacs.pacs_policy) (O(pacsguard.pacs.pacs_policy#module:product_tls)).
  - "dcmqrscp: when the program is installed, its C(--help) is read: DCMTK lists C(+tls) when the
    release has TLS in dcmqrscp (3.6.9 and later) and was built with OpenSSL. When it is not
    installed yet, the version the package manager would install (C(apt-cache policy dcmtk)) is
    compared with 3.6.9."
  - Orthanc always has DICOM TLS of its own. Its package version is read (installed, else the
    candidate) to tell whether the release sets its TLS floor and suites itself (RV(tls_settings),
    from 1.12.4), which decides the settings C(pacs_orthanc) writes.
  - Read-only.
version_added: "0.9.0"
author: pacsguard maintainers (@pacsguard)
options:
  product:
    description:
      - The PACS product of the node (C(pacs_product)).
      - One of the products of pacsguard's registry (module_utils/pacsguard/products.py).
    type: str
    required: true
  list_packages:
    description:
      - Also return the names of every package installed on the node (RV(installed_packages)), so
        that one module run reads both (pacs_policy keeps them for the roles' install steps).
    type: bool
    default: false
  digests:
    description:
      - "Also return the digests of the files pacsguard manages for the product (RV(digests)), as
        M(pacsguard.pacs.pacs_trail) with O(pacsguard.pacs.pacs_trail#module:state=begin) reads them.
        harden.yml's trail compares them with the files after the run, and needs no module run of
        its own before it."
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
"""

EXAMPLES = r"""
- name: Read whether dcmqrscp speaks DICOM TLS itself
  pacs_product_tls:
    product: dcmqrscp
  register: node_tls

- name: Say who serves TLS
  ansible.builtin.debug:
    msg: "{{ 'dcmqrscp itself' if node_tls.dicom_tls else 'a TLS front' }} ({{ node_tls.evidence }})"
"""

RETURN = r"""
installed_packages:
  description: With O(list_packages), the names of the packages dpkg has installed.
  returned: when O(list_packages) is true
  type: list
  elements: str
  sample: [orthanc, rsyslog]
dicom_tls:
  description: Whether the product serves DICOM TLS itself; null when it could not be told.
  returned: always
  type: bool
  sample: true
source:
  description:
    - Where the answer comes from, C(installed) (the program on the host), C(candidate) (the
      version the package manager would install), C(product) (the product always has TLS) or
      C(unknown) (not installed and no candidate).
  returned: always
  type: str
  sample: installed
version:
  description: The package version read (installed or candidate), empty when none.
  returned: always
  type: str
  sample: 3.6.9-5
upstream_version:
  description: The upstream part of RV(version) (no epoch, revision or packaging suffix), empty when none.
  returned: always
  type: str
  sample: 3.6.9
tls_settings:
  description:
    - Whether the release read has settings of its own for its TLS floor and suites (Orthanc from
      1.12.4); null when no version was read or the product has none.
  returned: always
  type: bool
  sample: true
evidence:
  description: One line saying what was read.
  returned: always
  type: str
  sample: dcmqrscp --help lists +tls
digests:
  description: SHA-256 of each file pacsguard manages for the product, by path (with O(digests)).
  returned: when O(digests) is true
  type: dict
  sample: {/etc/orthanc/orthanc.json: 9f2c0e...}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from ansible.module_utils.pacsguard.auditlog import digests, managed_patterns
    from ansible.module_utils.pacsguard.hostaudit.versions import upstream
    from ansible.module_utils.pacsguard.products import get, names
    from ansible.module_utils.pacsguard.producttls import (
        candidate_version,
        help_lists_tls,
        native_by_version,
        own_tls_settings,
    )
except ImportError:
    IMPORT_ERROR: str | None = traceback.format_exc()
else:
    IMPORT_ERROR = None

_C = {"LANG": "C", "LC_ALL": "C"}


def _run(module: AnsibleModule, argv: list[str]) -> str:
    """A read-only command's output (stdout and stderr: DCMTK prints its help on either)."""
    _rc, out, err = module.run_command(argv, environ_update=_C)
    return out + err


def _installed_version(module: AnsibleModule, package: str) -> str:
    dpkg_query = module.get_bin_path("dpkg-query")
    if not dpkg_query:
        return ""
    rc, out, _err = module.run_command([dpkg_query, "-W", "-f=${Version}", package], environ_update=_C)
    return out.strip() if rc == 0 else ""


def _candidate(module: AnsibleModule, package: str) -> str | None:
    """The version the package manager would install, None when it has none."""
    apt_cache = module.get_bin_path("apt-cache")
    return candidate_version(_run(module, [apt_cache, "policy", package])) if apt_cache else None


def _installed_packages(module: AnsibleModule) -> list[str]:
    """The names of the packages dpkg has installed ("ii"), for O(list_packages)."""
    dpkg_query = module.get_bin_path("dpkg-query")
    if not dpkg_query:
        return []
    rc, out, _err = module.run_command(
        [dpkg_query, "--show", "--showformat=${db:Status-Abbrev} ${Package}\n"], environ_update=_C)
    return [line.split()[-1] for line in out.splitlines() if line.startswith("ii ")] if rc == 0 else []


def _exit(module: AnsibleModule, product: str, dicom_tls: bool | None, source: str, version: str,
          evidence: str) -> None:
    extra = {"installed_packages": _installed_packages(module)} if module.params["list_packages"] else {}
    if module.params["digests"] and get(product) is not None:
        extra["digests"] = digests(managed_patterns(product))
    module.exit_json(changed=False, dicom_tls=dicom_tls, source=source, version=version,
                     upstream_version=upstream(version) if version else "",
                     tls_settings=own_tls_settings(product, version), evidence=evidence, **extra)


def main() -> None:
    module = AnsibleModule(argument_spec={"product": {"type": "str", "required": True},
                                          "list_packages": {"type": "bool", "default": False},
                                          "digests": {"type": "bool", "default": False}},
                           supports_check_mode=True)
    if IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pacsguard's module_utils"), exception=IMPORT_ERROR)
    product = module.params["product"]
    described = get(product)
    if described is None:  # pacs_policy names it with every other problem of the policy
        _exit(module, product, None, "unknown", "", f"{product!r} is not one of {', '.join(names())}")
    package, since = described.package, described.native_dicom_tls_since
    program = module.get_bin_path(described.binary)
    installed = _installed_version(module, package) if program else ""
    if not since:
        version = installed or _candidate(module, package) or ""
        _exit(module, product, True, "product", version, f"{product} has DICOM TLS of its own")
    if program:
        native = help_lists_tls(_run(module, [program, "--help"]))
        _exit(module, product, native, "installed", installed,
              f"{product} --help {'lists' if native else 'has no'} +tls")
    version = _candidate(module, package)
    if version is None:
        _exit(module, product, None, "unknown", "",
              f"{product} is not installed and no {package} package is available")
    _exit(module, product, native_by_version(product, version), "candidate", version,
          f"{package} {version} would be installed ({product} has TLS from {since})")


if __name__ == "__main__":
    main()
