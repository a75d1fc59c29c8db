"""The policy check: every bad input named by variable, peer and field; good input normalised."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import pacslab
from pacsguard.policy import check_policy

PEER = {"name": "ct-scanner-1", "ae_title": "CT01", "address": "10.20.0.11", "port": 104,
        "services": ["echo", "store"]}


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pki")
    paths = pacslab.make_pki(folder, ("CT01",))
    paths["expired_cert"], paths["expired_key"] = pacslab.make_self_signed(folder / "expired", days=-1)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    paths["weak_cert"], paths["weak_key"] = pacslab.make_self_signed(folder / "weak", days=90, key=weak)
    return paths


def policy(**changes) -> dict:
    base = {"product": "orthanc", "ae_title": "ARCHIVE1", "dicom_port": 4242, "http_port": 8042,
            "peers": [dict(PEER)], "admin_sources": [], "tls": {}}
    base.update(changes)
    return base


def test_a_good_policy_is_normalised():
    report = check_policy(policy(peers=[{"name": "rws", "ae_title": "RWS1", "address": "10.20.1.5"}],
                                 admin_sources=["10.0.0.5/24"]))
    assert report.errors == []
    assert report.policy["peers"] == [{"name": "rws", "ae_title": "RWS1", "address": "10.20.1.5",
                                       "port": 104, "services": ["echo"], "tls": False}]
    assert report.policy["admin_sources"] == ["10.0.0.0/24"]


@pytest.mark.parametrize("changes, message", [
    ({"ae_title": ""}, "pacs_ae_title: "),
    ({"ae_title": "A" * 17}, "pacs_ae_title: "),
    ({"product": "dcm4chee"}, "pacs_product: 'dcm4chee' is not one of"),
    ({"dicom_port": 70000}, "pacs_dicom_port: 70000 is not a TCP port"),
    ({"peers": [{**PEER, "ae_title": "CT\\01"}]}, "pacs_peers[0] (ct-scanner-1).ae_title: "),
    ({"peers": [{**PEER, "ae_title": " CT01"}]}, "pacs_peers[0] (ct-scanner-1).ae_title: "),
    ({"peers": [{**PEER, "ae_title": "CT\x0101"}]}, "pacs_peers[0] (ct-scanner-1).ae_title: "),
    ({"peers": [{**PEER, "address": "ct01.example"}]}, "pacs_peers[0] (ct-scanner-1).address: "),
    ({"peers": [{**PEER, "address": "10.20.0.0/24"}]}, "not an IP address"),
    ({"peers": [{**PEER, "services": ["echo", "delete"]}]}, "unknown service(s) delete"),
    ({"peers": [{**PEER, "services": []}]}, ".services: must be a non-empty list"),
    ({"peers": [{**PEER, "port": 0}]}, ".port: 0 is not a TCP port"),
    ({"peers": [{**PEER, "aet": "X"}]}, "unknown field(s) aet"),
    ({"peers": [PEER, {**PEER, "name": "ct-2", "address": "10.20.0.12", "ae_title": "ct01"}]},
     "duplicate ae_title 'ct01' (peers 'ct-scanner-1' and 'ct-2'"),
    ({"peers": [PEER, {**PEER, "ae_title": "CT02", "address": "10.20.0.12"}]}, "duplicate name"),
    ({"peers": [{**PEER, "name": ""}]}, "pacs_peers[0].name: missing or empty"),
    ({"admin_sources": ["10.0.0.300"]}, "pacs_admin_sources[0]: '10.0.0.300' is not an IP address"),
    ({"rest_users": [{"name": "admin", "password": ""}]}, "REST user [0] (admin).password: missing"),
    ({"rest_users": [{"name": "alice", "password": "orthanc"}]}, "default or guessable"),
    ({"rest_users": [{"name": "alice", "password": "short-1"}]}, "shorter than 12"),
    ({"rest_users": [{"name": "a:b", "password": "long-enough-pw"}]}, "without ':'"),
])
def test_each_bad_input_is_named(changes, message):
    errors = check_policy(policy(**changes)).errors
    assert any(message in error for error in errors), errors


def test_passwords_never_appear_in_messages():
    errors = check_policy(policy(rest_users=[{"name": "alice", "password": "hunter2"}])).errors
    assert errors and not any("hunter2" in error for error in errors)


def test_good_tls_material_passes(pki):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    report = check_policy(policy(tls=tls))
    assert report.errors == []
    assert report.policy["tls"]["min_version"] == "TLSv1.2"
    assert report.policy["peers"][0]["tls"] is True


@pytest.mark.parametrize("case, message", [
    ("mismatch", "does not belong to pacs_tls.certificate"),
    ("expired", "pacs_tls.certificate: expired on"),
    ("weak", "key too weak for the BCP 195 profile: RSA 1024 bits"),
    ("missing", "pacs_tls.ca: cannot read"),
    ("not_pem", "pacs_tls.certificate: "),
    ("old_tls", "pacs_tls.min_version: 'TLSv1.1' is not one of"),
])
def test_bad_tls_material_is_named(pki, case, message, tmp_path):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    if case == "mismatch":
        tls["private_key"] = pki["client_ct01_key"]
    elif case == "expired":
        tls.update(certificate=pki["expired_cert"], private_key=pki["expired_key"])
    elif case == "weak":
        tls.update(certificate=pki["weak_cert"], private_key=pki["weak_key"])
    elif case == "missing":
        tls["ca"] = str(tmp_path / "absent.crt")
    elif case == "not_pem":
        Path(tmp_path / "junk.crt").write_text("not a certificate")
        tls["certificate"] = str(tmp_path / "junk.crt")
    elif case == "old_tls":
        tls["min_version"] = "TLSv1.1"
    errors = check_policy(policy(tls=tls)).errors
    assert any(message in error for error in errors), errors


def test_orthanc_with_tls_refuses_a_plaintext_peer(pki):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    errors = check_policy(policy(tls=tls, peers=[{**PEER, "tls": False}])).errors
    assert any("speaks TLS only" in error for error in errors)


def test_dcmqrscp_front_refuses_plaintext_and_ipv6_peers_and_takes_ipv4_ones(pki):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    bad = [{**PEER, "tls": False}, {**PEER, "name": "six", "ae_title": "SIX", "address": "2001:db8::5"}]
    errors = check_policy(policy(product="dcmqrscp", tls=tls, peers=bad, product_tls=False)).errors
    assert any("TLS front's DICOM port speaks TLS only" in error for error in errors), errors
    assert any("six have IPv6 addresses" in error for error in errors), errors
    assert check_policy(policy(product="dcmqrscp", tls=tls, product_tls=False)).errors == []
    assert check_policy(policy(product="dcmqrscp", peers=bad)).errors == []


# dcmqrscp with the product table's ports (104, no web port).
DCMQRSCP = {"product": "dcmqrscp", "dicom_port": None, "http_port": None}


@pytest.mark.parametrize("product_tls, front, listen_port", [
    (False, True, 11113),  # DCMTK 3.6.7: the front on 104, dcmqrscp on its loopback-only port
    (True, False, 104),  # DCMTK 3.6.9: dcmqrscp speaks TLS on 104 itself
    (None, True, 11113),  # not read (the audit): as without TLS of its own
])
def test_who_serves_dcmqrscp_tls_follows_what_the_host_has(pki, product_tls, front, listen_port):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    resolved = check_policy(policy(**DCMQRSCP, tls=tls, product_tls=product_tls)).policy
    assert resolved["tls_front"] is front
    assert (resolved["listen_port"], resolved["dicom_port"]) == (listen_port, 104)
    assert resolved["local_ports"] == ([11113] if front else [])
    assert resolved["plaintext_port"] == (11113 if front else None)
    # Without pacs_tls there is no front whatever the product has.
    plain = check_policy(policy(**DCMQRSCP, product_tls=product_tls)).policy
    assert (plain["tls_front"], plain["listen_port"], plain["local_ports"]) == (False, 104, [])


def test_dcmqrscp_own_tls_takes_ipv6_peers_and_refuses_plaintext_ones(pki):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    six = {**PEER, "name": "six", "ae_title": "SIX", "address": "2001:db8::5"}
    assert check_policy(policy(**DCMQRSCP, tls=tls, peers=[six], product_tls=True)).errors == []
    # Not read (an audit builds no front): not refused either.
    assert check_policy(policy(**DCMQRSCP, tls=tls, peers=[six])).errors == []
    errors = check_policy(policy(**DCMQRSCP, tls=tls, peers=[{**PEER, "tls": False}],
                                 product_tls=True)).errors
    assert errors == ["pacs_peers: ct-scanner-1 set tls: false, but with pacs_tls dcmqrscp's DICOM port "
                      "speaks TLS only"], errors
    report = check_policy(policy(**DCMQRSCP, tls=tls, plaintext_port=4104, product_tls=True))
    assert any("pacs_plaintext_port: the installed product speaks DICOM TLS itself" in warning
               for warning in report.warnings), report.warnings
    assert report.policy["listen_port"] == 104


def test_all_problems_are_reported_at_once():
    errors = check_policy(policy(ae_title="", peers=[{**PEER, "address": "x", "services": ["nope"]}])).errors
    assert len(errors) == 3


def test_web_tls_moves_orthanc_to_a_loopback_port_behind_the_front(pki):
    web = {"certificate": pki["server_cert"], "private_key": pki["server_key"]}
    resolved = check_policy(policy(web_tls=web)).policy
    assert resolved["web_tls"]["require_client_certificate"] is False
    assert resolved["web_tls"]["min_version"] == "TLSv1.2"
    assert (resolved["http_port"], resolved["http_plaintext_port"], resolved["http_listen_port"]) == (
        8042, 18042, 18042)
    assert resolved["local_ports"] == [18042]
    plain = check_policy(policy()).policy
    assert (plain["web_tls"], plain["http_plaintext_port"], plain["http_listen_port"]) == (None, None, 8042)
    assert plain["local_ports"] == []


def test_bad_web_tls_is_named_as_pacs_web_tls(pki):
    mismatch = {"certificate": pki["server_cert"], "private_key": pki["client_ct01_key"]}
    errors = check_policy(policy(web_tls=mismatch)).errors
    assert any(error.startswith("pacs_web_tls.private_key: ")
               and "does not belong to pacs_web_tls.certificate" in error for error in errors), errors
    # Administrators' client certificates need the CAs that issue them.
    need_ca = {"certificate": pki["server_cert"], "private_key": pki["server_key"],
               "require_client_certificate": True}
    errors = check_policy(policy(web_tls=need_ca)).errors
    assert "pacs_web_tls.ca: missing (a PEM file on the controller)" in errors, errors
    dcm = check_policy(policy(**DCMQRSCP, web_tls={"certificate": pki["server_cert"],
                                                   "private_key": pki["server_key"]})).errors
    assert dcm == ["pacs_web_tls: dcmqrscp has no web port to serve over HTTPS"], dcm
    clash = check_policy(policy(web_tls={"certificate": pki["server_cert"], "private_key": pki["server_key"]},
                                http_plaintext_port=4242)).errors
    assert any("must differ" in error for error in clash), clash


def test_orthanc_with_pacs_tls_serves_https_with_the_node_certificate_by_default(pki):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"],
           "min_version": "TLSv1.3"}
    report = check_policy(policy(tls=tls, admin_sources=["10.0.0.0/24"]))
    assert report.errors == [] and not any("PACS-WEB-002" in w for w in report.warnings), report.warnings
    web = report.policy["web_tls"]
    assert (web["certificate"], web["private_key"], web["min_version"]) == (
        pki["server_cert"], pki["server_key"], "TLSv1.3")
    # administrators use browsers: no client certificate asked for, the DICOM CA not carried over
    assert (web["ca"], web["require_client_certificate"], web["source"]) == (None, False, "pacs_tls")
    assert (report.policy["http_listen_port"], report.policy["local_ports"]) == (18042, [18042])
    # turned off on purpose: Orthanc's web server on the web port, and a warning for its admins
    off = check_policy(policy(tls=tls, admin_sources=["10.0.0.0/24"], web_tls={"enabled": False}))
    assert off.errors == [] and off.policy["web_tls"] is None
    assert (off.policy["http_listen_port"], off.policy["local_ports"]) == (8042, [])
    assert any("plaintext HTTP (PACS-WEB-002)" in w for w in off.warnings), off.warnings
    # an explicit pacs_web_tls wins, and says so
    own = check_policy(policy(tls=tls, web_tls={"certificate": pki["server_cert"],
                                                "private_key": pki["server_key"], "enabled": True}))
    assert own.errors == [] and own.policy["web_tls"]["source"] == "pacs_web_tls"
    assert own.policy["web_tls"]["min_version"] == "TLSv1.2"


@pytest.mark.parametrize("web_tls, message", [
    ({"enabled": False, "certificate": "x.crt"},
     "pacs_web_tls: enabled is false, so no other field may be set"),
    ({"enabled": "no"}, "pacs_web_tls.enabled: must be true or false, got 'no'"),
])
def test_pacs_web_tls_enabled_is_checked(web_tls, message):
    assert message in check_policy(policy(web_tls=web_tls)).errors


def test_a_product_without_a_web_port_gets_no_web_tls_from_pacs_tls(pki):
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    report = check_policy(policy(**DCMQRSCP, tls=tls, product_tls=True))
    assert report.errors == [] and report.policy["web_tls"] is None
