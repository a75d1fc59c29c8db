"""The node's plan: what the roles render and the probe checks, computed from the checked policy."""

from __future__ import annotations

import pytest

import pacslab
from pacsguard.plan import FRONT_PORT_BASE, SOURCES_PER_OCTET, orthanc_modalities
from pacsguard.policy import check_policy
from pacsguard.tlsfacts import BCP195_TLS12_SUITES

CT = {"name": "ct", "ae_title": "CT01", "address": "10.20.0.11", "services": ["echo", "store"]}
RWS = {"name": "rws", "ae_title": "RWS1", "address": "10.20.1.5", "port": 11112,
       "services": ["echo", "find", "move"]}
SIX = {"name": "six", "ae_title": "SIX1", "address": "2001:db8::5", "services": ["echo"]}


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> dict[str, str]:
    paths = pacslab.make_pki(tmp_path_factory.mktemp("pki"), ("CT01",))
    return {"certificate": paths["server_cert"], "private_key": paths["server_key"], "ca": paths["ca_cert"]}


def resolve(**policy) -> dict:
    report = check_policy({"ae_title": "ARCHIVE1", "address": "10.20.0.5", **policy})
    assert report.errors == [], report.errors
    return report.policy["plan"]


def refused(**policy) -> list[str]:
    report = check_policy({"ae_title": "ARCHIVE1", "address": "10.20.0.5", **policy})
    assert report.errors
    return report.errors


def test_orthanc_allowlist_binds_each_peer_and_grants_its_services_only():
    plan = resolve(product="orthanc", peers=[CT, RWS])
    assert plan["front_routes"] == []
    assert plan["allowlist"] == {
        "ct": {"AET": "CT01", "Host": "10.20.0.11", "Port": 104, "AllowEcho": True, "AllowStore": True,
               "AllowFind": False, "AllowFindWorklist": False, "AllowGet": False, "AllowMove": False,
               "AllowStorageCommitment": False, "UseDicomTls": False},
        "rws": {"AET": "RWS1", "Host": "10.20.1.5", "Port": 11112, "AllowEcho": True, "AllowStore": False,
                "AllowFind": True, "AllowFindWorklist": False, "AllowGet": False, "AllowMove": True,
                "AllowStorageCommitment": False, "UseDicomTls": False}}


def test_every_service_has_its_own_orthanc_flag():
    every = {"name": "all", "ae_title": "ALL", "address": "10.0.0.1", "port": 104, "tls": True,
             "services": ["echo", "store", "find", "find_worklist", "get", "move"]}
    flags = orthanc_modalities([every])["all"]
    assert all(flags[flag] for flag in ("AllowEcho", "AllowStore", "AllowFind", "AllowFindWorklist",
                                         "AllowGet", "AllowMove", "UseDicomTls"))
    assert flags["AllowStorageCommitment"] is False


def test_the_front_routes_peers_in_name_order_whatever_the_inventory_order(tls):
    routes = resolve(product="dcmqrscp", tls=tls, product_tls=False, peers=[RWS, CT])["front_routes"]
    assert routes == [
        {"name": "ct", "ae_title": "CT01", "address": "10.20.0.11", "front_port": FRONT_PORT_BASE,
         "source": "127.77.0.1"},
        {"name": "rws", "ae_title": "RWS1", "address": "10.20.1.5", "front_port": FRONT_PORT_BASE + 1,
         "source": "127.77.0.2"}]
    assert resolve(product="dcmqrscp", tls=tls, product_tls=False, peers=[CT, RWS])["front_routes"] == routes


def test_behind_the_front_dcmqrscp_lists_each_peer_from_its_loopback_source(tls):
    behind = resolve(product="dcmqrscp", tls=tls, product_tls=False, peers=[RWS, CT])["allowlist"]
    assert [(peer["name"], peer["address"]) for peer in behind] == [("rws", "127.77.0.2"),
                                                                    ("ct", "127.77.0.1")]
    # dcmqrscp with TLS of its own (DCMTK 3.6.9), or without pacs_tls: each peer from its own address.
    for plan in (resolve(product="dcmqrscp", tls=tls, product_tls=True, peers=[RWS, CT]),
                 resolve(product="dcmqrscp", peers=[RWS, CT])):
        assert plan["front_routes"] == []
        assert [peer["address"] for peer in plan["allowlist"]] == ["10.20.1.5", "10.20.0.11"]


