"""The module run ad hoc, and the audit playbook end to end, as a user runs them."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from .conftest import tls_args

pytestmark = pytest.mark.integration
from .conftest import ANSIBLE_ENV as ENV
from .conftest import BIN, ROOT


def adhoc(args: str) -> dict:
    run = subprocess.run([str(BIN / "ansible"), "localhost", "-m", "dicom_probe", "-a", args],
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_adhoc_module_reports_rule_ids(dcmqrscp_open):
    result = adhoc(f"host=127.0.0.1 port={dcmqrscp_open.port} called_ae_title=DCMQRSCP "
                   "calling_ae_title=CT01 timeout=3")
    assert result["changed"] is False
    assert {"PACS-NET-001", "PACS-NET-003", "PACS-TLS-001"} <= {f["id"] for f in result["findings"]}


def test_adhoc_module_refuses_bad_input_with_one_clear_error(dcmqrscp_open):
    result = adhoc(f"host=127.0.0.1 port={dcmqrscp_open.port} called_ae_title=ABCDEFGHIJKLMNOPQ")
    assert result.get("failed") is True
    assert result["msg"] == ("called_ae_title 'ABCDEFGHIJKLMNOPQ' is 17 characters long; "
                             "at most 16 (PS3.5 6.2)")


def test_who_serves_dicom_tls_is_read_from_the_installed_dcmqrscp():
    """pacs_product_tls on this machine, as the pacs_policy role runs it on a node: the installed
    dcmqrscp's own --help decides, the package version is reported with it."""
    run = subprocess.run([str(BIN / "ansible"), "localhost", "-m", "pacs_product_tls",
                          "-a", "product=dcmqrscp"],
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dcmtk"], capture_output=True,
                             text=True, check=True).stdout
    help_text = subprocess.run(["dcmqrscp", "--help"], capture_output=True, text=True)
    assert (result["changed"], result["source"], result["version"]) == (False, "installed", version)
    # Debian 12's 3.6.7 lists no +tls; a machine with 3.6.9 would list it.
    assert result["dicom_tls"] is ("+tls " in help_text.stdout + help_text.stderr)
    assert result["evidence"] == f"dcmqrscp --help {'lists' if result['dicom_tls'] else 'has no'} +tls"


def _playbook(tmp_path, hosts: dict, *extra: str,
              playbook: str = "playbooks/audit.yml") -> tuple[subprocess.CompletedProcess, Path]:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"pacs": {"hosts": hosts}}}}))
    reports = tmp_path / "reports"
    run = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), playbook,
         "-e", f"pacs_audit_report_dir={reports}", *extra],
        cwd=ROOT, env={**ENV, "ANSIBLE_STDOUT_CALLBACK": "default"}, capture_output=True, text=True,
        timeout=300)
    return run, reports


def _node(server, **more):
    # what the lab's hardened Orthanc grants each peer (PACS-NET-007 holds the node to it)
    peers = [{"name": "ct", "ae_title": "CT01", "address": "127.0.0.1",
              "services": ["echo", "store", "find"]},
             {"name": "rws", "ae_title": "RWS1", "address": "127.0.0.3", "services": ["get", "move"]}]
    return {"ansible_host": server.host, "pacs_product": "orthanc", "pacs_ae_title": server.ae_title,
            "pacs_dicom_port": server.port, "pacs_http_port": int(server.web_url.rsplit(":", 1)[1]),
            "pacs_peers": peers, "pacs_audit_timeout": 3,
            # loopback processes, not hosts: there is no host of theirs to read a configuration on
            "pacs_audit_host_enabled": False, **more}


