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

from .languages import DCMQRSCP_MAX_LINE, check_dcmqrscp_value, symbol_name
from .products import PEER_DEFAULTS

SYMBOL_PREFIX = "pacsguard_"
# Symbols that gather peers when one AETable row would outgrow dcmqrscp's line buffer. Peer names
# start with a letter or digit, so no peer's symbol can start with this.
GROUP_PREFIX = SYMBOL_PREFIX + "_group"
# dcmqrscp.cfg's known global keys (an unknown one makes dcmqrscp refuse the file).
KNOWN_MNEMONICS = frozenset({
    "ApplicationTitle", "ApplicationContext", "ImplementationClass", "ImplementationVersion",
    "NetworkType", "UserName", "GroupName", "NetworkTCPPort", "MaxPDUSize", "MaxAssociations",
    "Display", "DisplayPort", "HostTable", "VendorTable", "AETable"})
# Services that read from the archive and those that write into it.
READ_SERVICES = frozenset({"find", "get", "move", "find_worklist"})
WRITE_SERVICES = frozenset({"store"})
# What dcmqrscp answers for every peer a row lists, whatever its access (tried with dcmqrscp 3.6.7:
# R, W and RW rows alike answer C-ECHO, C-FIND, C-GET and C-MOVE; access only gates C-STORE).
ALWAYS_GRANTED = frozenset({"echo", "find", "get", "move"})


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


def symbol_for(peer: dict) -> str:
    """The HostTable symbol pacsguard owns for one peer."""
    return SYMBOL_PREFIX + symbol_name(str(peer["name"]))


def host_entry(peer: dict) -> str:
    """The HostTable line of one peer, under a symbolic name pacsguard owns."""
    port = peer.get("port", PEER_DEFAULTS["port"])
    return f"{symbol_for(peer)} = ({peer['ae_title']}, {peer['address']}, {port})"


def _check_peer_values(ae_title: str, peers: list[dict]) -> None:
    """Every value dcmqrscp.cfg must read back as one token (no separators, no quotes)."""
    values = [("ae_title", ae_title)] + [
        (f"peers[{index}] ({peer['name']}).{key}", str(peer.get(key, PEER_DEFAULTS["port"])))
        for index, peer in enumerate(peers) for key in ("ae_title", "address", "port")]
    for where, value in values:
        ok, reason = check_dcmqrscp_value(value)
        if not ok or not value:
            raise DcmqrscpConfigError(f"{where}: {reason or 'empty'}")
    symbols = [symbol_for(peer) for peer in peers]
    if len(set(symbols)) != len(symbols):
        raise DcmqrscpConfigError("two peer names give the same HostTable symbol: "
                                  + ", ".join(sorted({s for s in symbols if symbols.count(s) > 1})))


def _row_peers(symbols: list[str], room: int) -> tuple[list[str], str]:
    """The row's peer field and any group entries it needs to fit dcmqrscp's line buffer."""
    joined = ", ".join(symbols)
    if len(joined) <= room:
        return [], joined
    groups: list[list[str]] = [[]]
    for symbol in symbols:
        if groups[-1] and len(", ".join(groups[-1] + [symbol])) + len(GROUP_PREFIX) + 8 > room:
            groups.append([])
        groups[-1].append(symbol)
    entries = [f"{GROUP_PREFIX}{n} = {', '.join(group)}" for n, group in enumerate(groups, 1)]
    return entries, ", ".join(f"{GROUP_PREFIX}{n}" for n in range(1, len(groups) + 1))


