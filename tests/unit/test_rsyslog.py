"""rsyslog's configuration as the audit reads it: comments, includes, actions and legacy forwards."""

from pathlib import Path

import pytest

from pacsguard import rsyslog
from pacsguard.hostaudit.host import Host


def host_with(tmp_path: Path, files: dict[str, str]) -> Host:
    for path, text in files.items():
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return Host(str(tmp_path))


def test_includes_are_followed_and_a_glob_path_is_not_a_comment(tmp_path):
    host = host_with(tmp_path, {
        "/etc/rsyslog.conf": '$IncludeConfig /etc/rsyslog.d/*.conf\ninclude(file="/etc/site/extra.conf")\n',
        "/etc/rsyslog.d/50-a.conf": 'action(type="omfwd" target="192.0.2.1" port="6514" protocol="tcp")\n',
        "/etc/site/extra.conf": "# *.* @@192.0.2.7:514 (commented out)\n/* a block\n*.* @192.0.2.8 */\n",
    })
    config = rsyslog.read(host)
    assert sorted(config.files) == ["/etc/rsyslog.conf", "/etc/rsyslog.d/50-a.conf", "/etc/site/extra.conf"]
    assert [a.params["target"] for a in config.forwards()] == ["192.0.2.1"]
    assert config.legacy_forwards == [] and config.errors == []


def test_a_missing_include_is_an_error_not_a_silent_gap(tmp_path):
    host = host_with(tmp_path, {"/etc/rsyslog.conf": 'include(file="/etc/site/missing.conf")\n'})
    assert "/etc/site/missing.conf (included)" in rsyslog.read(host).errors[0]


@pytest.mark.parametrize(("line", "target"), [
    ("*.* @@192.0.2.9:514", "192.0.2.9:514 (TCP)"),
    ("auth.* @192.0.2.9", "192.0.2.9:514 (UDP)"),
    ("*.* @@(o)[2001:db8::1]:10514", "2001:db8::1:10514 (TCP)"),
])
def test_legacy_forwards_are_found(tmp_path, line, target):
    host = host_with(tmp_path, {"/etc/rsyslog.conf": line + "\n"})
    assert [found[0] for found in rsyslog.read(host).legacy_forwards] == [target]


def test_parameters_are_read_case_insensitively_with_quotes_and_arrays(tmp_path):
    statements, errors = rsyslog.parse_statements(
        'action(type="omfwd" Target="192.0.2.1" StreamDriverPermittedPeers=["a.lab","b.lab"]\n'
        '       queue.type="LinkedList" name="x\\"y")', "/f")
    assert errors == []
    assert statements[0].params["target"] == "192.0.2.1"
    assert statements[0].params["streamdriverpermittedpeers"] == '["a.lab","b.lab"]'
    assert statements[0].params["name"] == 'x"y'


def test_global_defaults_count_for_an_action(tmp_path):
    host = host_with(tmp_path, {"/etc/rsyslog.conf": (
        'global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="/etc/ca.pem")\n'
        'action(type="omfwd" target="192.0.2.1" port="6514" protocol="tcp" StreamDriverMode="1"\n'
        '       StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="c.lab")\n')})
    config = rsyslog.read(host)
    assert rsyslog.plaintext_reason(config.forwards()[0], config) == ""
    assert rsyslog.tls_problems(config.forwards()[0], config) == []
    plain = rsyslog.parse_statements('action(type="omfwd" target="192.0.2.1" protocol="tcp")', "/f")[0][0]
    assert rsyslog.plaintext_reason(plain, rsyslog.Config()) == "stream driver ptcp"


@pytest.mark.parametrize(("name", "ok"), [("collector.lab", True), ("*.soc.example", True),
                                          ('x" target="evil', False), ("-bad.lab", False), ("", False)])
def test_server_names_that_can_sit_inside_rsyslogs_quotes(name, ok):
    assert rsyslog.check_server_name(name)[0] is ok


def test_line_numbers_survive_a_block_comment(tmp_path):
    statements, _errors = rsyslog.parse_statements(
        '/* first\n   second */\naction(type="omfwd" target="192.0.2.1")\n', "/f")
    assert statements[0].line == 3
