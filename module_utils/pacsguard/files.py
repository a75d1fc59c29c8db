"""Configuration writes that cannot leave a half-written file: temp file, backup, atomic move."""

from __future__ import annotations

import grp
import os
import pwd
import re
import tempfile
from typing import Any


def write_atomically(module: Any, path: str, text: str, backup: bool,
                     mode: int | None = None, owner: int = -1, group: int = -1,
                     keep: int = 0) -> str | None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, moved into place
    by ``module.atomic_move`` (which keeps the old file's owner, group and mode); with ``backup``,
    the old file is copied first by ``module.backup_local``. Returns the backup's path, if any.
    ``module`` is an AnsibleModule; nothing else of Ansible is needed here.

    A new file gets ``mode`` (0600 when not given), ``owner`` and ``group`` while it is still the
    private temporary file, then is renamed into place: it is never readable by others, not even
    for the moment atomic_move would leave it with the umask's mode."""
    saved = module.backup_local(path) if backup and os.path.exists(path) else None
    if saved and keep > 0:
        prune_backups(path, keep)
    handle, temp = tempfile.mkstemp(prefix=".pacsguard-", suffix=".tmp", dir=os.path.dirname(path) or ".")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    if os.path.exists(path):
        module.atomic_move(temp, path)
        return saved
    try:
        os.chown(temp, owner, group)
        os.chmod(temp, 0o600 if mode is None else mode)
        os.rename(temp, path)
    except OSError:
        os.unlink(temp)
        raise
    return saved


def prune_backups(path: str, keep: int) -> list[str]:
    """Remove all but the ``keep`` newest backups of ``path`` (AnsibleModule.backup_local names them
    <file>.<pid>.<timestamp>~ next to it); returns the removed paths."""
    folder, name = os.path.split(path)
    pattern = re.compile(re.escape(name) + r"\.\d+\.\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}~$")
    backups = sorted((entry for entry in os.listdir(folder or ".") if pattern.match(entry)),
                     key=lambda entry: os.stat(os.path.join(folder, entry)).st_mtime_ns, reverse=True)
    removed = [os.path.join(folder, entry) for entry in backups[keep:]]
    for old in removed:
        os.unlink(old)
    return removed


def requested_attributes(params: dict[str, Any]) -> dict[str, int | None]:
    """``mode``, ``owner`` and ``group`` module arguments as numbers for write_atomically (a
    symbolic mode gives None: the file starts at 0600 and the module's attribute step finishes)."""
    mode = params.get("mode")
    numeric: int | None = None
    if isinstance(mode, int):
        numeric = mode
    elif isinstance(mode, str) and mode.isdigit():
        numeric = int(mode, 8)
    return {"mode": numeric, "owner": _id(params.get("owner"), pwd.getpwnam),
            "group": _id(params.get("group"), grp.getgrnam)}


def _id(name: Any, lookup: Any) -> int:
    """A user or group id by name or number; -1 (leave as is) when unknown: the module's own
    attribute step then reports the unknown name."""
    if not name:
        return -1
    if str(name).isdigit():
        return int(name)
    try:
        return int(lookup(name)[2])
    except KeyError:
        return -1
