"""The audit trail's policy (pacs_log_collectors), plan, time spans and pacsguard's own record."""

import datetime

import pytest

from pacsguard import auditlog
from pacsguard.policy import check_policy
from pacsguard.problems import PolicyReport

TLS = {"certificate": "/ctl/node.crt", "private_key": "/ctl/node.key", "ca": "/ctl/ca.pem"}
GOOD = {"name": "soc-1", "address": "192.0.2.50", "server_name": "collector.lab"}


def check(collectors, tls=TLS):
    report = PolicyReport()
    return auditlog.check_collectors(collectors, tls, report), report.errors


def test_a_collector_gets_the_rfc_5425_port_the_nodes_ca_and_certificate():
    [collector], errors = check([GOOD])
    assert errors == []
    assert collector == {**GOOD, "port": 6514, "ca": "/ctl/ca.pem", "client_certificate": True,
                         "queue": "pacsguard_soc_1"}
    plan = auditlog.plan([collector], TLS)
    assert plan["collectors"][0]["ca_file"] == "/etc/pacsguard/log/ca.pem"
    assert plan["client"]["key_file"] == "/etc/pacsguard/log/node.key"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**GOOD, "address": "collector.lab"}, "pacs_log_collectors[0] (soc-1).address"),
        ({**GOOD, "server_name": 'x" target="evil'}, "server_name: 'x\" target=\"evil' is not a DNS name"),
        ({**GOOD, "server_name": ""}, "server_name: missing or empty"),
        ({**GOOD, "port": 0}, ".port: 0 is not a TCP port"),
        ({**GOOD, "tls": True}, "unknown field(s) tls"),
        ({**GOOD, "client_certificate": "yes"}, "client_certificate: must be true or false"),
        ("soc-1", "must be a mapping"),
    ],
)
def test_each_bad_field_is_one_error_naming_collector_and_field(entry, message):
    checked, errors = check([entry])
    assert checked == [] and len(errors) == 1 and message in errors[0], errors


def test_without_pacs_tls_a_ca_must_be_given_and_no_client_certificate_is_sent():
    _checked, errors = check([GOOD], tls=None)
    assert errors == ["pacs_log_collectors[0] (soc-1).ca: no CA to verify the collector's certificate "
                      "(give ca, or pacs_tls.ca)"]
    [collector], errors = check([{**GOOD, "ca": "/ctl/soc.pem"}], tls=None)
    assert errors == [] and collector["client_certificate"] is False
    assert auditlog.plan([collector], None)["client"] is None
    _checked, errors = check([{**GOOD, "ca": "/ctl/soc.pem", "client_certificate": True}], tls=None)
    assert "has no certificate to authenticate with" in errors[0]


def test_duplicate_names_and_targets_are_refused():
    _checked, errors = check([GOOD, {**GOOD, "name": "SOC-1", "address": "192.0.2.51"}])
    assert errors == ["pacs_log_collectors: duplicate name ('soc-1' and 'SOC-1')"]
    _checked, errors = check([GOOD, {**GOOD, "name": "soc-2"}])
    assert errors == ["pacs_log_collectors: duplicate address and port ('soc-1' and 'soc-2')"]


def test_the_policy_checks_the_collectors_ca_file_and_plans_the_log_area(tmp_path):
    policy = {"product": "dcmqrscp", "ae_title": "ARCHIVE1", "address": "192.0.2.10", "material": True,
              "peers": [], "log_collectors": [{**GOOD, "ca": str(tmp_path / "missing.pem")}]}
    report = check_policy(policy)
    assert any("missing.pem cannot be read" in error for error in report.errors), report.errors
    (tmp_path / "soc.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    report = check_policy({**policy, "log_collectors": [{**GOOD, "ca": str(tmp_path / "soc.pem")}]})
    assert report.errors == []
    assert report.policy["plan"]["log"]["collectors"][0]["ca_file"] == "/etc/pacsguard/log/ca-soc_1.pem"


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("30d", 2592000), ("1w 2d", 777600),
                                                ("1month", 2629800), ("90", 90)])
def test_systemd_time_spans(text, seconds):
    assert auditlog.timespan_seconds(text) == seconds


def test_a_bad_time_span_is_refused():
    with pytest.raises(ValueError):
        auditlog.timespan_seconds("30 fortnights")


def test_the_record_is_rfc_5424_with_its_structured_data_escaped():
    fields = auditlog.trail_fields({"peers": []}, ["/etc/a", "/etc/b"], 'ops"]\\x')
    record = auditlog.trail_message("pacs-1", fields, "hardening changed 2 managed file(s)",
                                    now=datetime.datetime(2026, 12, 4, tzinfo=datetime.timezone.utc), pid=7)
    assert record.startswith("<37>1 2026-12-04T00:00:00.000000+00:00 pacs-1 pacsguard 7 harden "
                             "[pacsguard@32473 ")
    assert 'changes="2" changed="/etc/a, /etc/b" user="ops\\"\\]\\\\x"]' in record
    assert fields["policy"] == auditlog.policy_digest({"peers": []}) and len(fields["policy"]) == 16


def test_digests_see_content_and_mode_changes(tmp_path):
    (tmp_path / "etc/pacsguard").mkdir(parents=True)
    target = tmp_path / "etc/pacsguard/a.conf"
    target.write_text("one")
    before = auditlog.digests(["/etc/pacsguard/*"], str(tmp_path))
    assert list(before) == ["/etc/pacsguard/a.conf"]
    target.chmod(0o600)
    after = auditlog.digests(["/etc/pacsguard/*"], str(tmp_path))
    assert auditlog.changed_paths(before, after) == ["/etc/pacsguard/a.conf"]
    assert auditlog.changed_paths(after, after) == []
