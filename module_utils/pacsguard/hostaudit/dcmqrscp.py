"""PACS-CFG rules over DCMTK's dcmqrscp: its unit's command line and the dcmqrscp.cfg it names.

dcmqrscp reads one file (``-c``, Debian's default /etc/dcmtk/dcmqrscp.cfg). Its allowlist is the
AETable (``ANY`` or peers from the HostTable); it always checks the called AE title; it compares
peer hosts by address only with ``-dhl`` (otherwise by reverse DNS, which whoever runs the PTR zone
controls). DCMTK before 3.6.9 has no TLS in dcmqrscp: the TLS is a front's (stunnel), whose
configuration is judged instead.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..dcmqrscp import DcmqrscpConfigError, View, parse, read_as_dcmqrscp
from . import common
from .model import Audit, Node, Unreadable

_HOST_LOOKUP_OFF = ("-dhl", "--disable-host-lookup")
# dcmqrscp's own TLS (DCMTK 3.6.9): options that weaken it.
_WEAK_TLS = {
    "+px": "the downgrading BCP 195 profile (TLS 1.0/1.1)",
    "+pn": "authenticated but unencrypted communication",
    "-ic": "peer certificates ignored",
    "-vc": "a peer without a certificate is accepted",
    "+pa": "the retired AES profile (RSA key exchange, CBC)",
}


class Config:
    """dcmqrscp.cfg as dcmqrscp reads it, with each AETable row's line number."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.view: View = read_as_dcmqrscp(text)
        self.settings = {m.group(1): m.group(2) for m in re.finditer(r"(?m)^\s*(\w+)\s*=\s*(\S+)", text)}
        try:
            self.rows = parse(text).rows
        except DcmqrscpConfigError:
            self.rows = []

    def line_of(self, ae_title: str) -> str:
        for number, line in enumerate(self.text.splitlines(), 1):
            words = line.split()
            if words and words[0] == ae_title and not line.lstrip().startswith("#"):
                return f"{self.path}:{number}"
        return self.path


def config_path(argv: list[str]) -> str:
    """The file after -c/--config on dcmqrscp's command line ('' without one: the product's
    default_config in the registry)."""
    for index, arg in enumerate(argv):
        if arg in ("-c", "--config") and index + 1 < len(argv):
            return argv[index + 1]
    return ""


def load(node: Node, path: str) -> None:
    """Read the configuration dcmqrscp is started with into ``node``."""
    node.config_paths = [path]
    try:
        node.config = Config(path, node.host.read(path))
    except OSError as exc:
        node.config_error = f"cannot read {path}: {exc.strerror or exc}"
        return
    if node.config.view.errors:
        node.config_error = f"{path}: " + "; ".join(node.config.view.errors)


def cfg001(config: Config) -> common.Problems:
    return [
        (f"{config.line_of(row[0])} AETable row {row[0]} admits ANY calling AE", None)
        for row in config.view.rows
        if row[3] is None
    ]


def cfg003(node: Node, config: Config) -> common.Problems:
    argv = node.unit.argv if node.unit else []
    if any(arg in _HOST_LOOKUP_OFF for arg in argv):
        return []
    listed = any(row[3] for row in config.view.rows)
    if not listed:
        return []  # no row lists peers: nothing is bound, PACS-CFG-001 says why
    return [
        (
            f"{node.unit.name if node.unit else 'dcmqrscp'} runs without -dhl: peers are matched by "
            "reverse DNS name, not by address",
            None,
        )
    ]


def cfg007(node: Node) -> common.Problems:
    argv = node.unit.argv if node.unit else []
    if "+tls" in argv:
        return [(f"dcmqrscp {option}: {why}", None) for option, why in _WEAK_TLS.items() if option in argv]
    if node.front:
        return common.front_tls(node.front)
    return [("dcmqrscp serves DICOM in plaintext: no +tls on its command line and no TLS front", None)]


def cfg008(node: Node, config: Config) -> common.Problems:
    problems = common.writable_config(node, [config.path])
    if "+tls" in (argv := node.unit.argv if node.unit else []):
        key = argv[argv.index("+tls") + 1] if argv.index("+tls") + 1 < len(argv) else ""
        problems += common.secret_file(node.host, key, "private key") if key else []
    if node.front and not node.front.error:
        front_user = node.front.settings.get("setuid", "root")
        problems += common.writable_config(
            node, [node.front.config_path], front_user, node.front.settings.get("setgid", "")
        )
        keys = {
            opts.get("key")
            for opts in [node.front.settings, *node.front.services.values()]
            if opts.get("key")
        }
        for key in sorted(keys):
            problems += common.secret_file(node.host, key, "private key")
    return problems