def test_audit_playbook_fails_on_the_insecure_node_and_writes_reports(tmp_path, orthanc_default,
                                                                     orthanc_tls13, pki):
    hosts = {"insecure": _node(orthanc_default),
             "hardened": _node(orthanc_tls13, **{f"pacs_audit_{k}": v for k, v in tls_args(pki).items()})}
    run, reports = _playbook(tmp_path, hosts)
    assert run.returncode != 0, run.stdout
    assert "gate: FAIL" in run.stdout
    document = json.loads((reports / "pacsguard-audit.json").read_text())
    verdicts = {h["name"]: h["verdict"] for h in document["hosts"]}
    assert verdicts == {"insecure": "fail", "hardened": "pass"}
    suites = {s.get("name"): s for s in ET.parse(reports / "pacsguard-audit.junit.xml").getroot()}
    assert int(suites["insecure"].get("failures")) >= 5
    assert suites["hardened"].get("failures") == "0"
    # the SARIF report of the same run: valid, each result of the insecure node at its inventory line
    sarif = json.loads((reports / "pacsguard-audit.sarif").read_text())
    schema = json.loads((ROOT / "tests" / "unit" / "data" / "sarif-2.1.0.json").read_text())
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(sarif))
    results = sarif["runs"][0]["results"]
    assert len(results) == len(document["hosts"][0]["findings"]) + len(document["hosts"][1]["findings"])
    lines = (tmp_path / "inventory.yml").read_text().splitlines()
    for result in results:
        where = result["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"] == f"file://{tmp_path / 'inventory.yml'}"
        assert lines[where["region"]["startLine"] - 1].strip() == f"{result['properties']['host']}:"
    # and the page for people: the gate first, each node a row
    page = (reports / "pacsguard-audit.html").read_text()
    assert '<div class="gate fail" id="gate">Gate: FAIL' in page
    assert page.count('class="noderow"') == 2 and "report for people: " in run.stdout


def test_a_second_audit_says_what_changed_and_may_gate_on_new_findings_only(tmp_path, orthanc_default):
    """Night one fails on an open node; night two, with nothing changed, lists every finding as
    remaining and passes when only new findings count; a path that is not a report is refused."""
    first, reports = _playbook(tmp_path, {"insecure": _node(orthanc_default)})
    assert first.returncode != 0 and "changes: no earlier report to compare with" in first.stdout
    before = json.loads((reports / "pacsguard-audit.json").read_text())
    second, _ = _playbook(tmp_path, {"insecure": _node(orthanc_default)},
                          "-e", "pacs_audit_fail_on_new_only=true")
    assert second.returncode == 0, second.stdout[-3000:]
    after = json.loads((reports / "pacsguard-audit.json").read_text())
    count = len(before["hosts"][0]["findings"])
    since = f"changes since the report of {before['generated_at']}"
    assert f"{since}: 0 new, 0 fixed, {count} remaining" in second.stdout
    assert {f["change"] for f in after["hosts"][0]["findings"]} == {"remaining"}
    assert after["summary"]["gate"] == "pass" and after["summary"]["findings"] == count
    refused, _ = _playbook(tmp_path, {"insecure": _node(orthanc_default)},
                           "-e", f"pacs_audit_compare_with={tmp_path / 'inventory.yml'}")
    assert refused.returncode != 0
    assert "not JSON" in refused.stdout and "no report was written" in refused.stdout


def test_audit_playbook_passes_a_hardened_node(tmp_path, orthanc_tls13, pki):
    node = _node(orthanc_tls13, **{f"pacs_audit_{k}": v for k, v in tls_args(pki).items()})
    run, reports = _playbook(tmp_path, {"hardened": node})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "gate: PASS" in run.stdout
    assert json.loads((reports / "pacsguard-audit.json").read_text())["summary"]["findings"] == 0


def test_audit_gate_threshold_and_unprobeable_host(tmp_path, orthanc_hardened):
    # hardened but plaintext: one high finding (PACS-TLS-001) passes a critical gate ...
    node = _node(orthanc_hardened)
    run, _ = _playbook(tmp_path, {"plain": node}, "-e", "pacs_audit_fail_on=critical")
    assert run.returncode == 0, run.stdout[-3000:]
    # ... and a host whose probe cannot run (bad AE title in its policy) fails the gate
    broken = _node(orthanc_hardened, pacs_ae_title="BAD\\AE")
    run, reports = _playbook(tmp_path, {"plain": node, "broken": broken}, "-e",
                             "pacs_audit_fail_on=critical")
    assert run.returncode != 0
    document = json.loads((reports / "pacsguard-audit.json").read_text())
    broken_entry = next(h for h in document["hosts"] if h["name"] == "broken")
    assert "backslash" in broken_entry["error"]


