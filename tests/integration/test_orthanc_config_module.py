"""The orthanc_config module run by Ansible on a copy of Debian's real /etc/orthanc."""

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ANSIBLE_ENV as ENV
from .conftest import BIN, ROOT

pytestmark = pytest.mark.integration
DEBIAN_CONFIG = Path("/etc/orthanc")
SETTINGS = {"DicomAet": "ARCHIVE1", "DicomCheckModalityHost": True, "AuthenticationEnabled": True,
            "DicomModalities": {"ct": {"AET": "CT01", "Host": "10.20.0.11", "Port": 104}}}
USERS = {"RegisteredUsers": {"pacsadmin": "integration-secret-9z"}}


@pytest.fixture
def config_dir(tmp_path) -> Path:
    if not (DEBIAN_CONFIG / "orthanc.json").exists():
        pytest.skip("Debian's orthanc package is not installed")
    target = tmp_path / "orthanc"
    shutil.copytree(DEBIAN_CONFIG, target)
    return target


def run_module(args: dict, *flags: str) -> dict:
    run = subprocess.run([str(BIN / "ansible"), "localhost", "-m", "orthanc_config", "-a", json.dumps(args),
                          *flags], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_check_mode_reports_a_masked_diff_and_writes_nothing(config_dir):
    before = snapshot(config_dir)
    result = run_module({"path": str(config_dir), "settings": SETTINGS, "secret_settings": USERS},
                        "--check", "--diff")
    assert result["changed"] is True
    assert set(result["changed_keys"]) == {*SETTINGS, *USERS}
    diff = json.dumps(result["diff"])
    assert "integration-secret-9z" not in diff and "pacsadmin" in diff
    assert snapshot(config_dir) == before


def test_apply_then_nothing_to_do(config_dir):
    args = {"path": str(config_dir), "settings": SETTINGS, "secret_settings": USERS, "mode": "0640"}
    first = run_module(args)
    assert first["changed"] is True and "integration-secret-9z" not in json.dumps(first)
    assert first["key_files"]["AuthenticationEnabled"] == "pacsguard.json"
    assert first["key_files"]["RegisteredUsers"] == "credentials.json"
    assert len(first["backups"]) == 2
    assert oct((config_dir / "credentials.json").stat().st_mode & 0o777) == "0o640"
    # Debian's comments survive: only the changed values moved.
    assert "// The DICOM Application Entity Title" in (config_dir / "orthanc.json").read_text()
    after = snapshot(config_dir)
    second = run_module(args)
    assert second["changed"] is False and second["changed_keys"] == []
    assert snapshot(config_dir) == after


def test_a_key_defined_twice_is_refused_and_nothing_written(config_dir):
    (config_dir / "extra.json").write_text('{ "DicomAet" : "OTHER" }\n')
    before = snapshot(config_dir)
    result = run_module({"path": str(config_dir), "settings": {"DicomPort": 11112}})
    assert result["failed"] is True
    assert "DicomAet in extra.json, orthanc.json" in result["msg"]
    assert snapshot(config_dir) == before


def test_tls_without_its_files_is_refused_before_writing(config_dir):
    before = snapshot(config_dir)
    result = run_module({"path": str(config_dir), "settings": {
        "DicomTlsEnabled": True, "DicomTlsCertificate": "/nonexistent/node.crt"}})
    assert result["failed"] is True
    assert "DicomTlsCertificate=/nonexistent/node.crt" in result["msg"]
    assert snapshot(config_dir) == before


@pytest.mark.parametrize("body", [
    '{ "AuthenticationEnabled" : true, "AuthenticationEnabled" : false }',
    '{ "RegisteredUsers" : { "a" : "first-secret-1x" },\n'
    '  "RegisteredUsers" : { "b" : "second-secret-2y" } }',
])
def test_a_key_defined_twice_in_one_file_is_refused_and_no_secret_shown(config_dir, body):
    (config_dir / "site.json").write_text(body + "\n")
    before = snapshot(config_dir)
    result = run_module({"path": str(config_dir), "settings": {"AuthenticationEnabled": True}},
                        "--diff")
    assert result["failed"] is True, result
    assert "is defined twice in this file" in result["msg"] and "site.json" in result["msg"]
    assert "secret-1x" not in json.dumps(result) and "secret-2y" not in json.dumps(result)
    assert snapshot(config_dir) == before


def test_every_password_is_masked_in_diffs_and_output(config_dir):
    first = {"OrthancPeers": {"backup": ["http://10.0.0.9:8042/", "sync", "peer-secret-3p"]},
             "DicomWeb": {"Servers": {"vna": {"Url": "https://10.0.0.8/dicom-web/", "Username": "u",
                                              "Password": "web-secret-4w"}}},
             "HttpProxy": "proxyuser:proxy-secret-5x@10.0.0.7:3128",
             # a secret under a name that does not sound like one
             "Pkcs11": {"Module": "/usr/lib/softhsm/libsofthsm2.so", "Pin": "hsm-pin-7q"}}
    applied = run_module({"path": str(config_dir), "settings": first}, "--diff")
    second = run_module({"path": str(config_dir), "settings": {
        **first, "OrthancPeers": {"backup": ["http://10.0.0.9:8042/", "sync", "peer-secret-6n"]}}},
        "--diff", "--check")
    assert applied["changed"] is True and second["changed"] is True, (applied, second)
    text = json.dumps([applied, second])
    for secret in ("peer-secret-3p", "web-secret-4w", "proxy-secret-5x", "peer-secret-6n", "hsm-pin-7q"):
        assert secret not in text, secret
    # only the changed keys are in the diff, and their values only when the allowlist knows them
    diff = json.dumps(second["diff"])
    assert "OrthancPeers" in diff and "HttpProxy" not in diff and "(value not shown)" in diff
    assert "proxy-secret-5x" in (config_dir / "orthanc.json").read_text()
