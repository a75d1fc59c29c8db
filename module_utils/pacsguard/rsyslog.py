"""rsyslog's configuration language, as far as pacsguard writes and judges it: the forwarding
actions (omfwd) and their TLS, the includes, and the legacy forms that forward in plaintext.

Read the way rsyslogd reads it: comments out, RainerScript ``action(...)`` and ``global(...)``
statements with their parameters, ``$IncludeConfig`` and ``include(file=...)``; a legacy selector
line whose action starts with ``@`` forwards (``@`` UDP, ``@@`` TCP).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from . import jsonc

MAIN = "/etc/rsyslog.conf"
# Values pacsguard writes into rsyslog's language: one plain token inside double quotes.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*")
_STATEMENT = re.compile(r"\b(action|global|include|module|input)\s*\(", re.IGNORECASE)
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_.]*)\s*=\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^\s,)]+)\s*,?')
_LEGACY_FORWARD = re.compile(r"^\s*[^\s$#][^\s]*\s+(@@?)(\([^)]*\))?(\[[^\]]+\]|[^\s:;]+)(?::(\d+))?")
_LEGACY_INCLUDE = re.compile(r"^\s*\$IncludeConfig\s+(\S+)", re.IGNORECASE)

# The TLS drivers rsyslog has on Debian, and the package each comes in.
DRIVERS = {"gtls": "rsyslog-gnutls", "ossl": "rsyslog-openssl"}
# How the sender verifies the collector: by the name in its certificate, or by its fingerprint.
VERIFYING_AUTH_MODES = ("x509/name", "x509/fingerprint")
DISK_QUEUES = ("linkedlist", "fixedarray", "disk")


def check_server_name(value: Any) -> tuple[bool, str]:
    """A collector's certificate name as rsyslog's permitted peers take it (a DNS name, optionally
    ``*.`` before it): it is written inside double quotes, so nothing else may appear."""
    if not isinstance(value, str) or not value:
        return False, "missing or empty (the name in the collector's certificate, checked by x509/name)"
    if len(value) > 253 or not _NAME.fullmatch(value):
        return False, f"{value!r} is not a DNS name (letters, digits, '-' and '.', optionally '*.' first)"
    return True, ""


def comment_end(text: str, index: int) -> int:
    """Where an rsyslog comment starting at ``index`` ends (its newline stays), or ``index``: ``#`` to
    the end of the line, ``/* */`` where it starts a token ("/etc/rsyslog.d/*.conf" is a path)."""
    if text.startswith("#", index):
        end = text.find("\n", index)
        return len(text) if end < 0 else end
    if text.startswith("/*", index) and (index == 0 or text[index - 1] in " \t\n;)"):
        end = text.find("*/", index + 2)
        return len(text) if end < 0 else end + 2
    return index


def strip_comments(text: str) -> str:
    """The text with its comments blanked out, line numbers and quoted values kept."""
    return jsonc.strip_comments(text, comment_end)


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


@dataclass
class Statement:
    """One RainerScript statement: its kind (action, global, ...) and parameters (names lower case)."""

    kind: str
    params: dict[str, str]
    path: str
    line: int


@dataclass
class Config:
    """What the audit reads of rsyslog's configuration (every file, includes followed)."""

    files: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    legacy_forwards: list[tuple[str, str, int]] = field(default_factory=list)  # (target, path, line)
    errors: list[str] = field(default_factory=list)

    def forwards(self) -> list[Statement]:
        """The omfwd actions: each sends the messages it sees to another host."""
        return [statement for statement in self.statements
                if statement.kind == "action" and statement.params.get("type", "").lower() == "omfwd"]

    def global_param(self, name: str) -> str:
        """A ``global(...)`` parameter (the last one set wins), '' when none sets it."""
        found = ""
        for statement in self.statements:
            if statement.kind == "global" and name in statement.params:
                found = statement.params[name]
        return found


def parse_statements(text: str, path: str) -> tuple[list[Statement], list[str]]:
    """The RainerScript statements of one file, and what could not be read of them."""
    clean = strip_comments(text)
    statements: list[Statement] = []
    errors: list[str] = []
    for match in _STATEMENT.finditer(clean):
        start, params, index = match.end(), {}, match.end()
        line = clean.count("\n", 0, match.start()) + 1
        while True:
            rest = clean[index:].lstrip()
            index = len(clean) - len(rest)
            if rest.startswith(")"):
                break
            found = _PARAM.match(clean, index)
            if not found:
                errors.append(f"{path}:{line}: {match.group(1)}() is not readable from "
                              f"{clean[start:start + 40]!r}")
                break
            params[found.group(1).lower()] = _unquote(found.group(2))
            index = found.end()
        statements.append(Statement(match.group(1).lower(), params, path, line))
    return statements, errors


