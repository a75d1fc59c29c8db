"""DCMTK's dcmqrscp.cfg: read its HostTable and AETable, write the peer allowlist, keep the rest.

dcmqrscp admits a calling AE only when the called AE's AETable row lists it: ``ANY``, a HostTable
symbolic name, or inline ``(AETitle, host, port)`` triples. It compares AE titles case-sensitively
and the host against the peer's reverse DNS name, or against its IP address when it runs with
``-dhl`` (the only way an allowlist of IP addresses works). Access is per storage area (R, RW, W),
not per peer: every peer listed on one row gets the row's access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SYMBOL_PREFIX = "pacsguard_"
# Services that read from the archive and those that write into it.
READ_SERVICES = frozenset({"find", "get", "move", "find_worklist"})
WRITE_SERVICES = frozenset({"store"})


class DcmqrscpConfigError(ValueError):
    """The file or the requested change is not usable; the message says which line or value."""


@dataclass
class AERow:
    """One AETable row: the called AE title, its storage area, access, quota and allowed peers."""

    ae_title: str
    storage: str
    access: str
    quota: str
    peers: str
    line: str = field(default="", compare=False)

    def admits_any(self) -> bool:
        """The row lets every calling AE in (``ANY``)."""
        return re.search(r"\bANY\b", self.peers) is not None

    def fields(self) -> tuple[str, str, str, str, str]:
        return (self.ae_title, self.storage, self.access, self.quota, self.peers)

    def render(self) -> str:
        """The row as read when unchanged (its spacing kept), else the fields space-separated."""
        if self.line and _row(self.line, 0).fields() == self.fields():
            return self.line
        return " ".join(self.fields())


@dataclass
class Config:
    """The file as three parts: the lines around the tables (kept as they are) and the two tables."""

    head: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    middle: list[str] = field(default_factory=list)
    table: list[AERow | str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[AERow]:
        """The AETable's rows (its comment and blank lines stay in ``table``)."""
        return [row for row in self.table if isinstance(row, AERow)]


def _table(lines: list[str], start: int, name: str) -> tuple[list[str], int]:
    """The lines of table ``name`` that begins at ``start``; returns them and the END line's index."""
    for index in range(start + 1, len(lines)):
        if lines[index].strip() == f"{name} END":
            return lines[start + 1:index], index
    raise DcmqrscpConfigError(f"line {start + 1}: {name} BEGIN without {name} END")


def _row(line: str, number: int) -> AERow:
    """Parse one AETable row; the quota is a parenthesised pair, the peers the rest of the line."""
    match = re.match(r"^\s*(\S+)\s+(\S+)\s+(RW|R|W)\s+(\([^)]*\))\s+(.+?)\s*$", line)
    if not match:
        raise DcmqrscpConfigError(f"line {number}: not an AETable row "
                                  "(AETitle StorageArea R|RW|W (maxStudies, maxBytes) Peers)")
    return AERow(*match.groups(), line=line)


def _is_comment(line: str) -> bool:
    return not line.strip() or line.strip().startswith("#")


def parse(text: str) -> Config:
    """Split dcmqrscp.cfg into the parts this module rewrites and those it keeps byte for byte."""
    lines = text.splitlines()
    config = Config()
    part = config.head
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped == "HostTable BEGIN":
            body, end = _table(lines, index, "HostTable")
            config.hosts = body
            part.append(lines[index])
            part = config.middle
            index = end
            part.append(lines[index])
        elif stripped == "AETable BEGIN":
            body, end = _table(lines, index, "AETable")
            config.table = [line if _is_comment(line) else _row(line, index + 2 + offset)
                            for offset, line in enumerate(body)]
            part.append(lines[index])
            part = config.tail
            index = end
            part.append(lines[index])
        else:
            part.append(lines[index])
        index += 1
    if not config.middle or not config.tail:
        raise DcmqrscpConfigError("the file needs a HostTable and an AETable (BEGIN ... END)")
    return config


def render(config: Config) -> str:
    """The file text: kept lines, then the tables' entries between their BEGIN and END lines."""
    out = list(config.head) + list(config.hosts) + list(config.middle)
    out += [row.render() if isinstance(row, AERow) else row for row in config.table] + list(config.tail)
    return "\n".join(out) + "\n"


def access_for(services: list[str]) -> str:
    """dcmqrscp's access for a set of DICOM services (echo needs none of its own)."""
    reads, writes = bool(READ_SERVICES & set(services)), bool(WRITE_SERVICES & set(services))
    return "RW" if reads and writes else "W" if writes else "R"


def host_entry(peer: dict) -> str:
    """The HostTable line of one peer, under a symbolic name pacsguard owns."""
    symbol = SYMBOL_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", str(peer["name"]))
    return f"{symbol} = ({peer['ae_title']}, {peer['address']}, {peer.get('port', 104)})"


def apply_peers(config: Config, ae_title: str, storage: str, peers: list[dict],
                quota: str = "(200, 1024mb)", drop_any: bool = True) -> list[str]:
    """Make ``ae_title``'s row admit exactly ``peers``; returns warnings about lost granularity.

    HostTable entries pacsguard does not own are kept; its own are replaced. The row's access is the
    union of the peers' services, because dcmqrscp grants access per storage area, not per peer.
    With ``drop_any``, other rows that admit ANY calling AE are removed (their storage areas and
    files stay; only that way in closes).
    """
    if drop_any:
        config.table = [row for row in config.table if not isinstance(row, AERow)
                        or row.ae_title == ae_title or not row.admits_any()]
    own = [line for line in config.hosts if not line.strip().startswith(SYMBOL_PREFIX)]
    entries = [host_entry(peer) for peer in peers]
    config.hosts = own + entries
    services = sorted({service for peer in peers for service in peer.get("services", ["echo"])})
    access = access_for(services)
    allowed = ", ".join(entry.split(" = ", 1)[0] for entry in entries)
    existing = next((row for row in config.rows if row.ae_title == ae_title), None)
    if not allowed:
        # No peer: the row goes, so nobody reaches the area through this AE title.
        config.table = [row for row in config.table
                        if not isinstance(row, AERow) or row.ae_title != ae_title]
    elif existing:
        existing.storage, existing.access, existing.peers = storage, access, allowed
    else:
        config.table.append(AERow(ae_title, storage, access, quota, allowed))
    warnings = []
    for peer in peers:
        granted = access_for(peer.get("services", ["echo"]))
        if granted != access:
            warnings.append(f"{peer['name']}: dcmqrscp grants {access} to every peer of {ae_title}; "
                            f"its own services would need {granted}")
    return warnings


def set_settings(config: Config, settings: dict[str, str]) -> None:
    """Set global ``Key = value`` lines before the tables in place; a missing key follows the last one."""
    for key, value in settings.items():
        pattern = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)(.*?)(\s*)$")
        for index, line in enumerate(config.head):
            match = pattern.match(line)
            if match:
                if match.group(2) != str(value):
                    config.head[index] = f"{match.group(1)}{value}{match.group(3)}"
                break
        else:
            settings_at = [i for i, line in enumerate(config.head) if re.match(r"^\s*\w+\s*=", line)]
            position = settings_at[-1] + 1 if settings_at else 0
            config.head.insert(position, f"{key} = {value}")


def open_rows(config: Config) -> list[str]:
    """AE titles whose row admits any calling AE (``ANY``)."""
    return [row.ae_title for row in config.rows if row.admits_any()]

