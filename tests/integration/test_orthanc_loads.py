"""The configuration audit reads what a real Orthanc reads: every file of its configuration
directory whose extension is .json in any case, dot-files included. Orthanc is started with a key in
``Z.JSON`` and another in ``.site.json``; its log names both files as read, its REST API shows their
values in force, and the audit's reader finds the same files and values."""

from __future__ import annotations

import json
import urllib.request

import pytest

import pacslab
from pacsguard.hostaudit import orthanc as orthanc_audit
from pacsguard.hostaudit.host import Host
from pacsguard.hostaudit.model import Node

pytestmark = pytest.mark.integration
FILES = {"Z.JSON": {"DicomAet": "FROMUPPER"}, ".site.json": {"Name": "from-a-dot-file"}}


def test_the_audit_reads_the_files_orthanc_loads(servers, workdir):
    server = servers("orthanc-file-names", lambda: pacslab.start_orthanc(workdir, "orthanc-file-names",
                                                                         files=FILES))
    with urllib.request.urlopen(f"{server.web_url}/system", timeout=10) as answer:
        system = json.load(answer)
    # Orthanc itself loaded both files (the values are in force)
    assert (system["DicomAet"], system["Name"]) == ("FROMUPPER", "from-a-dot-file")
    log = (server.workdir / "orthanc.log").read_text(errors="replace")
    assert "Z.JSON" in log and ".site.json" in log
    node = Node(Host("/"), "orthanc", "", None)
    orthanc_audit.load(node, str(server.workdir / "config"))
    names = sorted(path.rsplit("/", 1)[1] for path in node.config_paths)
    assert names == [".site.json", "Z.JSON", "orthanc.json"], names
    assert node.config.values["DicomAet"] == "FROMUPPER" and node.config.values["Name"] == "from-a-dot-file"
    assert node.config_error == ""
