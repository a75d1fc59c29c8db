"""PACS-CFG rules over Orthanc's configuration, read the way Orthanc reads it.

Orthanc takes one command-line path: a file, or a directory whose every ``*.json`` file it loads and
merges (a key defined in two files stops it: "defined in 2 different configuration files"). Files are
JSON with comments. A key that no file sets has Orthanc's built-in default, which is what the rules
judge then (Debian's orthanc.json leaves several keys out).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..orthanc import OrthancConfigError, loads_file, parse_file
from ..passwords import MIN_PASSWORD_LENGTH, WEAK_PASSWORDS
from ..products import REGISTRY
from ..tlsfacts import ORTHANC_MIN_PROTOCOL
from . import common
from .model import Audit, Node, Skipped, Unreadable
from .versions import compare, upstream

# Orthanc's built-in defaults for the keys the rules read (Orthanc 1.10 to 1.12, OrthancServer's
# OrthancConfiguration and its NEWS; the same in Debian's orthanc.json where it sets them).
DEFAULTS: dict[str, Any] = {
    "DicomServerEnabled": True,
    "HttpServerEnabled": True,
    "DicomAlwaysAllowEcho": True,
    "DicomAlwaysAllowStore": True,
    "DicomAlwaysAllowFind": False,
    "DicomAlwaysAllowFindWorklist": False,
    "DicomAlwaysAllowGet": False,
    "DicomAlwaysAllowMove": False,
    "DicomCheckCalledAet": False,
    "DicomCheckModalityHost": False,
    "DicomModalitiesInDatabase": False,
    "OrthancPeersInDatabase": False,
    "RemoteAccessAllowed": False,
    "ExecuteLuaEnabled": False,
    "RestApiWriteToFileSystemEnabled": False,
    "WebDavEnabled": True,
    "WebDavUploadAllowed": True,
    "HttpsVerifyPeers": True,
    "DeidentifyLogs": True,
    "DicomTlsEnabled": False,
    "DicomTlsRemoteCertificateRequired": True,
    "SslEnabled": False,
    "DicomTlsMinimumProtocolVersion": 0,
    "LuaScripts": [],
    "Plugins": [],
    "DicomModalities": {},
    "RegisteredUsers": {},
}
ALWAYS_ALLOW = (
    "DicomAlwaysAllowEcho",
    "DicomAlwaysAllowStore",
    "DicomAlwaysAllowFind",
    "DicomAlwaysAllowFindWorklist",
    "DicomAlwaysAllowGet",
    "DicomAlwaysAllowMove",
)
# Per-modality permission flags and the DICOM services they open (each defaults to true).
MODALITY_FLAGS = {
    "AllowEcho": "echo",
    "AllowStore": "store",
    "AllowFind": "find",
    "AllowFindWorklist": "find_worklist",
    "AllowGet": "get",
    "AllowMove": "move",
}
# Versions where behaviour changes (Orthanc NEWS).
# DicomTlsMinimumProtocolVersion and DicomTlsCiphersAccepted, from the registry
NATIVE_TLS_SETTINGS = REGISTRY["orthanc"].tls_settings_since or ""
NO_DEFAULT_USER = "1.12.9"  # no orthanc/orthanc when RegisteredUsers is present but empty
TLS12 = ORTHANC_MIN_PROTOCOL["TLSv1.2"]  # DicomTlsMinimumProtocolVersion of TLS 1.2 and later


@dataclass
class Config:
    """The merged configuration, where each key came from, and the files read."""

    values: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # key -> "file:line"
    files: list[str] = field(default_factory=list)
    directory: str = "/"

    def get(self, key: str) -> Any:
        return self.values.get(key, DEFAULTS.get(key))

    def show(self, key: str) -> str:
        """``file:line Key = value``, or the default Orthanc applies when no file sets the key."""
        if key in self.where:
            return f"{self.where[key]} {key} = {json.dumps(self.values[key])}"
        return f"{key} not set (Orthanc's default: {json.dumps(DEFAULTS.get(key))})"

    def typed(self, key: str, kind: type) -> Any:
        """A value that must be of ``kind`` (Orthanc refuses the file otherwise); Unreadable names it."""
        value = self.get(key)
        if value is not None and not isinstance(value, kind):
            raise Unreadable(f"{self.where.get(key, key)} {key} must be a JSON {kind.__name__}, "
                             f"not {type(value).__name__}")
        return value

    def path(self, value: str) -> str:
        """A path from the configuration: relative ones are relative to the configuration's directory."""
        return value if os.path.isabs(value) else os.path.normpath(os.path.join(self.directory, value))


