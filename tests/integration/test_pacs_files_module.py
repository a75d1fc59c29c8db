"""The pacs_files module run by Ansible: one area applied in one run, check mode, diff, validation,
secrets; and orthanc_config's root_writes_only, which took over a find and a loop of file tasks."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ANSIBLE_ENV as ENV
from .conftest import BIN, ROOT

pytestmark = pytest.mark.integration
KEY = "-----BEGIN PRIVATE KEY-----\nintegration-secret-4q\n-----END PRIVATE KEY-----\n"


def run_module(module: str, args: dict, *flags: str) -> dict:
    run = subprocess.run([str(BIN / "ansible"), "localhost", "-m", module, "-a", json.dumps(args),
                          "-e", f"ansible_python_interpreter={sys.executable}", *flags],
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert "integration-secret-4q" not in run.stdout + run.stderr
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
                                         p.stat().st_mode) for p in sorted(folder.rglob("*"))}


def area(folder: Path) -> list[dict]:
    return [
        {"path": str(folder / "conf.d"), "state": "directory", "mode": "0750"},
        {"path": str(folder / "conf.d" / "a.conf"), "content": "a = 1\n", "mode": "0644"},
        {"path": str(folder / "conf.d" / "node.key"), "secret_content": KEY, "mode": "0600"},
        {"path": str(folder / "old.conf"), "state": "absent"},
    ]


def test_check_mode_shows_every_change_and_writes_nothing(tmp_path):
    (tmp_path / "old.conf").write_text("old\n")
    before = snapshot(tmp_path)
    result = run_module("pacs_files", {"files": area(tmp_path)}, "--check", "--diff")
    assert result["changed"] is True
    assert result["changed_paths"] == [str(tmp_path / name) for name in
                                       ("conf.d", "conf.d/a.conf", "conf.d/node.key", "old.conf")]
    shown = json.dumps(result["diff"])
    assert "a = 1" in shown and "(content not shown)" in shown
    assert snapshot(tmp_path) == before


def test_apply_then_nothing_to_do_then_drift_is_put_back(tmp_path):
    (tmp_path / "old.conf").write_text("old\n")
    first = run_module("pacs_files", {"files": area(tmp_path)})
    assert first["changed"] is True and not (tmp_path / "old.conf").exists()
    assert (tmp_path / "conf.d" / "node.key").read_text() == KEY
    assert oct((tmp_path / "conf.d").stat().st_mode & 0o777) == "0o750"
    assert oct((tmp_path / "conf.d" / "node.key").stat().st_mode & 0o777) == "0o600"
    after = snapshot(tmp_path)
    second = run_module("pacs_files", {"files": area(tmp_path)})
    assert second["changed"] is False and second["changed_paths"] == []
    assert snapshot(tmp_path) == after
    # drift: a mode loosened and a text edited by hand are both put back, and named
    os.chmod(tmp_path / "conf.d" / "node.key", 0o644)
    (tmp_path / "conf.d" / "a.conf").write_text("a = 2\n")
    third = run_module("pacs_files", {"files": area(tmp_path)}, "--diff")
    assert third["changed_paths"] == [str(tmp_path / "conf.d" / name) for name in ("a.conf", "node.key")]
    assert "mode: 0644" in json.dumps(third["diff"])
    assert snapshot(tmp_path) == after


def test_a_refused_file_changes_nothing_of_the_area(tmp_path):
    files = [{"path": str(tmp_path / "first.conf"), "content": "fine\n"},
             {"path": str(tmp_path / "table.json"), "content": "{not json",
              "validate": f"{sys.executable} -c 'import json,sys; json.load(open(sys.argv[1]))' %s"}]
    result = run_module("pacs_files", {"files": files})
    assert result.get("failed") is True
    assert "table.json" in result["msg"] and "Nothing was changed" in result["msg"]
    assert list(tmp_path.iterdir()) == []
    files[1]["content"] = "{}\n"
    assert run_module("pacs_files", {"files": files})["changed"] is True
    assert (tmp_path / "table.json").read_text() == "{}\n"


def test_a_directory_where_a_file_belongs_is_refused(tmp_path):
    (tmp_path / "a.conf").mkdir()
    result = run_module("pacs_files", {"files": [{"path": str(tmp_path / "a.conf"), "content": "x"}]})
    assert result.get("failed") is True and "not a regular file" in result["msg"]


@pytest.fixture
def orthanc_dir(tmp_path) -> Path:
    folder = tmp_path / "orthanc"
    folder.mkdir()
    (folder / "orthanc.json").write_text('{"DicomAet": "ORTHANC"}\n')
    (folder / ".Plugin.JSON").write_text('{"Plugin": {}}\n')
    (folder / "notes.txt").write_text("not read by Orthanc\n")
    for name in ("orthanc.json", ".Plugin.JSON", "notes.txt"):
        os.chmod(folder / name, 0o666)
    return folder


def test_root_writes_only_reaches_every_file_orthanc_loads(orthanc_dir):
    args = {"path": str(orthanc_dir), "root_writes_only": True, "check_files": False}
    checked = run_module("orthanc_config", args, "--check")
    assert checked["changed"] is True
    assert oct((orthanc_dir / "orthanc.json").stat().st_mode & 0o777) == "0o666"
    done = run_module("orthanc_config", args)
    restricted = [str(orthanc_dir / name) for name in (".Plugin.JSON", "orthanc.json")]
    assert sorted(done["restricted"]) == restricted
    for name in ("orthanc.json", ".Plugin.JSON"):
        assert oct((orthanc_dir / name).stat().st_mode & 0o777) == "0o644"
    # not a file Orthanc reads: left as it is; and no file of its own was written
    assert oct((orthanc_dir / "notes.txt").stat().st_mode & 0o777) == "0o666"
    assert sorted(p.name for p in orthanc_dir.iterdir()) == [".Plugin.JSON", "notes.txt", "orthanc.json"]
    assert run_module("orthanc_config", args)["changed"] is False


def test_root_writes_only_follows_links_as_orthanc_does(orthanc_dir, tmp_path):
    target = tmp_path / "elsewhere.json"
    shutil.move(orthanc_dir / "orthanc.json", target)
    (orthanc_dir / "orthanc.json").symlink_to(target)
    run_module("orthanc_config", {"path": str(orthanc_dir), "root_writes_only": True, "check_files": False})
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_a_directory_entry_makes_its_parents_with_its_attributes(tmp_path):
    deep = tmp_path / "etc" / "pacsguard" / "tls"
    result = run_module("pacs_files", {"files": [{"path": str(deep), "state": "directory", "mode": "0750"},
                                                 {"path": str(deep / "a"), "content": "a\n"}]})
    assert result["changed"] is True and (deep / "a").read_text() == "a\n"
    assert [oct(p.stat().st_mode & 0o777) for p in (tmp_path / "etc", deep)] == ["0o750", "0o750"]
    orphan = {"files": [{"path": str(tmp_path / "none" / "b"), "content": ""}]}
    assert run_module("pacs_files", orphan, "--check")["changed_paths"] == [str(tmp_path / "none" / "b")]
    refused = run_module("pacs_files", orphan)
    assert refused.get("failed") is True and "does not exist" in refused["msg"]


def test_a_mode_given_as_a_number_is_that_mode(tmp_path):
    run_module("pacs_files", {"files": [{"path": str(tmp_path / "a"), "content": "a\n", "mode": 0o640}]})
    assert oct((tmp_path / "a").stat().st_mode & 0o777) == "0o640"
