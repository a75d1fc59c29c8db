"""pacs_policy's token check of role settings, run as the Orthanc role runs it (on the controller,
with the REST users' check in the same module run)."""

import json

import pytest

from .test_pacs_files_module import run_module

pytestmark = pytest.mark.integration
POLICY = {"product": "orthanc", "ae_title": "ARCHIVE1", "peers": [],
          "rest_users": [{"name": "pacsadmin", "password": "integration-secret-4q-long"}]}


def test_plain_settings_pass():
    result = run_module("pacs_policy", {**POLICY, "tokens": {"pacs_orthanc_service": "orthanc",
                                                              "pacs_orthanc_config_dir": "/etc/orthanc"}})
    assert result.get("failed") is not True, result.get("msg")


@pytest.mark.parametrize("value", ["orthanc\nExecStartPre=/bin/sh", "/etc/my orthanc", "a;b", "$HOME"])
def test_a_setting_that_would_not_stay_one_token_is_refused_with_its_name(value):
    result = run_module("pacs_policy", {**POLICY, "tokens": {"pacs_orthanc_config_dir": value}})
    assert result.get("failed") is True
    assert "pacs_orthanc_config_dir" in result["msg"] and "one plain token" in result["msg"]
    assert "integration-secret-4q" not in json.dumps(result)