def config_path(argv: list[str]) -> str:
    """The configuration path on Orthanc's command line ('' when it runs on built-in defaults)."""
    positional = [arg for arg in argv[1:] if not arg.startswith("-")]
    return positional[-1] if positional else ""


def load(node: Node, path: str) -> None:
    """Read Orthanc's configuration (a file, or every file of a directory Orthanc loads) into ``node``."""
    host = node.host
    config = Config()
    node.config = config
    if not path:
        return
    if host.isdir(path):
        # by Orthanc's own rule (loads_file): any case, dot-files too, every entry but a directory
        # (one that is not a regular file is then an error of its own, never skipped)
        directory = path.rstrip("/") or "/"
        files = [f"{directory}/{name}" for name in host.listdir(directory)
                 if loads_file(name) and not host.isdir(f"{directory}/{name}")]
        config.directory = path
    elif host.exists(path):
        files, config.directory = [path], os.path.dirname(path)
    else:
        node.config_error = f"{path} (Orthanc's configuration on its command line) does not exist"
        return
    node.config_paths = files
    errors: list[str] = []
    for name in files:
        try:
            parsed = parse_file(name, host.read(name))
        except OSError as exc:
            errors.append(f"cannot read {name}: {exc.strerror or exc}")
            continue
        except OrthancConfigError as exc:
            errors.append(str(exc))
            continue
        config.files.append(name)
        for member in parsed.members:
            line = parsed.text.count("\n", 0, member.value_start) + 1
            if member.key in config.where:
                errors.append(
                    f"{member.key} is defined in {config.where[member.key]} and {name}:{line} "
                    "(Orthanc refuses to start)"
                )
                continue
            config.values[member.key] = parsed.data[member.key]
            config.where[member.key] = f"{name}:{line}"
    node.config_error = "; ".join(errors)


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _modalities(config: Config) -> dict[str, dict[str, Any]]:
    """DicomModalities as objects (the [AET, host, port] form gets every permission)."""
    out: dict[str, dict[str, Any]] = {}
    for name, entry in (config.typed("DicomModalities", dict) or {}).items():
        if isinstance(entry, list):
            out[name] = {"AET": entry[0] if entry else "", "Host": entry[1] if len(entry) > 1 else ""}
        elif isinstance(entry, dict):
            out[name] = entry
    return out


def _version_at_least(node: Node, version: str) -> bool:
    return bool(node.version) and compare(upstream(node.version), version) >= 0


# -- the rules ------------------------------------------------------------------------------------
def cfg001(node: Node, config: Config) -> common.Problems:
    if not _true(config.get("DicomServerEnabled")):
        return []
    return [(config.show(key), None) for key in ALWAYS_ALLOW if _true(config.get(key))]


def cfg002(node: Node, config: Config) -> common.Problems:
    return [] if _true(config.get("DicomCheckCalledAet")) else [(config.show("DicomCheckCalledAet"), None)]


def cfg003(node: Node, config: Config) -> common.Problems:
    problems = (
        [] if _true(config.get("DicomCheckModalityHost")) else [(config.show("DicomCheckModalityHost"), None)]
    )
    where = config.where.get("DicomModalities", "DicomModalities")
    problems += [
        (f"{where} modality {name!r} ({entry.get('AET', '')}) has no Host", None)
        for name, entry in _modalities(config).items()
        if not entry.get("Host")
    ]
    return problems


def cfg004(node: Node, config: Config) -> common.Problems:
    return [
        (config.show(key), None)
        for key in ("DicomModalitiesInDatabase", "OrthancPeersInDatabase")
        if _true(config.get(key))
    ]


