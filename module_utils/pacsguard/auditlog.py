"""The audit trail off the host: the collectors a policy names (checked), the plan's log area, the
journal's settings as systemd-journald reads them, and pacsguard's own RFC 5424 record of a
hardening run.

The PACS logs its associations and refusals to the journal; rsyslog forwards the journal to each
collector over syslog on TLS (RFC 5425, port 6514) through a disk-assisted queue (role pacs_log).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from .languages import canonical_address, check_peer_name, symbol_name
from .problems import PolicyReport
from .rsyslog import check_server_name

SYSLOG_TLS_PORT = 6514  # RFC 5425
COLLECTOR_FIELDS = frozenset({"name", "address", "port", "server_name", "ca", "client_certificate"})
# What pacs_log writes on the node (the audit reads the same places through rsyslog's includes).
FORWARD_CONF = "/etc/rsyslog.d/60-pacsguard.conf"
MATERIAL_DIR = "/etc/pacsguard/log"
QUEUE_DIR = "/var/spool/rsyslog"
TRAIL_SOCKET = "/run/pacsguard-trail.sock"
JOURNALD_DROPIN = "/etc/systemd/journald.conf.d/60-pacsguard.conf"
# The journal kept on the host at least this long when its retention is set (the collector keeps
# the long record; the host's copy covers an outage and an investigation's first weeks).
MIN_RETENTION_DAYS = 30
# pacsguard's structured-data ID: the enterprise number RFC 5612 reserves for documentation, until
# the project has one of its own.
SD_ID = "pacsguard@32473"


def read_controller_file(path: str) -> bytes:
    """A file of the controller (the policy names PEM files there), at most 1 MiB."""
    with open(path, "rb") as handle:
        return handle.read(2**20)


def _check_ca(where: str, path: Any, read: Callable[[str], bytes] | None, report: PolicyReport) -> None:
    if not isinstance(path, str) or not path:
        report.errors.append(f"{where}.ca: must be the path of a PEM CA file on the controller")
        return
    if read is None:
        return
    try:
        data = read(path)
    except OSError as exc:
        report.errors.append(f"{where}.ca: {path} cannot be read ({exc.strerror or exc})")
        return
    if b"-----BEGIN CERTIFICATE-----" not in data:
        report.errors.append(f"{where}.ca: {path} holds no PEM certificate")


def check_collector(index: int, entry: Any, tls: dict[str, Any] | None, report: PolicyReport,
                    read: Callable[[str], bytes] | None) -> dict[str, Any] | None:
    """One pacs_log_collectors entry, normalised (port 6514, the node's CA and certificate from
    pacs_tls where it has one), or None with the problems in ``report``."""
    where = f"pacs_log_collectors[{index}]"
    if not isinstance(entry, dict):
        report.errors.append(f"{where}: must be a mapping with name, address and server_name")
        return None
    errors = len(report.errors)
    name_ok, reason = check_peer_name(entry.get("name"))
    if name_ok:
        where = f"pacs_log_collectors[{index}] ({entry['name']})"
    else:
        report.errors.append(f"{where}.name: {reason}")
    unknown = sorted(map(str, set(entry) - COLLECTOR_FIELDS))
    if unknown:
        report.errors.append(f"{where}: unknown field(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(COLLECTOR_FIELDS))})")
    address, reason = canonical_address(entry.get("address"))
    if address is None:
        report.errors.append(f"{where}.address: {reason}")
    port = entry.get("port", SYSLOG_TLS_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        report.errors.append(f"{where}.port: {port!r} is not a TCP port (1-65535)")
    ok, reason = check_server_name(entry.get("server_name"))
    if not ok:
        report.errors.append(f"{where}.server_name: {reason}")
    ca = entry.get("ca", (tls or {}).get("ca"))
    if ca is None:
        report.errors.append(f"{where}.ca: no CA to verify the collector's certificate "
                             "(give ca, or pacs_tls.ca)")
    elif "ca" in entry:
        _check_ca(where, ca, read, report)
    client = entry.get("client_certificate", tls is not None)
    if not isinstance(client, bool):
        report.errors.append(f"{where}.client_certificate: must be true or false, got {client!r}")
    elif client and tls is None:
        report.errors.append(f"{where}.client_certificate: the node has no certificate to authenticate with "
                             "(set pacs_tls, or client_certificate: false)")
    if len(report.errors) > errors:
        return None
    return {"name": entry["name"], "address": address, "port": port, "server_name": entry["server_name"],
            "ca": ca, "client_certificate": client, "queue": f"pacsguard_{symbol_name(entry['name'])}"}


def check_collectors(collectors: Any, tls: dict[str, Any] | None, report: PolicyReport,
                     read: Callable[[str], bytes] | None = None) -> list[dict[str, Any]]:
    """pacs_log_collectors, each checked; names and (address, port) pairs unique."""
    if collectors is None:
        return []
    if not isinstance(collectors, list):
        report.errors.append("pacs_log_collectors: must be a list of collectors (name, address, server_name)")
        return []
    checked = [check_collector(index, entry, tls, report, read) for index, entry in enumerate(collectors)]
    result = [entry for entry in checked if entry]
    seen: dict[Any, str] = {}
    for entry in result:
        keys = (((entry["name"].lower(),), "name"), ((entry["address"], entry["port"]), "address and port"))
        for key, what in keys:
            if key in seen:
                report.errors.append(f"pacs_log_collectors: duplicate {what} "
                                     f"({seen[key]!r} and {entry['name']!r})")
            seen.setdefault(key, entry["name"])
    return result


def plan(collectors: list[dict[str, Any]], tls: dict[str, Any] | None) -> dict[str, Any]:
    """The plan's log area: what pacs_log writes (the collectors, each CA as a file of its own when it
    is not the node's pacs_tls CA, and whether the node's certificate goes with the connection)."""
    shared_ca = (tls or {}).get("ca")
    cas: dict[str, str] = {}
    planned = []
    for entry in collectors:
        ca_name = "ca.pem" if entry["ca"] == shared_ca else f"ca-{symbol_name(entry['name'])}.pem"
        cas[ca_name] = entry["ca"]
        planned.append({**entry, "ca_file": f"{MATERIAL_DIR}/{ca_name}"})
    client = any(entry["client_certificate"] for entry in collectors)
    return {"collectors": planned,
            "ca_files": [{"name": name, "src": src} for name, src in sorted(cas.items())],
            # the node's pacs_tls certificate and key (controller paths), sent to the collectors
            "client": {"certificate": tls["certificate"], "private_key": tls["private_key"],
                       "certificate_file": f"{MATERIAL_DIR}/node.crt", "key_file": f"{MATERIAL_DIR}/node.key"}
            if client and tls else None,
            "material_dir": MATERIAL_DIR, "queue_dir": QUEUE_DIR, "trail_socket": TRAIL_SOCKET,
            "forward_conf": FORWARD_CONF, "journald_dropin": JOURNALD_DROPIN}


# -- systemd-journald -----------------------------------------------------------------------------
_SPAN_UNITS = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "s": 1, "sec": 1, "second": 1,
               "seconds": 1,
               "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600,
               "hours": 3600, "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800,
               "weeks": 604800, "M": 2629800, "month": 2629800, "months": 2629800, "y": 31557600,
               "year": 31557600, "years": 31557600}
_SPAN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)")


def timespan_seconds(text: str) -> float:
    """A systemd time span (``1month``, ``30d 12h``, ``0``) in seconds; ValueError when it is not one."""
    index, total, text = 0, 0.0, text.strip()
    if not text:
        raise ValueError("empty time span")
    while index < len(text):
        found = _SPAN.match(text, index)
        if not found or found.end() == index:
            raise ValueError(f"{text!r} is not a systemd time span")
        unit = found.group(2) or "s"
        if unit not in _SPAN_UNITS:
            raise ValueError(f"{text!r}: unknown unit {unit!r}")
        total += float(found.group(1)) * _SPAN_UNITS[unit]
        index = found.end()
    return total


def journald_settings(host: Any) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The [Journal] settings journald uses, each with the file that sets it: journald.conf, then
    the drop-ins of /usr/lib, /run and /etc in file-name order (a name in /etc hides the same name
    elsewhere); and the files that could not be read."""
    dropins: dict[str, str] = {}
    folders = ("/usr/lib/systemd/journald.conf.d", "/run/systemd/journald.conf.d",
               "/etc/systemd/journald.conf.d")
    unreadable: list[str] = []
    for folder in folders:
        names = host.entries(folder)
        if names is None:
            unreadable.append(f"{folder}: cannot be listed")
            continue
        for name in sorted(names):
            if name.endswith(".conf"):
                dropins[name] = f"{folder}/{name}"
    settings: dict[str, tuple[str, str]] = {}
    for path in ["/etc/systemd/journald.conf"] + [dropins[name] for name in sorted(dropins)]:
        if not host.exists(path):
            continue
        try:
            text = host.read(path)
        except OSError as exc:
            unreadable.append(f"{path}: {exc.strerror or exc}")
            continue
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]").strip()
            elif section == "Journal" and "=" in line:
                key, value = line.split("=", 1)
                settings[key.strip()] = (value.strip(), path)
    return settings, unreadable


