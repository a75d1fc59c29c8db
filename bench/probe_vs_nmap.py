"""Benchmark: pacsguard's full audit against nmap's dicom-ping, on the same loopback endpoints.

Starts N dcmqrscp servers (DCMTK's documented shared area: accepts anything), then for 1, 20 and
100 endpoints times (a) the probe engine auditing them all concurrently (every check: positive
control, rogue AE with C-ECHO and C-FIND, wrong called AE, foreign AE, plaintext) and (b)
`nmap -Pn -n --script +dicom-ping` on the same ports, and (c) the floor under (a): the same
associations the audit's results say it made (each accepted one, and the refused one with a wrong
called AE) with nothing else, from a minimal client in this process. dcmqrscp forks a process for
each association it accepts; nmap's one request per endpoint (called AE "ANY-SCP") is refused before
any fork. Prints wall times and ratios; the best of REPEAT runs counts (this machine is shared and
noisy). Not a test: run it with `make bench`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "module_utils"))
sys.path.insert(0, str(ROOT / "lab"))

import pacslab  # noqa: E402
from pacsguard import dicomnet  # noqa: E402
from pacsguard.probe import Target, probe_many  # noqa: E402

SIZES = (1, 20, 100)
REPEAT = 3
WORKERS = 32


def audit(servers: list[pacslab.Server]) -> tuple[float, int, int]:
    """(seconds, endpoints flagged PACS-NET-001, associations the server accepted per endpoint)."""
    targets = [Target(host=s.host, port=s.port, called_ae_title=s.ae_title, calling_ae_title="CT01",
                      foreign_ae_title="RWS1", timeout=5) for s in servers]
    started = time.perf_counter()
    results = [r.as_dict() for r in probe_many(targets, workers=WORKERS)]
    elapsed = time.perf_counter() - started
    flagged = sum(any(f["id"] == "PACS-NET-001" for f in r["findings"]) for r in results)
    return elapsed, flagged, accepted_per_endpoint(results[0])


def accepted_per_endpoint(result: dict) -> int:
    """The associations a probe's result says the endpoint accepted: the positive control, the
    unknown AE, the foreign AE and the wrong called AE, each when its check saw an acceptance."""
    checks = result["checks"]
    accepting = ("PACS-NET-001", "PACS-NET-006", "PACS-NET-002")
    return sum((checks["positive_control"]["status"] == "pass",
                *(checks[rule]["status"] == "fail" for rule in accepting)))


def floor(servers: list[pacslab.Server], accepted: int) -> float:
    """The same associations as the audit with nothing else: ``accepted`` accepted ones and one
    refused (wrong called AE) per endpoint, as concurrently, from this process."""
    def one(server: pacslab.Server) -> None:
        transport = dicomnet.Transport(host=server.host, port=server.port, timeout=5)
        for _ in range(accepted):
            dicomnet.associate(transport, "CT01", server.ae_title)
        dicomnet.associate(transport, "CT01", "PGWRONG")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(one, servers))
    return time.perf_counter() - started


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
        print(f"{'endpoints':>9} {'pacsguard s':>12} {'nmap s':>8} {'ratio':>7} {'floor s':>8} "
              f"{'/floor':>7}  open to any calling AE: pacsguard / nmap")
        for size in SIZES:
            group = servers[:size]
            ours = min((audit(group) for _ in range(REPEAT)), key=lambda r: r[0])
            theirs = min((nmap(group) for _ in range(REPEAT)), key=lambda r: r[0])
            least = min(floor(group, ours[2]) for _ in range(REPEAT))
            print(f"{size:>9} {ours[0]:>12.3f} {theirs[0]:>8.3f} {ours[0] / theirs[0]:>7.2f} {least:>8.3f}"
                  f" {ours[0] / least:>7.2f}  {ours[1]}/{theirs[1]}")
        print("ratio = pacsguard full audit / nmap dicom-ping (lower is better; targets: <= 1.0 at 1 "
              "endpoint, <= 3.0 at 100)")
        print("floor = the associations the audit made (accepted ones as the results say, one refused) "
              "and nothing else;\n        /floor = pacsguard / floor")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
