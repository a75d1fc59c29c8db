"""Benchmark: the HTML report at 1 and 1,000 nodes: its size, the time to write it, and the time
Debian's headless Chromium takes to open it and run its script (--dump-dom), against the peer: the
same browser opening an empty page. Best of REPEAT each; prints figures and ratios; not a test.
Usage: python bench/html_report.py
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "module_utils"))
sys.path.insert(0, str(ROOT / "bench"))

from timing import best  # noqa: E402

from pacsguard.findings import make_finding  # noqa: E402
from pacsguard.htmlreport import render  # noqa: E402
from pacsguard.reports import build_report, host_entry  # noqa: E402

REPEAT = 3


def best_of(action) -> float:
    """The best of REPEAT runs (bench/timing.py)."""
    return best(action, REPEAT)


CHECKS = ("PACS-NET-001", "PACS-NET-002", "PACS-NET-003", "PACS-NET-004", "PACS-NET-006", "PACS-TLS-001",
          "PACS-TLS-002", "PACS-TLS-003", "PACS-WEB-001", "PACS-WEB-002", "PACS-FW-001")


def report(nodes: int) -> dict:
    """A fleet as an audit sees it: a third of the nodes open on three rules, the rest clean."""
    hosts = []
    for index in range(nodes):
        findings = [make_finding(rule, "observed").as_dict() for rule in CHECKS[:3]] if index % 3 == 0 else []
        checks = {rule: {"status": "fail" if any(f["id"] == rule for f in findings) else "pass", "detail": ""}
                  for rule in CHECKS}
        address = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
        result = {"verdict": "fail" if findings else "pass", "checks": checks, "findings": findings,
                  "endpoint": {"host": address, "port": 4242}}
        hosts.append(host_entry(f"pacs{index:04d}", result, today=datetime.date.today(), vantage="localhost"))
    return build_report(hosts, "high", True)


def chromium(path: Path) -> None:
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{path}"],
                   capture_output=True, timeout=300, check=True)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.html"
        empty.write_text("<!DOCTYPE html><title>empty</title>")
        floor = best_of(lambda: chromium(empty))
        print(f"html report: headless Chromium opens an empty page in {floor:.2f} s (the floor)")
        for nodes in (1, 1000):
            document = report(nodes)
            page = Path(folder) / f"report-{nodes}.html"
            write = best_of(lambda document=document, page=page: page.write_text(render(document)))
            opened = best_of(lambda page=page: chromium(page))
            print(f"html report, {nodes:>4} node(s): {page.stat().st_size / 1024:,.0f} KiB, written in "
                  f"{write:.3f} s, opened with its script run in {opened:.2f} s ({opened / floor:.1f}x the "
                  "empty page)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
