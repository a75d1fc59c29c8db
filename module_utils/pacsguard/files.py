"""Configuration writes that cannot leave a half-written file: temp file, backup, atomic move."""

from __future__ import annotations

import os
import tempfile
from typing import Any


def write_atomically(module: Any, path: str, text: str, backup: bool) -> str | None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, moved into place
    by ``module.atomic_move`` (which keeps the old file's owner, group and mode); with ``backup``,
    the old file is copied first by ``module.backup_local``. Returns the backup's path, if any.
    ``module`` is an AnsibleModule; nothing else of Ansible is needed here."""
    saved = module.backup_local(path) if backup and os.path.exists(path) else None
    handle, temp = tempfile.mkstemp(prefix=".pacsguard-", suffix=".tmp", dir=os.path.dirname(path) or ".")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    module.atomic_move(temp, path)
    return saved
