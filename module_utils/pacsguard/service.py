"""Is a service running the configuration its files hold? A PACS reads its allowlist at start: a
file written after the running process started (and a unit changed but not reloaded) is a policy
that is not in force yet, whatever the files say.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .findings import make_finding
from .products import host_services

RULE = "PACS-CFG-014"

# systemctl show properties read (all present in systemd 247 and later).
PROPERTIES = ("ActiveState", "ExecMainStartTimestampMonotonic", "NeedDaemonReload",
              "FragmentPath", "DropInPaths")
# sd_booted(3): systemd is the init system when this directory exists
SYSTEMD_RUNTIME = "/run/systemd/system"


class ServiceStateError(Exception):
    """systemctl could not say what a service is."""


def find_systemctl(get_bin_path: Callable[..., str]) -> str | None:
    """systemctl's path (a module's get_bin_path, which fails the module when it is missing), or
    None when systemd is not the init system: then no service of it runs."""
    return get_bin_path("systemctl", required=True) if os.path.isdir(SYSTEMD_RUNTIME) else None


@dataclass
class ServiceState:
    """What the running service is, against its files."""

    service: str
    active: bool
    started: float | None = None
    need_daemon_reload: bool = False
    newer: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        """True when a restart is needed for the files to be in force."""
        return self.active and (bool(self.newer) or self.need_daemon_reload)

    def summary(self) -> str:
        """One line for a warning or a finding's evidence."""
        if not self.active:
            return f"{self.service} is not running"
        if not self.pending:
            return f"{self.service} started after every file of its configuration changed"
        parts = []
        if self.newer:
            parts.append("changed since it started: " + ", ".join(
                f"{item['path']} ({item['seconds_after_start']:.0f} s after)" for item in self.newer))
        if self.need_daemon_reload:
            parts.append("its unit changed and systemd has not reloaded it")
        return f"{self.service} runs an older configuration than its files: " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "active": self.active, "started": self.started,
                "pending": self.pending, "need_daemon_reload": self.need_daemon_reload,
                "newer": self.newer, "missing": self.missing, "summary": self.summary()}


def parse_show(text: str) -> dict[str, str]:
    """``systemctl show -p ...`` output (KEY=value lines) as a dict."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def started_at(show: dict[str, str], wall_now: float, monotonic_now: float) -> float | None:
    """The main process's start as a wall-clock time, from systemd's monotonic stamp (a wall-clock
    stamp would be off by any clock step since)."""
    try:
        stamp = int(show.get("ExecMainStartTimestampMonotonic", "0"))
    except ValueError:
        return None
    if stamp <= 0:
        return None
    return wall_now - (monotonic_now - stamp / 1e6)


def expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """Files named by ``paths`` (globs allowed; a directory means the files directly in it), and the
    patterns that matched nothing."""
    found: list[str] = []
    missing: list[str] = []
    for pattern in paths:
        matches = sorted(glob.glob(pattern))
        if not matches:
            missing.append(pattern)
        for match in matches:
            if os.path.isdir(match):
                found += sorted(os.path.join(match, name) for name in os.listdir(match)
                                if os.path.isfile(os.path.join(match, name)))
            else:
                found.append(match)
    return list(dict.fromkeys(found)), missing


def state(service: str, show: dict[str, str], paths: list[str], wall_now: float,
          monotonic_now: float) -> ServiceState:
    """Compare the running service with the modification times of its files and unit."""
    result = ServiceState(service, active=show.get("ActiveState") == "active")
    result.need_daemon_reload = show.get("NeedDaemonReload") == "yes"
    result.started = started_at(show, wall_now, monotonic_now)
    unit_files = [show.get("FragmentPath", "")] + show.get("DropInPaths", "").split()
    files, result.missing = expand(list(paths))
    if not result.active or result.started is None:
        return result
    for path in files + [p for p in unit_files if p]:
        try:
            modified = os.stat(path).st_mtime
        except OSError:
            continue
        if modified > result.started:
            result.newer.append({"path": path, "seconds_after_start": modified - result.started})
    return result


def combined(states: list[ServiceState]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """PACS-CFG-014 over several services of one node (a product and its TLS front): failed when any
    is pending, skipped when none runs."""
    running = [item for item in states if item.active]
    pending = [item for item in running if item.pending]
    if pending:
        detail = "; ".join(item.summary() for item in pending)
        return {RULE: {"status": "fail", "detail": detail}}, [make_finding(RULE, detail).as_dict()]
    if running:
        return {RULE: {"status": "pass", "detail": "; ".join(i.summary() for i in running)}}, []
    return {RULE: {"status": "skipped", "detail": "none of " + ", ".join(i.service for i in states)
                   + " is running"}}, []


def observe(service: str, paths: list[str], run: Callable[[list[str]], tuple[int, str, str]],
            systemctl: str | None) -> ServiceState:
    """One service read through ``systemctl show`` (run: a module's run_command, giving exit status,
    output and errors; systemctl None: systemd is not the init system, so no service of it runs) and
    compared with its files."""
    if systemctl is None:
        return ServiceState(service, active=False)
    rc, out, err = run([systemctl, "show", service, *(f"--property={p}" for p in PROPERTIES)])
    if rc != 0:
        raise ServiceStateError(f"systemctl show {service} failed: {err.strip()}")
    return state(service, parse_show(out), paths, time.time(), time.monotonic())


def observe_product(product: str, run: Callable[[list[str]], tuple[int, str, str]],
                    systemctl: str | None) -> list[ServiceState]:
    """Every service pacsguard runs for the product (the registry's host_services), each observed."""
    return [observe(item["service"], item["paths"], run, systemctl) for item in host_services()[product]]
