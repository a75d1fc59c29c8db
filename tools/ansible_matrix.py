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
  pinned release).

Molecule's full scenarios run on the pinned release. Usage:
  python tools/ansible_matrix.py [--releases 2.16,2.21] [--sanity 2.16,2.21|all]
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
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_LOCALHOST_WARNING": "false",
           "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    started = time.monotonic()
    run = subprocess.run([str(bin_dir / "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml",
                          "-e", f"pacs_audit_report_dir={reports}", "-e", "pacs_audit_fail_on=critical"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    report = reports / "pacsguard-audit.json"
    if not report.exists():
        return {"rc": run.returncode, "error": run.stdout[-3000:] + run.stderr[-2000:], "seconds": seconds}
    document = json.loads(report.read_text())
    hosts = {host["name"]: {"verdict": host["verdict"], "error": host.get("error"),
                            "checks": {key: check["status"] for key, check in sorted(host["checks"].items())}}
             for host in document["hosts"]}
    return {"rc": run.returncode, "gate": document["summary"]["gate"], "hosts": hosts, "seconds": seconds}


def sanity(bin_dir: Path) -> int:
    """ansible-test sanity with this release's rules (tools/sanity.py, run by its Python)."""
    return subprocess.run([str(bin_dir / "python"), str(ROOT / "tools" / "sanity.py")], cwd=ROOT,
                          check=False).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", help="comma-separated releases (default: every tested one)")
    parser.add_argument("--sanity", default="", help="releases that also run ansible-test sanity (or all)")
    args = parser.parse_args(argv)
    releases = args.releases.split(",") if args.releases else tested_releases()
    with_sanity = set(releases if args.sanity == "all" else filter(None, args.sanity.split(",")))
    unknown = sorted((set(releases) | with_sanity) - set(tested_releases()))
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
    print("matrix: " + ("FAILED " + ", ".join(failures) if failures else f"{len(releases)} release(s) pass"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
