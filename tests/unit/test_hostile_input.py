"""Hostile and careless inventory values: refused before any host changes, and read back after
rendering so that a value a check missed cannot add a service, a peer or a rule."""

from __future__ import annotations

import pytest

from pacsguard import dcmqrscp
from pacsguard.languages import canonical_address, check_dcmqrscp_value, check_peer_name
from pacsguard.policy import check_policy

PEER = {"name": "ct-scanner-1", "ae_title": "CT01", "address": "10.20.0.11", "port": 104,
        "services": ["echo", "store"]}
STUNNEL_INJECTION = "ct\n[evil]\naccept = 0.0.0.0:9999\nexec = /bin/sh\nrequireCert = no"
HOSTTABLE_INJECTION = "fe80::1%x, 104), (ROGUE, 127.0.0.1"
EMPTY_TABLES = "NetworkTCPPort = 104\nHostTable BEGIN\nHostTable END\nAETable BEGIN\nAETable END\n"


def policy(**changes) -> dict:
    base = {"product": "dcmqrscp", "ae_title": "ARCHIVE1", "dicom_port": 104,
            "peers": [dict(PEER)], "admin_sources": [], "tls": {}}
    base.update(changes)
    return base


@pytest.mark.parametrize("name", [STUNNEL_INJECTION, "ct scanner", "ct;x", "-ct", "ct]", "c" * 64,
                                  "ct\x00", "ct/1", "ct{1}", 7, None])
def test_names_that_a_target_language_would_split_are_refused(name):
    errors = check_policy(policy(peers=[{**PEER, "name": name}])).errors
    assert any(error.startswith("pacs_peers[0].name: ") for error in errors), errors
    assert not any("\n" in error for error in errors)


@pytest.mark.parametrize("address, reason", [
    (HOSTTABLE_INJECTION, "scope ID"),
    ("fe80::1%eth0", "scope ID"),
    ("2001:DB8::1", "write '2001:db8::1'"),
    ("2001:db8:0:0::1", "write '2001:db8::1'"),
    ("10.20.0.11 ", "not an IP address"),
    ("10.20.0.11\n", "not an IP address"),
    ("010.20.0.11", "not an IP address"),
    (168034315, "not an IP address"),
])
def test_addresses_must_be_plain_canonical_ips(address, reason):
    errors = check_policy(policy(peers=[{**PEER, "address": address}])).errors
    assert any(error.startswith("pacs_peers[0] (ct-scanner-1).address: ") and reason in error
               for error in errors), errors


def test_canonical_addresses_pass_unchanged():
    assert canonical_address("2001:db8::1") == ("2001:db8::1", "")
    assert canonical_address("10.20.0.11") == ("10.20.0.11", "")


@pytest.mark.parametrize("title", ["CT,01", "CT(01", "CT)01", "CT 01", "CT=01", "CT'01", 'CT"01',
                                   "CT#01"])
def test_dcmqrscp_ae_titles_with_separators_are_refused_for_dcmqrscp_only(title):
    errors = check_policy(policy(peers=[{**PEER, "ae_title": title}])).errors
    assert any("(ct-scanner-1).ae_title:" in error and "dcmqrscp.cfg" in error for error in errors)
    assert check_policy(policy(product="orthanc", peers=[{**PEER, "ae_title": title}])).errors == []
    node = check_policy(policy(ae_title=title)).errors
    assert any(error.startswith("pacs_ae_title: ") for error in node), node


def test_names_that_become_one_symbol_are_duplicates():
    peers = [PEER, {**PEER, "name": "CT_scanner.1", "ae_title": "CT02", "address": "10.20.0.12"}]
    errors = check_policy(policy(peers=peers)).errors
    assert any("duplicate name 'CT_scanner.1'" in error for error in errors), errors


def test_admin_sources_are_checked_and_everywhere_warns():
    report = check_policy(policy(admin_sources=["0.0.0.0/0", "fe80::/64%eth0", "10.0.0.1/8"]))
    assert report.errors == ["pacs_admin_sources[1]: 'fe80::/64%eth0' is not an IP address or "
                             "network (no scope IDs)"]
    assert any("0.0.0.0/0 admits every address" in warning for warning in report.warnings)


def test_an_inline_private_key_is_never_echoed():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    errors = check_policy(policy(tls={"certificate": "/nonexistent.crt", "private_key": pem,
                                      "ca": "/nonexistent-ca.crt"})).errors
    assert any(error.startswith("pacs_tls.private_key: (inline content, not shown") for error in errors)
    assert not any("MIIEvQ" in error for error in errors), errors


@pytest.mark.parametrize("value", ["A,B", "A B", "(A", "A\nB", "A\tB", "A'B"])
def test_dcmqrscp_value_check(value):
    assert check_dcmqrscp_value(value)[0] is False
    assert check_peer_name("ok-name_1.2") == (True, "")


