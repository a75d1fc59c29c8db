"""Host-side checks of the hardened Orthanc container (testinfra over `podman exec`).

The scenario's verify playbook runs these with PG_PACS_CONTAINER (the container) and PG_POLICY
(the node's policy from inventory, user names only) in the environment.
"""

from __future__ import annotations

import re

import pytest
from node import HOSTS, POLICY

from pacsguard import orthanc, tlsfacts

testinfra_hosts = HOSTS
CONFIG_DIR = "/etc/orthanc"
TLS_DIR = "/etc/pacsguard/tls"


@pytest.fixture(scope="module")
def config(host):
    """Orthanc's configuration as Orthanc merges it, read from the container."""
    names = host.check_output(f"find {CONFIG_DIR} -maxdepth 1 -name '*.json' -printf '%f\\n'").split()
    files = {name: orthanc.parse_file(name, host.file(f"{CONFIG_DIR}/{name}").content_string)
             for name in names}
    assert not orthanc.duplicate_keys(files)
    merged = orthanc.merged(files, {})
    # Passwords stay out of assertion messages: only whether each is set.
    return {key: orthanc.masked(key, value) if value else value for key, value in merged.items()}


def test_orthanc_runs_as_its_own_user(host):
    service = host.service("orthanc")
    assert service.is_running and service.is_enabled
    assert host.check_output("ps -o user= -C Orthanc").split() == ["orthanc"]


def test_nobody_outside_the_allowlist_gets_a_service(config):
    for service in ("Echo", "Store", "Find", "FindWorklist", "Get", "Move"):
        assert config[f"DicomAlwaysAllow{service}"] is False
    assert config["DicomCheckCalledAet"] is True
    assert config["DicomCheckModalityHost"] is True
    assert config["DicomModalitiesInDatabase"] is False
    assert config["DicomAet"] == POLICY["ae_title"]
    assert config["DicomPort"] == int(POLICY["dicom_port"])


def test_one_modality_per_peer_bound_to_its_address_and_services(config):
    modalities = config["DicomModalities"]
    assert sorted(modalities) == sorted(peer["name"] for peer in POLICY["peers"])
    flags = {"echo": "AllowEcho", "store": "AllowStore", "find": "AllowFind",
             "find_worklist": "AllowFindWorklist", "get": "AllowGet", "move": "AllowMove"}
    for peer in POLICY["peers"]:
        entry = modalities[peer["name"]]
        assert (entry["AET"], entry["Host"], entry["Port"]) == (peer["ae_title"], peer["address"],
                                                                 int(peer.get("port", 104)))
        granted = {service for service, key in flags.items() if entry[key]}
        assert granted == set(peer.get("services", ["echo"]))
        assert entry["AllowStorageCommitment"] is False


def test_rest_api_requires_credentials(config, host):
    assert config["AuthenticationEnabled"] is True
    assert config["RemoteAccessAllowed"] is bool(POLICY["admin_sources"])
    assert config["WebDavEnabled"] is False
    assert config["ExecuteLuaEnabled"] is False
    # Behind the web TLS front its loopback-only port, else the web port.
    assert config["HttpPort"] == int(POLICY["http_listen_port"])
    assert sorted(config["RegisteredUsers"]) == sorted(POLICY["users"])
    assert all(password == orthanc.MASK for password in config["RegisteredUsers"].values())
    credentials = host.file(f"{CONFIG_DIR}/credentials.json")
    assert (credentials.user, credentials.group, credentials.mode) == ("root", "orthanc", 0o640)


def test_dicom_tls_is_mutual_and_its_key_private(config, host):
    if not POLICY["tls"]:
        pytest.skip("the scenario's policy has no pacs_tls")
    assert config["DicomTlsEnabled"] is True
    assert config["DicomTlsRemoteCertificateRequired"] is True
    directory = host.file(TLS_DIR)
    assert (directory.user, directory.group, directory.mode) == ("root", "orthanc", 0o750)
    key = host.file(f"{TLS_DIR}/node.key")
    assert (key.user, key.group, key.mode) == ("root", "orthanc", 0o640)
    assert not host.file(f"{TLS_DIR}/node-combined.pem").exists
    # a reviewer's view of the certificate, what a diff shows when it is rotated
    summary = host.file(f"{TLS_DIR}/node.crt.txt").content_string
    assert "serial: " in summary and "not_after: " in summary and "BEGIN" not in summary
    for key in ("DicomTlsCertificate", "DicomTlsPrivateKey", "DicomTlsTrustedCertificates"):
        assert host.file(config[key]).exists
    environment = host.check_output("systemctl show orthanc -p Environment")
    assert "OPENSSL_CONF=/etc/pacsguard/orthanc-openssl.cnf" in environment
    assert "MinProtocol = TLSv1." in host.file("/etc/pacsguard/orthanc-openssl.cnf").content_string


