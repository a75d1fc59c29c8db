"""PACS-LOG rules: the audit trail as the host keeps and forwards it.

The product's own log settings (PACS-LOG-001, -002) are judged by its rule module (``logging``);
this module judges what every product shares: who may read the logs and the queue (003), whether
the journal persists (004), and whether rsyslog forwards it to the policy's collectors over
verified TLS through a disk-assisted queue (005).
"""

from __future__ import annotations

import stat
from typing import Any

from .. import rsyslog
from ..auditlog import MIN_RETENTION_DAYS, QUEUE_DIR, journald_settings, timespan_seconds
from . import common
from .host import Host, mode_text
from .model import Audit, Node

# Files rsyslog writes on Debian out of the box; each is judged when it exists.
SYSLOG_FILES = ("/var/log/syslog", "/var/log/messages", "/var/log/auth.log", "/var/log/daemon.log")


def log003(node: Node, product_files: list[str], unlisted: list[str]) -> common.Problems:
    """Log files and rsyslog's queue: not readable by every local user (a log directory that cannot
    be listed is an error: its files were not judged)."""
    problems: common.Problems = [(f"{where} cannot be listed: its log files were not judged", "error")
                                 for where in unlisted]
    for path in [*product_files, *SYSLOG_FILES]:
        info = node.host.stat(path)
        if info is not None and node.host.readable_by_others(path):
            problems.append((f"{path} is readable by every local user (mode {mode_text(info)}, every "
                             "directory above it open)", None))
    queue = node.host.stat(QUEUE_DIR)
    if queue is not None and queue.st_mode & (stat.S_IROTH | stat.S_IXOTH):
        problems.append((f"{QUEUE_DIR} (rsyslog's queue) is open to every local user (mode "
                         f"{mode_text(queue)})", None))
    return problems


def log004(host: Host) -> tuple[common.Problems, str]:
    """The journal is kept on disk, for at least MIN_RETENTION_DAYS when a retention is set."""
    settings, unreadable = journald_settings(host)
    problems: common.Problems = [(f"{text} (journald's settings not all read)", "error")
                                 for text in unreadable]
    storage, where = settings.get("Storage", ("auto", "journald's default"))
    storage = storage.lower()
    if storage in ("volatile", "none"):
        problems.append((f"Storage={storage} ({where}): the journal is lost at every reboot", None))
    elif storage == "auto" and not host.isdir("/var/log/journal"):
        problems.append((f"Storage=auto ({where}) and no /var/log/journal: the journal stays in memory",
                         None))
    elif storage not in ("auto", "persistent"):
        problems.append((f"Storage={storage} ({where}) is not a value journald knows", "error"))
    retention, where = settings.get("MaxRetentionSec", ("0", ""))
    try:
        seconds = timespan_seconds(retention)
    except ValueError as exc:
        problems.append((f"MaxRetentionSec ({where}): {exc}", "error"))
    else:
        if 0 < seconds < MIN_RETENTION_DAYS * 86400:
            problems.append((f"MaxRetentionSec={retention} ({where}) deletes entries before "
                             f"{MIN_RETENTION_DAYS} days", None))
    return problems, f"the journal is kept on disk (Storage={storage})"


def _judge_forward(action: rsyslog.Statement, config: rsyslog.Config, host: Host) -> list[str]:
    """What keeps a forward that speaks TLS from verifying its collector and keeping its messages."""
    problems = rsyslog.tls_problems(action, config) + rsyslog.queue_problems(action)
    driver = rsyslog.driver_of(action, config)
    package = rsyslog.DRIVERS.get(driver)
    if package and not host.package_version(package):
        problems.append(f"the {driver} driver's package {package} is not installed")
    ca = action.params.get("streamdriver.cafile") or config.global_param("defaultnetstreamdrivercafile")
    if ca and not host.isfile(ca):
        problems.append(f"its CA file {ca} does not exist")
    return problems