def cfg005(node: Node, config: Config) -> tuple[common.Problems, str]:
    if not _true(config.get("HttpServerEnabled")):
        return [], "the HTTP server is off (HttpServerEnabled false)"
    if not _true(config.get("RemoteAccessAllowed")):
        return [], "the REST API answers local clients only (RemoteAccessAllowed false)"
    auth_set = "AuthenticationEnabled" in config.values
    if auth_set and not _true(config.get("AuthenticationEnabled")):
        return [
            (
                f"{config.show('RemoteAccessAllowed')} with {config.show('AuthenticationEnabled')}: "
                "every client that reaches the port uses the REST API without credentials",
                None,
            )
        ], ""
    users = config.typed("RegisteredUsers", dict) or {}
    where = config.where.get("RegisteredUsers", "RegisteredUsers")
    if not users:
        if _version_at_least(node, NO_DEFAULT_USER) and "RegisteredUsers" in config.values:
            return [], "remote access with authentication and no user: nobody can log in"
        return [
            (
                f"{config.show('RemoteAccessAllowed')} and no RegisteredUsers: Orthanc "
                f"{node.version or '(version unknown)'} creates the default user orthanc with its "
                "well-known password",
                None,
            )
        ], ""
    problems: common.Problems = []
    for user, password in sorted(users.items()):
        password = password if isinstance(password, str) else ""
        # the same judgement as the policy check before hardening (policy.py)
        if password.lower() in WEAK_PASSWORDS or password.lower() == str(user).lower():
            problems.append((f"{where} user {user!r} has a default or well-known password", None))
        elif len(password) < MIN_PASSWORD_LENGTH:
            problems.append(
                (f"{where} user {user!r} has a password shorter than {MIN_PASSWORD_LENGTH} characters", None)
            )
    return problems, f"remote REST access needs credentials; {len(users)} user(s), none weak"


def cfg006(node: Node, config: Config) -> common.Problems:
    problems = [
        (config.show(key), None)
        for key in ("ExecuteLuaEnabled", "RestApiWriteToFileSystemEnabled")
        if _true(config.get(key))
    ]
    scripts = list(config.typed("LuaScripts", list) or [])
    python = config.get("PythonScript")
    scripts += [python] if isinstance(python, str) and python else []
    plugins = [p for p in config.typed("Plugins", list) or [] if isinstance(p, str)]
    for kind, paths in (("script", scripts), ("plugin path", plugins)):
        for value in paths:
            path = config.path(value)
            problems += [(f"{kind} {text}", sev) for text, sev in common.writable_config(node, [path])]
    return problems


def cfg007(node: Node, config: Config) -> common.Problems:
    if not _true(config.get("DicomServerEnabled")):
        return []
    if not _true(config.get("DicomTlsEnabled")):
        return [(f"{config.show('DicomTlsEnabled')}: DICOM is served in plaintext", None)]
    problems: common.Problems = []
    if not _true(config.get("DicomTlsRemoteCertificateRequired")):
        problems.append(
            (f"{config.show('DicomTlsRemoteCertificateRequired')}: clients need no certificate", None)
        )
    if _version_at_least(node, NATIVE_TLS_SETTINGS):
        floor = config.get("DicomTlsMinimumProtocolVersion")
        if not isinstance(floor, int) or floor < TLS12:
            problems.append(
                (
                    f"{config.show('DicomTlsMinimumProtocolVersion')} (below 4: TLS 1.0/1.1 "
                    "or the retired downgrading profile)",
                    None,
                )
            )
        suites = config.typed("DicomTlsCiphersAccepted", list) or []
        weak = [s for s in suites if isinstance(s, str) and not common.is_aead(s)]
        if not suites or weak:
            problems.append(
                (
                    f"{config.show('DicomTlsCiphersAccepted')}: TLS 1.2 suites outside the "
                    "AEAD profile " + (f"({', '.join(weak)})" if weak else "(unset: CBC suites offered)"),
                    None,
                )
            )
    else:
        problems += _openssl_floor(node)
    return problems


def _openssl_floor(node: Node) -> common.Problems:
    """Before 1.12.4 only a service-scoped OpenSSL policy (OPENSSL_CONF) keeps TLS 1.0/1.1 out."""
    label = f"Orthanc {node.version or '(version unknown)'}"
    path = node.unit.environment.get("OPENSSL_CONF", "") if node.unit else ""
    if not path:
        return [
            (
                f"{label} accepts TLS 1.0 and 1.1 (no DicomTlsMinimumProtocolVersion before 1.12.4) and "
                "its service has no OPENSSL_CONF policy",
                None,
            )
        ]
    try:
        text = node.host.read(path)
    except OSError as exc:
        return [(f"OPENSSL_CONF {path} of the service cannot be read: {exc.strerror or exc}", "error")]
    floors = [
        line.split("=", 1)[1].strip()
        for line in text.splitlines()
        if line.strip().startswith("MinProtocol") and "=" in line
    ]
    if not floors or not common.tls_at_least_12(floors[-1]):
        return [
            (f"{label}: OPENSSL_CONF {path} sets MinProtocol={floors[-1] if floors else '(unset)'}", None)
        ]
    return []


