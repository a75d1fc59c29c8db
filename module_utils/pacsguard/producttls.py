"""Whether the PACS installed on a host serves DICOM TLS itself, or needs pacsguard's TLS front.

The roles decide by what is installed, not by the distribution: dcmqrscp's own TLS came with DCMTK
3.6.9. The installed program is asked first (its --help lists ``+tls`` when it was built with TLS);
before it is installed, the version the package manager would install is compared with the first
release that has it. Pure functions over the programs' output; the module runs the programs.
"""

from __future__ import annotations

import re

from .hostaudit.versions import compare, upstream
from .products import get, native_dicom_tls_since

# DCMTK's option list: "  +tls  --enable-tls  [p]rivate key file, [c]ertificate file: string".
_TLS_OPTION = re.compile(r"^\s*\+tls\s", re.MULTILINE)
_CANDIDATE = re.compile(r"^\s*Candidate:\s*(\S+)\s*$", re.MULTILINE)


def help_lists_tls(text: str) -> bool:
    """Whether a DCMTK program's --help offers ``+tls`` (built with OpenSSL, a TLS-capable release)."""
    return bool(_TLS_OPTION.search(text))


def candidate_version(apt_policy: str) -> str | None:
    """The version ``apt-cache policy PACKAGE`` would install, None when it has none."""
    match = _CANDIDATE.search(apt_policy)
    if not match or match.group(1) == "(none)":
        return None
    return match.group(1)


def native_by_version(product: str, version: str | None) -> bool | None:
    """Whether ``version`` of the product's package has DICOM TLS of its own (None: not known)."""
    since = native_dicom_tls_since().get(product)
    if since is None:
        return True
    if not version:
        return None
    return compare(upstream(version), since[1]) >= 0


def own_tls_settings(product: str, version: str | None) -> bool | None:
    """Whether ``version`` of the product's package has its own settings for its TLS floor and
    suites (the registry's tls_settings_since; Orthanc from 1.12.4). None: not known, or the
    product has no such settings to write."""
    described = get(product)
    if described is None or not described.tls_settings_since or not version:
        return None
    return compare(upstream(version), described.tls_settings_since) >= 0