def apply_peers(config: Config, ae_title: str, storage: str, peers: list[dict],
                quota: str = "(200, 1024mb)", drop_any: bool = True) -> list[str]:
    """Make ``ae_title``'s one row admit exactly ``peers``; returns warnings about lost granularity.

    HostTable entries pacsguard does not own are kept; its own are replaced. The row's access is the
    union of the peers' services, because dcmqrscp grants access per storage area, not per peer.
    dcmqrscp admits a peer when ANY row of the called AE title lists it, so further rows for the
    node's AE title are removed. With ``drop_any``, other rows that admit ANY calling AE are removed
    too (their storage areas and files stay; only that way in closes).
    """
    _check_peer_values(ae_title, peers)
    if drop_any:
        config.table = [row for row in config.table if not isinstance(row, AERow)
                        or row.ae_title == ae_title or not row.admits_any()]
    own = [line for line in config.hosts if not line.strip().startswith(SYMBOL_PREFIX)]
    entries = [host_entry(peer) for peer in peers]
    services = sorted({service for peer in peers
                       for service in peer.get("services", PEER_DEFAULTS["services"])})
    access = access_for(services)
    existing = next((row for row in config.rows if row.ae_title == ae_title), None)
    # Only the first row of the node's AE title stays (dcmqrscp would honour every one of them).
    config.table = [row for row in config.table if not isinstance(row, AERow)
                    or row.ae_title != ae_title or row is existing]
    if not peers:
        # No peer: the row goes, so nobody reaches the area through this AE title.
        config.hosts = own
        config.table = [row for row in config.table if row is not existing]
    else:
        head = f"{ae_title} {storage} {access} {existing.quota if existing else quota} "
        groups, allowed = _row_peers([symbol_for(peer) for peer in peers],
                                     DCMQRSCP_MAX_LINE - 1 - len(head))
        config.hosts = own + entries + groups
        if existing:
            existing.storage, existing.access, existing.peers = storage, access, allowed
        else:
            config.table.append(AERow(ae_title, storage, access, quota, allowed))
    warnings = []
    for peer in peers:
        granted = access_for(peer.get("services", PEER_DEFAULTS["services"]))
        if granted != access:
            warnings.append(f"{peer['name']}: dcmqrscp grants {access} to every peer of {ae_title}; "
                            f"its own services would need {granted}")
        beyond = sorted(ALWAYS_GRANTED - set(peer.get("services", PEER_DEFAULTS["services"])))
        if beyond:
            warnings.append(f"{peer['name']}: dcmqrscp answers {', '.join(beyond)} from every listed "
                            "peer, which its services do not include (the audit reports PACS-NET-007)")
    return warnings


def set_settings(config: Config, settings: dict[str, str]) -> None:
    """Set global ``Key = value`` lines before the tables in place; a missing key follows the last one."""
    for key, value in settings.items():
        if key not in KNOWN_MNEMONICS or key.endswith("Table"):
            raise DcmqrscpConfigError(f"settings.{key}: not a dcmqrscp.cfg setting")
        ok, reason = check_dcmqrscp_value(str(value))
        if not ok or not str(value):
            raise DcmqrscpConfigError(f"settings.{key}: {reason or 'empty value'}")
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


