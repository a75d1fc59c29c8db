"""The ansible-core release matrix: every supported release runs the audit path and its own sanity.

For each release of pacsguard_ansible_tested (playbooks/ansible_release.yml), in a virtual
environment of its own under .cache/ansible/ (kept between runs; rebuilt when its pins change), with
the Python it needs (2.20 and later need 3.12 or later: the first python3.13/python3.12 found, on
PATH or under pyenv):

- the audit path: playbooks/audit.yml over the same loopback lab (a dcmqrscp open to any AE with a
  study, a dcmqrscp with an allowlist whose peer address is another host's hostvars, per-node and
  extra-vars options); each release must give the same report (verdict and every check's status per
  node), the same gate and exit status as the release requirements.txt pins (.venv);
- for the releases named by --sanity, ansible-test sanity on the built collection with that
  release's own rules (tools/sanity.py run by that environment's Python; `make lint` runs it on the
  pinned release);
- for the releases named by --harden, the user's path on a real host: a podman dcmqrscp host set up
  as sites run it (lab/site.yml, open to any AE, plaintext), playbooks/harden.yml in check mode (it
  must succeed and write nothing), harden.yml, then audit.yml from the controller with the host
  part; the node must pass (gate and verdict); with --harden-reference the pinned release hardens a
  fresh host first and each release must give its report check by check.

Molecule's full scenarios run on the pinned release. Usage:
  python tools/ansible_matrix.py [--releases 2.16,2.21] [--sanity 2.16,2.21|all] [--harden 2.16|all]
      [--harden-reference]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lab"))

import pacslab  # noqa: E402

CACHE = ROOT / ".cache" / "ansible"
# what the controller side needs besides ansible-core (pins from requirements.txt)
CONTROLLER = ("pynetdicom", "pydicom", "cryptography", "pyyaml", "jinja2")
NEWER_PYTHON = (3, 12)   # ansible-core 2.20 and later


def tested_releases() -> list[str]:
    """The supported releases, as the playbooks' release check lists them."""
    play = yaml.safe_load((ROOT / "playbooks" / "ansible_release.yml").read_text())[0]
    return [str(release) for release in play["vars"]["pacsguard_ansible_tested"]]


def pins() -> list[str]:
    """The controller's requirements as requirements.txt pins them."""
    wanted = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0].strip().lower()
        if name in CONTROLLER:
            wanted.append(line.strip())
    return wanted


def python_for(release: str) -> str:
    """A Python that runs this release: this one, or for 2.20 and later the first 3.12+ found."""
    major, minor = (int(part) for part in release.split("."))
    if (major, minor) < (2, 20) or sys.version_info[:2] >= NEWER_PYTHON:
        return sys.executable if sys.prefix == sys.base_prefix else _base_python()
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted((str(p) for p in pyenv.glob("3.1[2-9]*/bin/python")), reverse=True)
    candidates += [shutil.which(name) for name in ("python3.13", "python3.12")]
    for candidate in candidates:
        if candidate and _runs_newer(candidate):
            return candidate
    raise SystemExit(f"ansible-core {release} needs Python 3.12 or later; none found on PATH or pyenv")


def _runs_newer(python: str) -> bool:
    """Whether this interpreter runs and is 3.12 or later (a pyenv shim may exist and not run)."""
    check = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                           capture_output=True, text=True, check=False, timeout=30)
    return check.returncode == 0 and check.stdout.strip() == "True"


def _base_python() -> str:
    """The Python this virtual environment was made from."""
    home = Path(sys.base_prefix) / "bin"
    return str(home / f"python{sys.version_info.major}.{sys.version_info.minor}")


