"""Hostile and broken servers: every probe ends within its bounds with a clear result, never a hang,
a traceback or a failed module; an ordinary server that offers fewer services is reported, not failed."""

from __future__ import annotations

import json
import subprocess
import time

import hostile
import pytest

import pacslab
from pacsguard import dicomnet

from .conftest import run_probe, status
from .test_ansible import BIN, ENV, ROOT, _playbook

pytestmark = pytest.mark.integration
TIMEOUT = 1.0


@pytest.fixture
def hostile_server(request):
    server = hostile.start(request.param)
    yield server
    server.stop()


def _timed(server, **kwargs) -> tuple[dict, float]:
    started = time.monotonic()
    result = run_probe(server, timeout=TIMEOUT, **kwargs)
    return result, time.monotonic() - started


@pytest.mark.parametrize("hostile_server", ["dribble_accept", "accept_then_silent"], indirect=True)
def test_a_server_that_stalls_mid_exchange_costs_a_bounded_time(hostile_server):
    result, seconds = _timed(hostile_server)
    # each association is bounded by timeout x (3 + DIMSE checks); the run by its deadline
    assert seconds < TIMEOUT * 13 + 2 + 3, seconds
    assert result["checks"]["PACS-NET-001"]["status"] in ("error", "fail")
    assert result["verdict"] in ("inconclusive", "fail")
    if hostile_server.name == "dribble_accept":
        # the association's answer is read within the timeout however it trickles (socket path)
        assert "no A-ASSOCIATE answer within 1 s" in result["checks"]["PACS-NET-001"]["detail"]


@pytest.mark.parametrize("hostile_server", ["huge_pdu"], indirect=True)
def test_a_pdu_over_the_cap_is_not_read(hostile_server):
    result, seconds = _timed(hostile_server)
    assert seconds < 10, seconds
    assert "announced a PDU of 4294967280 bytes" in json.dumps(result["checks"]), result["checks"]


@pytest.mark.parametrize("hostile_server", ["garbage", "silent"], indirect=True)
def test_a_port_that_speaks_no_dicom_is_an_error_not_a_crash(hostile_server):
    result, seconds = _timed(hostile_server)
    assert seconds < TIMEOUT * 13 + 2 + 3, seconds
    assert status(result, "transport") == "error" or "deadline" in result["checks"]
    assert result["verdict"] == "inconclusive"


def test_a_tls_server_that_goes_silent_after_the_handshake_is_bounded(pki):
    server = hostile.start("silent", hostile.tls_server_context(pki["server_cert"], pki["server_key"]))
    try:
        started = time.monotonic()
        result = run_probe(server, timeout=TIMEOUT, deadline=8.0, tls_ca=pki["ca_cert"],
                           tls_client_certificate=pki["client_ct01_cert"],
                           tls_client_key=pki["client_ct01_key"])
        seconds = time.monotonic() - started
    finally:
        server.stop()
    assert seconds < 8.0 + 3, seconds
    assert result["endpoint"]["transport"] == "tls"
    assert any(check["status"] == "error" for check in result["checks"].values())


def test_the_deadline_stops_the_whole_run_and_says_so():
    server = hostile.start("dribble_accept")
    try:
        started = time.monotonic()
        result = run_probe(server, timeout=2.0, deadline=3.0)
        seconds = time.monotonic() - started
    finally:
        server.stop()
    assert seconds < 3.0 + 3, seconds
    assert result["checks"]["deadline"]["status"] == "error"
    assert "deadline of 3 s" in result["checks"]["deadline"]["detail"]
    assert result["verdict"] == "inconclusive"


@pytest.mark.parametrize("name", ["http_dribble", "http_endless"])
def test_a_web_port_that_dribbles_or_never_ends_is_bounded(accept_anything, name):
    web = hostile.start(name)
    try:
        started = time.monotonic()
        result = run_probe(accept_anything, timeout=TIMEOUT,
                           web_url=f"http://127.0.0.1:{web.port}")
        seconds = time.monotonic() - started
    finally:
        web.stop()
    assert seconds < 15, seconds
    assert "PACS-WEB-001" in result["checks"]
    # the accept-anything archive is still reported in full
    assert status(result, "PACS-NET-001") == "fail"