def test_a_bad_audit_option_makes_its_node_an_error_and_the_others_are_audited(tmp_path,
                                                                            orthanc_hardened):
    """audit.yml validates the role's options of every node in one task (no validation task per
    node): a node whose option is not valid is an error entry naming the option; the others are
    probed as usual."""
    hosts = {"good": _node(orthanc_hardened), "bad": _node(orthanc_hardened, pacs_audit_timeout="soon"),
             "worse": _node(orthanc_hardened, pacs_audit_position="everywhere"),
             "unreadable": _node(orthanc_hardened, pacs_audit_web_url="{{ 'x' | from_json }}")}
    run, reports = _playbook(tmp_path, hosts, "-e", "pacs_audit_fail_on=critical")
    assert run.returncode != 0, run.stdout[-3000:]       # errors fail the gate (inconclusive)
    entries = {h["name"]: h for h in json.loads((reports / "pacsguard-audit.json").read_text())["hosts"]}
    assert entries["bad"]["verdict"] == "error" and "pacs_audit_timeout" in entries["bad"]["error"]
    assert entries["worse"]["verdict"] == "error" and "pacs_audit_position" in entries["worse"]["error"]
    assert "everywhere" in entries["worse"]["error"]
    assert entries["unreadable"]["verdict"] == "error"
    unreadable = entries["unreadable"]["error"]
    assert "pacs_audit_web_url: The filter plugin 'ansible.builtin.from_json' failed" in unreadable
    good = entries["good"]
    assert good["error"] == "" and good["checks"]["positive_control"]["status"] == "pass"
    assert {f["id"] for f in good["findings"]} == {"PACS-TLS-001"}


def test_the_role_whole_in_a_play_of_ones_own_reports_as_audit_yml_does(tmp_path, orthanc_hardened):
    """roles: [pacs_audit] (Ansible validates its options per node, the host part is an include per
    node): the same report as through audit.yml, and a bad option still stops its node."""
    playbook = tmp_path / "own.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Audit", "hosts": "pacs", "gather_facts": False,
                                         "roles": [{"role": "pacs_audit"}]}]))
    run, reports = _playbook(tmp_path, {"plain": _node(orthanc_hardened)}, "-e",
                             "pacs_audit_fail_on=critical", playbook=str(playbook))
    assert run.returncode == 0, run.stdout[-3000:]
    host = json.loads((reports / "pacsguard-audit.json").read_text())["hosts"][0]
    assert host["verdict"] == "fail" and {f["id"] for f in host["findings"]} == {"PACS-TLS-001"}
    run, _ = _playbook(tmp_path, {"plain": _node(orthanc_hardened, pacs_audit_timeout="soon")},
                       playbook=str(playbook))
    assert run.returncode != 0 and "pacs_audit_timeout" in run.stdout


def test_a_waiver_holds_the_gate_until_it_expires(tmp_path, orthanc_hardened):
    """A hardened but plaintext node: its PACS-TLS-001 (high) fails the gate; waived, it passes and
    stays in the reports as waived; once the waiver has expired it fails the gate again."""
    import datetime

    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    past = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    waiver = {"rule": "PACS-TLS-001", "reason": "modalities move to TLS in change 4711"}
    run, _ = _playbook(tmp_path, {"plain": _node(orthanc_hardened)})
    assert run.returncode != 0, run.stdout[-2000:]
    held = _node(orthanc_hardened, pacs_audit_waivers=[{**waiver, "expires": future}])
    run, reports = _playbook(tmp_path, {"plain": held})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 waived" in run.stdout
    assert "waiver in force: plain PACS-TLS-001, 30 day(s) left" in run.stdout
    document = json.loads((reports / "pacsguard-audit.json").read_text())
    finding = next(f for f in document["hosts"][0]["findings"] if f["id"] == "PACS-TLS-001")
    assert finding["waived"]["reason"] == waiver["reason"]
    ran_out = _node(orthanc_hardened, pacs_audit_waivers=[{**waiver, "expires": past}])
    run, _ = _playbook(tmp_path, {"plain": ran_out})
    assert run.returncode != 0
    assert "waiver expired, the finding counts again: plain PACS-TLS-001" in run.stdout
    broken = _node(orthanc_hardened, pacs_audit_waivers=[{"rule": "PACS-TLS-001"}])
    run, _ = _playbook(tmp_path, {"plain": broken})
    assert run.returncode != 0 and "a waiver needs a reason" in run.stdout
    # a critical rule, a one-letter reason, no real end: each refused, and the gate is not spared
    unbounded = _node(orthanc_hardened, pacs_audit_waivers=[
        {"rule": "PACS-NET-001", "reason": "x", "expires": "9999-12-31"}])
    run, _ = _playbook(tmp_path, {"plain": unbounded})
    assert run.returncode != 0
    for message in ("PACS-NET-001 is critical", "'x' does not say why", "a waiver runs at most 90 days"):
        assert message in run.stdout, (message, run.stdout[-3000:])


