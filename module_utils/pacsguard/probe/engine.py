"""One probe run: reach the port, find its transport, then each check family in turn, all under a
deadline the run cannot exceed."""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import bounded, webprobe
from ..dicomnet import associate
from . import association, position, tls, web
from .model import Result, Run, Target, endpoint_skeleton

LOG = logging.getLogger(__name__)
# Network checks whose waits count towards the default deadline (11 for the AE and TLS families,
# plus the least-privilege requests of PACS-NET-007), and the web checks added when a web URL is
# probed; see default_deadline().
NETWORK_CHECKS = 11 + association.LEAST_PRIVILEGE_CHECKS
# One timeout per web request (the resources read without credentials and each default credential),
# and two per HTTPS handshake of PACS-WEB-004 (each may take two attempts).
WEB_CHECKS = (1 + len(webprobe.PATIENT_RESOURCES) + len(webprobe.DEFAULT_CREDENTIALS)
              + 2 * web.TLS_HANDSHAKES)
DEADLINE_MARGIN = 2.0
# What a child process gets beyond its share's deadlines to report (pickling, exit).
UNWIND_SECONDS = 5.0
# Every check a run reports, for marking those a deadline cut off.
ALL_CHECKS = ("reachable", "transport", "positive_control", *association.RULES, *tls.RULES,
              *web.RULES, *position.RULES)


def default_deadline(target: Target) -> float:
    """The most a probe of ``target`` may take: ``timeout`` for each network check (NETWORK_CHECKS,
    WEB_CHECKS more with a web URL), plus 2 s. Each step has a bound of its own too, so one
    stalling exchange cannot use up the whole of it."""
    checks = NETWORK_CHECKS + (WEB_CHECKS if target.web_url else 0) + len(target.other_ports)
    return target.timeout * checks + DEADLINE_MARGIN


def probe(target: Target) -> Result:
    """Run every check against one endpoint. Never raises for network conditions, never outlives
    its deadline (Target.deadline, or default_deadline())."""
    target.validate()
    started = time.monotonic()
    result = Result(endpoint=endpoint_skeleton(target))
    run = Run(target, result, association.rogue_ae_title())
    limit = target.deadline or default_deadline(target)
    try:
        bounded.within(lambda: _all_checks(run), limit)
    except (bounded.Overrun, bounded.DeadlineReached):
        result = _stopped_at_deadline(result, limit)
    result.verdict = verdict(result, target.position)
    result.duration = time.monotonic() - started
    LOG.debug("probe %s:%s: %s, %d finding(s) in %.3f s", target.host, target.port,
              result.verdict, len(result.findings), result.duration)
    return result


def probe_many(targets: list[Target], workers: int = 16, processes: int = 0) -> list[Result]:
    """Probe several endpoints concurrently, results in the order of ``targets``.

    The checks' work is Python work (pynetdicom's threads for the DIMSE checks), and threads share
    one core: a run of more than SPLIT_AT targets is spread over ``processes`` (0: one per CPU this
    process may use) child processes, each probing its share with its share of ``workers`` threads.
    Each child's share has a time limit derived from its targets' deadlines; a child that misses it
    or dies is ended, and its targets get an error result. Only a process with no other thread
    forks (a fork copies no thread, and a lock another thread held would stay held)."""
    for target in targets:
        target.validate()
    count = _process_count(len(targets), processes)
    if count <= 1:
        return _threaded(targets, workers)
    shares = [list(range(index, len(targets), count)) for index in range(count)]
    per_process = max(1, -(-workers // count))
    context = multiprocessing.get_context("fork")
    children = []
    for share in shares:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=([targets[i] for i in share], per_process, sender),
                                daemon=True)
        child.start()
        sender.close()
        children.append((share, child, receiver))
    results: list[Result | None] = [None] * len(targets)
    for share, child, receiver in children:
        share_targets = [targets[i] for i in share]
        for index, result in zip(share, _collect(child, receiver, share_targets, per_process), strict=True):
            results[index] = result
    return [result for result in results if result is not None]


# Targets per process below which a run stays in one process (a fork and a pipe cost more than they
# save on a few endpoints).
SPLIT_AT = 16


def _process_count(targets: int, processes: int) -> int:
    if targets <= SPLIT_AT or threading.active_count() > 1:
        return 1
    if processes:
        usable = processes
    elif hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may use
        usable = len(os.sched_getaffinity(0))
    else:
        usable = os.cpu_count() or 1
    return max(1, min(usable, targets // SPLIT_AT))


def _threaded(targets: list[Target], workers: int) -> list[Result]:
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets) or 1))) as pool:
        return list(pool.map(probe, targets))