# -- pacsguard's own trail -----------------------------------------------------------------------
def _sd_value(value: str) -> str:
    """An RFC 5424 PARAM-VALUE: '"', '\\' and ']' escaped, control characters dropped."""
    clean = "".join(char for char in value if char >= " " and char != "\x7f")
    return re.sub(r'(["\\\]])', r"\\\1", clean)


def trail_message(hostname: str, fields: dict[str, str], message: str, now: datetime.datetime | None = None,
                  pid: int = 0) -> str:
    """One RFC 5424 message (facility auth, severity notice: <37>) from APP-NAME pacsguard, MSGID
    harden, with ``fields`` as the parameters of pacsguard's structured-data element."""
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).isoformat(timespec="microseconds")
    host = re.sub(r"[^!-~]", "", hostname)[:255] or "-"
    params = " ".join(f'{key}="{_sd_value(str(value))}"' for key, value in fields.items()
                      if re.fullmatch(r"[!-~]{1,32}", key) and not set(key) & set('= ]"'))
    return f"<37>1 {stamp} {host} pacsguard {pid or '-'} harden [{SD_ID} {params}] {message}"


def managed_patterns(product: str) -> list[str]:
    """The files pacsguard writes on a node of ``product`` (globs): what a hardening run may change."""
    from .products import get

    described = get(product)
    patterns = ["/etc/pacsguard/*", "/etc/pacsguard/*/*", "/etc/systemd/system/pacsguard-*",
                "/etc/nftables.conf", "/etc/nftables.d/*", FORWARD_CONF, JOURNALD_DROPIN]
    if described:
        patterns += [f"/etc/systemd/system/{described.service}.service",
                     f"/etc/systemd/system/{described.service}.service.d/*"]
        patterns += [path for _service, paths in described.host_services for path in paths]
    return list(dict.fromkeys(patterns))


