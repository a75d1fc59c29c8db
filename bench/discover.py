"""Benchmark: discovery of 1,000 loopback ports with 100 DICOM endpoints among them, next to nmap's
dicom-ping on the same ports in the same run.

Starts 100 dcmqrscp servers (DCMTK's shared area: open to any calling AE, but checking the called AE
title), picks 900 more loopback ports nobody listens on, and times, best of REPEAT runs each:
- the sweep engine in-process (discovery.run, default rate and concurrency);
- the user's path, `ansible-playbook playbooks/discover.yml` over the same ports;
- `nmap -sT -Pn -n -p PORTS --script +dicom-ping 127.0.0.1`, as it runs by default (no rate
  limit) and held to the sweep's default rate (`--max-rate`, connections started per second: the
  same rule the sweep keeps to by default).
The answers are checked: the sweep must report every endpoint as DICOM accepting any calling AE and
nothing else as DICOM; nmap's count of endpoints it says something about is printed next to it.
Not a test: `python bench/discover.py [--endpoints 100] [--ports 1000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lab"), str(ROOT / "module_utils")]

import pacslab  # noqa: E402
from pacsguard import discovery  # noqa: E402

REPEAT = 3


def closed_ports(count: int, taken: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = pacslab.free_port()
        if port not in taken:
            taken.add(port)
            ports.append(port)
    return ports


def engine(ports: list[int], endpoints: set[int]) -> float:
    started = time.perf_counter()
    result = discovery.run(discovery.Sweep(networks=["127.0.0.1"], ports=ports, web_ports=[]))
    elapsed = time.perf_counter() - started
    dicom = {e["port"] for e in result["endpoints"] if e["service"] == "dicom"}
    open_any = {e["port"] for e in result["endpoints"] if e["accepts_any_calling_ae"]}
    if dicom != endpoints or open_any != endpoints:
        raise RuntimeError(f"sweep: {len(dicom)} DICOM, {len(open_any)} open of {len(endpoints)}")
    return elapsed


def playbook(ports: list[int], endpoints: set[int], folder: Path) -> float:
    extra = {"pacs_discover_networks": ["127.0.0.1"], "pacs_discover_ports": ports,
             "pacs_discover_output_dir": str(folder), "pacs_discover_fail_on_unmanaged": False}
    started = time.perf_counter()
    command = [str(Path(sys.executable).parent / "ansible-playbook"),
               str(ROOT / "playbooks" / "discover.yml"), "-e", json.dumps(extra)]
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=True,
                   env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"})
    elapsed = time.perf_counter() - started
    report = json.loads((folder / "pacsguard-discovery.json").read_text())
    if len(report["findings"]) != len(endpoints):
        raise RuntimeError(f"playbook: {len(report['findings'])} findings of {len(endpoints)}")
    return elapsed


def nmap(ports: list[int], *extra: str) -> tuple[float, int]:
    started = time.perf_counter()
    command = ["nmap", "-sT", "-Pn", "-n", "-p", ",".join(map(str, ports)), "--script", "+dicom-ping",
               *extra, "127.0.0.1"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    elapsed = time.perf_counter() - started
    return elapsed, len(re.findall(r"Any AET is accepted", run.stdout))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--ports", type=int, default=1000)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="pacsguard-bench-discover-"))
    servers: list[pacslab.Server] = []
    try:
        for index in range(args.endpoints):
            servers.append(pacslab.start_dcmqrscp(workdir, f"dq{index}"))
        endpoints = {s.port for s in servers}
        ports = sorted(endpoints | set(closed_ports(args.ports - len(endpoints), set(endpoints))))
        ours = min(engine(ports, endpoints) for _ in range(REPEAT))
        path = min(playbook(ports, endpoints, workdir / "out") for _ in range(REPEAT))
        runs = [nmap(ports) for _ in range(REPEAT)]
        theirs, nmap_seen = min(r[0] for r in runs), runs[0][1]
        rate = f"{discovery.DEFAULT_RATE:g}"
        held = min(nmap(ports, "--max-rate", rate)[0] for _ in range(REPEAT))
        print(f"{len(ports)} loopback ports, {len(endpoints)} dcmqrscp endpoints (open to any calling AE)")
        print(f"  nmap -sT --script +dicom-ping   {theirs:6.2f} s   (\"Any AET is accepted\" on {nmap_seen})")
        print(f"  the same, --max-rate {rate:<6}    {held:6.2f} s   (the sweep's default rate)")
        print(f"  discovery engine (in-process)   {ours:6.2f} s   {ours / theirs:4.2f}x nmap   "
              f"{ours / held:4.2f}x nmap at the same rate   "
              f"(all {len(endpoints)} DICOM, all accepting any calling AE)")
        print(f"  ansible-playbook discover.yml   {path:6.2f} s   {path / theirs:4.2f}x nmap   "
              f"({len(endpoints)} PACS-DISC-001)")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