def test_audit_resolves_peers_that_refer_to_other_hosts(tmp_path, orthanc_hardened):
    """Inventory values are often templates over other hosts (a peer's address from its hostvars):
    the audit resolves them in each node's own context (this broke once inside the batch call)."""
    node = _node(orthanc_hardened)
    elsewhere = "{{ hostvars['modality']['pg_ip'] }}"
    node["pacs_peers"] = [{"name": "ct", "ae_title": "CT01", "address": elsewhere},
                          {"name": "rws", "ae_title": "RWS1", "address": "127.0.0.3"}]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "pacs": {"hosts": {"plain": node}},
        "modalities": {"hosts": {"modality": {"ansible_host": "127.0.0.1", "pg_ip": "127.0.0.1"}}}}}}))
    run = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml",
         "-e", f"pacs_audit_report_dir={tmp_path / 'reports'}", "-e", "pacs_audit_fail_on=critical"],
        cwd=ROOT, env={**ENV, "ANSIBLE_STDOUT_CALLBACK": "default"}, capture_output=True, text=True,
        timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    document = json.loads((tmp_path / "reports" / "pacsguard-audit.json").read_text())
    assert document["hosts"][0]["checks"]["positive_control"]["status"] == "pass"


DEBIAN_DEFAULTS = ["PACS-CFG-001", "PACS-CFG-002", "PACS-CFG-003", "PACS-CFG-007", "PACS-CFG-009",
                   "PACS-CFG-010",
                   # Debian's unit logs refusals only, into /var/log/orthanc; nothing forwards the logs
                   "PACS-LOG-001", "PACS-LOG-005"]


def _plugin_file_writable_by_orthanc() -> bool:
    """Debian's orthanc-dicomweb (installed for the DICOMweb tests) ships /etc/orthanc/dicomweb.json
    as orthanc:orthanc 0664: the service user may write a file Orthanc reads (PACS-CFG-008)."""
    import pwd

    path = Path("/etc/orthanc/dicomweb.json")
    if not path.exists():
        return False
    info = path.stat()
    return info.st_uid == pwd.getpwnam("orthanc").pw_uid and bool(info.st_mode & 0o200)


def test_audit_parts_by_tag_one_report_each(tmp_path, orthanc_hardened):
    """--tags host: the configuration part alone, here on this machine's own Orthanc as Debian ships
    it (the controller is the host: local connection); --tags probe: the network part alone."""
    node = _node(orthanc_hardened, pacs_audit_host_enabled=True, ansible_connection="local",
                 ansible_python_interpreter=sys.executable)
    run, reports = _playbook(tmp_path, {"node": node}, "--tags", "host")
    assert run.returncode != 0, run.stdout[-3000:]           # Debian's defaults fail the gate
    host = json.loads((reports / "pacsguard-audit.json").read_text())["hosts"][0]
    assert host["parts"] == ["host"] and host["error"] == "" and host["verdict"] == "fail"
    expected = DEBIAN_DEFAULTS + (["PACS-CFG-008"] if _plugin_file_writable_by_orthanc() else [])
    assert sorted(f["id"] for f in host["findings"]) == sorted(expected)
    assert {f["source"] for f in host["findings"]} == {"host"}
    assert host["checks"]["PACS-CFG-011"]["status"] == "pass"       # policy given, no modality listed
    assert host["checks"]["PACS-CFG-014"]["status"] == "skipped"    # no systemd on this machine
    assert "positive_control" not in host["checks"]
    run, reports = _playbook(tmp_path, {"node": node}, "--tags", "probe", "-e", "pacs_audit_fail_on=critical")
    assert run.returncode == 0, run.stdout[-3000:]
    host = json.loads((reports / "pacsguard-audit.json").read_text())["hosts"][0]
    assert host["parts"] == ["network"] and not any(k.startswith("PACS-CFG") for k in host["checks"])