def cfg009(node: Node) -> common.Problems:
    problems = common.sandbox(node.unit, node.user) if node.unit else []
    if node.front:
        user = node.front.unit.get("User") or node.front.settings.get("setuid", "") or "root"
        problems += [(f"TLS front: {text}", sev) for text, sev in common.sandbox(node.front.unit, user)]
    return problems


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def cfg011(node: Node, config: Config) -> tuple[common.Problems, list[str]]:
    """Drift: what the file admits against what the policy renders to. dcmqrscp grants access per
    row, so a row that must let one listed peer store lets all of its peers store: that follows from
    the policy (the role warns about it) and is noted, not drift; a store grant no listed peer needs
    is drift."""
    peers = {(str(p["ae_title"]), str(p["address"])): p for p in node.peers or []}
    # Behind pacsguard's TLS front dcmqrscp sees each peer at the loopback address of the front's
    # service for it ([peer-NAME], local = ...): that address stands for the policy's peer NAME.
    by_name = {str(p.get("name", "")): p for p in node.peers or []}
    if node.front and not node.front.error:
        for section, opts in node.front.services.items():
            if section.startswith("peer-") and opts.get("local"):
                peer = by_name.get(section[len("peer-"):])
                if peer is not None:
                    peers[(str(peer["ae_title"]), opts["local"])] = peer
    problems: common.Problems = []
    notes: list[str] = []
    for title, _storage, access, admitted in config.view.rows:
        where = config.line_of(title)
        if admitted is None:
            problems.append((f"{where} row {title} admits ANY calling AE, beyond the policy", None))
            continue
        listed = []
        for ae, host, _port in sorted(set(admitted)):
            peer = peers.get((ae, host))
            if peer is None:
                problems.append(
                    (f"{where} row {title} admits {ae} from {host}, which the policy does not list", None)
                )
            else:
                listed.append(peer)
        storing = [p for p in listed if "store" in p.get("services", [])]
        if "W" in access and listed and not storing:
            problems.append((f"{where} row {title} ({access}) lets its peers store; the policy gives "
                             "none of them store", None))
        elif "W" in access and storing:
            notes += [f"{p['ae_title']} may store through row {title} ({access}), which its policy does "
                      "not grant (dcmqrscp grants access per storage area)"
                      for p in listed if p not in storing]
    return problems, notes


def cfg012(node: Node) -> tuple[common.Problems, list[str]]:
    argv = node.unit.argv if node.unit else []
    named: list[tuple[str, str]] = []
    if "+tls" in argv and argv.index("+tls") + 2 < len(argv):
        named.append(("dcmqrscp +tls certificate", argv[argv.index("+tls") + 2]))
    if node.front and not node.front.error:
        certs = {
            opts.get("cert")
            for opts in [node.front.settings, *node.front.services.values()]
            if opts.get("cert")
        }
        named += [(f"TLS front {node.front.config_path} cert", path) for path in sorted(certs)]
    problems: common.Problems = []
    for where, path in named:
        problems += common.certificate(node.host, path, where)
    return problems, [path for _name, path in named]


# -- PACS-LOG-001, PACS-LOG-002 ----------------------------------------------------------------------
# dcmqrscp logs through DCMTK's oflog to stdout (the journal, under systemd). At its default level
# (warn) it logs no association and no refusal. At info ("-v") it logs each association ("Association
# Received (ADDRESS:CALLING -> CALLED)", "Refusing Association (BadAEService)") and also each query's
# identifiers ("Find SCP Request Identifiers:" and the dataset) and each stored instance's SOP
# Instance UID; at debug, whole PDU and dataset dumps. A log configuration (--log-config) at info with
# filters that drop the events holding those dumps keeps the associations and nothing else.
_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF")
_LEVEL_OPTIONS = {"-v": "INFO", "--verbose": "INFO", "-d": "DEBUG", "--debug": "DEBUG",
                  "-q": "WARN", "--quiet": "WARN"}
# The oflog events that carry identifiers at info level: each is dropped by a filter of every appender.
IDENTIFIER_EVENTS = ("Identifiers", "SOP Instance UID")
_LOGGER = "dcmtk.dcmqrdb"  # the logger of dcmqrscp's association and query messages


