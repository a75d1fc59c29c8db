"""make demo: audit insecure PACS nodes (red), harden them with the playbook, audit again (green).

The lab is four podman containers built by images/build.sh: two systemd hosts, one running Orthanc
exactly as Debian ships it and one running DCMTK's dcmqrscp as sites set it up (its own unit, rows
open to any AE), each with one study stored; a modality that both policies list; and a rogue
workstation they do not. The audit runs twice per phase: from the modality (inside the allowlist,
with its client certificate) and from the rogue host (outside: any port that answers is
PACS-FW-001). Between the phases, playbooks/harden.yml applies the policy (dcmqrscp gets the TLS
front on Debian 12, its own TLS on Debian 13). Everything is removed at the end.
PACSGUARD_DEBIAN=13 (make demo DEBIAN=13) runs the two archives on Debian 13 hosts (Orthanc 1.12.7,
DCMTK 3.6.9) instead of Debian 12 (1.10.1, 3.6.7).
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import yaml
from pydicom.data import get_testdata_file

import pacslab

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / ".lab"
REPORTS = ROOT / "reports"
# Every playbook's output, for whoever wants more than the table.
ANSIBLE_LOG = REPORTS / "demo-ansible.log"
NETWORK = "pacsguard-demo"
NODE, ARCHIVE, MODALITY, ROGUE = "demo-orthanc", "demo-dcmqrscp", "demo-modality", "demo-rogue"
NODES = (NODE, ARCHIVE)
# Each node's DICOM port and AE title before hardening (the policy keeps them).
DEFAULTS = {NODE: (4242, "ORTHANC"), ARCHIVE: (104, "ARCHIVE1")}
# The Debian release of the two archive hosts: 12 (bookworm) or 13 (trixie, images trixie-*).
RELEASES = {"12": "", "13": "trixie-"}
RELEASE = os.environ.get("PACSGUARD_DEBIAN", "12")
PODMAN_ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / "images" / "containers.conf"))
ANSIBLE_ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_CONNECTION_PLUGINS=str(ROOT / "lab" / "connection_plugins"),
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def podman(*args: str, check: bool = True) -> str:
    """Run podman with the project's containers.conf; returns stdout."""
    done = subprocess.run(["podman", *args], env=PODMAN_ENV, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def start_lab() -> dict[str, str]:
    """Start the four containers on their own network; returns each one's address."""
    podman("network", "create", NETWORK)
    pacs = RELEASES[RELEASE]
    for name, image, extra in ((NODE, f"{pacs}orthanc", ["--cap-add", "NET_ADMIN"]),
                               (ARCHIVE, f"{pacs}dcmqrscp", ["--cap-add", "NET_ADMIN"]),
                               (MODALITY, "peer", []), (ROGUE, "peer", [])):
        podman("run", "-d", "--name", name, "--hostname", name, "--network", NETWORK,
               "--systemd=always", *extra, f"localhost/pacsguard/{image}", "/sbin/init")
    addresses = {}
    for name in (*NODES, MODALITY, ROGUE):
        deadline = time.monotonic() + 60
        while podman("exec", name, "systemctl", "is-system-running", check=False) not in ("running",
                                                                                           "degraded"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: systemd did not finish starting")
            time.sleep(1)
        template = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
        addresses[name] = podman("inspect", "-f", template, name)
    return addresses


def prepare(addresses: dict[str, str], pki: dict[str, str]) -> None:
    """Client material on the modality and the rogue; the sites' set-up; one study stored in each."""
    for name in (MODALITY, ROGUE):
        podman("exec", name, "mkdir", "-m", "0700", "-p", "/etc/pacsguard/client")
        for source, target in ((pki["client_ct01_cert"], "client.crt"),
                               (pki["client_ct01_key"], "client.key"), (pki["ca_cert"], "ca.crt")):
            podman("cp", source, f"{name}:/etc/pacsguard/client/{target}")
    podman("cp", get_testdata_file("CT_small.dcm"), f"{MODALITY}:/root/CT_small.dcm")
    if playbook("../lab/site.yml") != 0:
        raise RuntimeError(f"setting up the lab's dcmqrscp failed; the end of {ANSIBLE_LOG}:\n{tail()}")
    for node in NODES:
        port, ae_title = DEFAULTS[node]
        pacslab.wait_for_port(addresses[node], port, time.monotonic() + 60)
        podman("exec", MODALITY, "storescu", "-aet", "CT01", "-aec", ae_title, addresses[node], str(port),
               "/root/CT_small.dcm")


def inventory(addresses: dict[str, str], pki: dict[str, str]) -> dict:
    """The site's policy, written once: the same peer list for both nodes; the vantage hosts probe."""
    connection = {"ansible_connection": "podman"}  # lab/connection_plugins/podman.py
    shared = {
        **connection,
        # A second, off-lab peer (a documentation address nothing is sent to): the modality must
        # not get in under its AE title (PACS-NET-006).
        "pacs_peers": [{"name": "ct-scanner-1", "ae_title": "CT01", "address": addresses[MODALITY],
                        "port": 104, "services": ["echo", "store", "find"], "tls": True},
                       {"name": "ultrasound-1", "ae_title": "US01", "address": "192.0.2.31",
                        "services": ["echo", "store"]}],
        "pacs_admin_sources": [],
        "pacs_tls": {"certificate": pki["server_cert"], "private_key": pki["server_key"],
                     "ca": pki["ca_cert"], "require_client_certificate": True, "min_version": "TLSv1.2"},
        "pacs_audit_tls_client_certificate": "/etc/pacsguard/client/client.crt",
        "pacs_audit_tls_client_key": "/etc/pacsguard/client/client.key",
        "pacs_audit_report_dir": str(REPORTS),
    }
    orthanc = {
        **shared, "pacs_product": "orthanc", "pacs_ae_title": "ORTHANC",
        "pacs_orthanc_users": [{"name": "pacsadmin", "password": secrets.token_urlsafe(18)}],
        "pacs_orthanc_verify_vantage": MODALITY, "pacs_address": addresses[NODE],
    }
    # dcmqrscp answers C-FIND, C-GET and C-MOVE from every listed peer (no per-service grant): the
    # site accepts that for a year, as it would until it splits its peers over AE titles.
    waiver = {"rule": "PACS-NET-007", "reason": "dcmqrscp grants query and retrieve to every listed peer",
              "expires": (datetime.date.today() + datetime.timedelta(days=89)).isoformat()}
    dcmqrscp = {
        **shared, "pacs_product": "dcmqrscp", "pacs_ae_title": "ARCHIVE1",
        "pacs_dcmqrscp_verify_vantage": MODALITY, "pacs_address": addresses[ARCHIVE],
        "pacs_audit_waivers": [waiver],
    }
    vantage = {**connection, "ansible_python_interpreter": "/opt/pacsguard/venv/bin/python"}
    return {"all": {"children": {
        "pacs": {"hosts": {NODE: orthanc, ARCHIVE: dcmqrscp}},
        "vantages": {"hosts": {MODALITY: vantage, ROGUE: vantage}},
    }}}


def playbook(name: str, *extra: str) -> int:
    """Run one of the project's playbooks against the lab inventory; Ansible's output goes to the
    demo's log, not the terminal (the table at the end is what a person reads)."""
    command = ["ansible-playbook", "-i", str(LAB / "inventory.yml"), str(ROOT / "playbooks" / name), *extra]
    REPORTS.mkdir(exist_ok=True)
    with ANSIBLE_LOG.open("a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        return subprocess.run(command, cwd=ROOT, env=ANSIBLE_ENV, stdout=log, stderr=subprocess.STDOUT,
                              check=False).returncode


def tail(lines: int = 40) -> str:
    """The end of the demo's Ansible log (what went wrong)."""
    return "\n".join(ANSIBLE_LOG.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def audit(phase: str, position: str) -> tuple[int, dict]:
    """Audit from the modality (inside) or the rogue host (outside); exit code and reports by host."""
    vantage = MODALITY if position == "inside" else ROGUE
    stem = f"demo-{phase}-{position}"
    code = playbook("audit.yml", "-e", f"pacs_audit_vantage={vantage}",
                    "-e", f"pacs_audit_position={position}", "-e", f"pacs_audit_report_name={stem}")
    report = json.loads((REPORTS / f"{stem}.json").read_text())
    return code, {host["name"]: host for host in report["hosts"]}


def cell(host: dict, rule: str) -> str:
    """One table cell: the finding's severity, or the check's status."""
    for finding in host["findings"]:
        if finding["id"] == rule:
            return finding["severity"].upper() + (" (waived)" if finding.get("waived") else "")
    return host.get("checks", {}).get(rule, {}).get("status", "-")


def show(results: dict[tuple[str, str], tuple[int, dict]]) -> None:
    """Per node: before and after, side by side, for each rule any run looked at."""
    columns = [("before", "inside"), ("after", "inside"), ("before", "outside"), ("after", "outside")]
    for node in NODES:
        hosts = {column: results[column][1][node] for column in columns}
        rules = sorted({rule for host in hosts.values() for rule in host.get("checks", {})
                        if rule.startswith("PACS-")})
        print(f"   {node:<14}" + "".join(f"{p + ' / ' + ('modality' if s == 'inside' else 'rogue'):>20}"
                                         for p, s in columns))
        for rule in rules:
            print(f"   {rule:<14}" + "".join(f"{cell(hosts[c], rule):>20}" for c in columns))
        print()
    print(f"   {'gate (both)':<14}" + "".join(f"{'FAIL' if results[c][0] else 'PASS':>20}" for c in columns))


def teardown() -> None:
    """Remove the lab's containers and network, also what an interrupted run left behind.

    A container that is still stopping can make one ``podman rm`` fail; it is tried again."""
    for name in (*NODES, MODALITY, ROGUE):
        for _ in range(3):
            podman("rm", "-f", "-t", "2", name, check=False)
            if podman("ps", "-a", "-q", "--filter", f"name=^{name}$", check=False) == "":
                break
            time.sleep(1)
    podman("network", "rm", "-f", NETWORK, check=False)


def main() -> int:
    if RELEASE not in RELEASES:
        print(f"PACSGUARD_DEBIAN is {RELEASE!r}: the lab has Debian {' and '.join(RELEASES)} hosts")
        return 2
    teardown()
    pacslab.remove(LAB)
    LAB.mkdir(parents=True)
    REPORTS.mkdir(exist_ok=True)
    ANSIBLE_LOG.write_text("")
    try:
        print(f"== Starting the lab on Debian {RELEASE}: Orthanc as Debian ships it, dcmqrscp as sites "
              "run it, a listed modality, a rogue host (podman)", flush=True)
        addresses = start_lab()
        pki = pacslab.make_pki(LAB / "pki")
        (LAB / "inventory.yml").write_text(yaml.safe_dump(inventory(addresses, pki), sort_keys=False))
        prepare(addresses, pki)
        for name, address in addresses.items():
            print(f"   {name:<14} {address}")
        results = {}
        print("== Auditing both archives from the modality and from the rogue host", flush=True)
        results["before", "inside"] = audit("before", "inside")
        results["before", "outside"] = audit("before", "outside")
        print("== Hardening them: ansible-playbook playbooks/harden.yml", flush=True)
        if playbook("harden.yml") != 0:
            print(f"== Hardening failed; the end of {ANSIBLE_LOG}:\n{tail()}")
            return 1
        print("== Auditing it again", flush=True)
        results["after", "inside"] = audit("after", "inside")
        results["after", "outside"] = audit("after", "outside")
        print()
        show(results)
        print(f"\n   Reports: {REPORTS}/demo-{{before,after}}-{{inside,outside}}.html (open in a browser), "
              "and .json, .junit.xml, .sarif beside each")
        print(f"   Ansible's output: {ANSIBLE_LOG}")
        red = results["before", "inside"][0] != 0 and results["before", "outside"][0] != 0
        green = results["after", "inside"][0] == 0 and results["after", "outside"][0] == 0
        print("== Before: the audit failed the run. After: it passes."
              if red and green else "== UNEXPECTED: see the table above")
        if RELEASE == "12":
            print("   A medium PACS-TLS-004 stays on Orthanc 1.10.1 with TLS 1.2 "
                  "(see roles/pacs_orthanc/README.md); Orthanc 1.12.7 sets\n   its own suites: "
                  "make demo DEBIAN=13 runs the same lab on Debian 13.")
        print("   dcmqrscp 3.6.9 speaks mutual TLS itself (BCP 195 suites only)." if RELEASE == "13" else
              "   dcmqrscp 3.6.7 has no TLS: pacsguard's TLS front offers BCP 195 suites only.")
        print("   A medium PACS-LOG-005 stays on both: the lab names no log collector (pacs_log_collectors,\n"
              "   docs/logging.md); the logs are kept on disk, and each association is in them.")
        return 0 if red and green else 1
    finally:
        teardown()
        pacslab.remove(LAB)


if __name__ == "__main__":
    sys.exit(main())