def cfg008(node: Node, config: Config) -> common.Problems:
    problems = common.writable_config(node, config.files)
    if config.get("RegisteredUsers"):
        owner = config.where.get("RegisteredUsers", "").rsplit(":", 1)[0]
        problems += [
            (f"{text} (it holds RegisteredUsers)", sev) if "readable" in text else (text, sev)
            for text, sev in common.secret_file(node.host, owner, "credentials file")
            if "readable" in text
        ]
    keys = []
    if _true(config.get("DicomTlsEnabled")) and config.get("DicomTlsPrivateKey"):
        keys.append(config.path(config.get("DicomTlsPrivateKey")))
    if _true(config.get("SslEnabled")) and config.get("SslCertificate"):
        keys.append(config.path(config.get("SslCertificate")))
    for path in keys:
        problems += common.secret_file(node.host, path, "private key")
    return problems


def cfg009(node: Node) -> common.Problems:
    return common.sandbox(node.unit, node.user) if node.unit else []


def cfg010(node: Node, config: Config) -> common.Problems:
    problems: common.Problems = []
    if _true(config.get("WebDavEnabled")) and _true(config.get("HttpServerEnabled")):
        problems.append((config.show("WebDavEnabled"), None))
        if _true(config.get("WebDavUploadAllowed")):
            problems.append((config.show("WebDavUploadAllowed"), None))
    if not _true(config.get("HttpsVerifyPeers")):
        problems.append((config.show("HttpsVerifyPeers"), None))
    return problems


# -- PACS-LOG-001, PACS-LOG-002 ----------------------------------------------------------------------
# Orthanc's log options (read left to right; the last level of a category wins). At its default level
# it logs refusals only ("Rejected association for remote AET ..."); --verbose-dicom (or --verbose)
# adds every association ("Association Received from AET ... on IP ..."); --trace-dicom (or --trace)
# adds DCMTK's dumps of each query, identifiers included whatever DeidentifyLogs says.
_ASSOCIATIONS = ("--verbose", "--verbose-dicom", "--trace", "--trace-dicom")
_TRACE = ("--trace", "--trace-dicom")


def _log_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """The level options on Orthanc's command line, and where it writes its log instead of stderr."""
    levels = [arg for arg in argv[1:] if arg in _ASSOCIATIONS]
    files = [arg.split("=", 1)[1] for arg in argv[1:] if arg.startswith(("--logdir=", "--logfile="))]
    return levels, files


def _log001(node: Node) -> tuple[common.Problems, str]:
    unit = node.unit
    if unit is None:
        raise Skipped("no systemd unit runs Orthanc on this host")
    levels, files = _log_options(unit.argv)
    problems: common.Problems = []
    if not levels:
        problems.append((f"{unit.name} runs Orthanc at its default log level: refusals are logged, accepted "
                         "associations are not (needs --verbose-dicom)", None))
    for where in files:
        problems.append((f"{unit.name} writes Orthanc's log to {where}, not to the journal that is kept and "
                         "forwarded", None))
    stderr, stdout = unit.get("StandardError").lower(), unit.get("StandardOutput").lower()
    if stderr in ("null", "inherit") and stdout == "null":
        problems.append((f"{unit.name} discards Orthanc's output (StandardError/StandardOutput null)", None))
    return problems, f"{unit.name} logs associations and refusals to the journal ({', '.join(levels)})"


def _log002(node: Node) -> tuple[common.Problems, str]:
    config: Config = node.need_config()
    problems: common.Problems = []
    if not _true(config.get("DeidentifyLogs")):
        shown = config.show("DeidentifyLogs")
        problems.append((f"{shown}: patient identifiers of queries reach the logs", None))
    unit = node.unit
    traced = [arg for arg in (unit.argv[1:] if unit else []) if arg in _TRACE]
    if traced:
        problems.append((f"{unit.name if unit else 'Orthanc'} runs with {', '.join(traced)}: DCMTK's "
                         "dumps of each "
                         "query write patient identifiers, whatever DeidentifyLogs says", None))
    return problems, "DeidentifyLogs is true and no trace level is on"


def logging(node: Node) -> dict[str, Any]:
    """PACS-LOG-001 and -002 as judges (the audit runs them), the log files Orthanc writes, and its log
    directories that cannot be listed (their files are unknown)."""
    _levels, files = _log_options(node.unit.argv if node.unit else [])
    found, unlisted = [], []
    for where in files:
        if not node.host.isdir(where):
            found.append(where)
        elif (names := node.host.entries(where)) is None:
            unlisted.append(where)
        else:
            found += [f"{where}/{name}" for name in sorted(names)]
    return {"001": lambda: _log001(node), "002": lambda: _log002(node), "files": found, "unlisted": unlisted}


