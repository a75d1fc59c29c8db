"""Benchmark: pacsguard's full audit against nmap's dicom-ping, on the same loopback endpoints.

Starts N dcmqrscp servers (DCMTK's documented shared area: accepts anything), then for 1, 20 and
100 endpoints times (a) the probe engine auditing them all concurrently (every check: positive
control, rogue AE with C-ECHO and C-FIND, wrong called AE, foreign AE, plaintext) and (b)
`nmap -Pn -n --script +dicom-ping` on the same ports. Prints wall times and ratios; the best of
REPEAT runs counts (this machine is shared and noisy). Not a test: run it with `make bench`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "module_utils"))
sys.path.insert(0, str(ROOT / "lab"))

import pacslab  # noqa: E402
from pacsguard.probe import Target, probe_many  # noqa: E402

SIZES = (1, 20, 100)
REPEAT = 3
WORKERS = 32


def audit(servers: list[pacslab.Server]) -> tuple[float, int]:
    targets = [Target(host=s.host, port=s.port, called_ae_title=s.ae_title, calling_ae_title="CT01",
                      foreign_ae_title="RWS1", timeout=5) for s in servers]
    started = time.perf_counter()
    results = probe_many(targets, workers=WORKERS)
    elapsed = time.perf_counter() - started
    flagged = sum(any(f["id"] == "PACS-NET-001" for f in r.as_dict()["findings"]) for r in results)
    return elapsed, flagged


def nmap(servers: list[pacslab.Server]) -> tuple[float, int]:
    ports = ",".join(str(s.port) for s in servers)
    started = time.perf_counter()
    run = subprocess.run(["nmap", "-Pn", "-n", "-p", ports, "--script", "+dicom-ping", "127.0.0.1"],
                         capture_output=True, text=True, timeout=600, check=True)
    elapsed = time.perf_counter() - started
    # dicom-ping calls "ANY-SCP": a server that checks the called AE (dcmqrscp does) is reported
    # as "Called AET check enabled" although it accepts any calling AE.
    return elapsed, run.stdout.count("Any AET is accepted")


def main() -> int:
    if shutil.which("nmap") is None or shutil.which("dcmqrscp") is None:
        print("needs nmap and dcmqrscp (apt-get install nmap dcmtk)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="pacsguard-bench-"))
    servers: list[pacslab.Server] = []
    try:
        for index in range(max(SIZES)):
            servers.append(pacslab.start_dcmqrscp(workdir, f"dq{index}"))
        audit(servers[:2])  # warm-up: imports, throwaway identity
        print(f"{'endpoints':>9} {'pacsguard s':>12} {'nmap s':>8} {'ratio':>7}  "
          "open to any calling AE: pacsguard / nmap")
        for size in SIZES:
            group = servers[:size]
            ours = min((audit(group) for _ in range(REPEAT)), key=lambda r: r[0])
            theirs = min((nmap(group) for _ in range(REPEAT)), key=lambda r: r[0])
            print(f"{size:>9} {ours[0]:>12.3f} {theirs[0]:>8.3f} {ours[0] / theirs[0]:>7.2f}"
                  f"  {ours[1]}/{theirs[1]}")
        print("ratio = pacsguard full audit / nmap dicom-ping (lower is better; targets: <= 1.0 at 1 "
              "endpoint, <= 3.0 at 100)")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