# -- dcmqrscp.cfg: the writer refuses what it cannot write safely, and reads back what it wrote --------
def _peer(n: int, **changes) -> dict:
    return {"name": f"modality-{n:03d}-{'x' * 40}", "ae_title": f"MOD{n:03d}",
            "address": f"10.30.{n // 250}.{n % 250 + 1}", "port": 104, "services": ["echo"], **changes}


def test_the_writer_refuses_an_injected_address_even_past_the_policy():
    config = dcmqrscp.parse(EMPTY_TABLES)
    with pytest.raises(dcmqrscp.DcmqrscpConfigError, match=r"peers\[0\] \(ct\).address"):
        dcmqrscp.apply_peers(config, "ARCHIVE1", "/db",
                             [{**PEER, "name": "ct", "address": HOSTTABLE_INJECTION}])


def test_what_dcmqrscp_reads_from_an_injected_file_is_caught():
    """Had the writer missed it, the read-back sees the extra peer dcmqrscp would admit."""
    entry = f"pacsguard_ct = (CT01, {HOSTTABLE_INJECTION}, 104)\nHostTable END"
    row = "ARCHIVE1 /db RW (9, 9mb) pacsguard_ct\nAETable END"
    text = EMPTY_TABLES.replace("HostTable END", entry).replace("AETable END", row)
    view = dcmqrscp.read_as_dcmqrscp(text)
    assert ("ROGUE", "127.0.0.1", 104) in view.rows[0][3]
    with pytest.raises(dcmqrscp.DcmqrscpConfigError, match="would admit"):
        dcmqrscp.verify_written(text, "ARCHIVE1", [{**PEER, "name": "ct"}], True)


def test_a_second_row_for_the_node_open_to_any_is_removed():
    text = EMPTY_TABLES.replace("AETable END", "ARCHIVE1 /db/a RW (9, 9mb) ANY\n"
                                "ARCHIVE1 /db/b RW (9, 9mb) ANY\nAETable END")
    config = dcmqrscp.parse(text)
    dcmqrscp.apply_peers(config, "ARCHIVE1", "/db/a", [PEER], drop_any=False)
    out = dcmqrscp.render(config)
    view = dcmqrscp.read_as_dcmqrscp(out)
    assert [(row[0], row[1], row[3]) for row in view.rows] == [
        ("ARCHIVE1", "/db/a", [("CT01", "10.20.0.11", 104)])]
    dcmqrscp.verify_written(out, "ARCHIVE1", [PEER], False)
    # Idempotent: applying again changes nothing.
    again = dcmqrscp.parse(out)
    dcmqrscp.apply_peers(again, "ARCHIVE1", "/db/a", [PEER], drop_any=False)
    assert dcmqrscp.render(again) == out


def test_a_row_too_long_for_dcmqrscps_line_buffer_is_grouped():
    peers = [_peer(n) for n in range(40)]
    config = dcmqrscp.parse(EMPTY_TABLES)
    dcmqrscp.apply_peers(config, "ARCHIVE1", "/var/lib/dcmtk/db/ARCHIVE1", peers)
    text = dcmqrscp.render(config)
    assert max(len(line) for line in text.splitlines()) <= 511
    view = dcmqrscp.read_as_dcmqrscp(text)
    assert view.errors == []
    assert sorted(view.rows[0][3]) == sorted((p["ae_title"], p["address"], 104) for p in peers)
    dcmqrscp.verify_written(text, "ARCHIVE1", peers, True)


def test_a_long_line_is_read_as_dcmqrscp_reads_it():
    """fgets with a 512-byte buffer: the rest of a long line is a line of its own."""
    symbols = ", ".join(f"s{n}" for n in range(200))
    hosts = "\n".join(f"s{n} = (AE{n}, 10.0.0.{n % 250 + 1}, 104)" for n in range(200))
    text = EMPTY_TABLES.replace("HostTable END", hosts + "\nHostTable END").replace(
        "AETable END", f"ARCHIVE1 /db RW (9, 9mb) {symbols}\nAETable END")
    view = dcmqrscp.read_as_dcmqrscp(text)
    assert len(view.rows) > 1 or view.errors


@pytest.mark.parametrize("settings, message", [
    ({"UserName": "dcmtk\nAETable BEGIN"}, "control character"),
    ({"UserName": "dcm tk"}, "separator"),
    ({"Evil": "1"}, "not a dcmqrscp.cfg setting"),
    ({"HostTable": "BEGIN"}, "not a dcmqrscp.cfg setting"),
])
def test_settings_are_single_tokens_of_known_keys(settings, message):
    config = dcmqrscp.parse(EMPTY_TABLES)
    with pytest.raises(dcmqrscp.DcmqrscpConfigError, match=message):
        dcmqrscp.set_settings(config, settings)


def test_a_file_dcmqrscp_would_refuse_is_refused():
    with pytest.raises(dcmqrscp.DcmqrscpConfigError, match="would not load"):
        dcmqrscp.verify_written(EMPTY_TABLES + "Bogus = 1\n", "ARCHIVE1", [], True)


