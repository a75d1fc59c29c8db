"""What it takes to bring a systemd unit to the wanted run and boot state (pacs_unit, and pacs_files
for the units an area's files serve), decided from one `systemctl show`: the systemctl verbs, the
states after them, and whether the running service is older than its files (PACS-CFG-014)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .service import PROPERTIES, parse_show, state

# Enablement states in which the unit already starts at boot, or cannot be enabled (a static unit
# starts when another unit wants it): enabling is not a change there.
STARTS_AT_BOOT = frozenset({"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"})
# Enablement states a disable changes.
DISABLABLE = frozenset({"enabled", "enabled-runtime"})
# Running, or on its way: starting again is not a change.
ACTIVE = frozenset({"active", "activating", "reloading"})


def steps(active: str, boot: str, state: str | None, enabled: bool | None) -> tuple[list[str], str, str]:
    """The systemctl verbs (start, stop, enable, disable) in order, then the ActiveState and
    UnitFileState they lead to. ``state`` is "started", "stopped" or None (left as it is);
    ``enabled`` True, False or None (left as it is)."""
    verbs: list[str] = []
    active_after, boot_after = active, boot
    if state == "started" and active not in ACTIVE:
        verbs, active_after = ["start"], "active"
    elif state == "stopped" and active in ACTIVE:
        verbs, active_after = ["stop"], "inactive"
    if enabled is True and boot not in STARTS_AT_BOOT:
        verbs, boot_after = [*verbs, "enable"], "enabled"
    elif enabled is False and boot in DISABLABLE:
        verbs, boot_after = [*verbs, "disable"], "disabled"
    return verbs, active_after, boot_after


# What one `systemctl show` reads for a unit: its load, run and boot state, and what PACS-CFG-014
# compares with the files the service loaded (service.PROPERTIES).
SHOW_PROPERTIES = ("LoadState", "ActiveState", "UnitFileState", *PROPERTIES)
# Where a written path makes systemd reread its units (a unit file or a drop-in)
UNIT_DIRECTORIES = ("/etc/systemd/system/", "/run/systemd/system/", "/lib/systemd/system/",
                    "/usr/lib/systemd/system/")


class UnitError(Exception):
    """systemctl could not read or change a unit; the message names it."""


def unit_name(name: str) -> str:
    """A unit's full name (C(orthanc) is C(orthanc.service))."""
    return name if "." in name else f"{name}.service"


def writes_units(paths: list[str]) -> bool:
    """Whether any of ``paths`` is a unit file or drop-in (systemd must reread its units)."""
    return any(path.startswith(UNIT_DIRECTORIES) for path in paths)


def written(name: str, paths: list[str]) -> bool:
    """Whether ``paths`` hold the unit's own file or one of its drop-ins."""
    full = unit_name(name)
    return any(path.startswith(UNIT_DIRECTORIES)
               and (path.rsplit("/", 1)[-1] == full or f"/{full}.d/" in path or path.endswith(f"/{full}.d"))
               for path in paths)


def reload(run: Callable[[list[str]], tuple[int, str, str]], systemctl: str) -> None:
    """Have systemd reread its unit files (after a run wrote a unit or a drop-in); UnitError if it
    refuses."""
    rc, out, err = run([systemctl, "daemon-reload"])
    if rc:
        raise UnitError(f"daemon-reload failed: {(err or out).strip()}")


def keep(run: Callable[[list[str]], tuple[int, str, str]], systemctl: str, wanted: dict[str, Any],
         check_mode: bool, unit_written: bool = False) -> dict[str, Any]:
    """One unit brought to ``wanted`` (name, state, enabled; paths for PACS-CFG-014) from one
    ``systemctl show``. ``run`` gives exit status, output and errors (a module's run_command).

    Returns the unit's name, the verbs run (or that would be, in check mode), its states before and
    after, a diff, and with ``paths`` whether a restart is pending and why. In check mode a unit this
    run would have written (``unit_written``) may be unknown to systemd yet: it is shown as started
    and enabled as wanted, not refused."""
    name = unit_name(wanted["name"])
    rc, out, err = run([systemctl, "show", f"--property={','.join(SHOW_PROPERTIES)}", "--", name])
    if rc:
        raise UnitError(f"systemctl show {name} failed: {(err or out).strip()}")
    found = parse_show(out)
    if found.get("LoadState") != "loaded":
        if not (check_mode and unit_written):
            raise UnitError(f"systemd has no unit {name} (LoadState {found.get('LoadState', 'unknown')})")
        found = {"ActiveState": "inactive", "UnitFileState": "disabled"}
    active, boot = found.get("ActiveState", ""), found.get("UnitFileState", "")
    verbs, active_after, boot_after = steps(active, boot, wanted.get("state"), wanted.get("enabled"))
    result: dict[str, Any] = {
        "name": name, "verbs": verbs, "active": active, "unit_file_state": boot,
        "diff": {"before_header": name, "after_header": name,
                 "before": f"active: {active}\nunit file: {boot}\n",
                 "after": f"active: {active_after}\nunit file: {boot_after}\n"}}
    if wanted.get("paths") is not None:
        loaded = state(name, found, list(wanted["paths"]), time.time(), time.monotonic())
        result.update(pending=loaded.pending, summary=loaded.summary())
    if not check_mode:
        for verb in verbs:
            rc, out, err = run([systemctl, verb, "--", name])
            if rc:
                raise UnitError(f"{verb} {name} failed: {(err or out).strip()}")
    return result
