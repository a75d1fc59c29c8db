"""pacs_unit's decision: the systemctl verbs a unit needs, and none when it is as wanted; one unit kept
from one `systemctl show` (pacs_unit and pacs_files), with PACS-CFG-014's pending restart."""

from __future__ import annotations

import os
import time

import pytest

from pacsguard.units import UnitError, keep, reload, steps, writes_units, written


@pytest.mark.parametrize("active, boot, state, enabled, verbs", [
    ("active", "enabled", "started", True, []),
    ("inactive", "enabled", "started", True, ["start"]),
    ("failed", "disabled", "started", True, ["start", "enable"]),
    ("activating", "enabled", "started", None, []),
    ("active", "static", "started", True, []),
    ("active", "alias", None, True, []),
    ("active", "enabled", "stopped", False, ["stop", "disable"]),
    ("inactive", "disabled", "stopped", False, []),
    ("inactive", "static", "stopped", False, []),
    ("inactive", "masked", None, True, ["enable"]),
    ("active", "disabled", None, None, []),
])
def test_verbs_only_for_what_differs(active, boot, state, enabled, verbs):
    assert steps(active, boot, state, enabled)[0] == verbs


def test_states_after_are_what_the_verbs_make():
    assert steps("failed", "disabled", "started", True)[1:] == ("active", "enabled")
    assert steps("active", "enabled", "stopped", False)[1:] == ("inactive", "disabled")
    assert steps("active", "enabled", None, None)[1:] == ("active", "enabled")


class FakeSystemctl:
    """systemctl as a unit's states; records the verbs it was asked to run."""

    def __init__(self, load="loaded", active="active", boot="enabled", started_monotonic=0, fail=()):
        self.show = {"LoadState": load, "ActiveState": active, "UnitFileState": boot,
                     "ExecMainStartTimestampMonotonic": str(started_monotonic), "NeedDaemonReload": "no",
                     "FragmentPath": "", "DropInPaths": ""}
        self.fail = fail
        self.ran: list[list[str]] = []

    def __call__(self, argv):
        self.ran.append(argv)
        if argv[1] == "show":
            return 0, "".join(f"{k}={v}\n" for k, v in self.show.items()), ""
        return (1, "", f"{argv[1]} refused") if argv[1] in self.fail else (0, "", "")


def test_keep_reads_once_and_runs_only_what_differs():
    systemctl = FakeSystemctl(active="inactive", boot="disabled")
    unit = keep(systemctl, "systemctl", {"name": "rsyslog", "state": "started", "enabled": True}, False)
    assert unit["name"] == "rsyslog.service" and unit["verbs"] == ["start", "enable"]
    assert [argv[1] for argv in systemctl.ran] == ["show", "start", "enable"]
    again = FakeSystemctl()
    wanted = {"name": "rsyslog", "state": "started", "enabled": True}
    assert keep(again, "systemctl", wanted, False)["verbs"] == []
    assert [argv[1] for argv in again.ran] == ["show"]


def test_check_mode_runs_nothing_and_an_unknown_unit_is_refused_unless_this_run_writes_it():
    systemctl = FakeSystemctl(active="inactive", boot="disabled")
    assert keep(systemctl, "systemctl", {"name": "x", "state": "started"}, True)["verbs"] == ["start"]
    assert [argv[1] for argv in systemctl.ran] == ["show"]
    unknown = FakeSystemctl(load="not-found")
    with pytest.raises(UnitError, match="no unit x.service"):
        keep(unknown, "systemctl", {"name": "x", "state": "started"}, True)
    with pytest.raises(UnitError, match="no unit x.service"):
        keep(unknown, "systemctl", {"name": "x", "state": "started"}, False, unit_written=True)
    assert keep(unknown, "systemctl", {"name": "x", "state": "started", "enabled": True}, True,
                unit_written=True)["verbs"] == ["start", "enable"]


def test_a_refused_verb_is_an_error_naming_the_unit():
    with pytest.raises(UnitError, match="start web.service failed: start refused"):
        keep(FakeSystemctl(active="failed", fail=("start",)), "systemctl",
             {"name": "web", "state": "started"}, False)


def test_pending_when_a_loaded_file_changed_after_the_start(tmp_path):
    config = tmp_path / "orthanc.json"
    config.write_text("{}")
    just_now = int(time.monotonic() * 1e6)
    newer = keep(FakeSystemctl(started_monotonic=just_now - 3_600_000_000), "systemctl",
                 {"name": "orthanc", "state": "started", "paths": [str(tmp_path / "*.json")]}, False)
    assert newer["pending"] is True and "orthanc.json" in newer["summary"]
    os.utime(config, (time.time() - 7200, time.time() - 7200))
    older = keep(FakeSystemctl(started_monotonic=just_now - 3_600_000_000), "systemctl",
                 {"name": "orthanc", "state": "started", "paths": [str(tmp_path / "*.json")]}, False)
    assert older["pending"] is False
    # a service this run starts runs the files as they are
    started = keep(FakeSystemctl(active="inactive"), "systemctl",
                   {"name": "orthanc", "state": "started", "paths": [str(tmp_path / "*.json")]}, False)
    assert started["pending"] is False and started["verbs"] == ["start"]
    assert "pending" not in keep(FakeSystemctl(), "systemctl", {"name": "orthanc"}, False)


@pytest.mark.parametrize("paths, unit, expected", [
    (["/etc/systemd/system/pacsguard-web-front.service"], "pacsguard-web-front", True),
    (["/etc/systemd/system/orthanc.service.d/pacsguard-log.conf"], "orthanc", True),
    (["/etc/systemd/system/orthanc.service.d"], "orthanc", True),
    (["/etc/systemd/system/orthanc-other.service"], "orthanc", False),
    (["/etc/pacsguard/orthanc.service"], "orthanc", False),
    (["/etc/rsyslog.d/pacsguard.conf"], "rsyslog", False),
])
def test_which_writes_are_a_units_own(paths, unit, expected):
    assert written(unit, paths) is expected
    assert writes_units(paths) is paths[0].startswith("/etc/systemd/")


def test_a_refused_daemon_reload_is_an_error():
    reload(FakeSystemctl(), "systemctl")  # accepted: nothing raised
    with pytest.raises(UnitError, match="daemon-reload failed: daemon-reload refused"):
        reload(FakeSystemctl(fail=("daemon-reload",)), "systemctl")