def parse_legacy(text: str, path: str) -> tuple[list[tuple[str, str, int]], list[str]]:
    """Legacy selector lines that forward (``*.* @@host:port``), and legacy include patterns."""
    forwards: list[tuple[str, str, int]] = []
    includes: list[str] = []
    for number, raw in enumerate(strip_comments(text).splitlines(), 1):
        forward = _LEGACY_FORWARD.match(raw)
        if forward:
            kind = "TCP" if forward.group(1) == "@@" else "UDP"
            port = forward.group(4) or "514"
            forwards.append((f"{forward.group(3).strip('[]')}:{port} ({kind})", path, number))
        include = _LEGACY_INCLUDE.match(raw)
        if include:
            includes.append(include.group(1))
    return forwards, includes


def read(host: Any, main: str = MAIN) -> Config:
    """rsyslog's whole configuration as rsyslogd reads it from ``main`` (its includes followed, in
    the order they are named; a file included twice is read once)."""
    config = Config()
    pending, seen = [main], set()
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            text = host.read(path)
        except OSError as exc:
            if path == main:
                config.errors.append(f"{path}: {exc.strerror or exc}")
            else:
                config.errors.append(f"{path} (included): {exc.strerror or exc}")
            continue
        config.files.append(path)
        statements, errors = parse_statements(text, path)
        forwards, legacy_includes = parse_legacy(text, path)
        config.statements += statements
        config.errors += errors
        config.legacy_forwards += forwards
        patterns = legacy_includes + [statement.params["file"] for statement in statements
                                      if statement.kind == "include" and "file" in statement.params]
        for pattern in patterns:
            if not any(char in pattern for char in "*?["):
                pending.append(pattern)
            elif host.entries(posixpath.dirname(pattern)) is None:
                config.errors.append(f"{path}: the directory of {pattern} cannot be listed")
            else:
                pending += host.glob(pattern)
    return config


def driver_of(action: Statement, config: Config) -> str:
    """The stream driver an omfwd action uses (its own, else the global default, else plain TCP)."""
    params = action.params
    return (params.get("streamdriver") or params.get("streamdriver.name")
            or config.global_param("defaultnetstreamdriver") or "ptcp").lower()


def plaintext_reason(action: Statement, config: Config) -> str:
    """Why one omfwd action sends in plaintext ('' when it speaks TLS)."""
    params = action.params
    protocol = params.get("protocol", "udp").lower()
    if protocol != "tcp":
        return f"protocol {protocol} (TLS needs protocol tcp)"
    if driver_of(action, config) not in DRIVERS:
        return f"stream driver {driver_of(action, config)}"
    if params.get("streamdrivermode", "0") != "1":
        return f"StreamDriverMode {params.get('streamdrivermode', '0 (default)')} (TLS is mode 1)"
    return ""


def tls_problems(action: Statement, config: Config) -> list[str]:
    """What keeps one omfwd action that speaks TLS from verifying the collector."""
    params = action.params
    problems = []
    auth = params.get("streamdriverauthmode", "anon").lower()
    if auth not in VERIFYING_AUTH_MODES:
        problems.append(f"StreamDriverAuthMode {auth}: the collector's certificate is not checked against a "
                        "name or fingerprint")
    elif not params.get("streamdriverpermittedpeers"):
        problems.append(f"StreamDriverAuthMode {auth} without StreamDriverPermittedPeers")
    if not (params.get("streamdriver.cafile") or config.global_param("defaultnetstreamdrivercafile")):
        problems.append("no CA file to verify the collector (StreamDriver.CAFile)")
    return problems


def queue_problems(action: Statement) -> list[str]:
    """What keeps one forwarding action from holding its messages through a collector outage."""
    params = action.params
    problems = []
    if params.get("queue.type", "direct").lower() not in DISK_QUEUES or not params.get("queue.filename"):
        problems.append(f"queue {params.get('queue.type', 'Direct')} without queue.filename (not "
                        "disk-assisted: "
                        "an outage of the collector loses messages)")
    if params.get("action.resumeretrycount", "0") != "-1":
        problems.append(f"action.resumeRetryCount {params.get('action.resumeretrycount', '0')} (gives up "
                        "instead of retrying until the collector is back)")
    return problems
