"""A restart is pending exactly when a file the service reads changed after it started."""

import os

import pytest

from pacsguard import service
from pacsguard.products import host_services
from pacsguard.service import (
    ServiceStateError,
    combined,
    observe,
    observe_product,
    parse_show,
    started_at,
    state,
)

SHOW = """ActiveState=active
ExecMainStartTimestampMonotonic=1000000000
NeedDaemonReload=no
FragmentPath=/nonexistent/orthanc.service
DropInPaths=
"""
# wall clock 10_000 s when the monotonic clock reads 2000 s: the service started at 9_000 s
WALL, MONO = 10_000.0, 2_000.0


def _file(tmp_path, name: str, mtime: float):
    path = tmp_path / name
    path.write_text("{}")
    os.utime(path, (mtime, mtime))
    return path


def test_start_time_comes_from_the_monotonic_stamp():
    assert started_at(parse_show(SHOW), WALL, MONO) == 9_000.0
    assert started_at({"ExecMainStartTimestampMonotonic": "0"}, WALL, MONO) is None


def test_a_file_written_after_the_start_is_pending(tmp_path):
    _file(tmp_path, "orthanc.json", 8_000.0)
    _file(tmp_path, "pacsguard.json", 9_300.0)
    result = state("orthanc", parse_show(SHOW), [str(tmp_path / "*.json")], WALL, MONO)
    assert result.pending
    assert [item["path"] for item in result.newer] == [str(tmp_path / "pacsguard.json")]
    assert "pacsguard.json (300 s after)" in result.summary()


def test_files_older_than_the_start_are_not_pending(tmp_path):
    _file(tmp_path, "orthanc.json", 8_999.0)
    result = state("orthanc", parse_show(SHOW), [str(tmp_path)], WALL, MONO)
    assert not result.pending and result.newer == []
    assert "started after every file" in result.summary()


def test_a_unit_changed_but_not_reloaded_is_pending(tmp_path):
    show = parse_show(SHOW.replace("NeedDaemonReload=no", "NeedDaemonReload=yes"))
    result = state("orthanc", show, [], WALL, MONO)
    assert result.pending and "systemd has not reloaded it" in result.summary()


def test_a_newer_drop_in_is_pending(tmp_path):
    drop_in = _file(tmp_path, "pacsguard-tls.conf", 9_500.0)
    show = parse_show(SHOW.replace("DropInPaths=", f"DropInPaths={drop_in}"))
    assert state("orthanc", show, [], WALL, MONO).pending


def test_a_stopped_service_is_not_pending_and_missing_paths_are_named(tmp_path):
    _file(tmp_path, "pacsguard.json", 9_300.0)
    show = parse_show(SHOW.replace("ActiveState=active", "ActiveState=inactive"))
    result = state("orthanc", show, [str(tmp_path / "*.json"), "/nonexistent/x.cnf"], WALL, MONO)
    assert not result.pending and result.missing == ["/nonexistent/x.cnf"]
    assert result.summary() == "orthanc is not running"


def test_one_rule_over_a_product_and_its_front(tmp_path):
    _file(tmp_path, "dcmqrscp.cfg", 9_300.0)
    pending = state("dcmqrscp", parse_show(SHOW), [str(tmp_path / "dcmqrscp.cfg")], WALL, MONO)
    front = state("pacsguard-tls-front", parse_show(SHOW), [], WALL, MONO)
    stopped = state("pacsguard-tls-front", {"ActiveState": "inactive"}, [], WALL, MONO)
    checks, findings = combined([pending, front])
    assert checks["PACS-CFG-014"]["status"] == "fail"
    assert [f["id"] for f in findings] == ["PACS-CFG-014"] and "dcmqrscp.cfg" in findings[0]["evidence"]
    assert combined([front])[0]["PACS-CFG-014"]["status"] == "pass"
    assert combined([stopped]) == ({"PACS-CFG-014": {
        "status": "skipped", "detail": "none of pacsguard-tls-front is running"}}, [])


def test_observing_a_product_asks_systemctl_about_each_of_its_services_and_fails_on_a_refusal():
    """systemd is not PID 1 on this machine: systemctl's answers are given here (what the test
    judges is what is asked and what a refusal becomes)."""
    asked = []

    def run(argv):
        asked.append(argv)
        return (1, "", "Access denied\n") if argv[2] == "pacsguard-tls-front" else (0, SHOW, "")

    with pytest.raises(ServiceStateError, match="systemctl show pacsguard-tls-front failed: Access denied"):
        observe_product("dcmqrscp", run, "/bin/systemctl")
    assert [argv[2] for argv in asked] == [item["service"] for item in host_services()["dcmqrscp"]]
    assert asked[0][:2] == ["/bin/systemctl", "show"] and "--property=ActiveState" in asked[0]
    # without systemd as the init system nothing of it runs, and nothing is asked
    assert [item.active for item in observe_product("orthanc", run, None)] == [False, False]
    assert observe("orthanc", [], lambda argv: (0, SHOW, ""), "/bin/systemctl").active


def test_systemctl_is_looked_for_only_where_systemd_is_the_init_system(tmp_path, monkeypatch):
    looked = []

    def get_bin_path(name, required=False):
        looked.append((name, required))
        return "/bin/systemctl"

    monkeypatch.setattr(service, "SYSTEMD_RUNTIME", str(tmp_path / "absent"))
    assert service.find_systemctl(get_bin_path) is None and looked == []
    monkeypatch.setattr(service, "SYSTEMD_RUNTIME", str(tmp_path))
    assert service.find_systemctl(get_bin_path) == "/bin/systemctl" and looked == [("systemctl", True)]
