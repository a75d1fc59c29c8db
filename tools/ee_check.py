"""The execution environment image audits a real PACS host, and finds what the clone finds.

Starts a podman host running Orthanc exactly as Debian ships it (images/Containerfile.orthanc, the
orthanc scenario's default node) on a network of its own, runs the collection's audit playbook by
its fully qualified name inside the EE image (localhost/pacsguard/ee, built by tools/build_ee.sh)
on that network, runs the clone's playbooks/audit.yml from this machine against the same host, and
compares the two reports check by check. The network part only: the EE reaches hosts over SSH, and
the test hosts run none. Exits non-zero on any difference, or when the default Orthanc is not
flagged. Removes what it started.

Usage: python tools/ee_check.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NETWORK, HOST, IMAGE = "pacsguard-ee-check", "ee-check-orthanc", "localhost/pacsguard/ee:latest"
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF",
                                                              str(ROOT / "images" / "containers.conf"))}


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", *args], env=PODMAN_ENV, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"podman {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done


def start_host() -> str:
    """The default Orthanc host on its own network; its address once Orthanc answers on 4242."""
    podman("network", "create", NETWORK)
    podman("run", "-d", "--name", HOST, "--hostname", HOST, "--network", NETWORK, "--systemd=always",
           "localhost/pacsguard/orthanc", "/sbin/init")
    template = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
    address = podman("inspect", "-f", template, HOST).stdout.strip()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, 4242), timeout=1).close()
            return address
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{HOST}: Orthanc did not answer on {address}:4242 within 90 s")


def stop_host() -> None:
    podman("rm", "-f", "-t", "2", HOST, check=False)
    podman("network", "rm", "-f", NETWORK, check=False)


def results(path: Path) -> dict:
    """Per host: each check's status, the findings' rule IDs, the verdict."""
    document = json.loads(path.read_text())
    return {h["name"]: {rule: check["status"] for rule, check in h["checks"].items()}
            | {"findings": sorted(f["id"] for f in h["findings"]), "verdict": h["verdict"]}
            for h in document["hosts"]}


def main() -> int:
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        raise SystemExit(f"{IMAGE} is missing: run tools/build_ee.sh (make ee)")
    release = podman("run", "--rm", IMAGE, "ansible", "--version", check=False).stdout.splitlines()[:1]
    stop_host()
    try:
        address = start_host()
        with tempfile.TemporaryDirectory(prefix="pacsguard-ee-") as scratch:
            work = Path(scratch)
            work.chmod(0o777)  # the EE runs as uid 1000
            node = {"ansible_host": address, "pacs_product": "orthanc", "pacs_ae_title": "ORTHANC",
                    "pacs_peers": [{"name": "ct", "ae_title": "CT01", "address": "192.0.2.10",
                                    "services": ["echo", "store"]}],
                    "pacs_audit_host_enabled": False, "pacs_audit_timeout": 3}
            (work / "inventory.yml").write_text(yaml.safe_dump(
                {"all": {"children": {"pacs": {"hosts": {"orthanc-default": node}}}}}))
            (work / "inventory.yml").chmod(0o644)
            started = time.monotonic()
            in_ee = podman("run", "--rm", "--network", NETWORK, "-v", f"{work}:/work", IMAGE,
                           "ansible-playbook", "-i", "/work/inventory.yml", "pacsguard.pacs.audit",
                           "-e", "pacs_audit_report_dir=/work/ee", check=False)
            took = time.monotonic() - started
            clone = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i",
                                    str(work / "inventory.yml"), "playbooks/audit.yml",
                                    "-e", f"pacs_audit_report_dir={work / 'clone'}"], cwd=ROOT,
                                   env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
                                   capture_output=True, text=True, check=False)
            if not (work / "ee" / "pacsguard-audit.json").exists():
                raise SystemExit(f"the EE wrote no report (rc {in_ee.returncode}):\n{in_ee.stdout[-3000:]}"
                                 f"{in_ee.stderr[-2000:]}")
            from_ee, from_clone = results(work / "ee" / "pacsguard-audit.json"), results(
                work / "clone" / "pacsguard-audit.json")
    finally:
        stop_host()
    host = from_ee["orthanc-default"]
    print(f"EE audit of {HOST} ({address}) by pacsguard.pacs.audit: {took:.1f} s, rc {in_ee.returncode}, "
          f"verdict {host['verdict']}, findings {', '.join(host['findings'])}")
    problems = []
    newest = yaml.safe_load((ROOT / "playbooks" / "ansible_release.yml").read_text())[0]["vars"][
        "pacsguard_ansible_tested"][-1]
    print(f"EE controller: {' '.join(release) or 'ansible --version gave nothing'}")
    if not release or f"[core {newest}." not in release[0]:
        problems.append(f"the EE does not carry ansible-core {newest}, the newest supported release")
    if from_ee != from_clone:
        problems.append(f"the EE and the clone differ:\n  EE:    {from_ee}\n  clone: {from_clone}")
    if in_ee.returncode != clone.returncode:
        problems.append(f"exit status differs: EE {in_ee.returncode}, clone {clone.returncode}")
    if host["verdict"] != "fail" or "PACS-NET-001" not in host["findings"] or in_ee.returncode != 2:
        problems.append("the default Orthanc was not flagged (PACS-NET-001, gate failing) from the EE")
    for problem in problems:
        print("FAIL:", problem)
    if not problems:
        print("EE check: the same checks, findings and gate as the clone")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