def digests(patterns: list[str], root: str = "/") -> dict[str, str]:
    """Each regular file the patterns match: SHA-256 of its bytes with its mode and owner (a changed
    mode is a change), keyed by its path on the host."""
    import glob
    import hashlib
    import os

    found: dict[str, str] = {}
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern.lstrip("/"))):
            try:
                info = os.stat(path)
                if not os.path.isfile(path):
                    continue
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            except OSError:
                continue
            host_path = "/" + os.path.relpath(path, root).lstrip("/") if root != "/" else path
            found[host_path] = f"{digest}:{info.st_mode & 0o7777:o}:{info.st_uid}:{info.st_gid}"
    return found


def changed_paths(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Paths added, removed or changed between two digests."""
    return sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))


def policy_digest(policy: Any) -> str:
    """A short digest of the resolved policy (what the collector can compare across runs and nodes)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(policy, sort_keys=True, default=str).encode()).hexdigest()[:16]


def trail_fields(policy: Any, changed: list[str], user: str, limit: int = 20) -> dict[str, str]:
    """The structured data of one record: the policy's digest, the files changed (at most ``limit``
    named, then a count), how many, and who ran it."""
    more = f", and {len(changed) - limit} more" if len(changed) > limit else ""
    named = ", ".join(changed[:limit]) + more
    return {"policy": policy_digest(policy), "changes": str(len(changed)), "changed": named,
            "user": user or "unknown"}