def test_the_front_settings_come_from_inventory_and_sources_roll_over_per_octet(tls):
    peers = [{**CT, "name": f"p{index:03d}", "ae_title": f"P{index:03d}",
              "address": f"10.1.{index // 200}.{index % 200 + 1}"} for index in range(SOURCES_PER_OCTET + 1)]
    routes = resolve(product="dcmqrscp", tls=tls, product_tls=False, peers=peers,
                     front_port_base=42000, front_source_prefix="127.9")["front_routes"]
    assert (routes[0]["front_port"], routes[0]["source"]) == (42000, "127.9.0.1")
    assert (routes[-2]["source"], routes[-1]["source"]) == ("127.9.0.250", "127.9.1.1")
    assert routes[-1]["front_port"] == 42000 + SOURCES_PER_OCTET


@pytest.mark.parametrize("settings, message", [
    ({"front_source_prefix": "10.77"}, "pacs_tls_front_source_prefix: '10.77' is not 127.N"),
    ({"front_source_prefix": "127.256"}, "pacs_tls_front_source_prefix: '127.256' is not 127.N"),
    ({"front_source_prefix": "127.7.7"}, "is not 127.N"),
    ({"front_port_base": 11112}, "take the node's port(s) 11113"),
    ({"front_port_base": 104}, "take the node's port(s) 104"),
    ({"front_port_base": 65535}, "pacs_tls_front_port_base: 65535 must be a port from 1 to 65533"),
    ({"front_port_base": "41100; drop"}, "pacs_tls_front_port_base: '41100; drop' must be a port"),
    ({"front_port_base": True}, "pacs_tls_front_port_base: True must be a port"),
])
def test_front_settings_that_do_not_fit_are_refused_by_name(tls, settings, message):
    errors = refused(product="dcmqrscp", tls=tls, product_tls=False, peers=[CT, RWS], **settings)
    assert any(message in error for error in errors), errors


def test_front_settings_matter_only_where_the_front_runs(tls):
    # dcmqrscp that speaks TLS itself builds no front, so its settings cannot collide with anything.
    plan = resolve(product="dcmqrscp", tls=tls, product_tls=True, peers=[CT], front_port_base=104)
    assert plan["front_routes"] == []


def test_the_firewall_admits_peers_and_admins_by_family_once_each():
    twin = {**CT, "name": "ct-2", "ae_title": "CT02"}
    plan = resolve(product="orthanc", peers=[CT, twin, RWS, SIX],
                   admin_sources=["10.0.0.0/24", "2001:db8:1::/64"])["firewall"]
    assert plan == {"dicom_ports": [4242], "web_ports": [8042], "loopback_ports": [],
                    "peers_v4": ["10.20.0.11", "10.20.1.5"], "peers_v6": ["2001:db8::5"],
                    "admin_v4": ["10.0.0.0/24"], "admin_v6": ["2001:db8:1::/64"]}


def test_the_firewall_keeps_the_ports_behind_fronts_local(tls):
    plan = resolve(product="dcmqrscp", tls=tls, product_tls=False, peers=[CT])["firewall"]
    assert (plan["dicom_ports"], plan["web_ports"], plan["loopback_ports"]) == ([104], [], [11113])
    plan = resolve(product="orthanc", tls=tls, peers=[{**CT, "tls": True}])["firewall"]
    assert (plan["web_ports"], plan["loopback_ports"]) == ([8042], [18042])


def test_the_probe_target_follows_the_policy(tls):
    probe = resolve(product="orthanc", peers=[CT])["probe"]
    assert probe == {"host": "10.20.0.5", "port": 4242, "called_ae_title": "ARCHIVE1",
                     "peers": [{**CT, "port": 104, "tls": False}], "web_url": "http://10.20.0.5:8042",
                     "other_ports": []}
    probe = resolve(product="orthanc", tls=tls, peers=[{**CT, "tls": True}])["probe"]
    assert (probe["web_url"], probe["other_ports"]) == ("https://10.20.0.5:8042", [18042])
    six = resolve(product="orthanc", peers=[CT], address="2001:db8::7")["probe"]
    assert six["web_url"] == "http://[2001:db8::7]:8042"
    assert resolve(product="dcmqrscp", peers=[CT])["probe"]["web_url"] is None


