"""The controller checks run two ways: as modules (a process each) and as the pacs_policy role's action
plugins (in the task's worker, as the roles run them). Both must answer alike: the policy resolved,
the role settings' token check, warnings, refusals, and secrets kept out of every output."""

import json
import subprocess

import pytest

from .conftest import ANSIBLE_ENV, BIN, ROOT

pytestmark = pytest.mark.integration
POLICY = {"product": "orthanc", "ae_title": "ARCHIVE1", "peers": [],
          "rest_users": [{"name": "pacsadmin", "password": "integration-secret-4q-long"}]}
# passwords of the policies below: in no output of any run
SECRETS = ("integration-secret-4q", "4q-short-x")
ACTIONS = ROOT / "roles" / "pacs_policy" / "action_plugins"
WAYS = {"module": {"ANSIBLE_ACTION_PLUGINS": "/nonexistent"},
        "action plugin": {"ANSIBLE_ACTION_PLUGINS": str(ACTIONS)}}


def run(way: str, module: str, args: dict) -> dict:
    """One task on the controller, the way named; its result (the secret in no output at all)."""
    env = dict(ANSIBLE_ENV, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", **WAYS[way])
    done = subprocess.run([str(BIN / "ansible"), "localhost", "-m", module, "-a", json.dumps(args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    for secret in SECRETS:
        assert secret not in done.stdout + done.stderr
    return json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def both(module: str, args: dict) -> dict:
    """The result, asserted equal both ways (less what only a module run carries)."""
    results = {way: run(way, module, args) for way in WAYS}
    for result in results.values():
        for key in ("invocation", "_ansible_no_log", "exception"):
            result.pop(key, None)
    assert results["module"] == results["action plugin"]
    return results["module"]


def test_the_action_plugin_runs_in_the_worker_not_a_module_process():
    """Break the module (it is not used then): the action plugin still answers."""
    result = run("action plugin", "pacs_policy", {**POLICY, "tokens": {"pacs_orthanc_service": "orthanc"}})
    assert result.get("failed") is not True, result.get("msg")
    assert result["policy"]["ae_title"] == "ARCHIVE1" and result["policy"]["dicom_port"] == 4242
    assert "invocation" not in result  # a module run carries its invocation; the worker's does not


def test_plain_settings_pass():
    result = both("pacs_policy", {**POLICY, "tokens": {"pacs_orthanc_service": "orthanc",
                                                       "pacs_orthanc_config_dir": "/etc/orthanc"}})
    assert result.get("failed") is not True, result.get("msg")
    assert result["policy"]["product"] == "orthanc"


@pytest.mark.parametrize("value", ["orthanc\nExecStartPre=/bin/sh", "/etc/my orthanc", "a;b", "$HOME"])
def test_a_setting_that_would_not_stay_one_token_is_refused_with_its_name(value):
    result = both("pacs_policy", {**POLICY, "tokens": {"pacs_orthanc_config_dir": value}})
    assert result.get("failed") is True
    assert "pacs_orthanc_config_dir" in result["msg"] and "one plain token" in result["msg"]


def test_a_short_password_is_refused_without_showing_it():
    users = [{"name": "pacsadmin", "password": "4q-short-x"}]  # under 12 characters
    result = both("pacs_policy", {**POLICY, "rest_users": users})
    assert result.get("failed") is True and "pacsadmin" in result["msg"] and "shorter" in result["msg"]


def test_many_nodes_and_their_warnings():
    nodes = {"a": {"product": "orthanc", "ae_title": "ARCHIVE1"},
             "b": {"product": "orthanc", "ae_title": "bad\\title"}}
    result = both("pacs_policy", {"nodes": nodes})
    assert result["policies"]["a"]["policy"]["ae_title"] == "ARCHIVE1"
    assert result["policies"]["b"]["policy"] is None and result["policies"]["b"]["errors"]


def test_bad_options_are_refused_alike():
    result = both("pacs_policy", {"product": "orthanc"})  # ae_title must come with product
    assert result.get("failed") is True and "ae_title" in result["msg"]


@pytest.mark.parametrize("values, refused", [({"pacs_tls_dir": "/etc/pacsguard/tls"}, False),
                                             ({"pacs_tls_dir": "/etc/x\n[evil]"}, True)])
def test_render_check_tokens(values, refused):
    result = both("pacs_render_check", {"language": "tokens", "values": values})
    assert bool(result.get("failed")) is refused
    if refused:
        assert "pacs_tls_dir" in result["msg"]


def test_render_check_reads_stunnel_back():
    routes = [{"name": "ct-scanner-1", "front_port": 4242, "source": "10.0.0.5"}]
    good = ("requireCert = yes\n[peer-ct-scanner-1]\naccept = 0.0.0.0:4242\nconnect = 127.0.0.1:11113\n"
            "local = 10.0.0.5\n")
    passed = both("pacs_render_check", {"language": "stunnel", "content": good, "routes": routes,
                                        "backend_port": 11113, "options": {"requireCert": "yes"}})
    refused = both("pacs_render_check", {"language": "stunnel", "content": good + "exec = /bin/sh\n",
                                         "routes": routes, "backend_port": 11113})
    assert refused.get("failed") is True and "exec" in refused["msg"]
    assert passed.get("failed") is not True, passed.get("msg")
    assert passed["services"] == ["peer-ct-scanner-1"]


def test_key_material_given_inline_is_never_echoed():
    """A private key pasted where a path belongs: refused by name, its text in no output."""
    key = "-----BEGIN PRIVATE KEY-----\nintegration-secret-4q-key\n-----END PRIVATE KEY-----\n"
    result = both("pacs_policy", {"product": "orthanc", "ae_title": "ARCHIVE1", "peers": [],
                                  "tls": {"certificate": "/nonexistent/server.crt", "private_key": key,
                                          "ca": "/nonexistent/ca.crt"}})
    assert result.get("failed") is True and "private_key" in result["msg"]
