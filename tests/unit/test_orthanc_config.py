"""Orthanc's configuration directory: in-place edits, one definition per key, masked secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pacsguard import jsonc, orthanc

DEBIAN = Path("/etc/orthanc/orthanc.json")
SAMPLE = """{
  // The DICOM AE title
  "DicomAet" : "ORTHANC",   // trailing comment
  /* a block comment with "DicomPort" : 1 inside */
  "DicomPort" : 4242,
  "DicomModalities" : {
    // "sample" : [ "STORESCP", "127.0.0.1", 2000 ]
    "old" : { "AET" : "OLD", "Host" : "10.0.0.9", "Port" : 104 }
  },
  "Url" : "http://example.invalid/a//b"
}
"""


def files(**texts: str) -> dict[str, orthanc.ConfigFile]:
    return {name: orthanc.parse_file(name, text) for name, text in texts.items()}


def test_members_skip_comments_and_strings():
    config = orthanc.parse_file("orthanc.json", SAMPLE)
    assert [m.key for m in config.members] == ["DicomAet", "DicomPort", "DicomModalities", "Url"]
    assert config.data["Url"] == "http://example.invalid/a//b"


def test_set_key_replaces_the_value_and_keeps_every_other_line():
    config = orthanc.parse_file("orthanc.json", SAMPLE)
    text = orthanc.set_key(config, "DicomAet", "ARCHIVE1")
    assert text.replace('"ARCHIVE1"', '"ORTHANC"') == SAMPLE
    assert jsonc.loads(text)["DicomAet"] == "ARCHIVE1"


def test_set_key_appends_a_new_key_as_valid_jsonc():
    config = orthanc.parse_file("orthanc.json", SAMPLE)
    text = orthanc.set_key(config, "DicomCheckModalityHost", True)
    assert jsonc.loads(text)["DicomCheckModalityHost"] is True
    assert "// trailing comment" in text and "/* a block comment" in text


def test_new_keys_go_to_the_new_file_and_existing_keys_stay_where_they_are():
    change = orthanc.plan(files(**{"orthanc.json": SAMPLE, "credentials.json": '{"RegisteredUsers": {}}'}),
                          {"DicomAet": "A1", "RegisteredUsers": {"u": "p" * 12}, "DicomTlsEnabled": False},
                          "pacsguard.json")
    assert change.key_files == {"DicomAet": "orthanc.json", "RegisteredUsers": "credentials.json",
                                "DicomTlsEnabled": "pacsguard.json"}
    assert sorted(change.texts) == ["credentials.json", "orthanc.json", "pacsguard.json"]
    assert jsonc.loads(change.texts["pacsguard.json"]) == {"DicomTlsEnabled": False}


def test_a_second_plan_with_the_same_values_changes_nothing():
    first = orthanc.plan(files(**{"orthanc.json": SAMPLE}), {"DicomAet": "A1", "New": [1, 2]}, "p.json")
    after = files(**{"orthanc.json": first.texts["orthanc.json"], "p.json": first.texts["p.json"]})
    again = orthanc.plan(after, {"DicomAet": "A1", "New": [1, 2]}, "p.json")
    assert again.texts == {} and again.changed_keys == []


def test_formatting_differences_are_not_changes():
    change = orthanc.plan(files(**{"orthanc.json": SAMPLE}), {"DicomPort": 4242}, "p.json")
    assert change.texts == {}


def test_a_key_defined_twice_is_refused_naming_both_files():
    with pytest.raises(orthanc.OrthancConfigError, match="DicomAet in a.json, b.json"):
        orthanc.plan(files(**{"a.json": '{"DicomAet": "X"}', "b.json": '{"DicomAet": "Y"}'}),
                     {"DicomPort": 1}, "p.json")


def test_merge_keeps_other_entries_replace_drops_them():
    entry = {"AET": "CT01", "Host": "10.0.0.1", "Port": 104}
    merged = orthanc.plan(files(**{"o.json": SAMPLE}), {"DicomModalities": {"ct": entry}}, "p.json",
                          frozenset({"DicomModalities"}))
    assert sorted(jsonc.loads(merged.texts["o.json"])["DicomModalities"]) == ["ct", "old"]
    replaced = orthanc.plan(files(**{"o.json": SAMPLE}), {"DicomModalities": {"ct": entry}}, "p.json")
    assert sorted(jsonc.loads(replaced.texts["o.json"])["DicomModalities"]) == ["ct"]


def test_passwords_never_reach_the_diff():
    before = '{\n  "RegisteredUsers" : { "alice" : "old-password-1" }\n}\n'
    change = orthanc.plan(files(**{"credentials.json": before}),
                          {"RegisteredUsers": {"alice": "new-password-2", "bob": "third-pass-3"}}, "p.json")
    shown = json.dumps([change.shown_before["credentials.json"], change.shown_after["credentials.json"]])
    assert "old-password-1" not in shown and "new-password-2" not in shown and "third-pass-3" not in shown
    assert '"bob"' in shown and orthanc.NOT_SHOWN in shown
    assert "new-password-2" in change.texts["credentials.json"]


def test_the_diff_prints_only_changed_keys_and_only_values_on_the_allowlist():
    """Values under names that do not sound secret (a PKCS#11 PIN, a DICOMweb server's HTTP headers)
    once printed in the diff's context: now a diff holds the changed keys alone, and prints a value
    only when its key is one the allowlist knows to be no secret."""
    before = ('{\n  "Pkcs11": { "Module": "/usr/lib/p11.so", "Pin": "4711-pin" },\n'
              '  "DicomWeb": { "Servers": { "a": { "Url": "https://x/",\n'
              '    "HttpHeaders": { "X-Key": "hdr-v4lue" } } } },\n'
              '  "DicomAet": "OLD",\n  "DicomModalities": {}\n}\n')
    modality = {"AET": "CT01", "Host": "10.0.0.1", "Port": 104, "Password": "modality-pw"}
    change = orthanc.plan(files(**{"o.json": before}),
                          {"DicomAet": "NEW", "DicomModalities": {"ct": modality},
                           "Pkcs11": {"Module": "/usr/lib/p11.so", "Pin": "0000-pin"}}, "p.json")
    printed = json.dumps([change.shown_before, change.shown_after])
    for secret in ("4711-pin", "0000-pin", "hdr-v4lue", "modality-pw", "/usr/lib/p11.so", "DicomWeb"):
        assert secret not in printed, secret
    assert change.shown_before["o.json"] == {"DicomAet": "OLD", "DicomModalities": {},
                                             "Pkcs11": orthanc.NOT_SHOWN}
    shown_modality = change.shown_after["o.json"]["DicomModalities"]["ct"]
    assert shown_modality == {**modality, "Password": orthanc.NOT_SHOWN}
    assert orthanc.unprintable_strings("Pkcs11", {"Pin": "0000-pin", "Module": "/usr/lib/p11.so"}) \
        == {"0000-pin", "/usr/lib/p11.so"}


@pytest.mark.parametrize("text, message", [
    ('{"a": 1,', "line 1 column 9"),
    ("[1, 2]", "not a JSON object"),
    ('{"a": 1 /* open', "unterminated"),
])
def test_broken_files_are_named(text, message):
    with pytest.raises(orthanc.OrthancConfigError, match=f"broken.json: .*{message}"):
        orthanc.parse_file("broken.json", text)


def test_missing_tls_files_are_reported_before_orthanc_would_refuse_to_start(tmp_path):
    cert = tmp_path / "node.crt"
    cert.write_text("x")
    config = {"DicomTlsEnabled": True, "DicomTlsCertificate": str(cert),
              "DicomTlsPrivateKey": str(tmp_path / "node.key")}
    missing = orthanc.missing_tls_files(config)
    assert missing == [f"DicomTlsPrivateKey={tmp_path / 'node.key'}", "DicomTlsTrustedCertificates=(unset)"]
    assert orthanc.missing_tls_files({**config, "DicomTlsEnabled": False}) == []


@pytest.mark.skipif(not DEBIAN.exists(),
                    reason="Debian's orthanc package is not installed")
def test_debian_orthanc_json_round_trips_every_key():
    config = orthanc.parse_file("orthanc.json", DEBIAN.read_text())
    assert [m.key for m in config.members] == list(config.data)
    for member in config.members:
        value = config.data[member.key]
        text = orthanc.set_key(config, member.key, value)
        assert jsonc.loads(text) == config.data, member.key
    assert json.dumps(config.data)


def test_a_new_key_can_be_given_its_own_file_and_a_defined_key_stays_where_it_is():
    users = {"RegisteredUsers": {"pacsadmin": "x" * 16}}
    fresh = orthanc.plan(files(**{"orthanc.json": SAMPLE}), {"DicomAet": "A1", **users}, "p.json",
                         new_files={"RegisteredUsers": "credentials.json"})
    assert fresh.key_files == {"DicomAet": "orthanc.json", "RegisteredUsers": "credentials.json"}
    defined = orthanc.plan(files(**{"orthanc.json": SAMPLE, "p.json": '{"RegisteredUsers": {}}'}), users,
                           "p.json", new_files={"RegisteredUsers": "credentials.json"})
    assert defined.key_files == {"RegisteredUsers": "p.json"} and set(defined.texts) == {"p.json"}
