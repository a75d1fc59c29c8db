"""make demo: start the built-in lab on loopback, audit it with playbooks/audit.yml, show the result.

The lab: an Orthanc with Debian's default configuration (one study stored), an Orthanc with DICOM
TLS set up as its documentation shows, and a dcmqrscp with DCMTK's documented shared storage area.
Everything runs as child processes on 127.0.0.1 and is stopped and removed at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from pydicom.data import get_testdata_file

import pacslab

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / ".lab"
# The site policy every lab node is audited against: the controller (127.0.0.1) speaks as CT01.
PEERS = [
    {"name": "ct-scanner-1", "ae_title": "CT01", "address": "127.0.0.1", "port": 104,
     "services": ["echo", "store"], "tls": True},
    {"name": "reading-room", "ae_title": "RWS1", "address": "127.0.0.3", "port": 11112,
     "services": ["echo", "find", "move", "get"]},
]


def start_lab() -> tuple[list[pacslab.Server], dict]:
    """Start the three lab nodes and return them with their inventory."""
    pki = pacslab.make_pki(LAB / "pki")
    study = get_testdata_file("CT_small.dcm")
    servers: list[pacslab.Server] = []
    default = pacslab.start_orthanc(LAB, "orthanc-default")
    servers.append(default)
    pacslab.orthanc_upload(default, study)
    servers.append(pacslab.start_orthanc(LAB, "orthanc-tls", {
        "DicomTlsEnabled": True,
        "DicomTlsCertificate": pki["server_cert"],
        "DicomTlsPrivateKey": pki["server_key"],
        "DicomTlsTrustedCertificates": pki["ca_cert"],
        "DicomTlsRemoteCertificateRequired": True,
    }))
    dcmqrscp = pacslab.start_dcmqrscp(LAB, "dcmqrscp")
    servers.append(dcmqrscp)
    pacslab.dicom_store(dcmqrscp, study)
    hosts = {}
    for server in servers:
        product = "dcmqrscp" if server.name == "dcmqrscp" else "orthanc"
        node = {"ansible_host": server.host, "pacs_product": product,
                "pacs_ae_title": server.ae_title, "pacs_dicom_port": server.port,
                "pacs_peers": PEERS}
        if server.web_url:
            node["pacs_http_port"] = int(server.web_url.rsplit(":", 1)[1])
        if server.name == "orthanc-tls":
            node.update(pacs_audit_tls_ca=pki["ca_cert"],
                        pacs_audit_tls_client_certificate=pki["client_ct01_cert"],
                        pacs_audit_tls_client_key=pki["client_ct01_key"])
        hosts[server.name] = node
    # Processes on loopback, not hosts: the network audit only (no configuration to read over SSH).
    inventory = {"all": {"vars": {"pacs_audit_host_enabled": False}, "children": {"pacs": {"hosts": hosts}}}}
    return servers, inventory


def show_findings(report_file: Path) -> None:
    """Each host's findings from the JSON report, worst first."""
    import json

    from pacsguard.findings import severity_rank

    report = json.loads(report_file.read_text())
    print("== Findings")
    for host in report["hosts"]:
        print(f"   {host['name']} ({host['verdict']})")
        for finding in sorted(host["findings"], key=lambda f: -severity_rank(f["severity"])):
            print(f"     {finding['severity']:<8} {finding['id']}  {finding['evidence']}")
    print()


def main() -> int:
    pacslab.remove(LAB)
    LAB.mkdir(parents=True)
    servers: list[pacslab.Server] = []
    try:
        print("== Starting the lab: Orthanc (Debian defaults), Orthanc (DICOM TLS per its docs), "
              "dcmqrscp (DCMTK's documented shared area)", flush=True)
        servers, inventory = start_lab()
        inventory_file = LAB / "inventory.yml"
        inventory_file.write_text(yaml.safe_dump(inventory, sort_keys=False))
        for server in servers:
            print(f"   {server.name:<16} DICOM {server.host}:{server.port} AE {server.ae_title}"
                  + (f"  web {server.web_url}" if server.web_url else ""))
        print("== Auditing it: ansible-playbook playbooks/audit.yml", flush=True)
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        audit = subprocess.run(
            [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory_file),
             str(ROOT / "playbooks" / "audit.yml")],
            cwd=ROOT, env=env, check=False)
        print()
        if audit.returncode == 0:
            print("== UNEXPECTED: the audit passed an insecure lab")
            return 1
        show_findings(ROOT / "reports" / "pacsguard-audit.json")
        print(f"== The audit failed the run (exit {audit.returncode}), as it must for this lab.")
        print(f"   Reports: {ROOT / 'reports' / 'pacsguard-audit.json'}")
        print(f"            {ROOT / 'reports' / 'pacsguard-audit.junit.xml'}")
        print(f"            {ROOT / 'reports' / 'pacsguard-audit.sarif'}")
        return 0
    finally:
        for server in servers:
            server.stop()
        pacslab.remove(LAB)


if __name__ == "__main__":
    sys.exit(main())