def test_orthanc_sets_its_own_tls_floor_and_suites_from_1_12_4(config):
    """Orthanc 1.12.4 and later take the TLS floor and the suites from its own settings."""
    version = tuple(int(part) for part in POLICY["version"].split("."))
    if not POLICY["tls"] or version < (1, 12, 4):
        pytest.skip(f"Orthanc {POLICY['version']} has no native TLS settings (or no pacs_tls)")
    assert config["DicomTlsMinimumProtocolVersion"] == (5 if POLICY["min_version"] == "TLSv1.3" else 4)
    assert config["DicomTlsCiphersAccepted"] == list(tlsfacts.BCP195_TLS12_SUITES)


def test_changed_files_were_backed_up(host):
    backups = host.check_output(f"find {CONFIG_DIR} -maxdepth 1 -name 'orthanc.json.*~'").split()
    assert backups, "no backup of orthanc.json"
    assert not host.check_output(f"find {CONFIG_DIR} -maxdepth 1 -name '.pacsguard-*'")


def test_firewall_admits_peers_to_dicom_and_nobody_else(host):
    table = host.check_output("nft list table inet pacsguard")
    for peer in POLICY["peers"]:
        assert peer["address"] in table
    drops = re.findall(r"tcp dport \{ ([0-9, ]+) \} drop", table)
    assert drops, "no final drop rule for the PACS ports"
    assert {int(port) for port in drops[-1].split(",")} == {int(POLICY["dicom_port"]),
                                                            int(POLICY["http_port"])}
    for source in POLICY["admin_sources"]:
        assert source.removesuffix("/32") in table


@pytest.mark.skipif(not POLICY["web_tls"],
                    reason="no web TLS (pacs_web_tls off, no pacs_tls): Orthanc serves the web port")
def test_web_tls_front_serves_https_and_orthanc_only_loopback(host):
    front = host.service("pacsguard-web-front")
    assert front.is_running and front.is_enabled
    text = host.file("/etc/pacsguard/web-front.conf").content_string
    for line in (f"accept = 0.0.0.0:{POLICY['http_port']}",
                 f"connect = 127.0.0.1:{POLICY['http_plaintext_port']}",
                 f"sslVersionMin = {POLICY['web_min_version']}", "options = NO_RENEGOTIATION",
                 "setuid = stunnel4"):
        assert line in text
    ciphers = re.search(r"^ciphers = (.+)$", text, re.M).group(1).split(":")
    assert ciphers and all(suite in tlsfacts.WEB_TLS12_SUITES for suite in ciphers), ciphers
    key = host.file("/etc/pacsguard/web-tls/web.key")
    assert (key.user, key.group, key.mode) == ("root", "stunnel4", 0o640)
    # Orthanc's own web port answers loopback only.
    table = host.check_output("nft list table inet pacsguard")
    assert f"tcp dport {POLICY['http_plaintext_port']} drop" in table  # nft prints one port bare
    # ... and still asks for credentials there (every request through the front comes from loopback).
    answer = host.check_output(f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{POLICY['http_plaintext_port']}; "
                               "printf \"GET /system HTTP/1.0\\r\\n\\r\\n\" >&3; head -1 <&3'")
    assert answer.split()[1] == "401", answer


def test_firewall_is_loaded_at_boot(host):
    persistent = host.file("/etc/nftables.d/pacsguard.nft")
    assert (persistent.user, persistent.mode) == ("root", 0o600)
    assert 'include "/etc/nftables.d/pacsguard.nft"' in host.file("/etc/nftables.conf").content_string
    assert host.service("nftables").is_enabled
    assert host.run("nft -c -f /etc/nftables.conf").rc == 0