def cfg011(node: Node, config: Config) -> common.Problems:
    peers = {(str(p["ae_title"]).upper(), str(p["address"])): p for p in node.peers or []}
    where = config.where.get("DicomModalities", "DicomModalities")
    problems: common.Problems = []
    for name, entry in sorted(_modalities(config).items()):
        key = (str(entry.get("AET", "")).upper(), str(entry.get("Host", "")))
        peer = peers.get(key)
        if peer is None:
            problems.append(
                (
                    f"{where} modality {name!r} admits {key[0]} from {key[1] or 'any address'}, "
                    "which the policy does not list",
                    None,
                )
            )
            continue
        granted = {service for flag, service in MODALITY_FLAGS.items() if entry.get(flag, True) is not False}
        extra = sorted(granted - set(peer.get("services", [])))
        if extra:
            problems.append(
                (f"{where} modality {name!r} ({key[0]}) may use {', '.join(extra)}, beyond its policy", None)
            )
    return problems


def cfg012(node: Node, config: Config) -> tuple[common.Problems, list[str]]:
    named = []
    if _true(config.get("DicomTlsEnabled")) and config.get("DicomTlsCertificate"):
        named.append(("DicomTlsCertificate", config.path(config.get("DicomTlsCertificate"))))
    if _true(config.get("SslEnabled")) and config.get("SslCertificate"):
        named.append(("SslCertificate", config.path(config.get("SslCertificate"))))
    problems: common.Problems = []
    for key, path in named:
        problems += common.certificate(node.host, path, key)
    return problems, [path for _name, path in named]


def _rules(node: Node, config: Config) -> list[tuple[str, Callable[[], tuple[common.Problems, str]]]]:
    """Each rule that reads the configuration, with its pass detail."""
    shown = ", ".join(config.files) or "(none: built-in defaults)"

    def cfg011_or_skip() -> tuple[common.Problems, str]:
        if node.peers is None:
            raise Skipped("no policy given (pacs_peers): drift cannot be judged")
        return cfg011(node, config), "every modality and permission is in the policy"

    def cfg012_or_skip() -> tuple[common.Problems, str]:
        problems, named = cfg012(node, config)
        if not named:
            raise Skipped("no server certificate is configured (TLS off)")
        return problems, "certificate valid, SHA-2, strong key: " + ", ".join(named)

    return [
        ("PACS-CFG-001", lambda: (cfg001(node, config), f"no DicomAlwaysAllow* is true ({shown})")),
        ("PACS-CFG-002", lambda: (cfg002(node, config), config.show("DicomCheckCalledAet"))),
        ("PACS-CFG-003", lambda: (cfg003(node, config), "every modality is bound to its Host and "
                                  "DicomCheckModalityHost is true")),
        ("PACS-CFG-004", lambda: (cfg004(node, config), "the allowlist and peers are only in files")),
        ("PACS-CFG-005", lambda: cfg005(node, config)),
        ("PACS-CFG-006", lambda: (cfg006(node, config), "no Lua over REST, no file-system writes over "
                                  "REST, scripts and plugins not writable by the service")),
        ("PACS-CFG-007", lambda: (cfg007(node, config), "mutual DICOM TLS, TLS 1.2 or later")),
        ("PACS-CFG-008", lambda: (cfg008(node, config), "configuration not writable by the service, "
                                  "credentials and keys not readable by others")),
        ("PACS-CFG-010", lambda: (cfg010(node, config), "WebDAV off, peers verified")),
        ("PACS-CFG-011", cfg011_or_skip),
        ("PACS-CFG-012", cfg012_or_skip),
    ]


def run(node: Node, audit: Audit) -> None:
    """Every PACS-CFG rule over Orthanc's configuration; a value of the wrong type is an error of
    the rules that read it, never a traceback."""
    try:
        config: Config = node.need_config()
    except Unreadable as exc:
        for rule in ("001", "002", "003", "004", "005", "006", "007", "008", "010", "011", "012"):
            audit.error(f"PACS-CFG-{rule}", f"Orthanc's configuration is not usable: {exc}")
    else:
        for rule, judge in _rules(node, config):
            audit.judge(rule, judge)
    if node.unit:
        audit.record("PACS-CFG-009", cfg009(node), f"{node.unit.name} runs as {node.user} in the sandbox")
    else:
        audit.skip("PACS-CFG-009", "no systemd unit runs Orthanc on this host")