def venv(release: str) -> Path:
    """The release's virtual environment, made or refreshed when its pins changed; its bin/."""
    where = CACHE / release
    wanted = "\n".join([f"ansible-core=={release}.*", *pins()]) + "\n"
    stamp = where / ".pins"
    if stamp.exists() and stamp.read_text() == wanted:
        return where / "bin"
    shutil.rmtree(where, ignore_errors=True)
    subprocess.run([python_for(release), "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    requirements = wanted.split()
    if subprocess.run([*pip, *requirements], check=False).returncode:
        subprocess.run([*pip, "--no-cache-dir", *requirements], check=True)
    stamp.write_text(wanted)
    return where / "bin"


def lab_inventory(open_server: pacslab.Server, listed: pacslab.Server) -> dict:
    """Two nodes and a modality: an open dcmqrscp, one with an allowlist whose peer address is the
    modality's hostvars; per-node options and the play's own values."""
    common = {"ansible_host": "127.0.0.1", "pacs_product": "dcmqrscp", "pacs_audit_host_enabled": False}
    return {"all": {"children": {
        "pacs": {"hosts": {
            "open": {**common, "pacs_ae_title": open_server.ae_title, "pacs_dicom_port": open_server.port,
                     "pacs_peers": [{"name": "ct", "ae_title": "CT01", "address": "127.0.0.1"}]},
            "listed": {**common, "pacs_ae_title": listed.ae_title, "pacs_dicom_port": str(listed.port),
                       "pacs_audit_timeout": "{{ 2 + 1 }}",
                       "pacs_peers": [{"name": "ct", "ae_title": "CT01",
                                       "address": "{{ hostvars['modality']['pg_ip'] }}"}]}}},
        "modalities": {"hosts": {"modality": {"ansible_host": "127.0.0.1", "pg_ip": "127.0.0.1"}}}}}}


def audit(bin_dir: Path, inventory: Path, reports: Path) -> dict:
    """audit.yml with this release; what must be equal across releases, and the run's time."""
    started = time.monotonic()
    run = playbook(bin_dir, inventory, "audit.yml", "-e", f"pacs_audit_report_dir={reports}",
                   "-e", "pacs_audit_fail_on=critical")
    seconds = time.monotonic() - started
    report = reports / "pacsguard-audit.json"
    if not report.exists():
        return {"rc": run.returncode, "error": run.stdout[-3000:] + run.stderr[-2000:], "seconds": seconds}
    document = json.loads(report.read_text())
    hosts = {host["name"]: {"verdict": host["verdict"], "error": host.get("error"),
                            "checks": {key: check["status"] for key, check in sorted(host["checks"].items())},
                            "open": sorted({finding["id"] for finding in host.get("findings", [])
                                            if not finding.get("waived")})}
             for host in document["hosts"]}
    return {"rc": run.returncode, "gate": document["summary"]["gate"], "hosts": hosts, "seconds": seconds}


PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(ROOT / "images" / "containers.conf")}
NETWORK = "pacsguard-matrix"
# What the check-mode run must leave as it was: the product's and systemd's files, the ruleset.
SNAPSHOT = ("find /etc/dcmtk /etc/systemd/system /etc/pacsguard -type f -exec sha256sum {} + 2>/dev/null"
            " | sort; nft list ruleset")


def podman(*args: str, check: bool = True) -> str:
    """podman with the project's containers.conf; its stdout."""
    done = subprocess.run(["podman", *args], env=PODMAN_ENV, capture_output=True, text=True, check=False,
                          timeout=300)
    if check and done.returncode:
        raise RuntimeError(f"podman {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def start_host(name: str) -> str:
    """A Debian 12 systemd host with dcmqrscp on the matrix network; its address."""
    podman("rm", "-f", "-t", "2", name, check=False)
    podman("run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, "--systemd=always",
           "--cap-add", "NET_ADMIN", "localhost/pacsguard/dcmqrscp", "/sbin/init")
    deadline = time.monotonic() + 60
    while podman("exec", name, "systemctl", "is-system-running", check=False) not in ("running", "degraded"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: systemd did not finish starting")
        time.sleep(1)
    return podman("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}', name)


def host_inventory(name: str, address: str, controller: str, pki: dict[str, str], reports: Path) -> dict:
    """One dcmqrscp node whose one listed peer is the controller (the audit's vantage, with the
    peer's client certificate); the rest from the product table."""
    waiver = {"rule": "PACS-NET-007", "reason": "dcmqrscp grants query and retrieve to every listed peer",
              "expires": "{{ '%Y-%m-%d' | strftime(now(utc=true).timestamp() + 89 * 86400) }}"}
    node = {"ansible_connection": "podman", "ansible_host": name,
            "pacs_product": "dcmqrscp",
            "pacs_ae_title": "ARCHIVE1", "pacs_address": address, "pacs_admin_sources": [],
            "pacs_peers": [{"name": "controller", "ae_title": "CT01", "address": controller,
                            "services": ["echo", "store", "find"], "tls": True}],
            "pacs_tls": {"certificate": pki["server_cert"], "private_key": pki["server_key"],
                         "ca": pki["ca_cert"], "require_client_certificate": True, "min_version": "TLSv1.2"},
            # the audit trail to a collector at the controller's address (nothing listens there: the
            # node's queue keeps the messages; the forward itself is what the audit judges)
            "pacs_log_collectors": [{"name": "soc", "address": controller, "server_name": "collector.lab"}],
            "pacs_audit_tls_client_certificate": pki["client_ct01_cert"],
            "pacs_audit_tls_client_key": pki["client_ct01_key"],
            "pacs_audit_report_dir": str(reports), "pacs_audit_waivers": [waiver]}
    # one inventory name on every release's host, so that the reports compare
    return {"all": {"children": {"pacs": {"hosts": {"node": node}}}}}


def playbook(bin_dir: Path, inventory: Path, name: str, *extra: str) -> subprocess.CompletedProcess:
    """One of the project's playbooks with this release (lab/ ones by their path from playbooks/)."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_LOCALHOST_WARNING": "false",
           "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
           "CONTAINERS_CONF": PODMAN_ENV["CONTAINERS_CONF"],
           # the test hosts' connection (podman exec, modules pipelined), the same on every release
           "ANSIBLE_CONNECTION_PLUGINS": str(ROOT / "lab" / "connection_plugins")}
    return subprocess.run([str(bin_dir / "ansible-playbook"), "-i", str(inventory),
                           str(ROOT / "playbooks" / name), *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def harden(release: str, bin_dir: Path, pinned_bin: Path, work: Path, pki: dict[str, str]) -> dict:
    """A fresh host set up as sites run it, hardened in check mode, then for real, then audited."""
    name = f"pg-matrix-{release.replace('.', '-')}"
    marks = [("start", time.monotonic())]
    try:
        address = start_host(name)
        controller = json.loads(podman("network", "inspect", NETWORK))[0]["subnets"][0]["gateway"]
        inventory = work / f"{name}.yml"
        reports = work / f"reports-{name}"
        inventory.write_text(yaml.safe_dump(host_inventory(name, address, controller, pki, reports)))
        site = playbook(pinned_bin, inventory, "../lab/site.yml")
        if site.returncode:
            return {"error": "lab/site.yml: " + site.stdout[-2000:]}
        before = podman("exec", name, "sh", "-c", SNAPSHOT)
        marks.append(("host", time.monotonic()))
        check = playbook(bin_dir, inventory, "harden.yml", "--check", "--diff")
        if check.returncode:
            return {"error": "harden.yml --check: " + check.stdout[-3000:]}
        if podman("exec", name, "sh", "-c", SNAPSHOT) != before:
            return {"error": "harden.yml --check changed the host"}
        marks.append(("check", time.monotonic()))
        run = playbook(bin_dir, inventory, "harden.yml")
        if run.returncode:
            return {"error": "harden.yml: " + run.stdout[-3000:]}
        marks.append(("harden", time.monotonic()))
        outcome = audit(bin_dir, inventory, reports)
        marks.append(("audit", time.monotonic()))
        outcome["check_changed"] = _changed(check.stdout, "node")
        outcome["seconds"] = marks[-1][1] - marks[0][1]
        outcome["phases"] = ", ".join(f"{label} {end - begin:.0f} s"
                                      for (_, begin), (label, end) in zip(marks, marks[1:], strict=False))
        return outcome
    finally:
        podman("rm", "-f", "-t", "2", name, check=False)


def _changed(output: str, host: str) -> bool:
    """Whether the run's recap counts a change on the host."""
    recap = output.split("PLAY RECAP")[-1].splitlines()
    line = next((line for line in recap if line.split(" ", 1)[0] == host), "")
    return "changed=" in line and "changed=0 " not in line


def _hardened(outcome: dict) -> bool:
    """What a hardened host gives on any release: check mode saw changes, the audit's gate passes,
    and no node has a finding but the waived one or a check it could not judge."""
    return "error" not in outcome and outcome["check_changed"] and outcome["rc"] == 0 \
        and outcome["gate"] == "pass" and all(
            not host["error"] and not host["open"] and "error" not in host["checks"].values()
            for host in outcome["hosts"].values())


def run_harden(releases: list[str], work: Path, reference: bool) -> list[str]:
    """The harden path on each release named (and first on the pinned one when reference is set).

    Every run must harden its host to a passing audit; with the reference run, each release must also
    give the pinned release's report check by check."""
    failures = []
    pki = pacslab.make_pki(work / "pki")
    podman("network", "rm", "-f", NETWORK, check=False)
    podman("network", "create", NETWORK)
    keys = ("rc", "gate", "hosts", "check_changed")
    pinned_bin = Path(sys.executable).parent
    try:
        pinned = harden("pinned", pinned_bin, pinned_bin, work, pki) if reference else None
        for release, outcome in ([("pinned", pinned)] if reference else []) + \
                [(release, None) for release in releases]:
            outcome = outcome or harden(release, venv(release), pinned_bin, work, pki)
            same = pinned is None or "error" not in outcome and \
                {k: outcome.get(k) for k in keys} == {k: pinned.get(k) for k in keys}
            good = _hardened(outcome) and same
            label = "pinned release" if release == "pinned" else f"ansible-core {release}"
            print(f"{label}: harden --check, harden, audit: rc {outcome.get('rc')}, gate "
                  f"{outcome.get('gate')}, {outcome.get('seconds', 0):.0f} s ({outcome.get('phases')})"
                  + ("" if pinned is None or release == "pinned" else
                     f", {'the same report' if same else 'DIFFERS from the pinned release'}"))
            if not good:
                failures.append(f"{release} harden")
                print(outcome.get("error") or json.dumps({"pinned": pinned, release: outcome}, indent=1,
                                                         default=str)[-6000:])
                if release == "pinned":
                    break
    finally:
        podman("network", "rm", "-f", NETWORK, check=False)
    return failures


def sanity(bin_dir: Path) -> int:
    """ansible-test sanity with this release's rules (tools/sanity.py, run by its Python)."""
    return subprocess.run([str(bin_dir / "python"), str(ROOT / "tools" / "sanity.py")], cwd=ROOT,
                          check=False).returncode


def main(argv: list[str]) -> int:
    # each line when it is printed: the sanity runs and pip write to the same output between them
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", help="comma-separated releases (default: every tested one)")
    parser.add_argument("--sanity", default="", help="releases that also run ansible-test sanity (or all)")
    parser.add_argument("--harden", default="", help="releases that also harden a podman host (or all)")
    parser.add_argument("--harden-reference", action="store_true",
                        help="harden a host with the pinned release too; each release must give its report")
    args = parser.parse_args(argv)
    releases = args.releases.split(",") if args.releases else tested_releases()
    with_sanity = set(releases if args.sanity == "all" else filter(None, args.sanity.split(",")))
    with_harden = [r for r in releases if args.harden == "all" or r in args.harden.split(",")]
    unknown = sorted((set(releases) | with_sanity | set(args.harden.split(",")) - {"", "all"})
                     - set(tested_releases()))
    if unknown:
        parser.error(f"not a tested release: {', '.join(unknown)}")
    failures = []
    with tempfile.TemporaryDirectory(prefix="pacsguard-matrix-") as scratch:
        work = Path(scratch)
        open_server = pacslab.start_dcmqrscp(work, "open")
        listed = pacslab.start_dcmqrscp(work, "listed", ae_title="LISTED", peers=[("CT01", "127.0.0.1", 104)])
        try:
            from pydicom.data import get_testdata_file

            pacslab.dicom_store(open_server, get_testdata_file("CT_small.dcm"))
            inventory = work / "inventory.yml"
            inventory.write_text(yaml.safe_dump(lab_inventory(open_server, listed)))
            pinned = audit(Path(sys.executable).parent, inventory, work / "reports-pinned")
            print(f"pinned release: rc {pinned['rc']}, gate {pinned.get('gate')}, {pinned['seconds']:.1f} s")
            if "error" in pinned:
                print(pinned["error"])
                return 1
            for release in releases:
                bin_dir = venv(release)
                outcome = audit(bin_dir, inventory, work / f"reports-{release}")
                same = {key: outcome.get(key) for key in ("rc", "gate", "hosts")} == \
                    {key: pinned[key] for key in ("rc", "gate", "hosts")}
                print(f"ansible-core {release}: audit.yml rc {outcome['rc']}, gate {outcome.get('gate')}, "
                      f"{outcome['seconds']:.1f} s, {'the same report' if same else 'DIFFERS'}")
                if not same:
                    failures.append(f"{release} audit")
                    print(json.dumps({"pinned": pinned, release: outcome}, indent=1, default=str)[-6000:])
                if release in with_sanity and sanity(bin_dir):
                    failures.append(f"{release} sanity")
        finally:
            open_server.stop()
            listed.stop()
        if with_harden:
            failures += run_harden(with_harden, work, args.harden_reference)
    print("matrix: " + ("FAILED " + ", ".join(failures) if failures else f"{len(releases)} release(s) pass"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