def test_a_role_tag_through_site_yml_writes_no_empty_report(tmp_path, orthanc_hardened):
    """audit.yml with a tag of neither part (as site.yml --tags allowlist runs it): no report, no gate."""
    run, reports = _playbook(tmp_path, {"node": _node(orthanc_hardened)}, "--tags", "allowlist")
    assert run.returncode == 0, run.stdout[-3000:]
    assert not (reports / "pacsguard-audit.json").exists()


def test_nodes_of_each_vantage_are_probed_together_and_keep_their_own_result(tmp_path, orthanc_default,
                                                                             orthanc_hardened):
    """Three nodes, three vantages: the controller (inside), another host (outside: any open port is
    PACS-FW-001) and a vantage that cannot be reached (its node is an error, the others go on)."""
    inventory = tmp_path / "inventory.yml"
    hosts = {"open": _node(orthanc_default),
             "seen-from-outside": _node(orthanc_hardened, pacs_audit_vantage="rogue",
                                        pacs_audit_position="outside"),
             "behind-dead-vantage": _node(orthanc_hardened, pacs_audit_vantage="dead")}
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "pacs": {"hosts": hosts},
        "vantages": {"hosts": {"rogue": {"ansible_connection": "local",
                                         "ansible_python_interpreter": sys.executable},
                               "dead": {"ansible_host": "127.0.0.1", "ansible_port": 1,
                                        "ansible_connection": "ssh"}}}}}}))
    run = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml",
         "-e", f"pacs_audit_report_dir={tmp_path / 'reports'}"],
        cwd=ROOT, env={**ENV, "ANSIBLE_STDOUT_CALLBACK": "default"}, capture_output=True, text=True,
        timeout=300)
    assert run.returncode != 0
    # one probe task call per vantage, not per node
    assert run.stdout.count("TASK [pacs_audit : Probe every node of each vantage in one call") == 1
    document = json.loads((tmp_path / "reports" / "pacsguard-audit.json").read_text())
    report = {h["name"]: h for h in document["hosts"]}
    assert report["open"]["verdict"] == "fail"
    assert "PACS-NET-001" in {f["id"] for f in report["open"]["findings"]}
    outside = report["seen-from-outside"]
    assert "PACS-FW-001" in {f["id"] for f in outside["findings"]}
    assert report["open"]["checks"]["PACS-FW-001"]["status"] == "skipped"     # its own position: inside
    assert report["behind-dead-vantage"]["verdict"] == "error"
    assert report["behind-dead-vantage"]["error"].startswith("vantage dead: ")


def test_many_targets_in_one_call_each_with_its_own_result_or_error(dcmqrscp_open):
    """dicom_probe targets: one process probes several endpoints; a target with unusable options
    gets its own error, the others are probed."""
    args = json.dumps({"targets": [
        {"name": "open", "host": "127.0.0.1", "port": dcmqrscp_open.port, "called_ae_title": "DCMQRSCP",
         "calling_ae_title": "CT01", "timeout": 3},
        {"name": "bad", "host": "127.0.0.1", "port": dcmqrscp_open.port,
         "called_ae_title": "ABCDEFGHIJKLMNOPQ"},
        {"name": "closed", "host": "127.0.0.1", "port": 9, "called_ae_title": "DCMQRSCP", "timeout": 1}]})
    result = adhoc(args)
    probes = result["probes"]
    assert result["changed"] is False and set(probes) == {"open", "bad", "closed"}
    assert "PACS-NET-001" in {f["id"] for f in probes["open"]["findings"]}
    assert probes["bad"] == {"verdict": "error", "error": "called_ae_title 'ABCDEFGHIJKLMNOPQ' is 17 "
                                                          "characters long; at most 16 (PS3.5 6.2)"}
    assert probes["closed"]["endpoint"]["reachable"] is False