def log005(host: Host, collectors: list[dict[str, Any]] | None) -> tuple[common.Problems, str]:
    """rsyslog forwards to every collector the policy names (any collector without a policy) over
    TLS with the collector verified, through a disk-assisted queue; nothing in plaintext."""
    if not host.exists(rsyslog.MAIN):
        return [(f"rsyslog is not installed ({rsyslog.MAIN} missing): nothing forwards the logs off the host",
                 None if collectors else "medium")], ""
    config = rsyslog.read(host)
    problems: common.Problems = [(f"rsyslog's configuration not all read: {text}", "error")
                                 for text in config.errors]
    if not host.enabled("rsyslog.service"):
        problems.append(("rsyslog.service is not enabled: nothing forwards the logs after a reboot", None))
    judged: dict[tuple[str, str], list[str]] = {}
    plaintext: set[tuple[str, str]] = set()
    client = {(c["address"], str(c["port"])) for c in collectors or [] if c.get("client_certificate")}
    for action in config.forwards():
        target = (action.params.get("target", ""), action.params.get("port", "514"))
        reason = rsyslog.plaintext_reason(action, config)
        if reason:
            plaintext.add(target)
            judged[target] = [reason]
            problems.append((f"{action.path}:{action.line} forwards to {target[0]}:{target[1]} in plaintext "
                             f"({reason})", "high"))
            continue
        found = _judge_forward(action, config, host)
        files = [action.params.get(f"streamdriver.{kind}file")
                 or config.global_param(f"defaultnetstreamdriver{kind}file") for kind in ("cert", "key")]
        if target in client and not all(files):
            found.append("no client certificate and key (StreamDriver.CertFile, KeyFile), which the "
                         "policy asks for")
        judged[target] = found
    for target, path, line in config.legacy_forwards:
        problems.append((f"{path}:{line} forwards to {target} in rsyslog's legacy syntax, which sends "
                         "plaintext unless set up otherwise: not counted as TLS", "high"))
    good = sorted(f"{host_}:{port}" for (host_, port), found in judged.items() if not found)
    # Part of the configuration not read: a forward missing from what was read may be in the rest, so
    # only what was seen is a problem there, and the errors make the rule an error, never a pass.
    complete = not config.errors
    for collector in collectors or []:
        target = (collector["address"], str(collector["port"]))
        if target not in judged and complete:
            problems.append((f"no rsyslog action forwards to collector {collector['name']} "
                             f"({target[0]}:{target[1]})", None))
        elif judged.get(target) and target not in plaintext:
            problems.append((f"forwarding to collector {collector['name']} ({target[0]}:{target[1]}): "
                             + "; ".join(judged[target]), None))
    if not collectors and not good and complete:
        problems.append(("no rsyslog action forwards the logs over verified TLS, and the policy names no "
                         "collector (pacs_log_collectors)", "medium"))
    return problems, "forwarded over TLS, collector verified, disk-assisted queue: " + ", ".join(good)


def run(node: Node, audit: Audit, collectors: list[dict[str, Any]] | None, product_rules: Any) -> None:
    """Every PACS-LOG rule (the product's two through its rule module)."""
    if node.unit is None:
        for rule in ("PACS-LOG-001", "PACS-LOG-002"):
            audit.skip(rule, f"no systemd unit runs {node.product} on this host")
        product_files: list[str] = []
        unlisted: list[str] = []
    else:
        judged = product_rules.logging(node)
        product_files, unlisted = judged["files"], judged["unlisted"]
        audit.judge("PACS-LOG-001", judged["001"])
        audit.judge("PACS-LOG-002", judged["002"])
    audit.record("PACS-LOG-003", log003(node, product_files, unlisted),
                 "log files and rsyslog's queue are not readable by others")
    problems, ok = log004(node.host)
    audit.record("PACS-LOG-004", problems, ok)
    problems, ok = log005(node.host, collectors)
    audit.record("PACS-LOG-005", problems, ok)