def test_a_site_narrows_the_suites_for_dicom_tls_and_the_web_port(tls):
    suites = {"tls12": ["ECDHE-RSA-AES256-GCM-SHA384"], "tls13": ["TLS_AES_256_GCM_SHA384"]}
    report = check_policy({"product": "orthanc", "ae_title": "ARCHIVE1", "peers": [{**CT, "tls": True}],
                           "tls": tls, "suites": suites})
    assert report.errors == [], report.errors
    for profile in (report.policy["tls"]["profile"], report.policy["web_tls"]["profile"]):
        assert (profile["tls12_suites"], profile["tls13_suites"]) == (suites["tls12"], suites["tls13"])
    # Not set: the whole profile.
    default = check_policy({"product": "orthanc", "ae_title": "ARCHIVE1", "peers": [{**CT, "tls": True}],
                            "tls": tls}).policy["tls"]["profile"]
    assert default["tls12_suites"] == list(BCP195_TLS12_SUITES)
    # One list alone leaves the other as the profile has it.
    only = check_policy({"product": "orthanc", "ae_title": "ARCHIVE1", "peers": [{**CT, "tls": True}],
                         "tls": tls, "suites": {"tls13": ["TLS_AES_128_GCM_SHA256"]}})
    profile = only.policy["tls"]["profile"]
    assert profile["tls12_suites"] == list(BCP195_TLS12_SUITES)
    assert profile["tls13_suites"] == ["TLS_AES_128_GCM_SHA256"]


@pytest.mark.parametrize("suites, message", [
    ({"tls12": ["AES128-SHA"]}, "pacs_tls_suites.tls12: 'AES128-SHA' not in the non-downgrading BCP 195"),
    ({"tls12": ["ECDHE-RSA-CHACHA20-POLY1305"]}, "'ECDHE-RSA-CHACHA20-POLY1305' not in the"),
    ({"tls13": ["TLS_AES_128_CCM_8_SHA256"]}, "pacs_tls_suites.tls13: 'TLS_AES_128_CCM_8_SHA256' not in"),
    ({"tls12": []}, "pacs_tls_suites.tls12: must be a non-empty list"),
    ({"tls12": "ECDHE-RSA-AES128-GCM-SHA256"}, "pacs_tls_suites.tls12: must be a non-empty list"),
    ({"tls12": ["ECDHE-RSA-AES128-GCM-SHA256"] * 2}, "pacs_tls_suites.tls12: lists a suite twice"),
    ({"ciphers": ["x"]}, "pacs_tls_suites: unknown field 'ciphers'"),
    (["ECDHE-RSA-AES128-GCM-SHA256"], "pacs_tls_suites: must be a mapping"),
])
def test_suites_outside_the_profile_or_malformed_are_refused_by_name(tls, suites, message):
    errors = refused(product="orthanc", peers=[{**CT, "tls": True}], tls=tls, suites=suites)
    assert any(message in error for error in errors), errors


def test_an_ec_key_warns_only_where_the_product_release_table_says_so(tmp_path):
    """The registry's tls_settings_since: Orthanc before 1.12.4 serves an EC key TLS 1.3 only."""
    from cryptography.hazmat.primitives.asymmetric import ec

    cert, key = pacslab.make_self_signed(tmp_path, days=90, key=ec.generate_private_key(ec.SECP256R1()))
    tls = {"certificate": cert, "private_key": key, "ca": cert}

    def warnings(product: str, **extra) -> list[str]:
        report = check_policy({"product": product, "ae_title": "ARCHIVE1", "peers": [{**CT, "tls": True}],
                               "tls": {**tls, **extra}, "product_tls": True})
        assert report.errors == [], report.errors
        return [warning for warning in report.warnings if "EC key" in warning]

    assert warnings("orthanc") == ["pacs_tls: an EC key on Orthanc before 1.12.4 serves TLS 1.3 only "
                                   "(its TLS 1.2 suites are RSA-authenticated)"]
    assert warnings("orthanc", min_version="TLSv1.3") == []
    assert warnings("dcmqrscp") == []


def test_a_restarted_node_must_refuse_strangers_and_plaintext_where_tls_is_asked(tls):
    plain = resolve(product="orthanc", peers=[CT])["verify"]
    assert plain == {"refusals": ["PACS-NET-001", "PACS-NET-002", "PACS-NET-004"], "tls_refusals": [],
                     "tls": False}
    secured = resolve(product="dcmqrscp", tls=tls, product_tls=False, peers=[CT])["verify"]
    assert (secured["tls_refusals"], secured["tls"]) == (["PACS-TLS-001"], True)
