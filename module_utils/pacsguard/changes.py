"""What changed since the last report: which findings are new, which are fixed, which remain.

A finding is the same finding from one run to the next when it is of the same node, the same rule
and the same place: the endpoint the network probe reached, or the file a host finding names. Its
evidence may change (a count, a mode) without making it new. Pipelines that adopt pacsguard on an
estate that is not clean yet can gate on new findings alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .jsonc import MAX_DEPTH, depth

# The largest earlier report read (a fleet's report is about 15 KiB a node).
MAX_REPORT = 256 * 2**20
REPORT_SCHEMA = "pacsguard.audit/1"

# An absolute path in a host finding's evidence (the configuration file it names).
_PATH = re.compile(r"(?<![\w/])(/(?:[\w.+-]+/)*[\w.+-]+)")


def where(host: dict[str, Any], finding: dict[str, Any]) -> str:
    """The place a finding is of: the file a host finding names, else the endpoint probed."""
    if finding.get("source") == "host":
        path = _PATH.search(str(finding.get("evidence", "")))
        return path.group(1) if path else "host"
    seen = host.get("endpoint") or {}
    return f"{seen.get('host', '')}:{seen.get('port', '')}"


def identity(host: dict[str, Any], finding: dict[str, Any]) -> tuple[str, str, str]:
    """Node, rule and place: what makes a finding the same across runs."""
    return str(host.get("name", "")), str(finding.get("id", "")), where(host, finding)


def _entry(key: tuple[str, str, str], finding: dict[str, Any]) -> dict[str, str]:
    return {"host": key[0], "rule": key[1], "where": key[2], "severity": str(finding.get("severity", "")),
            "title": str(finding.get("title", ""))}


def _findings(report: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every finding of a report by its identity (a malformed entry is left out)."""
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for host in report.get("hosts") or []:
        if not isinstance(host, dict):
            continue
        for finding in host.get("findings") or []:
            if isinstance(finding, dict):
                found.setdefault(identity(host, finding), finding)
    return found


def compare(hosts: list[dict[str, Any]], previous: dict[str, Any] | None,
            previous_path: str = "") -> dict[str, Any]:
    """Mark each finding of ``hosts`` ``change``: ``new`` or ``remaining`` (every finding is new
    when there is no previous report), and say what the previous report had that is gone. Only the
    nodes of this run count: a node the run left out is not fixed."""
    before = _findings(previous) if previous else {}
    names = {host["name"] for host in hosts}
    now: set[tuple[str, str, str]] = set()
    new, remaining = [], []
    for host in hosts:
        for finding in host["findings"]:
            key = identity(host, finding)
            now.add(key)
            finding["change"] = "remaining" if key in before else "new"
            (remaining if key in before else new).append(_entry(key, finding))
    fixed = [_entry(key, finding) for key, finding in before.items() if key not in now and key[0] in names]
    return {"previous": ({"path": previous_path, "generated_at": str(previous.get("generated_at", ""))}
                         if previous else None),
            "new": new, "fixed": fixed, "remaining": remaining}


def read_previous(path: str) -> tuple[dict[str, Any] | None, str]:
    """An earlier pacsguard report (bounded in size and depth), or None and why it cannot be used."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_REPORT + 1)
    except OSError as exc:
        return None, f"{path}: {exc.strerror or exc}"
    if len(data) > MAX_REPORT:
        return None, f"{path}: larger than {MAX_REPORT} bytes"
    try:
        text = data.decode("utf-8")
        if depth(text) > MAX_DEPTH:
            return None, f"{path}: nested deeper than {MAX_DEPTH} levels"
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, f"{path}: not JSON ({exc})"
    if not isinstance(document, dict) or document.get("schema") != REPORT_SCHEMA \
            or not isinstance(document.get("hosts"), list):
        return None, f"{path}: not a pacsguard audit report ({REPORT_SCHEMA})"
    return document, ""