def test_endless_find_responses_are_counted_up_to_the_cap(monkeypatch):
    """A server streaming pending C-FIND responses: counting stops at the cap, the finding stays."""
    from pydicom.dataset import Dataset
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

    monkeypatch.setattr(dicomnet, "MAX_FIND_RESPONSES", 50)

    def endless(event):
        while True:
            match = Dataset()
            match.QueryRetrieveLevel = "STUDY"
            yield 0xFF00, match

    ae = AE(ae_title="ENDLESS")
    ae.add_supported_context(Verification)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    port = pacslab.free_port()
    scp = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_FIND, endless)])
    try:
        result = run_probe(pacslab.Server("endless", "ENDLESS", port), timeout=TIMEOUT)
    finally:
        scp.shutdown()
    finding = next(f for f in result["findings"] if f["id"] == "PACS-NET-003")
    assert "answered with 50 matching studies" in finding["evidence"]


def test_dcmtk_storescp_is_reported_not_failed(workdir):
    """storescp offers Verification and Storage only: the missing C-FIND is a fact, not an error."""
    port = pacslab.free_port()
    folder = workdir / "storescp"
    folder.mkdir(exist_ok=True)
    proc = subprocess.Popen(["storescp", "-od", str(folder), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        pacslab.wait_for_port("127.0.0.1", port, time.monotonic() + 20, proc)
        result = run_probe(pacslab.Server("storescp", "STORESCP", port, proc=proc), timeout=3.0,
                           intrusive=True)
        adhoc = subprocess.run(
            [str(BIN / "ansible"), "localhost", "-m", "dicom_probe", "-a",
             f"host=127.0.0.1 port={port} called_ae_title=STORESCP timeout=3"],
            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert status(result, "PACS-NET-001") == "fail"
    assert status(result, "PACS-NET-004") == "fail"
    assert status(result, "PACS-NET-005") == "fail"
    assert status(result, "PACS-NET-003") == "pass"
    assert "not offered" in result["checks"]["PACS-NET-003"]["detail"]
    module = json.loads(adhoc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert not module.get("failed"), module
    assert {"PACS-NET-001", "PACS-TLS-001"} <= {f["id"] for f in module["findings"]}


def test_audit_playbook_reports_every_host_when_one_is_hostile(tmp_path, dcmqrscp_open):
    server = hostile.start("dribble_accept")
    peers = [{"name": "ct", "ae_title": "CT01", "address": "127.0.0.1"}]
    # loopback processes, not hosts: the network part only
    hosts = {
        "hostile": {"ansible_host": "127.0.0.1", "pacs_product": "dcmqrscp", "pacs_ae_title": "HOSTILE",
                    "pacs_dicom_port": server.port, "pacs_peers": peers, "pacs_audit_timeout": 1,
                    "pacs_audit_host_enabled": False},
        "open": {"ansible_host": "127.0.0.1", "pacs_product": "dcmqrscp", "pacs_ae_title": "DCMQRSCP",
                 "pacs_dicom_port": dcmqrscp_open.port, "pacs_peers": peers, "pacs_audit_timeout": 3,
                 "pacs_audit_host_enabled": False},
    }
    try:
        started = time.monotonic()
        run, reports = _playbook(tmp_path, hosts)
        seconds = time.monotonic() - started
    finally:
        server.stop()
    assert run.returncode != 0
    assert seconds < 60, seconds
    document = json.loads((reports / "pacsguard-audit.json").read_text())
    verdicts = {h["name"]: h["verdict"] for h in document["hosts"]}
    assert verdicts["open"] == "fail"
    assert verdicts["hostile"] in ("inconclusive", "error")
