"""Discovery against real servers on loopback: Orthanc and dcmqrscp open and locked, DICOM TLS with a
client certificate required, Orthanc's web port, a silent port, a hostile one, a closed one; and the
discover playbook as a user runs it. Only 127.0.0.1 is ever swept."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import pacslab
from pacsguard import discovery
from pacsguard.discovery import DiscoveryInputError, Sweep

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def web_port(server: pacslab.Server) -> int:
    return int(server.web_url.rsplit(":", 1)[1])


def sweep(ports: list[int], **options) -> dict:
    return discovery.run(Sweep(networks=["127.0.0.1"], ports=ports, timeout=2, **options))


def by_port(result: dict) -> dict[int, dict]:
    return {e["port"]: e for e in result["endpoints"]}


@pytest.fixture(scope="module")
def lab(dcmqrscp_open, dcmqrscp_listed, orthanc_default, orthanc_hardened, orthanc_tls13, silent):
    closed = pacslab.free_port()
    servers = {"dcmqrscp_open": dcmqrscp_open, "dcmqrscp_listed": dcmqrscp_listed,
               "orthanc_default": orthanc_default, "orthanc_hardened": orthanc_hardened,
               "orthanc_tls13": orthanc_tls13, "silent": silent}
    web = [web_port(orthanc_default), web_port(orthanc_hardened)]
    ports = [s.port for s in servers.values()] + [*web, closed]
    known = [{"name": "listed-archive", "address": "127.0.0.1", "ports": [dcmqrscp_listed.port]},
             {"name": "hardened-orthanc", "address": "127.0.0.1", "product": "orthanc",
              "dicom_port": orthanc_hardened.port, "http_port": web_port(orthanc_hardened)}]
    result = sweep(ports, web_ports=web, known=known)
    return {"result": result, "found": by_port(result), "closed": closed, **servers}


def test_an_open_archive_is_found_accepting_any_calling_ae(lab):
    for name in ("dcmqrscp_open", "orthanc_default"):
        endpoint = lab["found"][lab[name].port]
        assert endpoint["service"] == "dicom" and endpoint["transport"] == "plaintext", endpoint
        assert endpoint["accepts_any_calling_ae"] is True and endpoint["association"] == "accepted"
        assert endpoint["toolkit"] == "DCMTK"
        assert endpoint["implementation_class_uid"].startswith("1.2.276.0.7230010.3")
    # dcmqrscp checks the called AE: found under its own (default) title after ANY-SCP was refused
    assert lab["found"][lab["dcmqrscp_open"].port]["called_ae_title"] == "DCMQRSCP"


def test_locked_archives_are_dicom_but_not_open(lab):
    hardened = lab["found"][lab["orthanc_hardened"].port]
    assert hardened["service"] == "dicom" and hardened["accepts_any_calling_ae"] is False
    assert hardened["association"] == "rejected"
    listed = lab["found"][lab["dcmqrscp_listed"].port]
    assert listed["service"] == "dicom" and listed["accepts_any_calling_ae"] is not True


def test_dicom_tls_with_a_client_certificate_required_is_found(lab):
    endpoint = lab["found"][lab["orthanc_tls13"].port]
    assert endpoint["service"] == "tls" and endpoint["transport"] == "tls"
    assert endpoint["client_certificate_required"] is True


def test_web_ports_tell_the_product(lab):
    open_web = lab["found"][web_port(lab["orthanc_default"])]
    assert (open_web["service"], open_web["product"], open_web["version"]) == ("web", "Orthanc", "1.10.1")
    assert "without credentials" in open_web["detail"]
    locked_web = lab["found"][web_port(lab["orthanc_hardened"])]
    assert locked_web["service"] == "web" and "without credentials" not in locked_web["detail"]


def test_silent_and_closed_ports(lab):
    assert lab["found"][lab["silent"].port]["service"] == "silent"
    assert lab["closed"] not in lab["found"]


def test_unlisted_dicom_endpoints_are_findings_and_listed_ones_are_not(lab):
    flagged = {int(f["evidence"].split(":")[1].split()[0]) for f in lab["result"]["findings"]}
    assert {f["id"] for f in lab["result"]["findings"]} == {"PACS-DISC-001"}
    assert flagged == {lab["dcmqrscp_open"].port, lab["orthanc_default"].port, lab["orthanc_tls13"].port}
    assert lab["found"][lab["dcmqrscp_listed"].port]["inventory_name"] == "listed-archive"
    assert lab["found"][lab["orthanc_hardened"].port]["managed"] is True
    assert lab["found"][web_port(lab["orthanc_hardened"])]["managed"] is True  # product's port, not listed
    summary = lab["result"]["summary"]
    assert (summary["dicom"], summary["tls"], summary["web"], summary["unmanaged"]) == (4, 1, 2, 3)


def test_the_inventory_written_lists_every_endpoint_by_service(lab):
    groups = lab["result"]["inventory"]["all"]["children"]
    unmanaged = set(groups["pacs_discovered_unmanaged"]["hosts"])
    assert len(unmanaged) == 3 and all(name.startswith(("dicom-", "tls-")) for name in unmanaged)
    dicom = groups["pacs_discovered_dicom"]["hosts"]
    assert {h["pacs_dicom_port"] for h in dicom.values()} == {
        lab[n].port for n in ("dcmqrscp_open", "dcmqrscp_listed", "orthanc_default", "orthanc_hardened")}
    assert all(h["ansible_host"] == "127.0.0.1" for h in dicom.values())


def _hostile(conn, stop):
    """Reads the request, answers with an A-ASSOCIATE-AC header announcing a 2 GiB PDU."""
    conn.recv(4096)
    conn.sendall(struct.pack(">BBI", 0x02, 0, 2**31))
    stop.wait()


def test_a_hostile_answer_is_not_read_and_the_sweep_ends(servers):
    hostile = servers("discovery-hostile", lambda: pacslab.serve_connections("hostile", "X", _hostile))
    endpoint = by_port(sweep([hostile.port]))[hostile.port]
    assert endpoint["service"] == "unknown" and "not read" in endpoint["detail"]


@pytest.mark.parametrize(("options", "message"), [
    ({"networks": ["10.0.0.0/8"]}, "more than max_addresses"),
    ({"networks": ["archive.example"]}, "'archive.example' is not an IP address or network"),
    ({"networks": ["127.0.0.1"], "ports": [0]}, "ports: 0 is not a TCP port"),
    ({"networks": ["127.0.0.1"], "called_ae_titles": ["A\\B"]}, "called_ae_titles .*backslash"),
    ({"networks": ["127.0.0.1"], "called_ae_titles": [f"AE{i}" for i in range(20)]},
     "not a brute force"),
    ({"networks": ["127.0.0.1"], "rate": 0}, "rate"),
    ({"networks": ["127.0.0.1"], "known": [{"name": "x", "address": "pacs.example"}]},
     "'x' has no IP address"),
])
def test_bad_input_is_one_clear_error_before_any_connection(options, message):
    with pytest.raises(DiscoveryInputError, match=message):
        discovery.run(Sweep(**options))


def test_the_discover_playbook_writes_an_inventory_and_gates(tmp_path, dcmqrscp_open, dcmqrscp_listed):
    ports = [dcmqrscp_open.port, dcmqrscp_listed.port]
    listed = {"ansible_host": "127.0.0.1", "pacs_product": "dcmqrscp", "pacs_ae_title": "DCMQRSCP",
              "pacs_dicom_port": dcmqrscp_listed.port,
              "pacs_peers": [{"name": "ct", "ae_title": "CT01", "address": "127.0.0.1"}]}

    def play(hosts: dict) -> subprocess.CompletedProcess:
        inventory = tmp_path / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"children": {"pacs": {"hosts": hosts}}}}))
        extra = {"pacs_discover_networks": ["127.0.0.1"], "pacs_discover_ports": ports,
                 "pacs_discover_timeout": 2, "pacs_discover_output_dir": str(tmp_path / "out")}
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/discover.yml",
                   "-e", json.dumps(extra)]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")})

    run = play({"listed": listed})
    assert run.returncode != 0, run.stdout[-2000:]
    assert "1 DICOM endpoint(s) not in the inventory" in run.stdout
    written = yaml.safe_load((tmp_path / "out" / "pacsguard-discovery.inventory.yml").read_text())
    unmanaged = written["all"]["children"]["pacs_discovered_unmanaged"]["hosts"]
    assert list(unmanaged) == [f"dicom-127.0.0.1-{dcmqrscp_open.port}"]
    report = json.loads((tmp_path / "out" / "pacsguard-discovery.json").read_text())
    assert report["summary"]["dicom"] == 2 and [f["id"] for f in report["findings"]] == ["PACS-DISC-001"]
    # both listed: nothing unmanaged, the run passes
    opened = {**listed, "pacs_dicom_port": dcmqrscp_open.port}
    run = play({"listed": listed, "opened": opened})
    assert run.returncode == 0, run.stdout[-2000:]


def _trickle(conn, stop):
    """Answers a web request with a status line, then one byte every 0.2 s for as long as it may."""
    conn.recv(4096)
    conn.sendall(b"HTTP/1.0 200 OK\r\n")
    while not stop.wait(0.2):
        conn.sendall(b"x")


def test_a_server_trickling_its_answer_cannot_hold_the_sweep(servers):
    import threading

    trickling = servers("discovery-trickle", lambda: pacslab.serve_connections("trickle", "X", _trickle))
    found: dict = {}
    worker = threading.Thread(target=lambda: found.update(
        discovery.run(Sweep(networks=["127.0.0.1"], ports=[trickling.port], web_ports=[trickling.port],
                            timeout=1))), daemon=True)
    worker.start()
    worker.join(60)  # a hang, not a speed: the answer is read for 2 x timeout at most
    assert not worker.is_alive(), "the sweep kept reading a trickling answer"
    assert by_port(found)[trickling.port]["service"] == "web"


def _templating_accept(conn, stop):
    """An A-ASSOCIATE-AC whose implementation class UID and version name are Jinja expressions."""
    def item(kind, value):
        return struct.pack(">BBH", kind, 0, len(value)) + value

    conn.recv(4096)
    user = item(0x50, item(0x52, b"{{ lookup('pipe', 'id') }}") + item(0x55, b"{% raw %}x{% endraw %}"))
    body = struct.pack(">HH", 1, 0) + b"ANY-SCP".ljust(16) + b"X".ljust(16) + bytes(32) + user
    conn.sendall(struct.pack(">BBI", 0x02, 0, len(body)) + body)
    stop.wait()


def test_what_a_server_says_of_itself_never_lands_as_a_template(servers):
    hostile = servers("discovery-templating", lambda: pacslab.serve_connections("templating", "X",
                                                                                _templating_accept))
    result = sweep([hostile.port])
    endpoint = by_port(result)[hostile.port]
    assert endpoint["service"] == "dicom" and endpoint["accepts_any_calling_ae"] is True
    assert endpoint["implementation_class_uid"] is None and endpoint["implementation_version_name"] is None
    written = yaml.safe_dump(result["inventory"]) + json.dumps(result["findings"])
    assert "{{" not in written and "{%" not in written and "lookup" not in written


def test_a_tls_port_that_accepts_any_calling_ae_without_a_client_certificate(pki):
    """The sweep's TLS association is accepted, then released: the endpoint is DICOM over TLS open
    to any calling AE (the release after an acceptance once broke the sweep)."""
    import ssl

    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["server_cert"], pki["server_key"])
    ae = AE(ae_title="ANY-SCP")
    ae.require_called_aet = False
    ae.add_supported_context(Verification)
    port = pacslab.free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, ssl_context=context)
    try:
        endpoint = by_port(sweep([port]))[port]
    finally:
        server.shutdown()
    assert (endpoint["transport"], endpoint["association"]) == ("tls", "accepted"), endpoint
    assert endpoint["accepts_any_calling_ae"] is True


def test_an_inventory_from_a_hostile_sweep_runs_nothing_when_ansible_uses_it(servers, tmp_path):
    """A web port whose status line is a Jinja expression: the inventory the sweep writes once
    carried it into a string Ansible templates on use, and using that inventory ran a shell command
    on the controller. Every string of the inventory is now reduced to characters that cannot form
    a template; Ansible reads it, templates it, and nothing runs."""
    marker = tmp_path / "ran"
    status_line = ("HTTP/1.1 {{lookup('pipe','touch${IFS}" + str(marker) + "')}} OK\r\n").encode()

    def answer(conn, stop):
        conn.recv(4096)
        conn.sendall(status_line + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")

    hostile = servers("discovery-status-line", lambda: pacslab.serve_connections("status", "X", answer))
    result = discovery.run(Sweep(networks=["127.0.0.1"], ports=[hostile.port], web_ports=[hostile.port],
                                 timeout=2))
    assert by_port(result)[hostile.port]["service"] == "web"
    inventory = tmp_path / "found.inventory.yml"
    inventory.write_text("---\n" + yaml.safe_dump(result["inventory"]))
    assert "{{" not in inventory.read_text() and "{" not in inventory.read_text()
    run = subprocess.run([str(BIN / "ansible"), "all", "-i", str(inventory), "-c", "local",
                          "-m", "ansible.builtin.debug", "-a", "var=pacs_discovery"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "HTTP ? to GET /system" in run.stdout
    assert not marker.exists(), "a value of the written inventory ran a command on the controller"