# -- reading the file back as dcmqrscp does -------------------------------------------------------
@dataclass
class View:
    """What dcmqrscp itself takes from a file: host symbols, AETable rows, and its errors."""

    hosts: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    rows: list[tuple[str, str, str, list[tuple[str, str, int]] | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _gap(char: str) -> bool:
    return char.isspace() or char in "=,"


def _value(line: str, pos: int) -> tuple[str | None, int]:
    """One value from ``pos`` as DCMTK's parsevalues() reads it: quoted by any of " ' ( ), or up to
    a gap (whitespace, '=' or ','); the gaps after it are skipped. None when the line ends first."""
    quoted = pos < len(line) and line[pos] in "\"'()"
    start = pos + 1 if quoted else pos
    end = start
    while end < len(line):
        if (quoted and line[end] in "\"'()") or (not quoted and _gap(line[end])):
            after = end + 1 if quoted else end
            while after < len(line) and _gap(line[after]):
                after += 1
            return line[start:end], after
        end += 1
    return None, len(line)


def _peer_list(line: str, pos: int, hosts: dict, view: View, number: int) -> list[tuple[str, str, int]]:
    """readPeerList(): symbols resolved against the host table read so far, inline triples kept."""
    peers: list[tuple[str, str, int]] = []
    while True:
        value, pos = _value(line, pos)
        if value is None:
            return peers
        if "," not in value:
            if value not in hosts:
                view.errors.append(f"line {number}: symbolic name {value!r} not defined")
                return []
            peers.extend(hosts[value])
            continue
        title, rest = _value(value, 0)
        host, rest = _value(value, rest)
        digits = re.match(r"\s*([+-]?\d+)", value[rest:])
        peers.append((title or "", host or "", int(digits.group(1)) if digits else 0))


def _lines(text: str) -> list[str]:
    """The file as fgets() with dcmqrscp's 512-byte buffer hands it over: long lines come in parts."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > DCMQRSCP_MAX_LINE:
            out.append(line[:DCMQRSCP_MAX_LINE])
            line = line[DCMQRSCP_MAX_LINE:]
        out.append(line)
    return out


def read_as_dcmqrscp(text: str) -> View:
    """Read dcmqrscp.cfg by dcmqrscp's own rules (DCMTK dcmqrcnf.cc), to check what it will see."""
    view = View()
    table = ""
    for number, line in enumerate(_lines(text), 1):
        if not line or line[0] in "#\r\n" or not line.split():
            continue
        words = line.split()
        if table:
            if words[0] == table:
                if words[1:2] != ["END"]:
                    view.errors.append(f"line {number}: {table} {' '.join(words[1:2])} inside {table}")
                table = ""
                continue
            if table == "AETable":
                _ae_row(line, number, view)
            elif table == "HostTable":
                symbol, pos = _value(line, 0)
                peers = _peer_list(line, pos, view.hosts, view, number)
                if not peers:
                    view.errors.append(f"line {number}: host entry {symbol!r} lists no peer")
                view.hosts.setdefault(symbol or "", peers)
            continue
        if words[0] not in KNOWN_MNEMONICS:
            view.errors.append(f"line {number}: unknown mnemonic {words[0]!r}")
        elif words[0] in ("HostTable", "VendorTable", "AETable"):
            if words[1:2] != ["BEGIN"]:
                view.errors.append(f"line {number}: {words[0]} without BEGIN")
            table = words[0]
    if table:
        view.errors.append(f"{table} BEGIN without {table} END")
    return view


def _ae_row(line: str, number: int, view: View) -> None:
    """readAETable(): title, storage area, access, quota, then ANY or a peer list."""
    title, pos = _value(line, 0)
    storage, pos = _value(line, pos)
    access, pos = _value(line, pos)
    _quota, pos = _value(line, pos)
    first, after = _value(line, pos)
    if first == "ANY":
        view.rows.append((title or "", storage or "", access or "", None))
        return
    peers = _peer_list(line, pos, view.hosts, view, number)
    if not peers:
        view.errors.append(f"line {number}: AETable row {title!r} admits no peer")
    view.rows.append((title or "", storage or "", access or "", peers))


def verify_written(text: str, ae_title: str, peers: list[dict], drop_any: bool) -> None:
    """Refuse a rendered file unless dcmqrscp would read exactly the allowlist meant from it."""
    view = read_as_dcmqrscp(text)
    if view.errors:
        raise DcmqrscpConfigError("the file to write would not load in dcmqrscp: " + "; ".join(view.errors))
    rows = [row for row in view.rows if row[0] == ae_title]
    wanted = sorted((str(p["ae_title"]), str(p["address"]), int(p.get("port", PEER_DEFAULTS["port"])))
                    for p in peers)
    if not peers:
        if rows:
            raise DcmqrscpConfigError(f"{ae_title} keeps a row although no peer is listed")
    elif len(rows) != 1 or rows[0][3] is None or sorted(rows[0][3]) != wanted:
        seen = "ANY" if rows and rows[0][3] is None else [row[3] for row in rows]
        raise DcmqrscpConfigError(f"read back, {ae_title} would admit {seen} instead of {wanted}")
    if drop_any:
        still_open = [row[0] for row in view.rows if row[3] is None]
        if still_open:
            raise DcmqrscpConfigError(f"read back, rows still admit ANY calling AE: {', '.join(still_open)}")
