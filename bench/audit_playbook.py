"""Benchmark: the user's path, `ansible-playbook playbooks/audit.yml` over N loopback endpoints.

Starts N dcmqrscp servers (DCMTK's shared area: open to any AE), writes an inventory with one host
per endpoint (vantage: the controller), and times the audit playbook of each tree given (this one by
default; pass another checkout's path to compare, e.g. an older commit in a git worktree). Prints
wall seconds per tree and size, best of REPEAT, and each tree's time relative to the first.
Not a test: run it with `python bench/audit_playbook.py [TREE ...]`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lab"))

import pacslab  # noqa: E402

SIZES = (1, 20)
REPEAT = 2


def inventory(servers: list[pacslab.Server], folder: Path) -> Path:
    peers = [{"name": "ct", "ae_title": "CT01", "address": "127.0.0.1"},
             {"name": "rws", "ae_title": "RWS1", "address": "127.0.0.3"}]
    hosts = {f"node{index:03d}": {"ansible_host": "127.0.0.1", "pacs_product": "dcmqrscp",
                                  "pacs_ae_title": server.ae_title, "pacs_dicom_port": server.port,
                                  "pacs_peers": peers, "pacs_audit_timeout": 5}
             for index, server in enumerate(servers)}
    path = folder / f"inventory-{len(servers)}.yml"
    path.write_text(yaml.safe_dump({"all": {"vars": {"ansible_connection": "local",
                                                     "pacs_audit_host_enabled": False},
                                            "children": {"pacs": {"hosts": hosts}}}}))
    return path


def audit(tree: Path, inventory_file: Path, reports: Path) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=str(tree / "ansible.cfg"), ANSIBLE_FORKS="20")
    started = time.perf_counter()
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_file),
                          str(tree / "playbooks" / "audit.yml"), "-e", f"pacs_audit_report_dir={reports}"],
                         cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if "gate: FAIL" not in run.stdout:  # every endpoint is open to any AE: the gate must fail
        raise RuntimeError(f"{tree}: unexpected audit output:\n{run.stdout[-2000:]}")
    return elapsed


def main(argv: list[str]) -> int:
    trees = [Path(arg).resolve() for arg in argv] or [ROOT]
    workdir = Path(tempfile.mkdtemp(prefix="pacsguard-bench-audit-"))
    servers: list[pacslab.Server] = []
    try:
        for index in range(max(SIZES)):
            servers.append(pacslab.start_dcmqrscp(workdir, f"dq{index}"))
        print(f"{'endpoints':>9}  " + "  ".join(f"{tree.name[:18]:>18}" for tree in trees))
        for size in SIZES:
            inv = inventory(servers[:size], workdir)
            times = [min(audit(tree, inv, workdir / "reports") for _ in range(REPEAT)) for tree in trees]
            cells = [f"{t:>10.2f} s {t / times[0]:>5.2f}x" for t in times]
            print(f"{size:>9}  " + "  ".join(f"{cell:>18}" for cell in cells))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
