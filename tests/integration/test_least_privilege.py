"""PACS-NET-007 both ways against real servers: from a listed peer's own address, every service the
policy does not grant it must be refused."""

import pytest

import pacslab

from .conftest import HARDENED, rule_ids, run_probe, status

pytestmark = pytest.mark.integration

# The hardened Orthanc grants CT01 (127.0.0.1) echo, store and find, and nothing to anybody else.
CT01 = {"name": "ct01", "ae_title": "CT01", "address": "127.0.0.1"}
RWS1 = {"name": "rws1", "ae_title": "RWS1", "address": "127.0.0.3", "services": ["get", "move"]}


def _finding(result: dict) -> dict:
    return next(f for f in result["findings"] if f["id"] == "PACS-NET-007")


def test_hardened_orthanc_refuses_what_the_peer_was_not_granted(orthanc_hardened):
    peers = [{**CT01, "services": ["echo", "store", "find"]}, RWS1]
    result = run_probe(orthanc_hardened, peers=peers)
    assert status(result, "PACS-NET-007") == "pass", result["checks"]["PACS-NET-007"]
    detail = result["checks"]["PACS-NET-007"]["detail"]
    # get and move were asked for and refused; Orthanc without a worklist plugin offers none
    assert "get: A-ABORT" in detail or "get: no DIMSE status" in detail
    assert "find_worklist: not offered" in detail


def test_a_service_the_policy_removed_but_the_node_still_grants_is_flagged(orthanc_hardened):
    # the policy now grants CT01 echo only; the running Orthanc still answers its C-FIND
    peers = [{**CT01, "services": ["echo"]}, RWS1]
    result = run_probe(orthanc_hardened, peers=peers, intrusive=True)
    assert "PACS-NET-007" in rule_ids(result)
    evidence = _finding(result)["evidence"]
    assert "CT01 (granted echo) may use store, find though" in evidence
    assert _finding(result)["severity"] == "high"


def test_store_is_tried_only_when_intrusive(orthanc_hardened):
    peers = [{**CT01, "services": ["echo", "find"]}, RWS1]
    assert status(run_probe(orthanc_hardened, peers=peers), "PACS-NET-007") == "pass"
    assert "PACS-NET-007" in rule_ids(run_probe(orthanc_hardened, peers=peers, intrusive=True))


def test_dcmqrscp_grants_queries_to_every_listed_peer(dcmqrscp_listed):
    # dcmqrscp has no per-service grant: a modality allowed to store may query and retrieve too
    peers = [{**CT01, "services": ["echo", "store"]},
             {"name": "rws1", "ae_title": "RWS1", "address": "127.0.0.3"}]
    result = run_probe(dcmqrscp_listed, peers=peers)
    assert "may use find, get, move though" in _finding(result)["evidence"]
    everything = [{**CT01, "services": ["echo", "store", "find", "get", "move"]}, peers[1]]
    assert status(run_probe(dcmqrscp_listed, peers=everything), "PACS-NET-007") == "pass"


def test_without_the_peers_services_the_check_is_skipped_not_guessed(orthanc_hardened):
    result = run_probe(orthanc_hardened)
    assert status(result, "PACS-NET-007") == "skipped"


def test_a_modality_without_allow_flags_is_granted_everything(servers, workdir):
    # Orthanc's per-modality Allow* flags default to true: an entry that lists none (as one added
    # by hand often does) grants C-GET and C-MOVE though the policy gives the peer echo only
    settings = {**HARDENED, "DicomModalities": {
        "ct01": {"AET": "CT01", "Host": "127.0.0.1", "Port": 104}}}
    server = servers("orthanc-no-flags",
                     lambda: pacslab.start_orthanc(workdir, "orthanc-no-flags", settings))
    result = run_probe(server, peers=[{**CT01, "services": ["echo"]}], foreign_ae_title=None)
    assert "may use find, get, move though" in _finding(result)["evidence"]
