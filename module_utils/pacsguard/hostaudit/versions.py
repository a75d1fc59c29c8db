"""Package versions against known security fixes (PACS-CFG-013), and Debian version order.

The table is small and sourced: each entry is a fix a Debian changelog records (the changelog of the
package as shipped, /usr/share/doc/<package>/changelog.Debian.gz) or an upstream release notes. An
entry judges only versions of its own upstream release line; a line the table does not cover is
reported as not judged rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Fix:
    """Security fixes a package version brings, for one upstream release line."""

    package: str
    line: str  # upstream version this Debian revision patches ('' for any line)
    fixed: str  # first fixed version (Debian version string)
    cves: tuple[str, ...]
    source: str
    upstream_fixed: str = ""  # upstream release that has the fix (every later line is fixed)


_DEBIAN_DCMTK = "Debian changelog of dcmtk {} (bookworm)"
KNOWN_FIXES: tuple[Fix, ...] = (
    Fix(
        "orthanc",
        "1.10.1",
        "1.10.1+dfsg-2+deb12u1",
        ("CVE-2023-33466",),
        "Debian changelog of orthanc 1.10.1+dfsg-2+deb12u1 (bookworm: RestApiWriteToFileSystemEnabled "
        "backported, default false); Orthanc 1.12.0 NEWS",
        upstream_fixed="1.12.0",
    ),
    Fix(
        "dcmtk",
        "3.6.7",
        "3.6.7-9~deb12u2",
        ("CVE-2024-27628", "CVE-2024-34508", "CVE-2024-34509", "CVE-2024-47796", "CVE-2024-52333"),
        _DEBIAN_DCMTK.format("3.6.7-9~deb12u2"),
    ),
    Fix(
        "dcmtk",
        "3.6.7",
        "3.6.7-9~deb12u3",
        ("CVE-2024-28130", "CVE-2025-25472", "CVE-2025-25474", "CVE-2025-25475"),
        _DEBIAN_DCMTK.format("3.6.7-9~deb12u3"),
    ),
    Fix(
        "dcmtk",
        "3.6.7",
        "3.6.7-9~deb12u4",
        (
            "CVE-2022-4981",
            "CVE-2025-2357",
            "CVE-2025-9732",
            "CVE-2025-14607",
            "CVE-2025-14841",
            "CVE-2026-5663",
            "CVE-2026-10194",
            "CVE-2026-12805",
        ),
        _DEBIAN_DCMTK.format("3.6.7-9~deb12u4"),
    ),
)


def _split(version: str) -> tuple[int, str, str]:
    epoch, _colon, rest = version.partition(":") if ":" in version else ("0", "", version)
    upstream, _dash, revision = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch or 0), upstream, revision


def _order(char: str) -> int:
    """dpkg's character order: '~' before everything, letters before other characters."""
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    """dpkg's verrevcmp(): alternate non-digit and digit runs."""
    while a or b:
        a_text = re.match(r"[^0-9]*", a).group(0)
        b_text = re.match(r"[^0-9]*", b).group(0)
        for i in range(max(len(a_text), len(b_text))):
            ca = _order(a_text[i]) if i < len(a_text) else 0
            cb = _order(b_text[i]) if i < len(b_text) else 0
            if ca != cb:
                return -1 if ca < cb else 1
        a, b = a[len(a_text) :], b[len(b_text) :]
        a_num = re.match(r"[0-9]*", a).group(0)
        b_num = re.match(r"[0-9]*", b).group(0)
        if int(a_num or 0) != int(b_num or 0):
            return -1 if int(a_num or 0) < int(b_num or 0) else 1
        a, b = a[len(a_num) :], b[len(b_num) :]
    return 0


def compare(a: str, b: str) -> int:
    """Debian version order (deb-version(7)): negative, zero or positive like dpkg --compare-versions."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def upstream(version: str) -> str:
    """The upstream part of a Debian version (no epoch, no revision, no +dfsg suffix)."""
    return re.split(r"[+~]", _split(version)[1])[0]


def missing_fixes(package: str, version: str, table: tuple[Fix, ...] = KNOWN_FIXES) -> tuple[list[Fix], bool]:
    """The table's fixes ``version`` lacks, and whether the table covers its release line at all."""
    line = upstream(version)
    missing: list[Fix] = []
    covered = False
    for fix in table:
        if fix.package != package:
            continue
        if fix.upstream_fixed and compare(line, fix.upstream_fixed) >= 0:
            covered = True
            continue
        if fix.line and fix.line != line:
            if fix.upstream_fixed and compare(line, fix.line) < 0:
                covered = True
                missing.append(fix)
            continue
        covered = True
        if compare(version, fix.fixed) < 0:
            missing.append(fix)
    return missing, covered
