"""A probe of many endpoints is spread over processes (probe_many): every target keeps its own
result, in its own place, and a process that dies costs its targets an error, not the run.
Run in a fresh Python (a process with other threads, like this test session, never forks)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pacslab

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, {module_utils!r})
    from pacsguard.probe import Target, engine

    open_port, closed_port, crash_port = {open_port}, {closed_port}, {crash_port}
    if crash_port:
        probe = engine.probe
        def dying(target):
            # a child whose probe of this target brings the process down (as a crash would)
            if target.port == crash_port:
                os._exit(3)
            return probe(target)
        engine.probe = dying
    ports = [open_port if i % 3 else closed_port for i in range(40)] + ([crash_port] if crash_port else [])
    targets = [Target(host="127.0.0.1", port=port, called_ae_title="DCMQRSCP", calling_ae_title="CT01",
                      timeout=2.0) for port in ports]
    results = engine.probe_many(targets, workers=8, processes=2)
    print(json.dumps({{"count": engine._process_count(len(targets), 2),
                       "results": [[t.port, r.as_dict()] for t, r in zip(targets, results)]}}))
""")


def _run(open_port: int, closed_port: int, crash_port: int = 0) -> dict:
    script = SCRIPT.format(module_utils=str(ROOT / "module_utils"), open_port=open_port,
                           closed_port=closed_port, crash_port=crash_port)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_many_targets_over_processes_each_keep_their_own_result(dcmqrscp_open):
    closed = pacslab.free_port()
    outcome = _run(dcmqrscp_open.port, closed)
    assert outcome["count"] == 2
    results = outcome["results"]
    assert len(results) == 40
    for port, result in results:
        if port == dcmqrscp_open.port:
            assert "PACS-NET-001" in {f["id"] for f in result["findings"]}, result["checks"]
        else:
            assert result["checks"]["reachable"]["status"] != "pass", result["checks"]
            assert not result["findings"]


def test_a_process_that_dies_costs_its_share_an_error_and_the_rest_goes_on(dcmqrscp_open):
    closed, crash = pacslab.free_port(), pacslab.free_port()
    results = _run(dcmqrscp_open.port, closed, crash)["results"]
    errors = [port for port, result in results if result["checks"].get("probe", {}).get("status") == "error"]
    assert crash in errors
    assert "ended without a result" in dict(results)[crash]["checks"]["probe"]["detail"]
    # the other process's share was probed (two processes: targets alternate between them)
    probed = [port for port, result in results if "probe" not in result["checks"]]
    assert len(probed) >= 20 and all(port in (dcmqrscp_open.port, closed) for port in probed)
