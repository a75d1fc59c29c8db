"""Debian's dcmqrscp.cfg with the allowlist pacsguard writes, run by the real dcmqrscp."""

import re
import subprocess
import time
from pathlib import Path

import pytest

import pacslab
from pacsguard import dcmqrscp
from pacsguard.probe import Target, probe

pytestmark = pytest.mark.integration
DEBIAN = Path("/etc/dcmtk/dcmqrscp.cfg")
PEERS = [{"name": "ct-scanner-1", "ae_title": "CT01", "address": "127.0.0.1", "port": 104,
          "services": ["echo", "find"]},
         {"name": "reading-room", "ae_title": "RWS1", "address": "127.0.0.3", "port": 11112,
          "services": ["echo", "find"]}]


@pytest.fixture(scope="module")
def hardened_dcmqrscp(tmp_path_factory):
    if not DEBIAN.exists():
        pytest.skip("Debian's dcmtk package is not installed")
    workdir = tmp_path_factory.mktemp("dcmqrscp")
    port = pacslab.free_port()
    text = re.sub(r"(?m)^NetworkTCPPort\s*=.*$", f"NetworkTCPPort = {port}", DEBIAN.read_text())
    text = re.sub(r"(?m)^(UserName|GroupName)\s*=.*$", "", text)
    config = dcmqrscp.parse(text)
    (workdir / "db").mkdir()
    dcmqrscp.apply_peers(config, "ARCHIVE1", str(workdir / "db"), PEERS)
    (workdir / "dcmqrscp.cfg").write_text(dcmqrscp.render(config))
    log = open(workdir / "dcmqrscp.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(["dcmqrscp", "-dhl", "-c", str(workdir / "dcmqrscp.cfg")], stdout=log,
                            stderr=subprocess.STDOUT, cwd=workdir)
    try:
        pacslab.wait_for_port("127.0.0.1", port, time.monotonic() + 20, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_listed_peer_accepted_everybody_else_refused(hardened_dcmqrscp):
    result = probe(Target(host="127.0.0.1", port=hardened_dcmqrscp, called_ae_title="ARCHIVE1",
                          peers=tuple(PEERS), timeout=3)).as_dict()
    checks = result["checks"]
    assert checks["positive_control"]["status"] == "pass"
    for rule in ("PACS-NET-001", "PACS-NET-002", "PACS-NET-006"):
        assert checks[rule]["status"] == "pass", (rule, checks[rule])
    # dcmqrscp has no per-service grant: peers given echo and find may retrieve too (PACS-NET-007)
    network = [f for f in result["findings"] if f["id"].startswith("PACS-NET")]
    assert [f["id"] for f in network] == ["PACS-NET-007"]
    assert "CT01 (granted echo, find) may use get, move though" in network[0]["evidence"]


def test_listed_ae_from_another_address_refused(hardened_dcmqrscp):
    result = probe(Target(host="127.0.0.1", port=hardened_dcmqrscp, called_ae_title="ARCHIVE1",
                          calling_ae_title="CT01", bind_address="127.0.0.2", timeout=3)).as_dict()
    control = result["checks"]["positive_control"]
    # The positive control could not be accepted: the listed AE is rejected from a foreign address.
    assert control["status"] == "error" and "A-ASSOCIATE-RJ" in control["detail"], control
