"""Orthanc's configuration directory: read it as Orthanc does, change keys without losing comments.

Orthanc loads every ``*.json`` file of its configuration directory, merges their top-level keys and
refuses to start when a key is defined in two files. Its files are JSON with comments (Debian's
orthanc.json documents every key in them), so a change here replaces one value in place and leaves
every other byte alone: the diff an operator reviews shows only what changed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from . import jsonc
from .jsonc import JsoncError, comment_end, loads

MASK = "********"
# Top-level keys whose values are secrets as a whole (user name to password): masked in diffs.
SECRET_KEYS = frozenset({"RegisteredUsers"})
# Keys that hold a password or key material wherever they appear (OrthancPeers and DicomWeb
# servers' "Password", database plugins' "Password", "HttpHeaders" with tokens, ...).
SECRET_NAME = re.compile(r"(?i)password|passwd|secret|token|credential|authorization|api.?key")
# Lists whose third element is a password: OrthancPeers and DicomWeb Servers [url, user, password].
URL_USER_PASSWORD_KEYS = frozenset({"OrthancPeers", "Servers"})
# What a diff may print: the values of these top-level keys (settings that are never secrets), and
# of these fields of a DicomModalities entry. Any other value is shown as changed, not printed: a
# PKCS#11 PIN, a DICOMweb server's HTTP headers or a plugin's token never reach a diff whatever
# their name, and RegisteredUsers shows its user names only.
PRINTABLE_KEYS = frozenset({
    "Name", "DicomAet", "DicomPort", "HttpPort", "HttpServerEnabled", "DicomServerEnabled",
    "RemoteAccessAllowed", "AuthenticationEnabled", "HttpsVerifyPeers", "WebDavEnabled",
    "WebDavDeleteAllowed", "WebDavUploadAllowed", "DeidentifyLogs", "ExecuteLuaEnabled",
    "RestApiWriteToFileSystemEnabled", "ReadOnly", "StorageDirectory", "IndexDirectory", "Plugins",
    "DicomCheckCalledAet", "DicomCheckModalityHost", "DicomModalitiesInDatabase", "OrthancPeersInDatabase",
    *(f"DicomAlwaysAllow{s}" for s in ("Echo", "Store", "Find", "FindWorklist", "Get", "Move")),
    "DicomTlsEnabled", "DicomTlsCertificate", "DicomTlsPrivateKey", "DicomTlsTrustedCertificates",
    "DicomTlsRemoteCertificateRequired", "DicomTlsMinimumProtocolVersion", "DicomTlsCiphersAccepted",
    "SslEnabled", "SslCertificate", "SslMinimumProtocolVersion", "SslCiphersAccepted", "SslVerifyPeers",
    "SslTrustedClientCertificates", "HttpBindAddresses",
})
PRINTABLE_MODALITY_FIELDS = frozenset({
    "AET", "Host", "Port", "Manufacturer", "UseDicomTls", "LocalAet", "Timeout", "AllowTranscoding",
    *(f"Allow{s}" for s in ("Echo", "Store", "Find", "FindWorklist", "Get", "Move", "StorageCommitment")),
})
NOT_SHOWN = "(value not shown)"
# user:password@ in a URL or proxy setting (HttpProxy "user:pass@host:port", PostgreSQL URIs).
_USERINFO = re.compile(r"(?P<lead>(?:^|//))(?P<user>[^:/@\s]*):(?P<password>[^@\s]+)@")
# Files Orthanc would reject at start-up when missing, by the key that names them.
TLS_FILE_KEYS = ("DicomTlsCertificate", "DicomTlsPrivateKey", "DicomTlsTrustedCertificates")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"/]+')


class OrthancConfigError(ValueError):
    """The configuration directory or the requested change is not usable; the message says why."""


@dataclass
class Member:
    """One top-level key of a file: where its value starts and ends in the original text."""

    key: str
    value_start: int
    value_end: int


@dataclass
class ConfigFile:
    """One ``*.json`` file: its text, parsed value and top-level members."""

    name: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)
    close_brace: int = 0


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Tokens outside comments as (text, start, end); comments are skipped, strings kept whole."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif (end := comment_end(text, i)) > i:
            i = end
        else:
            match = _TOKEN.match(text, i)
            if not match:
                raise JsoncError(f"unexpected character at offset {i}")
            out.append((match.group(0), match.start(), match.end()))
            i = match.end()
    return out


def _members(text: str) -> tuple[list[Member], int]:
    """Top-level members of a JSON-with-comments object and the offset of its closing brace."""
    tokens = _tokens(text)
    if not tokens or tokens[0][0] != "{":
        raise JsoncError("the file is not a JSON object")
    members: list[Member] = []
    depth = 0
    key: str | None = None
    value_start = -1
    last_end = -1
    for tok, start, end in tokens:
        if tok in "{[":
            depth += 1
            if depth == 2 and key is not None and value_start < 0:
                value_start = start
        elif tok in "}]":
            depth -= 1
            if depth == 0:
                if key is not None:
                    members.append(Member(key, value_start, last_end))
                return members, start
        elif depth == 1 and tok == ",":
            if key is not None:
                members.append(Member(key, value_start, last_end))
            key, value_start = None, -1
        elif depth == 1 and tok == ":":
            pass
        elif depth == 1 and key is None:
            key = json.loads(tok)
            if any(member.key == key for member in members):
                line = text.count("\n", 0, start) + 1
                raise JsoncError(f"line {line}: key {key!r} is defined twice in this file (Orthanc "
                                 "takes the last one; which one is meant must be settled by hand)")
        elif depth == 1 and value_start < 0:
            value_start = start
        last_end = end
    raise JsoncError("the top-level object is not closed")


def parse_file(name: str, text: str) -> ConfigFile:
    """Parse one configuration file; OrthancConfigError names the file and line of an error."""
    try:
        data = loads(text) if text.strip() else {}
        if not isinstance(data, dict):
            raise JsoncError("the file is not a JSON object")
        members, close = _members(text) if text.strip() else ([], 0)
    except JsoncError as exc:
        raise OrthancConfigError(f"{name}: {exc}") from None
    return ConfigFile(name, text, data, members, close)


def loads_file(name: str) -> bool:
    """Whether Orthanc loads the directory entry ``name`` as configuration: its extension (from the
    last dot, as Boost.Filesystem's extension() gives it, dot-files included) is ``.json`` in any
    case (Orthanc lower-cases it before comparing). Regular files only, symbolic links followed."""
    dot = name.rfind(".")
    return name not in (".", "..") and dot >= 0 and name[dot:].lower() == ".json"


def load_dir(path: str) -> dict[str, ConfigFile]:
    """Every file of Orthanc's configuration directory that Orthanc loads, by file name."""
    if not os.path.isdir(path):
        raise OrthancConfigError(f"{path} is not a directory")
    files: dict[str, ConfigFile] = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if loads_file(name) and os.path.isfile(full):
            with open(full, encoding="utf-8", errors="replace") as handle:
                files[name] = parse_file(name, handle.read(jsonc.MAX_BYTES + 1))
    return files


def key_owners(files: dict[str, ConfigFile]) -> dict[str, list[str]]:
    """For each key, the files that define it (more than one is fatal to Orthanc)."""
    owners: dict[str, list[str]] = {}
    for name, config in files.items():
        for key in config.data:
            owners.setdefault(key, []).append(name)
    return owners


def duplicate_keys(files: dict[str, ConfigFile]) -> dict[str, list[str]]:
    """Keys defined in more than one file: Orthanc refuses to start with any of them."""
    return {key: names for key, names in key_owners(files).items() if len(names) > 1}


def render_value(value: Any, indent: int = 2) -> str:
    """A value as JSON, nested lines indented to sit under a top-level key."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + " " * indent)


def set_key(config: ConfigFile, key: str, value: Any) -> str:
    """The file's text with ``key`` set to ``value``: replaced in place, or added at the end."""
    text = config.text
    for member in config.members:
        if member.key == key:
            return text[:member.value_start] + render_value(value) + text[member.value_end:]
    entry = f'  {json.dumps(key)} : {render_value(value)}'
    if not text.strip():
        return "{\n" + entry + "\n}\n"
    if config.members:
        last = config.members[-1].value_end
        return text[:last] + ",\n" + entry + text[last:]
    close = config.close_brace
    return text[:close].rstrip() + "\n" + entry + "\n" + text[close:]


def masked(key: str, value: Any) -> Any:
    """What a diff may show of a value: every secret in it replaced (an empty one stays visibly
    empty), user names and everything else kept."""
    if key in SECRET_KEYS:
        if isinstance(value, dict):
            return {name: MASK if password else "" for name, password in value.items()}
        return MASK if value else value
    return _mask_nested(key, value)


def _mask_nested(key: str, value: Any) -> Any:
    """Secrets inside a value: by key name, by position in [url, user, password], in URLs."""
    if isinstance(value, dict):
        if key in URL_USER_PASSWORD_KEYS:
            return {name: _mask_nested(name, item) if not isinstance(item, list) else _mask_triple(item)
                    for name, item in value.items()}
        return {name: _mask_value(name, item) for name, item in value.items()}
    if isinstance(value, list):
        return [_mask_nested(key, item) for item in value]
    if isinstance(value, str):
        if SECRET_NAME.search(key) and value:
            return MASK
        return _USERINFO.sub(lambda m: f"{m.group('lead')}{m.group('user')}:{MASK}@", value)
    return value


def shown(key: str, value: Any) -> Any:
    """What a diff prints of a top-level setting: its value when the key is on the allowlist
    (DicomModalities entries field by field, RegisteredUsers by user name), else NOT_SHOWN."""
    if key in SECRET_KEYS and isinstance(value, dict):
        return dict.fromkeys(value, NOT_SHOWN)
    if key == "DicomModalities" and isinstance(value, dict):
        return {name: _shown_modality(entry) for name, entry in value.items()}
    if key in PRINTABLE_KEYS:
        return value
    return NOT_SHOWN


def _shown_modality(entry: Any) -> Any:
    if isinstance(entry, dict):
        return {field: item if field in PRINTABLE_MODALITY_FIELDS else NOT_SHOWN
                for field, item in entry.items()}
    if isinstance(entry, list):  # [AET, host, port, manufacturer]
        return entry
    return NOT_SHOWN


def unprintable_strings(key: str, value: Any) -> set[str]:
    """Every string inside a setting that shown() would not print (for Ansible's no_log values,
    so that the module's own arguments are scrubbed from verbose output too)."""
    found: set[str] = set()
    _collect_hidden(value, shown(key, value), found)
    return {text for text in found if len(text) >= 3}


def _collect_hidden(original: Any, visible: Any, found: set[str]) -> None:
    if isinstance(original, dict):
        for name, item in original.items():
            _collect_hidden(item, visible.get(name) if isinstance(visible, dict) else NOT_SHOWN, found)
    elif isinstance(original, list):
        for index, item in enumerate(original):
            _collect_hidden(item, visible[index] if isinstance(visible, list) and index < len(visible)
                            else NOT_SHOWN, found)
    elif isinstance(original, str) and visible == NOT_SHOWN:
        found.add(original)


def secrets_in(key: str, value: Any) -> set[str]:
    """The secret strings inside one setting (for Ansible's no_log values: they are then scrubbed
    from every output, the module's own arguments included)."""
    found: set[str] = set()
    _collect(value, masked(key, value), found)
    return {secret for secret in found if len(secret) >= 3}


def _collect(original: Any, hidden: Any, found: set[str]) -> None:
    if isinstance(original, dict) and isinstance(hidden, dict):
        for name, item in original.items():
            _collect(item, hidden.get(name), found)
    elif isinstance(original, list) and isinstance(hidden, list):
        for item, shown in zip(original, hidden, strict=False):
            _collect(item, shown, found)
    elif isinstance(original, str) and original != hidden:
        userinfo = _USERINFO.search(original)
        found.add(userinfo.group("password") if userinfo and hidden != MASK else original)


def _mask_value(name: str, item: Any) -> Any:
    """One member of an object: a scalar under a secret-sounding name is masked whole."""
    if isinstance(item, (dict, list)) or not SECRET_NAME.search(name):
        return _mask_nested(name, item)
    return MASK if item else item


def _mask_triple(item: list[Any]) -> list[Any]:
    """[url, user, password, ...]: the password (third) masked, the URL's own userinfo too."""
    out = [_mask_nested("url", entry) for entry in item]
    if len(out) > 2 and out[2]:
        out[2] = MASK
    return out


@dataclass
class Plan:
    """What a change does: the new text per file and which keys move where."""

    texts: dict[str, str]
    changed_keys: list[str]
    key_files: dict[str, str]
    # per file, the changed keys only, as printed (shown()): never a whole file, never a value off
    # the allowlist
    shown_before: dict[str, dict[str, Any]]
    shown_after: dict[str, dict[str, Any]]


def desired_value(current: Any, wanted: Any, merge: bool) -> Any:
    """The value to write: ``wanted``, or for merged keys the current object updated by it."""
    if merge and isinstance(current, dict) and isinstance(wanted, dict):
        return {**current, **wanted}
    return wanted


def plan(files: dict[str, ConfigFile], settings: dict[str, Any], new_file: str,
         merge: frozenset[str] = frozenset(), new_files: dict[str, str] | None = None) -> Plan:
    """Plan setting ``settings``: each key is changed in the one file that holds it, new keys go to
    ``new_file`` (or the file ``new_files`` names for that key). Refuses a directory that already
    defines a key twice (Orthanc would not start)."""
    duplicates = duplicate_keys(files)
    if duplicates:
        where = "; ".join(f"{key} in {', '.join(names)}" for key, names in sorted(duplicates.items()))
        raise OrthancConfigError(f"keys defined in more than one file (Orthanc will not start): {where}")
    owners = {key: names[0] for key, names in key_owners(files).items()}
    working = {name: ConfigFile(c.name, c.text, dict(c.data), list(c.members), c.close_brace)
               for name, c in files.items()}
    changed: list[str] = []
    key_files: dict[str, str] = {}
    before: dict[str, dict[str, Any]] = {}
    after: dict[str, dict[str, Any]] = {}
    for key, wanted in settings.items():
        target = owners.get(key, (new_files or {}).get(key, new_file))
        key_files[key] = target
        config = working.setdefault(target, parse_file(target, ""))
        value = desired_value(config.data.get(key), wanted, key in merge)
        if key in config.data and config.data[key] == value:
            continue
        changed.append(key)
        if key in config.data:
            before.setdefault(target, {})[key] = shown(key, config.data[key])
        after.setdefault(target, {})[key] = shown(key, value)
        working[target] = parse_file(target, set_key(config, key, value))
    texts = {name: c.text for name, c in working.items()
             if name not in files or c.text != files[name].text}
    return Plan(texts, changed, key_files, {n: before.get(n, {}) for n in texts},
                {n: after.get(n, {}) for n in texts})


def merged(files: dict[str, ConfigFile], texts: dict[str, str]) -> dict[str, Any]:
    """The configuration Orthanc would see after writing ``texts`` (one value per key)."""
    result: dict[str, Any] = {}
    for name in sorted(set(files) | set(texts)):
        data = parse_file(name, texts[name]).data if name in texts else files[name].data
        result.update(data)
    return result


def missing_tls_files(config: dict[str, Any], exists: Any = os.path.exists) -> list[str]:
    """TLS files named by the configuration that do not exist (Orthanc would refuse to start)."""
    if not config.get("DicomTlsEnabled"):
        return []
    return [f"{key}={config.get(key) or '(unset)'}" for key in TLS_FILE_KEYS
            if not config.get(key) or not exists(config[key])]