def _option(argv: list[str], names: tuple[str, ...]) -> str:
    for index, arg in enumerate(argv):
        if arg in names and index + 1 < len(argv):
            return argv[index + 1]
    return ""


def read_log_config(text: str) -> tuple[dict[str, str], list[str], list[str]]:
    """An oflog (log4cplus) property file: the effective level per logger ('' for the root logger),
    what its appenders do not filter out of IDENTIFIER_EVENTS ('APPENDER: EVENT'), and its console
    appenders that buffer (no ImmediateFlush: what dcmqrscp's main process logs, its refusals among
    it, stays in the buffer while it runs and is lost when it stops; seen on DCMTK 3.6.7 and 3.6.9)."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = value.strip()
    levels: dict[str, str] = {}
    for key, value in props.items():
        if key == "log4cplus.rootLogger" or key.startswith("log4cplus.logger."):
            name = "" if key == "log4cplus.rootLogger" else key[len("log4cplus.logger."):]
            levels[name] = value.split(",")[0].strip().upper()
    appenders = [key.split(".")[2] for key in props
                 if key.count(".") == 2 and key.startswith("log4cplus.appender.")]
    unfiltered = []
    for appender in appenders:
        prefix = f"log4cplus.appender.{appender}.filters."
        denied = set()
        numbers = {key[len(prefix):].split(".")[0] for key in props if key.startswith(prefix)}
        for number in numbers:
            base = f"{prefix}{number}"
            if (props.get(base, "").endswith("StringMatchFilter")
                    and props.get(f"{base}.AcceptOnMatch", "true").lower() == "false"):
                denied.add(props.get(f"{base}.StringToMatch", ""))
        unfiltered += [f"{appender}: {event}" for event in IDENTIFIER_EVENTS if event not in denied]
    buffered = [appender for appender in appenders
                if props[f"log4cplus.appender.{appender}"].endswith("ConsoleAppender")
                and props.get(f"log4cplus.appender.{appender}.ImmediateFlush", "false").lower() != "true"]
    return levels, unfiltered, buffered


def _effective(levels: dict[str, str], logger: str) -> str:
    parts = logger.split(".")
    for count in range(len(parts), 0, -1):
        found = levels.get(".".join(parts[:count]))
        if found:
            return found
    return levels.get("", "DEBUG")  # log4cplus's root logger defaults to DEBUG


def _rank(level: str) -> int:
    return _LEVELS.index(level) if level in _LEVELS else len(_LEVELS)


def _log_levels(node: Node) -> tuple[str, str, list[str], str, list[str]]:
    """dcmqrscp's level for its association messages, its most verbose level, the identifier events
    its appenders let through, what sets them, and the appenders that buffer."""
    argv = node.unit.argv if node.unit else []
    config = _option(argv, ("-lc", "--log-config"))
    if config:
        try:
            levels, unfiltered, buffered = read_log_config(node.host.read(config))
        except OSError as exc:
            reason = exc.strerror or exc
            raise Unreadable(f"cannot read dcmqrscp's log configuration {config}: {reason}") from exc
        finest = min(levels.values(), key=_rank) if levels else "DEBUG"
        return _effective(levels, _LOGGER), finest, unfiltered, f"--log-config {config}", buffered
    level = _option(argv, ("-ll", "--log-level")).upper() or next(
        (_LEVEL_OPTIONS[arg] for arg in reversed(argv[1:]) if arg in _LEVEL_OPTIONS), "WARN")
    unfiltered = [f"(no log configuration): {event}" for event in IDENTIFIER_EVENTS]
    return level, level, unfiltered, f"level {level.lower()}", []


def _log001(node: Node) -> tuple[common.Problems, str]:
    level, _finest, _unfiltered, source, buffered = _log_levels(node)
    problems: common.Problems = []
    if buffered:
        problems.append((f"{source}: console appender(s) {', '.join(buffered)} without ImmediateFlush: the "
                         "refusals dcmqrscp's main process logs stay in its buffer and are lost when it "
                         "stops", None))
    name = node.unit.name if node.unit else "dcmqrscp"
    config = _option(node.unit.argv if node.unit else [], ("-lc", "--log-config"))
    # dcmqrscp reads it at start, as the user the unit starts it as (User=; root otherwise, which
    # switches to UserName of dcmqrscp.cfg only after that)
    starts_as = node.unit.get("User") if node.unit else ""
    if config and starts_as and not node.host.readable_by(config, starts_as, node.unit.get("Group")):
        problems.append((f"{name} runs as {starts_as}, who cannot read its log configuration {config}: "
                         "dcmqrscp stops at start", None))
    if _rank(level) > _rank("INFO"):
        problems.append((f"{name} runs dcmqrscp at {source} ({level.lower()} for {_LOGGER}): no association "
                         "or refusal is logged (needs info)", None))
    if node.unit and node.unit.get("StandardOutput").lower() == "null":
        problems.append((f"{name} discards dcmqrscp's output (StandardOutput=null)", None))
    return problems, f"{name} logs associations and refusals to the journal ({source})"


def _log002(node: Node) -> tuple[common.Problems, str]:
    level, finest, unfiltered, source, _buffered = _log_levels(node)
    name = node.unit.name if node.unit else "dcmqrscp"
    problems: common.Problems = []
    if _rank(finest) <= _rank("DEBUG"):
        problems.append((f"{name} runs dcmqrscp at {source} ({finest.lower()}): PDU and dataset dumps write "
                         "patient identifiers", None))
    elif _rank(level) <= _rank("INFO") and unfiltered:
        problems.append((f"{name} logs at info ({source}) and lets through the events that hold query "
                         f"identifiers and SOP instance UIDs ({', '.join(unfiltered)})", None))
    return problems, f"no identifier reaches the log ({source})"


def logging(node: Node) -> dict[str, Any]:
    """PACS-LOG-001 and -002 as judges (the audit runs them); dcmqrscp writes no log file itself."""
    return {"001": lambda: _log001(node), "002": lambda: _log002(node), "files": [], "unlisted": []}


def run(node: Node, audit: Audit) -> None:
    """Every PACS-CFG rule over dcmqrscp, its file and its TLS front."""
    try:
        config: Config | None = node.need_config()
    except Unreadable as exc:
        for rule in ("001", "003", "008", "011"):
            audit.error(f"PACS-CFG-{rule}", f"dcmqrscp's configuration is not usable: {exc}")
        config = None
    audit.checks["PACS-CFG-002"] = {
        "status": "pass",
        "detail": "dcmqrscp refuses a called AE title without an AETable row (A-ASSOCIATE-RJ reason 7)",
    }
    if config is not None:
        audit.record("PACS-CFG-001", cfg001(config), f"no AETable row of {config.path} admits ANY")
        audit.record("PACS-CFG-003", cfg003(node, config), "peers are compared by address (-dhl)")
        audit.record(
            "PACS-CFG-008",
            cfg008(node, config),
            "configuration not writable by the service, keys not readable by others",
        )
        if node.peers is None:
            audit.skip("PACS-CFG-011", "no policy given (pacs_peers): drift cannot be judged")
        else:
            problems, notes = cfg011(node, config)
            audit.record(
                "PACS-CFG-011",
                problems,
                "; ".join(["every admitted AE and address is in the policy", *notes]),
            )
        hostnames = sorted(
            {host for row in config.view.rows for _ae, host, _p in row[3] or [] if not _is_ip(host)}
        )
        if hostnames and audit.checks["PACS-CFG-003"]["status"] == "pass":
            audit.checks["PACS-CFG-003"]["detail"] += (
                "; with -dhl these host names never match: " + ", ".join(hostnames)
            )
    for rule, reason in (
        ("PACS-CFG-004", "dcmqrscp has no REST API: its allowlist lives only in its file"),
        ("PACS-CFG-005", "dcmqrscp has no web or REST side"),
        ("PACS-CFG-006", "dcmqrscp runs no scripts and loads no plugins"),
        (
            "PACS-CFG-010",
            "dcmqrscp has none of the features this rule covers (WebDAV, HTTP client, logs with identifiers)",
        ),
    ):
        audit.skip(rule, reason)
    audit.record(
        "PACS-CFG-007",
        cfg007(node),
        "mutual TLS, TLS 1.2 or later, AEAD suites"
        + (f" (TLS front {node.front.unit.name})" if node.front else ""),
    )
    if node.unit:
        audit.record("PACS-CFG-009", cfg009(node), f"{node.unit.name} runs as {node.user} in the sandbox")
    else:
        audit.skip("PACS-CFG-009", "no systemd unit runs dcmqrscp on this host")
    problems, named = cfg012(node)
    if not named:
        audit.skip("PACS-CFG-012", "no server certificate is configured (no TLS)")
    else:
        audit.record("PACS-CFG-012", problems, "certificate valid, SHA-2, strong key: " + ", ".join(named))
