"""dcmqrscp, stand-in servers for behaviours no product shows on demand, and the bounds on waiting."""

import time

import pytest

import pacslab

from .conftest import rule_ids, run_probe, status

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("intrusive", [False, True], ids=["association-checks", "with-store"])
def test_dcmqrscp_shared_area_gives_data_to_anybody(dcmqrscp_open, intrusive):
    """The unknown AE's C-ECHO and C-FIND go over pynetdicom when a C-STORE is tried too, over the
    probe's own socket path otherwise: the same answers either way (the socket path first: the other
    stores a probe object, a second study)."""
    result = run_probe(dcmqrscp_open, intrusive=intrusive)
    assert {"PACS-NET-001", "PACS-NET-003", "PACS-NET-004", "PACS-NET-006",
            "PACS-TLS-001"} <= rule_ids(result)
    assert status(result, "PACS-NET-005") == ("fail" if intrusive else "skipped")
    assert result["checks"]["PACS-NET-004"]["detail"].endswith("answered 0x0000")
    find = next(f for f in result["findings"] if f["id"] == "PACS-NET-003")
    assert "answered with 1 matching studies" in find["evidence"]
    # dcmqrscp checks the called AE even in its open configuration
    assert status(result, "PACS-NET-002") == "pass"


def test_dcmqrscp_host_table_refuses_rogue_wrong_host_and_wrong_called_ae(dcmqrscp_listed):
    result = run_probe(dcmqrscp_listed, intrusive=True)
    assert status(result, "positive_control") == "pass"
    for rule in ("PACS-NET-001", "PACS-NET-002", "PACS-NET-003", "PACS-NET-004", "PACS-NET-005",
                 "PACS-NET-006"):
        assert status(result, rule) == "pass", (rule, result["checks"][rule])
    assert rule_ids(result) == {"PACS-TLS-001"}


def test_rejections_are_never_mistaken_for_aborts(dcmqrscp_listed):
    """pynetdicom may report dcmqrscp's A-ASSOCIATE-RJ as an abort; the probe must not."""
    for _ in range(10):
        result = run_probe(dcmqrscp_listed, foreign_ae_title=None)
        assert status(result, "PACS-NET-001") == "pass", result["checks"]["PACS-NET-001"]


def test_accept_anything_server_fails_every_ae_rule(accept_anything):
    result = run_probe(accept_anything, intrusive=True)
    assert {"PACS-NET-001", "PACS-NET-002", "PACS-NET-003", "PACS-NET-004", "PACS-NET-005",
            "PACS-NET-006"} <= rule_ids(result)


def test_peers_list_chooses_the_controls(dcmqrscp_listed):
    peers = ({"ae_title": "RWS1", "address": "127.0.0.3"}, {"ae_title": "CT01", "address": "127.0.0.0/30"})
    result = run_probe(dcmqrscp_listed, calling_ae_title=None, foreign_ae_title=None, peers=peers)
    assert "CT01" in result["checks"]["positive_control"]["detail"]
    assert "RWS1" in result["checks"]["PACS-NET-006"]["detail"]


def test_silent_port_ends_within_a_few_timeouts(silent):
    started = time.monotonic()
    result = run_probe(silent, timeout=1.0)
    elapsed = time.monotonic() - started
    # a hang guard, not a speed target: without timeouts this waits for minutes
    assert elapsed < 6.0, elapsed
    assert result["verdict"] == "inconclusive"
    assert status(result, "transport") == "error"
    assert "within 1 s" in result["checks"]["transport"]["detail"]


def test_closed_port_is_unreachable_and_outside_position_passes():
    port = pacslab.free_port()
    server = pacslab.Server("closed", "NOBODY", port)
    inside = run_probe(server)
    assert status(inside, "reachable") == "error" and inside["verdict"] == "inconclusive"
    outside = run_probe(server, position="outside")
    assert outside["verdict"] == "pass" and status(outside, "PACS-FW-001") == "pass"


def test_open_port_from_outside_position_is_a_firewall_finding(dcmqrscp_listed):
    result = run_probe(dcmqrscp_listed, position="outside", calling_ae_title=None)
    finding = next(f for f in result["findings"] if f["id"] == "PACS-FW-001")
    assert f"DICOM 127.0.0.1:{dcmqrscp_listed.port}" in finding["evidence"]