# -- stunnel: the TLS front's file read back ---------------------------------------------------------
FRONT = """; managed
setuid = stunnel4
requireCert = yes
verifyChain = yes
sslVersionMin = TLSv1.2

; {name}: CT01 from 10.20.0.11
[peer-{name}]
accept = 0.0.0.0:41100
connect = 127.0.0.1:11113
local = 127.77.0.1
"""
ROUTES = [{"name": "ct-scanner-1", "front_port": 41100, "source": "127.77.0.1"}]
OPTIONS = {"requireCert": "yes", "verifyChain": "yes", "sslVersionMin": "TLSv1.2", "setuid": "stunnel4"}


def test_the_front_meant_reads_back():
    from pacsguard import stunnel
    stunnel.verify(FRONT.format(name="ct-scanner-1"), stunnel.front_services(ROUTES, 11113), OPTIONS)


def test_a_name_that_adds_a_stunnel_service_is_caught_on_read_back():
    """Rendered as the template did before names were checked: the comment line starts a service."""
    from pacsguard import stunnel
    text = FRONT.format(name="ct-scanner-1").replace("; ct-scanner-1", "; " + STUNNEL_INJECTION)
    with pytest.raises(stunnel.StunnelConfigError, match="exec"):
        stunnel.verify(text, stunnel.front_services(ROUTES, 11113), OPTIONS)
    without_exec = text.replace("exec = /bin/sh\n", "")
    with pytest.raises(stunnel.StunnelConfigError, match=r"unexpected \['evil'\]"):
        stunnel.verify(without_exec, stunnel.front_services(ROUTES, 11113), OPTIONS)


def test_a_weakened_global_option_is_caught_on_read_back():
    from pacsguard import stunnel
    text = FRONT.format(name="ct-scanner-1") + "requireCert = no\n"
    with pytest.raises(stunnel.StunnelConfigError, match="service"):
        stunnel.verify(text, stunnel.front_services(ROUTES, 11113), OPTIONS)
    text = FRONT.format(name="ct-scanner-1").replace("requireCert = yes", "requireCert = no")
    with pytest.raises(stunnel.StunnelConfigError, match="global options"):
        stunnel.verify(text, stunnel.front_services(ROUTES, 11113), OPTIONS)


# -- new configuration files are never readable by others, not even for a moment ----------------------
class _Module:
    """Only what write_atomically uses of AnsibleModule; atomic_move must not run for a new file
    (it would leave the umask's mode on it until the module's attribute step)."""

    def backup_local(self, path):  # pragma: no cover - not reached for a new file
        raise AssertionError("no backup of a file that does not exist")

    def atomic_move(self, src, dest):
        raise AssertionError("a new file goes into place by rename, with its mode already set")


def test_a_new_secret_file_lands_with_its_mode(tmp_path):
    import os

    from pacsguard.files import requested_attributes, write_atomically
    target = tmp_path / "credentials.json"
    attrs = requested_attributes({"mode": "0640", "owner": None, "group": None})
    write_atomically(_Module(), str(target), '{"RegisteredUsers": {}}\n', True, **attrs)
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.json"]
    assert os.stat(target).st_uid == os.getuid()


def test_backups_are_pruned_to_the_newest_few(tmp_path):
    import os

    from pacsguard.files import prune_backups
    target = tmp_path / "orthanc.json"
    target.write_text("{}")
    names = [f"orthanc.json.{100 + n}.2026-11-{10 + n:02d}@05:00:00~" for n in range(8)]
    for age, name in enumerate(names):
        (tmp_path / name).write_text("{}")
        os.utime(tmp_path / name, (1_700_000_000 + age, 1_700_000_000 + age))
    (tmp_path / "orthanc.json.keep-me~").write_text("not a backup of ours")
    removed = prune_backups(str(target), 3)
    assert sorted(os.path.basename(p) for p in removed) == sorted(names[:5])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["orthanc.json", "orthanc.json.keep-me~", *names[5:]])


@pytest.mark.parametrize("body", [b"[" * 200_000 + b"]" * 200_000,
                                  b'{"DicomAet": ' + b"[" * 5000 + b"]" * 5000 + b"}"])
def test_an_answer_nested_too_deep_is_not_parsed_and_nothing_raises(body):
    """Every parser of an answer the project does not control bounds depth: the web probe's count
    and discovery's reading of a status document (a RecursionError once escaped json.loads)."""
    from pacsguard import discovery, jsonc, webprobe

    assert jsonc.loads_bounded(body) is None
    assert webprobe._count(body) == "not a list"
    endpoint = discovery.Endpoint("127.0.0.1", 8042)
    discovery._read_web(b"HTTP/1.1 200 OK\r\n\r\n" + body, endpoint)
    assert endpoint.service == "web" and endpoint.version is None
