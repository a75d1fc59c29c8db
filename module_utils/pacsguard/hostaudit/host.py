"""The host as the product sees it: systemd units, installed packages, users and file modes.

Everything is read from files (no systemctl, no dpkg): the audit works the same on a running host, in
a container and on a mounted image (``root``), and never changes anything.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

# Where systemd looks for units, highest priority first (systemd.unit(5)).
UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
)
# The largest file the audit reads (configuration files, units, certificates are far smaller).
MAX_READ = 16 * 2**20
# The words of a command line, shell wrappers included (``sh -c "exec Orthanc /etc/orthanc"``).
_WORDS = re.compile(r"[^\s;|&()`'\"<>]+")
# Keys whose every assignment adds a value (an empty assignment resets the list).
_LIST_KEYS = frozenset({"ExecStart", "Environment", "EnvironmentFile", "ReadWritePaths"})


@dataclass
class Unit:
    """A service unit as systemd would merge it: its file, drop-ins and [Service] settings."""

    name: str
    path: str
    dropins: list[str] = field(default_factory=list)
    service: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        """The last value of a [Service] key (systemd takes the last assignment)."""
        values = self.service.get(key)
        return values[-1] if values else default

    @property
    def argv(self) -> list[str]:
        """The command line of the (last) ExecStart, its special prefixes removed."""
        values = self.service.get("ExecStart") or [""]
        line = values[-1].lstrip("-@:+!")
        try:
            return shlex.split(line)
        except ValueError:
            return line.split()

    @property
    def environment(self) -> dict[str, str]:
        """Environment= assignments (KEY=value pairs, later ones win)."""
        env: dict[str, str] = {}
        for value in self.service.get("Environment", []):
            try:
                words = shlex.split(value)
            except ValueError:
                words = value.split()
            env.update(word.split("=", 1) for word in words if "=" in word)
        return env


def parse_unit(text: str, service: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """The [Service] section of a unit or drop-in, added to ``service`` (continuations joined)."""
    service = {} if service is None else service
    section = ""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        logical.append(line)
    for line in logical:
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Service" and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key in _LIST_KEYS:
                service[key] = [] if not value else service.get(key, []) + [value]
            else:
                service[key] = [value]
    return service


# Runs a command line, returns (exit status, stdout, stderr): the module's run_command.
Command = Callable[[list[str]], tuple[int, str, str]]


class Host:
    """Read-only access to a host's files under ``root`` ('/' for the machine the module runs on)."""

    def __init__(self, root: str = "/", command: Command | None = None) -> None:
        self.root = root or "/"
        self._command = command
        self._users: dict[str, tuple[int, int]] | None = None
        self._groups: dict[str, tuple[int, list[str]]] | None = None
        # what one audit reads more than once (files do not change under a read-only audit)
        self._units: dict[str, Unit | None] = {}
        self._entries: dict[str, frozenset[str] | None] = {}

    def command(self, argv: list[str]) -> tuple[int, str, str]:
        """Run a read-only command on the host (exit status, stdout, stderr) with the runner the
        caller gave (the module's run_command); without one, the command cannot run."""
        if self._command is None:
            raise ValueError(f"no command runner to run {argv[0]}")
        return self._command(argv)

    def path(self, host_path: str) -> str:
        """The local path of an absolute path on the host."""
        return os.path.join(self.root, host_path.lstrip("/"))

    def read(self, host_path: str) -> str:
        return self.read_bytes(host_path).decode("utf-8", errors="replace")

    def read_bytes(self, host_path: str) -> bytes:
        """A regular file's bytes. Anything a configuration may name that is not one (a FIFO would
        block the audit for ever, a device never ends) or that is larger than MAX_READ is refused
        with an OSError naming why, which the rules report as an error of that file."""
        fd = os.open(self.path(host_path), os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            if info.st_size > MAX_READ:
                raise OSError(errno.EFBIG, f"larger than {MAX_READ // 2**20} MiB")
            return handle.read(MAX_READ + 1)[:MAX_READ]

    def exists(self, host_path: str) -> bool:
        return os.path.exists(self.path(host_path))

    def isdir(self, host_path: str) -> bool:
        return os.path.isdir(self.path(host_path))

    def isfile(self, host_path: str) -> bool:
        """A regular file, after symbolic links (as a program opening it sees it)."""
        return os.path.isfile(self.path(host_path))

    def listdir(self, host_path: str) -> list[str]:
        """The names in a directory, dot-files included, sorted ([] when it cannot be listed)."""
        try:
            return sorted(os.listdir(self.path(host_path)))
        except OSError:
            return []

    def stat(self, host_path: str) -> os.stat_result | None:
        try:
            return os.stat(self.path(host_path))
        except OSError:
            return None

    def glob(self, pattern: str) -> list[str]:
        """Host paths matching ``pattern`` (sorted)."""
        prefix = self.path("/").rstrip("/")
        return sorted("/" + found[len(prefix) :].lstrip("/") for found in glob.glob(self.path(pattern)))

    # -- systemd units --------------------------------------------------------------------------
    def entries(self, host_dir: str) -> frozenset[str] | None:
        """A directory's names, listed once per audit: empty when it does not exist, None when it
        exists and cannot be listed (what it holds is then unknown, never absent)."""
        if host_dir not in self._entries:
            try:
                self._entries[host_dir] = frozenset(os.listdir(self.path(host_dir)))
            except (FileNotFoundError, NotADirectoryError):
                self._entries[host_dir] = frozenset()
            except OSError:
                self._entries[host_dir] = None
        return self._entries[host_dir]

    def may_hold(self, host_dir: str, name: str) -> bool:
        """Whether a directory of the host may hold ``name``: its listing says so, or it cannot be
        listed (then only opening the name can tell)."""
        entries = self.entries(host_dir)
        return entries is None or name in entries

    def unit(self, name: str) -> Unit | None:
        """The unit ``name`` (".service" added) with its drop-ins, or None when no file defines it;
        an instance (``name@x.service``) without a file of its own is its template's. Each unit is
        read once per audit."""
        name = name if "." in name else name + ".service"
        if name not in self._units:
            self._units[name] = self._read_unit(name)
        return self._units[name]

    def _read_unit(self, name: str) -> Unit | None:
        template = re.sub(r"@[^.]+\.", "@.", name) if "@" in name else name
        path = next((f"{d}/{file}" for file in dict.fromkeys((name, template)) for d in UNIT_DIRS
                     if self.may_hold(d, file) and self.isfile(f"{d}/{file}")), "")
        if not path:
            return None
        dropins: dict[str, str] = {}
        for directory in reversed(UNIT_DIRS):
            for file in dict.fromkeys((template, name)):
                if self.may_hold(directory, f"{file}.d"):
                    for found in self.glob(f"{directory}/{file}.d/*.conf"):
                        dropins[os.path.basename(found)] = found
        # systemd reads only regular files: neither does the audit (a FIFO would block it)
        ordered = [dropins[key] for key in sorted(dropins) if os.path.isfile(self.path(dropins[key]))]
        try:
            service = parse_unit(self.read(path))
            for dropin in ordered:
                parse_unit(self.read(dropin), service)
        except OSError:
            return None
        return Unit(name, path, ordered, service)

    def enabled(self, name: str) -> bool:
        """Whether the unit is enabled (a symlink in some .wants directory of /etc/systemd/system)."""
        name = name if "." in name else name + ".service"
        return bool(self.glob(f"/etc/systemd/system/*.wants/{name}"))

    def enabled_units(self) -> list[str]:
        """Every service unit some target pulls in (a link in a .wants or .requires directory of
        any unit directory), templates' instances included."""
        names: set[str] = set()
        for directory in UNIT_DIRS:
            for kind in ("wants", "requires"):
                for found in self.glob(f"{directory}/*.{kind}/*.service"):
                    names.add(os.path.basename(found))
        return sorted(names)

    def pacs_units(self, binaries: dict[str, str]) -> list[tuple[str, Unit]]:
        """Every enabled service unit whose ExecStart runs one of ``binaries`` (basename to
        product), directly or through a shell, with the product it runs."""
        found: list[tuple[str, Unit]] = []
        for name in self.enabled_units():
            unit = self.unit(name)
            if unit is None:
                continue
            words = [os.path.basename(word) for line in unit.service.get("ExecStart", [])
                     for word in _WORDS.findall(line)]
            product = next((binaries[word] for word in words if word in binaries), None)
            if product:
                found.append((product, unit))
        return found

    def units_running(self, binaries: dict[str, str]) -> list[tuple[str, Unit]]:
        """Service units whose ExecStart runs one of ``binaries`` (basename to product)."""
        found: list[tuple[str, Unit]] = []
        seen: set[str] = set()
        for directory in UNIT_DIRS:
            for path in self.glob(f"{directory}/*.service"):
                name = os.path.basename(path)
                if name in seen or name.endswith("@.service"):
                    continue
                seen.add(name)
                unit = self.unit(name)
                # the command line is split only where it can name one of the programs (its text
                # without quotes and escapes holds every word the split can give)
                line = re.sub(r"[\\'\"]", "", " ".join(unit.service.get("ExecStart", []))) if unit else ""
                if not any(binary in line for binary in binaries):
                    continue
                product = binaries.get(os.path.basename(unit.argv[0])) if unit and unit.argv else None
                if unit and product:
                    found.append((product, unit))
        return found

    # -- packages, users ------------------------------------------------------------------------
    def package_version(self, package: str) -> str:
        """The installed version of a Debian package ('' when not installed or no dpkg)."""
        try:
            text = self.read("/var/lib/dpkg/status")
        except OSError:
            return ""
        # only the stanzas of that package (the database holds every package's)
        marker = f"Package: {package}\n"
        starts = [0] if text.startswith(marker) else []
        found = text.find("\n" + marker)
        while found >= 0:
            starts.append(found + 1)
            found = text.find("\n" + marker, found + 1)
        for start in starts:
            end = text.find("\n\n", start)
            stanza = text[start:end if end >= 0 else len(text)]
            fields = dict(
                line.split(": ", 1)
                for line in stanza.splitlines()
                if ": " in line and not line.startswith(" ")
            )
            if fields.get("Package") == package and fields.get("Status", "").endswith(" installed"):
                return fields.get("Version", "")
        return ""

    def user(self, name: str) -> tuple[int, int] | None:
        """(uid, primary gid) of a user of the host, None when unknown."""
        if self._users is None:
            self._users = {}
            try:
                for line in self.read("/etc/passwd").splitlines():
                    parts = line.split(":")
                    if len(parts) > 3 and parts[2].isdigit() and parts[3].isdigit():
                        self._users[parts[0]] = (int(parts[2]), int(parts[3]))
            except OSError:
                pass
        return self._users.get(name)

    def _group_table(self) -> dict[str, tuple[int, list[str]]]:
        """/etc/group as name -> (gid, members), read once."""
        if self._groups is None:
            self._groups = {}
            try:
                for line in self.read("/etc/group").splitlines():
                    parts = line.split(":")
                    if len(parts) > 3 and parts[2].isdigit():
                        self._groups[parts[0]] = (int(parts[2]), parts[3].split(",") if parts[3] else [])
            except OSError:
                pass
        return self._groups

    def group_ids(self, user: str) -> set[int]:
        """Every group id ``user`` belongs to (primary and supplementary)."""
        table = self._group_table()
        known = self.user(user)
        ids = {known[1]} if known else set()
        ids |= {gid for gid, members in table.values() if user in members}
        return ids

    def group_id(self, name: str) -> int | None:
        entry = self._group_table().get(name)
        return entry[0] if entry else None

    def writable_by(self, host_path: str, user: str, group: str = "") -> bool:
        """Whether ``user`` (with ``group`` as its service group) may write the file by its mode."""
        return self._may(host_path, user, group, (stat.S_IWUSR, stat.S_IWGRP, stat.S_IWOTH))

    def readable_by(self, host_path: str, user: str, group: str = "") -> bool:
        """Whether ``user`` (with ``group``) may read the file by its mode and every directory above it
        lets the user through."""
        parts = host_path.rstrip("/").split("/")[1:-1]
        folders = ["/" + "/".join(parts[:count]) for count in range(1, len(parts) + 1)]
        through = (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)
        return all(self._may(folder, user, group, through) for folder in folders) and \
            self._may(host_path, user, group, (stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH))

    def readable_by_others(self, host_path: str) -> bool:
        """Whether every local user may read the file: others may read it and pass through every
        directory above it (a 0644 file in a 0750 directory is not)."""
        parts = host_path.rstrip("/").split("/")[1:-1]
        # from the first directory below the root (an audit of a mounted image sees the mount point's
        # mode there, not the host's root)
        folders = ["/" + "/".join(parts[:count]) for count in range(1, len(parts) + 1)]
        infos = [self.stat(folder) for folder in folders]
        info = self.stat(host_path)
        return bool(info and info.st_mode & stat.S_IROTH
                    and all(folder and folder.st_mode & stat.S_IXOTH for folder in infos))

    def _may(self, host_path: str, user: str, group: str, bits: tuple[int, int, int]) -> bool:
        """Whether the mode gives ``user`` (with ``group``) one of the owner, group, other ``bits``."""
        info = self.stat(host_path)
        if info is None:
            return False
        known = self.user(user)
        if user == "root" or (known and known[0] == 0):
            return True
        service_group = self.group_id(group)
        gids = self.group_ids(user) | ({service_group} if service_group is not None else set())
        mode = info.st_mode
        return bool(
            (known and info.st_uid == known[0] and mode & bits[0])
            or (info.st_gid in gids and mode & bits[1])
            or mode & bits[2]
        )


def mode_text(info: os.stat_result) -> str:
    """A file's mode as four octal digits."""
    return format(stat.S_IMODE(info.st_mode), "04o")
