"""The HTML report: self-contained, the gate first, a node x rule matrix, findings one click away,
and nothing a server or a host's file says written as markup."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re

from pacsguard.findings import make_finding
from pacsguard.htmlreport import render
from pacsguard.reports import build_report, host_entry, write_reports
from pacsguard.waivers import Waiver

TODAY = datetime.date(2026, 12, 4)
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def _report(hosts: int = 2) -> dict:
    entries = []
    for index in range(hosts):
        name = f"archive{index}"
        open_ae = make_finding("PACS-NET-001", f"A-ASSOCIATE-AC to calling AE {HOSTILE}").as_dict()
        echo = make_finding("PACS-NET-004", "C-ECHO answered").as_dict()
        checks = {"PACS-NET-001": {"status": "fail", "detail": "x"},
                  "PACS-NET-002": {"status": "pass", "detail": "ok"},
                  "PACS-NET-004": {"status": "fail", "detail": "x"}}
        address = f"10.0.{index // 250}.{index % 250 + 1}"
        network = {"verdict": "fail", "endpoint": {"host": address, "port": 4242},
                   "checks": checks, "findings": [open_ae, echo]}
        waiver = [Waiver("PACS-NET-004", "vendor fix due in Q1 next year",
                         TODAY + datetime.timedelta(days=20))]
        entries.append(host_entry(name, network, waivers=waiver, today=TODAY, vantage="modality"))
    entries.append(host_entry('bad"node', None, "vantage unreachable", today=TODAY))
    return build_report(entries, "high", True)


def test_the_page_fetches_nothing_and_runs_only_its_own_script():
    page = render(_report())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "<iframe" not in page
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 and "<script src" not in page
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src &#x27;sha256-{digest}&#x27;" in page and "default-src &#x27;none&#x27;" in page


def test_what_a_server_says_is_text_not_markup():
    page = render(_report())
    assert HOSTILE not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert 'bad&quot;node' in page


def test_the_gate_comes_first_with_its_reason():
    page = render(_report())
    gate = re.search(r'<div class="gate fail" id="gate">(.*?)</div>', page).group(1)
    assert gate.startswith("Gate: FAIL (2 finding(s) at or above high; inconclusive: bad&quot;node")
    assert page.index('id="gate"') < page.index('id="matrix"')


def test_a_failing_cell_leads_to_its_finding_and_a_waived_one_says_so():
    page = render(_report())
    cell = re.search(r'<td class="cell critical"[^>]*data-outcome="critical"[^>]*>'
                     r'<a href="#(f-[0-9a-f]{16})">CRIT</a>', page)
    assert cell, page[:2000]
    details = re.search(rf'<details id="{cell.group(1)}"><summary>archive0: PACS-NET-001 \[critical\]', page)
    assert details
    assert 'class="cell medium waived"' in page and 'data-waived="yes"' in page
    assert "<td>archive0</td><td>PACS-NET-004</td><td>20</td>" in page  # the waiver with its days left
    assert "NIST SP 800-53 AC-3" in page and "vantages: modality" in page
    assert 'data-outcome="pass"' in page  # a rule that passed is a cell of its own


def test_the_html_file_is_written_beside_the_others_and_scales_to_a_fleet(tmp_path):
    paths = write_reports(_report(), str(tmp_path))
    assert paths["html"].endswith("pacsguard-audit.html")
    assert (tmp_path / "pacsguard-audit.html").read_text().startswith("<!DOCTYPE html>")
    fleet = render(_report(hosts=1000))
    assert fleet.count('class="noderow"') == 1001
    assert len(fleet.encode()) < 8 * 2**20
