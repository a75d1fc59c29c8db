"""One area of a node's plan applied in one module run: its directories, files and removed files.

A hardening role used to spend one Ansible task, and so one module process on the host, on each
directory, file and mode of an area; a run with nothing to change spent most of its time there.
pacs_files takes the whole area at once. This module holds what it decides, as pure functions over
what it read: which entries are wrong, how, and the diff a reviewer reads.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, replace
from typing import Any

STATES = ("file", "directory", "absent")
NOT_SHOWN = "(content not shown)\n"


class FileSetError(ValueError):
    """An entry that cannot be applied as given; nothing was changed."""


@dataclass(frozen=True)
class Entry:
    """One path of the area as the role wants it."""

    path: str
    state: str = "file"
    text: str | None = None
    secret: bool = False
    show: bool = True
    validate: str | None = None
    mode: str | int | None = None  # as Ansible takes it: "0640", "go-w", or a number already
    owner: str | None = None
    group: str | None = None
    line: str | None = None  # a line the file must hold, the rest of its text kept


@dataclass(frozen=True)
class Observed:
    """What the host has at an entry's path: its kind ("file", "directory", "other", None when
    missing) and, for a regular file, its text."""

    kind: str | None
    text: str | None = None


def entries_from(items: list[dict[str, Any]]) -> list[Entry]:
    """The module's ``files`` option as entries, every problem named at once (FileSetError)."""
    problems: list[str] = []
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        path = str(item.get("path") or "")
        where = path or f"entry {index + 1}"
        state = item.get("state") or "file"
        content, secret, line = item.get("content"), item.get("secret_content"), item.get("line")
        if not os.path.isabs(path):
            problems.append(f"{where}: path must be absolute")
        elif os.path.normpath(path) in seen:
            problems.append(f"{where}: given twice")
        seen.add(os.path.normpath(path))
        if state not in STATES:
            problems.append(f"{where}: state must be one of {', '.join(STATES)}, got {state!r}")
        if sum(value is not None for value in (content, secret, line)) > 1:
            problems.append(f"{where}: content, secret_content and line are mutually exclusive")
        if state == "file" and content is None and secret is None and line is None:
            problems.append(f"{where}: a file needs content, secret_content or line")
        if state != "file" and (content is not None or secret is not None or line is not None
                                or item.get("validate")):
            problems.append(f"{where}: content, secret_content, line and validate belong to state=file")
        if line is not None and ("\n" in line or "\r" in line or not line.strip()):
            problems.append(f"{where}: line must be one line of text")
        if item.get("validate") and "%s" not in item["validate"]:
            problems.append(f"{where}: validate must contain %s (the file to check)")
        entries.append(Entry(
            path=os.path.normpath(path) if path else path, state=state,
            text=secret if secret is not None else content, secret=secret is not None,
            show=bool(item.get("diff", True)) and secret is None, validate=item.get("validate") or None,
            mode=item.get("mode"), owner=_text(item.get("owner")), group=_text(item.get("group")), line=line))
    if problems:
        raise FileSetError("; ".join(problems))
    return entries


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def observe(path: str, limit: int = 4 * 1024 * 1024) -> Observed:
    """What is at ``path`` now, links followed; the text of a regular file up to ``limit`` bytes
    (a longer or undecodable file reads as None: it differs from any text the role writes)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return Observed(None)
    if stat.S_ISDIR(info.st_mode):
        return Observed("directory")
    if not stat.S_ISREG(info.st_mode):
        return Observed("other")
    if info.st_size > limit:
        return Observed("file")
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return Observed("file", data.decode("utf-8"))
    except UnicodeDecodeError:
        return Observed("file")


def with_line(entry: Entry, seen: Observed) -> Entry:
    """An entry with O(line) as one with the text the file must have: what it has, the line added at
    the end unless a line equals it already (a new file holds the line alone). FileSetError when the
    file cannot be read as text."""
    if entry.line is None:
        return entry
    if seen.kind == "file" and seen.text is None:
        raise FileSetError(f"{entry.path}: cannot be read as text to add a line to it")
    current = seen.text if seen.kind == "file" else None
    if current is not None and entry.line in current.splitlines():
        text = current
    elif current:
        text = current + ("" if current.endswith("\n") else "\n") + entry.line + "\n"
    else:
        text = entry.line + "\n"
    return replace(entry, text=text)


def conflict(entry: Entry, seen: Observed) -> str | None:
    """Why the entry cannot be applied over what the host has (a directory where a file belongs,
    and the like); None when it can."""
    if entry.state == "file" and seen.kind in ("directory", "other"):
        return f"{entry.path}: is a {seen.kind}, not a regular file"
    if entry.state == "directory" and seen.kind in ("file", "other"):
        return f"{entry.path}: exists and is not a directory"
    if entry.state == "absent" and seen.kind == "directory":
        return f"{entry.path}: is a directory; pacs_files removes files only"
    return None


def orphans(entries: list[Entry], exists: Any = os.path.isdir) -> list[str]:
    """Files and directories whose parent directory neither exists (``exists``) nor is made by an
    earlier directory entry (a directory entry makes its missing parents too); a file's directory
    is never made implicitly."""
    made: set[str] = set()
    found = []
    for entry in entries:
        parent = os.path.dirname(entry.path)
        if entry.state == "file" and parent not in made and not exists(parent):
            found.append(f"{entry.path}: its directory {parent} does not exist")
        if entry.state == "directory":
            path = entry.path
            while path not in made and path != os.path.dirname(path):
                made.add(path)
                path = os.path.dirname(path)
    return found


def action(entry: Entry, seen: Observed) -> str | None:
    """What the entry's content or state needs: "write", "create", "remove" or None."""
    if entry.state == "file" and (seen.kind is None or seen.text != entry.text):
        return "write"
    if entry.state == "directory" and seen.kind is None:
        return "create"
    if entry.state == "absent" and seen.kind is not None:
        return "remove"
    return None


def content_diff(entry: Entry, seen: Observed, todo: str | None) -> dict[str, str] | None:
    """The diff of one entry's content or state, as Ansible's callbacks print it; a secret or an
    entry asked not to show its text shows that it changed, not what."""
    if todo is None:
        return None
    if entry.state == "directory" or todo == "remove":
        before = "absent\n" if seen.kind is None else f"{seen.kind}\n"
        after = "directory\n" if entry.state == "directory" else "absent\n"
        return {"before_header": f"{entry.path} (state)", "after_header": f"{entry.path} (state)",
                "before": before, "after": after}
    if not entry.show:
        return {"before_header": entry.path, "after_header": entry.path,
                "before": "" if seen.kind is None else NOT_SHOWN, "after": NOT_SHOWN}
    return {"before_header": entry.path, "after_header": entry.path,
            "before": seen.text if seen.text is not None else ("" if seen.kind is None else NOT_SHOWN),
            "after": entry.text or ""}


def attribute_diff(path: str, found: dict[str, Any]) -> dict[str, str] | None:
    """AnsibleModule's attribute diff (before/after owner, group, mode) as a text diff; None when
    nothing differed."""
    before, after = found.get("before") or {}, found.get("after") or {}
    keys = [key for key in ("owner", "group", "mode") if key in after and before.get(key) != after.get(key)]
    if not keys:
        return None
    return {"before_header": f"{path} (attributes)", "after_header": f"{path} (attributes)",
            "before": "".join(f"{key}: {before.get(key)}\n" for key in keys),
            "after": "".join(f"{key}: {after.get(key)}\n" for key in keys)}


def checksum(text: str) -> str:
    """SHA-1 of a text as written (the checksum Ansible's stat and copy report)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
