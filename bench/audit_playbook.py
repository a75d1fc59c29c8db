"""Benchmark: the user's path, `ansible-playbook playbooks/audit.yml` over 1, 100 and 1,000 inventory
hosts, each its own loopback endpoint, next to nmap's dicom-ping on the same ports in the same run.

Starts as many dcmqrscp servers as the largest size (DCMTK's shared area: open to any AE, so every
host must be flagged PACS-NET-001 and the gate must fail), writes an inventory with one host per
endpoint (vantage: the controller, network part only: loopback processes are not hosts), and times
for each size: the audit playbook of each tree given (this one by default; pass another checkout to
compare, e.g. an older commit in a git worktree), and `nmap -sT -Pn -n --script +dicom-ping` on the
same ports. Each figure is the best of REPEAT runs (one run at 1,000); the report is checked: every
host reported, every one flagged. Prints seconds and the ratio to nmap.
Not a test: `python bench/audit_playbook.py [--sizes 1,100,1000] [TREE ...]`.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lab"))

import pacslab  # noqa: E402

SIZES = (1, 100, 1000)
REPEAT = 2


def inventory(servers: list[pacslab.Server], folder: Path) -> Path:
    peers = [
        {"name": "ct", "ae_title": "CT01", "address": "127.0.0.1"},
        {"name": "rws", "ae_title": "RWS1", "address": "127.0.0.3"},
    ]
    hosts = {
        f"node{index:04d}": {
            "ansible_host": "127.0.0.1",
            "pacs_product": "dcmqrscp",
            "pacs_ae_title": server.ae_title,
            "pacs_dicom_port": server.port,
            "pacs_peers": peers,
            "pacs_audit_timeout": 5,
        }
        for index, server in enumerate(servers)
    }
    path = folder / f"inventory-{len(servers)}.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "vars": {"ansible_connection": "local", "pacs_audit_host_enabled": False},
                    "children": {"pacs": {"hosts": hosts}},
                }
            }
        )
    )
    return path


def audit(tree: Path, inventory_file: Path, reports: Path, size: int, extra: tuple[str, ...] = ()) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=str(tree / "ansible.cfg"), ANSIBLE_FORKS="20")
    started = time.perf_counter()
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory_file),
            str(tree / "playbooks" / "audit.yml"),
            "-e",
            f"pacs_audit_report_dir={reports}",
            *extra,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    elapsed = time.perf_counter() - started
    report = json.loads((reports / "pacsguard-audit.json").read_text())
    flagged = sum(any(f["id"] == "PACS-NET-001" for f in host["findings"]) for host in report["hosts"])
    if "gate: FAIL" not in run.stdout or len(report["hosts"]) != size or flagged != size:
        raise RuntimeError(
            f"{tree}: {len(report['hosts'])} hosts reported, {flagged} flagged of {size}:\n"
            f"{run.stdout[-2000:]}"
        )
    return elapsed


def nmap(servers: list[pacslab.Server]) -> float:
    ports = ",".join(str(s.port) for s in servers)
    started = time.perf_counter()
    subprocess.run(
        ["nmap", "-sT", "-Pn", "-n", "-p", ports, "--script", "+dicom-ping", "127.0.0.1"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("trees", nargs="*", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    trees = [tree.resolve() for tree in args.trees] or [ROOT]
    workdir = Path(tempfile.mkdtemp(prefix="pacsguard-bench-audit-"))
    servers: list[pacslab.Server] = []
    try:
        for index in range(max(sizes)):
            servers.append(pacslab.start_dcmqrscp(workdir, f"dq{index}"))
        # each tree as the inventory says (host part off), and with --tags probe, the network-only
        # pipeline's way (tags leave the host part out of the play before it runs)
        runs = [(tree, extra) for tree in trees for extra in ((), ("--tags", "probe"))]
        print(f"{'hosts':>6}  {'nmap dicom-ping':>16}  "
              + "  ".join(f"{(tree.name[:12] + ' ' + ' '.join(extra)).strip():>24}" for tree, extra in runs))
        for size in sizes:
            inv = inventory(servers[:size], workdir)
            repeat = 1 if size >= 1000 else REPEAT
            theirs = min(nmap(servers[:size]) for _ in range(repeat))
            times = [
                min(audit(tree, inv, workdir / "reports", size, extra) for _ in range(repeat))
                for tree, extra in runs
            ]
            cells = [f"{t:>9.2f} s {t / theirs:>6.1f}x" for t in times]
            print(f"{size:>6}  {theirs:>14.2f} s  " + "  ".join(f"{cell:>24}" for cell in cells), flush=True)
        print("audit.yml seconds (every host reported and flagged PACS-NET-001) and its ratio to nmap")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
