"""Benchmark: the audit's host part over 100 inventory hosts, next to its floor, Ansible's own cost of
one module run per host (`ansible -m ping` over the same hosts), in the same run.

The hosts are this machine reached with the local connection (its DCMTK files: the configuration
audit reads /etc/dcmtk as on a node), each with its own loopback dcmqrscp endpoint for the network
part. `ansible-playbook playbooks/audit.yml` runs with the host part off and on; the host part's
cost is the difference. Each report is checked (every host reported; with the host part on, every
host's host part read and none in error). Best of REPEAT each; prints seconds and the ratio to the
floor. Not a test: `python bench/host_part.py [--hosts 100] [TREE ...]` (another checkout to compare).
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
sys.path.insert(0, str(ROOT / "bench"))

from audit_playbook import inventory  # noqa: E402

import pacslab  # noqa: E402

REPEAT = 2
HOSTS = 100


def with_host_part(path: Path) -> Path:
    """The same inventory with the host part on."""
    document = yaml.safe_load(path.read_text())
    document["all"]["vars"]["pacs_audit_host_enabled"] = True
    # the host is this machine: its modules run with the controller's Python
    document["all"]["vars"]["ansible_python_interpreter"] = "{{ ansible_playbook_python }}"
    on = path.with_name(path.stem + "-host.yml")
    on.write_text(yaml.safe_dump(document))
    return on


def env(tree: Path) -> dict[str, str]:
    return dict(os.environ, ANSIBLE_CONFIG=str(tree / "ansible.cfg"), ANSIBLE_FORKS="20")


def audit(tree: Path, inventory_file: Path, reports: Path, size: int, host_part: bool) -> float:
    """One audit.yml run, timed; its report checked."""
    started = time.perf_counter()
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_file),
         str(tree / "playbooks" / "audit.yml"), "-e", f"pacs_audit_report_dir={reports}"],
        cwd=tree, env=env(tree), capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    hosts = json.loads((reports / "pacsguard-audit.json").read_text())["hosts"]
    read = [host for host in hosts if "host" in host["parts"] and not host["error"]]
    if len(hosts) != size or (host_part and len(read) != size) or "gate: FAIL" not in run.stdout:
        raise RuntimeError(f"{tree}: {len(hosts)} hosts reported, {len(read)} host parts read of {size}:\n"
                           f"{run.stdout[-3000:]}")
    return elapsed


def ping(tree: Path, inventory_file: Path) -> float:
    """`ansible pacs -m ping` over the same hosts: one module run per host, Ansible's floor."""
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "ansible"), "pacs", "-i", str(inventory_file),
                    "-m", "ansible.builtin.ping"], cwd=tree, env=env(tree), capture_output=True,
                   text=True, timeout=1800, check=True)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=HOSTS)
    parser.add_argument("trees", nargs="*", type=Path)
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees] or [ROOT]
    workdir = Path(tempfile.mkdtemp(prefix="pacsguard-bench-host-"))
    servers: list[pacslab.Server] = []
    try:
        servers = [pacslab.start_dcmqrscp(workdir, f"dq{index}") for index in range(args.hosts)]
        off = inventory(servers, workdir)
        on = with_host_part(off)
        print(f"{args.hosts} hosts (local connection), best of {REPEAT}; the floor is `ansible -m ping`")
        print(f"{'tree':<16} {'ping':>9} {'network only':>13} {'with host part':>15} {'host part':>10} "
              f"{'/ floor':>8}")
        for tree in trees:
            floor = min(ping(tree, on) for _ in range(REPEAT))
            network = min(audit(tree, off, workdir / "reports", args.hosts, False) for _ in range(REPEAT))
            both = min(audit(tree, on, workdir / "reports", args.hosts, True) for _ in range(REPEAT))
            print(f"{tree.name[:16]:<16} {floor:>7.2f} s {network:>11.2f} s {both:>13.2f} s "
                  f"{both - network:>8.2f} s {(both - network) / floor:>7.2f}x", flush=True)
        print("host part = audit.yml with it on minus with it off; target: at most 1.3x the floor")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
