"""Benchmark: the configuration audit of one host (PACS-CFG-001..013).

Times, best of REPEAT, on this machine's own Debian Orthanc files (/etc/orthanc, orthanc.service):
(a) the engine in-process (hostaudit.audit.run), (b) the user's path, one `ansible -m
pacs_host_audit` call on localhost, and (c) the peer: one `ansible -m ansible.builtin.stat` call on
the same host, the floor any module call costs. Prints figures and ratios; not a test.
Usage: python bench/host_audit.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "module_utils"))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best  # noqa: E402

from pacsguard.hostaudit import audit  # noqa: E402

REPEAT = 5


def best_of(action) -> float:
    """The best of REPEAT runs (bench/timing.py)."""
    return best(action, REPEAT)


def adhoc(module: str, args: str) -> None:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-c", "local", "-m", module, "-a", args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise SystemExit(f"ansible -m {module} failed:\n{run.stdout[-2000:]}")


def main() -> None:
    result = audit.run()
    print(
        f"host: {result['product']} {result['version']}, {len(result['config_files'])} configuration "
        f"files, {len(result['checks'])} rules, {len(result['findings'])} findings"
    )
    engine = best_of(audit.run)
    module = best_of(lambda: adhoc("pacs_host_audit", "product=orthanc"))
    floor = best_of(lambda: adhoc("ansible.builtin.stat", "path=/etc/orthanc/orthanc.json"))
    print(f"{'engine in-process (hostaudit.audit.run)':<52} {engine * 1000:8.1f} ms")
    print(f"{'ansible -m pacs_host_audit (the user path)':<52} {module * 1000:8.1f} ms")
    print(f"{'ansible -m ansible.builtin.stat (peer: any module)':<52} {floor * 1000:8.1f} ms")
    print(
        f"ratio module/peer {module / floor:.2f}x; "
        f"the rules themselves are {engine / module:.1%} of the module call"
    )


if __name__ == "__main__":
    main()