def _child(targets: list[Target], workers: int, sender: Any) -> None:
    """A child process's share: its results, pickled back to the parent."""
    try:
        sender.send(_threaded(targets, workers))
    finally:
        sender.close()


def _collect(child: Any, receiver: Any, targets: list[Target], workers: int) -> list[Result]:
    """A child's results within the time its share may take (its waves of ``workers`` probes, each
    within the longest deadline of the share), else an error result for each of its targets."""
    waves = -(-len(targets) // workers)
    limit = waves * max(t.deadline or default_deadline(t) for t in targets) + UNWIND_SECONDS
    reason = f"the probe process did not report within {limit:g} s"
    try:
        if receiver.poll(limit):
            return receiver.recv()
    except (EOFError, OSError):
        reason = f"the probe process ended without a result (exit code {child.exitcode})"
    finally:
        receiver.close()
        child.join(UNWIND_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
    return [_process_error(target, reason) for target in targets]


def _process_error(target: Target, reason: str) -> Result:
    result = Result(endpoint=endpoint_skeleton(target))
    result.check("probe", "error", reason)
    result.not_run(ALL_CHECKS, reason)
    result.verdict = verdict(result, target.position)
    return result


def _all_checks(run: Run) -> None:
    if position.reach(run):
        _dicom_checks(run)
    else:
        run.result.skip(("positive_control", *association.RULES, *tls.RULES), "DICOM port unreachable")
    web.check(run)
    position.check(run)


def _dicom_checks(run: Run) -> None:
    """Decide the transport with an unknown AE's association, then the TLS and AE families."""
    called = run.target.called_ae_title
    rogue_plain = associate(run.plain, run.rogue, called, run.rogue_dimse())
    if rogue_plain.answered:
        tls.plaintext_endpoint(run, rogue_plain)
        association.check(run, rogue_plain)
        return
    detection = tls.handshake(run)
    if not detection.accepted:
        detail = (f"the port answered neither DICOM ({rogue_plain.detail}) nor TLS "
                  f"({detection.detail})")
        run.result.check("transport", "error", detail)
        run.result.not_run(("positive_control", *association.RULES, *tls.RULES), detail)
        return
    tls.tls_endpoint(run, rogue_plain, detection)
    association.check(run, associate(run.secure, run.rogue, called, run.rogue_dimse()))


def _stopped_at_deadline(result: Result, limit: float) -> Result:
    """What was observed before the deadline, every check not done marked as an error."""
    for _attempt in range(5):
        try:
            snapshot = copy.deepcopy(result)
            break
        except RuntimeError:  # the stopped step was still writing; it is ending
            time.sleep(0.05)
    else:
        snapshot = Result(endpoint=dict(result.endpoint))
    snapshot.check("deadline", "error", f"the probe stopped at its deadline of {limit:g} s (the server "
                                        "kept an exchange open); what was observed before is kept")
    snapshot.not_run(ALL_CHECKS, "deadline reached")
    return snapshot


def verdict(result: Result, where: str) -> str:
    """fail on any finding; inconclusive when any check could not observe what it judges (an error);
    pass only when the run could have seen a weakness and did not."""
    if result.findings:
        return "fail"
    if any(check["status"] == "error" for check in result.checks.values()):
        return "inconclusive"
    if where == "outside":
        return "pass"
    control = result.checks.get("positive_control", {})
    return "pass" if control.get("status") == "pass" else "inconclusive"
