"""dcmqrscp.cfg: the allowlist written from the peer list, everything else kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacsguard import dcmqrscp

DEBIAN = Path("/etc/dcmtk/dcmqrscp.cfg")
SAMPLE = """# site header
NetworkTCPPort  = 104
MaxPDUSize      = 16384

HostTable BEGIN
# a comment inside
legacy = (OLDPACS, 10.0.0.9, 104)
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
COMMON  /var/lib/dcmtk/db/COMMON  RW (200, 1024mb) ANY
OTHER   /var/lib/dcmtk/db/OTHER   R  (10, 10mb)    legacy
AETable END
# trailer
"""
CT = {"name": "ct-scanner-1", "ae_title": "CT01", "address": "10.20.0.11", "port": 104,
      "services": ["echo", "store"]}
RWS = {"name": "reading-room", "ae_title": "RWS1", "address": "10.20.1.5", "port": 11112,
       "services": ["echo", "find", "get"]}


def test_parse_and_render_keep_the_file():
    config = dcmqrscp.parse(SAMPLE)
    assert [row.ae_title for row in config.rows] == ["COMMON", "OTHER"]
    assert dcmqrscp.open_rows(config) == ["COMMON"]
    assert [line for line in config.hosts if not line.startswith("#")] == [
        "legacy = (OLDPACS, 10.0.0.9, 104)"]
    assert dcmqrscp.render(config) == SAMPLE


def test_peers_replace_any_and_keep_other_entries():
    config = dcmqrscp.parse(SAMPLE)
    warnings = dcmqrscp.apply_peers(config, "COMMON", "/var/lib/dcmtk/db/COMMON", [CT])
    text = dcmqrscp.render(config)
    assert "pacsguard_ct_scanner_1 = (CT01, 10.20.0.11, 104)" in text
    assert "COMMON /var/lib/dcmtk/db/COMMON W (200, 1024mb) pacsguard_ct_scanner_1" in text
    assert "legacy = (OLDPACS, 10.0.0.9, 104)" in text and "OTHER" in text
    assert dcmqrscp.open_rows(dcmqrscp.parse(text)) == []
    # a modality given echo and store can still query and retrieve: dcmqrscp has no finer grant
    assert warnings == ["ct-scanner-1: dcmqrscp answers find, get, move from every listed peer, "
                        "which its services do not include (the audit reports PACS-NET-007)"]
    assert text.startswith("# site header\n") and text.endswith("# trailer\n")


def test_applying_twice_changes_nothing():
    config = dcmqrscp.parse(SAMPLE)
    dcmqrscp.apply_peers(config, "COMMON", "/var/lib/dcmtk/db/COMMON", [CT, RWS])
    once = dcmqrscp.render(config)
    again = dcmqrscp.parse(once)
    dcmqrscp.apply_peers(again, "COMMON", "/var/lib/dcmtk/db/COMMON", [CT, RWS])
    assert dcmqrscp.render(again) == once


def test_access_is_the_union_and_the_loss_is_said():
    config = dcmqrscp.parse(SAMPLE)
    warnings = dcmqrscp.apply_peers(config, "ARCHIVE1", "/srv/dcmqrscp/ARCHIVE1", [CT, RWS])
    row = next(r for r in config.rows if r.ae_title == "ARCHIVE1")
    assert row.access == "RW"
    access = [w for w in warnings if "grants RW" in w]
    assert len(access) == 2 and access[0].startswith("ct-scanner-1: dcmqrscp grants RW")
    assert [r.ae_title for r in config.rows] == ["OTHER", "ARCHIVE1"]  # the ANY row is gone


@pytest.mark.parametrize("services, access", [
    (["echo"], "R"), (["store"], "W"), (["find", "move"], "R"), (["store", "get"], "RW")])
def test_access_for(services, access):
    assert dcmqrscp.access_for(services) == access


def test_no_peer_removes_the_row():
    config = dcmqrscp.parse(SAMPLE)
    dcmqrscp.apply_peers(config, "COMMON", "/var/lib/dcmtk/db/COMMON", [])
    assert [row.ae_title for row in config.rows] == ["OTHER"]


@pytest.mark.parametrize("text, message", [
    ("HostTable BEGIN\nx = (A, b, 1)\n", "HostTable BEGIN without HostTable END"),
    ("HostTable BEGIN\nHostTable END\nAETable BEGIN\nCOMMON /x RWX (1, 1mb) ANY\nAETable END\n",
     "line 4: not an AETable row"),
    ("NetworkTCPPort = 104\n", "needs a HostTable and an AETable"),
])
def test_broken_files_are_named(text, message):
    with pytest.raises(dcmqrscp.DcmqrscpConfigError, match=message):
        dcmqrscp.parse(text)


@pytest.mark.skipif(not DEBIAN.exists(), reason="Debian's dcmtk package is not installed")
def test_debian_default_file_round_trips():
    text = DEBIAN.read_text()
    config = dcmqrscp.parse(text)
    assert config.rows == []
    assert all(not line.strip() or line.lstrip().startswith("#") for line in config.hosts)
    rendered = dcmqrscp.render(config)
    assert rendered.splitlines() == text.splitlines()


def test_settings_change_in_place_and_missing_ones_follow_the_last():
    config = dcmqrscp.parse(SAMPLE)
    dcmqrscp.set_settings(config, {"NetworkTCPPort": "11113", "UserName": "dcmtk"})
    text = dcmqrscp.render(config)
    assert "NetworkTCPPort  = 11113\nMaxPDUSize      = 16384\nUserName = dcmtk\n" in text
    assert "= 104\nMaxPDUSize" not in text
    again = dcmqrscp.parse(text)
    dcmqrscp.set_settings(again, {"NetworkTCPPort": "11113", "UserName": "dcmtk"})
    assert dcmqrscp.render(again) == text