def test_a_host_part_that_cannot_reach_its_host_is_an_error_and_the_report_is_written(tmp_path,
                                                                                     orthanc_hardened):
    """Both parts on, no SSH to the node (a pipeline that forgot --tags probe): the node is an error
    entry saying so, with its network findings kept out of the gate's doubt; the report exists."""
    node = _node(orthanc_hardened, pacs_audit_host_enabled=True, ansible_connection="ssh",
                 ansible_port=1)
    run, reports = _playbook(tmp_path, {"node": node})
    assert run.returncode != 0, run.stdout[-3000:]
    host = json.loads((reports / "pacsguard-audit.json").read_text())["hosts"][0]
    assert host["verdict"] == "error" and host["parts"] == ["network", "host"]
    assert "configuration audit: host unreachable" in host["error"]
    assert host["checks"]["positive_control"]["status"] == "pass"     # the network part still ran


def test_pacs_tls_refuses_a_path_that_would_split_a_unit_line_and_writes_nothing(tmp_path, pki):
    """pacs_tls_dir and the file names reach the product's ExecStart and stunnel's file: a space
    would make two arguments of one path. The role refuses before its first file task."""
    target = tmp_path / "tls dir"
    play = [{"hosts": "localhost", "gather_facts": False, "roles": ["pacs_tls"], "vars": {
        "pacs_product": "orthanc", "pacs_ae_title": "ARCHIVE1", "pacs_address": "127.0.0.1",
        "pacs_peers": [{"name": "ct", "ae_title": "CT01", "address": "127.0.0.2"}],
        "pacs_tls": {"certificate": pki["server_cert"], "private_key": pki["server_key"],
                     "ca": pki["ca_cert"]},
        "pacs_tls_dir": str(target), "pacs_tls_private_key_name": "node key.pem"}}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    run = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml"),
         "-e", f"ansible_python_interpreter={sys.executable}"],
        cwd=ROOT, env={**ENV, "ANSIBLE_STDOUT_CALLBACK": "default"}, capture_output=True, text=True,
        timeout=300)
    assert run.returncode != 0
    assert "nothing was changed: pacs_tls_dir: " in run.stdout, run.stdout[-3000:]
    assert "pacs_tls_private_key_name: " in run.stdout
    assert not target.exists()


def _chromium(*args: str) -> subprocess.CompletedProcess:
    """Debian's headless Chromium (scripts/system-packages.sh installs it): what a person's browser
    does with the page, its script included."""
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _row_classes(dom: str) -> dict[str, str]:
    """Each node's row of the matrix, by node name, to its classes as the browser left them."""
    return {name: classes for classes, name in
            re.findall(r'<tr class="(noderow[^"]*)" data-sort="[^"]*"><td class="node">(\w+) ', dom)}


def test_the_html_report_of_a_real_audit_reads_right_in_a_browser(tmp_path, orthanc_default, orthanc_tls13,
                                                                  pki):
    """A person opens the page: the gate at the top, the open node's failing cell leading to its
    finding, and 'hide passes' leaving only what needs work. A screenshot stays in reports/."""
    hosts = {"insecure": _node(orthanc_default),
             "hardened": _node(orthanc_tls13, **{f"pacs_audit_{k}": v for k, v in tls_args(pki).items()})}
    run, reports = _playbook(tmp_path, hosts)
    assert run.returncode != 0, run.stdout[-2000:]
    page = f"file://{reports / 'pacsguard-audit.html'}"
    seen = _chromium("--dump-dom", page)
    assert seen.returncode == 0, seen.stderr[-2000:]
    dom = seen.stdout
    assert re.search(r'<div class="gate fail" id="gate">Gate: FAIL \(\d+ finding\(s\) at or above high', dom)
    assert _row_classes(dom) == {"insecure": "noderow", "hardened": "noderow"}
    cell = re.search(r'<td class="cell critical"[^>]*title="insecure PACS-NET-001: critical"[^>]*>'
                     r'<a href="#(f-[0-9a-f]{16})">', dom)
    assert cell and f'<details id="{cell.group(1)}"><summary>insecure: PACS-NET-001' in dom
    # the page's own script runs (allowed by its hash): 'hide passes' hides the clean node's row
    hidden = _row_classes(_chromium("--dump-dom", f"{page}#hidepass").stdout)
    assert hidden == {"insecure": "noderow", "hardened": "noderow hidden"}, hidden
    artifacts = ROOT / "reports" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = _chromium(f"--screenshot={artifacts / 'html-report.png'}", "--window-size=1600,1000", page)
    assert shot.returncode == 0 and (artifacts / "html-report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
