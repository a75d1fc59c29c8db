"""Host-side checks of the hardened dcmqrscp container (testinfra over `podman exec`).

The scenario's verify playbook runs these with PG_PACS_CONTAINER (the container) and PG_POLICY
(the node's policy from inventory) in the environment.
"""

from __future__ import annotations

import re

import pytest
from node import HOSTS, POLICY

from pacsguard import dcmqrscp

testinfra_hosts = HOSTS
CONFIG = "/etc/dcmtk/dcmqrscp.cfg"
TLS_DIR = "/etc/pacsguard/tls"
# Who serves DICOM TLS on this node: the front (DCMTK before 3.6.9) or dcmqrscp itself.
FRONT = POLICY["tls_front"]
# Where dcmqrscp itself listens: its loopback-only port behind the front, else the DICOM port.
LISTEN_PORT = int(POLICY["backend_port"] if FRONT else POLICY["dicom_port"])
front_only = pytest.mark.skipif(not FRONT, reason="dcmqrscp speaks TLS itself on this node")
native_only = pytest.mark.skipif(FRONT, reason="the TLS front serves this node")


@pytest.fixture(scope="module")
def config(host):
    return dcmqrscp.parse(host.file(CONFIG).content_string)


@pytest.fixture(scope="module")
def routes(host):
    """Peer name -> (front port, loopback source), read from the front's stunnel configuration; on
    a node where dcmqrscp speaks TLS itself, the peer's own address and no front port."""
    if not FRONT:
        return {peer["name"]: (None, peer["address"]) for peer in POLICY["peers"]}
    text = host.file("/etc/pacsguard/tls-front.conf").content_string
    found = re.findall(r"\[peer-([^\]]+)\]\naccept = 0\.0\.0\.0:(\d+)\nconnect = 127\.0\.0\.1:(\d+)\n"
                       r"local = (127\.[0-9.]+)", text)
    assert {backend for _, _, backend, _ in found} == {str(LISTEN_PORT)}
    return {name: (int(port), source) for name, port, _, source in found}


def test_dcmqrscp_runs_as_dcmtk_with_address_matching(host):
    service = host.service("dcmqrscp")
    assert service.is_running and service.is_enabled
    assert set(host.check_output("ps -o user= -C dcmqrscp").split()) == {"dcmtk"}
    assert "--disable-host-lookup" in host.check_output("systemctl show dcmqrscp -p ExecStart")
    backups = host.check_output("find /etc/systemd/system -maxdepth 1 -name 'dcmqrscp.service.*~'")
    assert backups, "the site's own unit was not kept as a backup"


def test_only_the_archive_row_remains_and_it_admits_exactly_the_peers(config, routes):
    assert dcmqrscp.open_rows(config) == []
    assert [row.ae_title for row in config.rows] == [POLICY["ae_title"]]
    hosts = [line for line in config.hosts if line.startswith(dcmqrscp.SYMBOL_PREFIX)]
    assert len(hosts) == len(POLICY["peers"])
    for peer in POLICY["peers"]:
        # Behind the front each AE title is bound to its peer's own loopback address; without it to
        # the peer's own address.
        _, source = routes[peer["name"]]
        assert dcmqrscp.host_entry({**peer, "address": source}) in hosts
    assert len({source for _, source in routes.values()}) == len(POLICY["peers"])


def test_the_stored_studies_stayed(host, config):
    row = config.rows[0]
    assert row.storage == f"/var/lib/dcmtk/db/{POLICY['ae_title']}"
    area = host.file(row.storage)
    assert (area.user, area.group) == ("dcmtk", "dcmtk")
    # Counts only: one object stored before hardening, its index kept.
    assert host.file(f"{row.storage}/index.dat").exists
    files = host.check_output(f"find {row.storage} -type f ! -name index.dat | wc -l")
    assert int(files) >= 1


def test_listening_port_and_settings(host, config):
    settings = "\n".join(config.head)
    assert re.search(rf"^NetworkTCPPort\s*=\s*{LISTEN_PORT}$", settings, re.M)
    assert re.search(r"^UserName\s*=\s*dcmtk$", settings, re.M)
    listening = host.check_output("ss -Htln")
    assert re.search(rf":{LISTEN_PORT}\s", listening), listening
    if FRONT:
        assert not re.search(rf":{POLICY['dicom_port']}\s", listening), "something listens on the DICOM port"
    else:
        assert host.run("pgrep -x stunnel4").rc != 0, "a TLS front still runs"


@front_only
def test_front_is_mutual_tls_with_a_private_key(host):
    assert POLICY["tls"]
    front = host.service("pacsguard-tls-front")
    assert front.is_running and front.is_enabled
    text = host.file("/etc/pacsguard/tls-front.conf").content_string
    for line in ("requireCert = yes", "verifyChain = yes", f"sslVersionMin = {POLICY['min_version']}",
                 "setuid = stunnel4"):
        assert line in text
    key = host.file(f"{TLS_DIR}/node.key")
    assert (key.user, key.group, key.mode) == ("root", "stunnel4", 0o640)
    assert set(host.check_output("ps -o user= -C stunnel4").split()) == {"stunnel4"}


@native_only
def test_dcmqrscp_speaks_mutual_tls_itself_with_its_floor(host):
    """DCMTK 3.6.9: +tls with the node's key, the trusted CAs, the BCP 195 profile, client
    certificates required; the service's OpenSSL policy holds the floor; no front runs."""
    assert POLICY["tls"]
    command = host.check_output("ps -o args= -C dcmqrscp")
    assert (f"+tls {TLS_DIR}/node.key {TLS_DIR}/node.crt +cf {TLS_DIR}/trusted-ca.crt +pg -rc"
            in command), command
    environment = host.check_output("systemctl show dcmqrscp -p Environment")
    assert "OPENSSL_CONF=/etc/pacsguard/dcmqrscp-openssl.cnf" in environment
    policy = host.file("/etc/pacsguard/dcmqrscp-openssl.cnf").content_string
    assert re.search(rf"^MinProtocol = {POLICY['min_version']}$", policy, re.M)
    key = host.file(f"{TLS_DIR}/node.key")
    assert (key.user, key.group, key.mode) == ("root", "dcmtk", 0o640)
    # No front runs or starts at boot (on a node that never had one, systemd does not know it).
    assert host.run("systemctl is-active --quiet pacsguard-tls-front").rc != 0
    assert host.run("systemctl is-enabled --quiet pacsguard-tls-front").rc != 0


@front_only
def test_steering_redirects_each_peer_and_keeps_the_plaintext_port_local(host, routes):
    table = host.check_output("nft list table inet pacsguard_front")
    for peer in POLICY["peers"]:
        port, _ = routes[peer["name"]]
        assert f"{peer['address']} : {port}" in table
    assert f'tcp dport {LISTEN_PORT} iifname != "lo" drop' in table
    firewall = host.check_output("nft list table inet pacsguard")
    assert f"tcp dport {LISTEN_PORT} drop" in firewall
    assert f"ct original proto-dst {POLICY['dicom_port']}" in firewall


def test_the_tables_are_loaded_at_boot(host):
    conf = host.file("/etc/nftables.conf").content_string
    assert 'include "/etc/nftables.d/pacsguard.nft"' in conf
    # The front's steering table only where the front serves; retired where dcmqrscp speaks TLS.
    assert ('include "/etc/nftables.d/pacsguard-front.nft"' in conf) == FRONT
    assert (host.run("nft list table inet pacsguard_front").rc == 0) == FRONT
    assert host.service("nftables").is_enabled
    assert host.run("nft -c -f /etc/nftables.conf").rc == 0
