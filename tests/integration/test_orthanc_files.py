"""pacs_orthanc's files area on a real directory, written by the role's apply step: a plugin's
configuration file the service user may write (Debian's orthanc-dicomweb ships
/etc/orthanc/dicomweb.json as orthanc:orthanc 0664) becomes root-owned and writable by root only; a
file already so is left alone; check mode changes nothing; a second run changes nothing."""

import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _play(folder: Path, *extra: str) -> dict:
    playbook = folder.parent / "files.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        # the files area says what it wants; apply.yml writes what the areas want, in one module run
        "vars": {"pacs_orthanc_config_dir": str(folder), "pacs_orthanc_settings": {},
                 "pacs_orthanc_dropins": [], "pacs_orthanc_write_users": False},
        "tasks": [{"ansible.builtin.include_role": {"name": "pacs_orthanc", "tasks_from": name}}
                  for name in ("files.yml", "apply.yml")]}]))
    # apply.yml also keeps Orthanc running in its drop-ins' run: systemd does not run on this machine,
    # so a systemctl that says Orthanc runs answers for it (what is tested here is the files' owners)
    tools = folder.parent / "bin"
    tools.mkdir(exist_ok=True)
    (tools / "systemctl").write_text("#!/bin/sh\n[ \"$1\" = show ] && printf 'LoadState=loaded\\n"
                                     "ActiveState=active\\nUnitFileState=enabled\\n'\nexit 0\n")
    (tools / "systemctl").chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}",
           "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "json",
           "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    run = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), str(playbook), *extra],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return json.loads(run.stdout)["stats"]["localhost"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_plugin_files_become_root_owned_and_root_written(tmp_path):
    folder = tmp_path / "orthanc"
    folder.mkdir()
    plugin, own = folder / "dicomweb.json", folder / "orthanc.json"
    # Orthanc loads this one too (extension compared in lower case, dot-files listed)
    other = folder / ".site.JSON"
    for path in (plugin, own, other):
        path.write_text("{}")
    nobody = pwd.getpwnam("nobody")
    for path in (plugin, other):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
        path.chmod(0o664)
    own.chmod(0o640)
    assert _play(folder, "--check")["changed"] == 1
    assert plugin.stat().st_uid == nobody.pw_uid and stat.S_IMODE(plugin.stat().st_mode) == 0o664
    assert _play(folder)["changed"] == 1
    assert plugin.stat().st_uid == 0 and stat.S_IMODE(plugin.stat().st_mode) == 0o644
    assert other.stat().st_uid == 0 and stat.S_IMODE(other.stat().st_mode) == 0o644
    assert plugin.stat().st_gid == nobody.pw_gid  # the group, through which the service reads, stays
    assert stat.S_IMODE(own.stat().st_mode) == 0o640
    assert _play(folder)["changed"] == 0
