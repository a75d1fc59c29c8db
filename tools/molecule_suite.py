"""The Molecule scenarios of `make test`, one after the other, each timed, its output kept.

Each scenario's whole output goes to the terminal and to reports/test-artifacts/molecule-NAME.log.
When a scenario fails, what failed is said last, in a few lines (the failing task, its host and its
message), so that the end of a CI log names the cause. A scenario that fails is run once more: if it
then passes, the suite goes on and says so loudly (the first failure stays in its log, kept as
molecule-NAME.first.log, and is listed at the end of the suite); if it fails again, the suite stops.

Usage: python tools/molecule_suite.py SCENARIO [SCENARIO ...]
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "reports" / "test-artifacts"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Molecule's frame around Ansible's output (a bar and a space)
FRAME = re.compile(r"^\s*\u2502 ?")
FAILED = re.compile(r"(fatal|failed): \[[^\]]+\]")
SUMMARY_LINES = 18


def plain(line: str) -> str:
    """One line of the log without colours or Molecule's frame."""
    return FRAME.sub("", ANSI.sub("", line.rstrip("\n")))


def record(lines: list[str], at: int) -> list[str]:
    """The lines a task printed for one host, from line at to the next task, play or host (at most 40)."""
    after = []
    for line in lines[at + 1:at + 41]:
        if re.match(r"\s*(TASK|PLAY|RUNNING HANDLER) \[", line) or FAILED.search(line) or "ok: [" in line:
            break
        after.append(line)
    return after


def failure_summary(log: str) -> list[str]:
    """The last failing task of a log: its name, the host and the first lines of what it said."""
    lines = [plain(line) for line in log.splitlines()]
    failed = [index for index, line in enumerate(lines) if FAILED.search(line)
              and not any("...ignoring" in after for after in record(lines, index))]
    if not failed:
        errors = [line for line in lines if "ERROR" in line or "Traceback" in line]
        return errors[-SUMMARY_LINES:] or lines[-SUMMARY_LINES:]
    at = failed[-1]
    task = next((line.strip() for line in reversed(lines[:at]) if line.lstrip().startswith("TASK [")), "")
    said = [line.strip() for line in lines[at + 1:at + 120] if line.strip()]
    keys = [index for index, line in enumerate(said) if re.match(r"(msg|stderr|assertion):", line)]
    # the message (the most telling key) as one text, wrapped
    start = next((index for index in keys if said[index].startswith("msg:")), keys[0] if keys else 0)
    text = " ".join(said[start:start + 60])
    return [task, lines[at].strip(), *textwrap.wrap(text, 150)[:SUMMARY_LINES]]


def run(scenario: str, log_path: Path) -> tuple[int, str]:
    """One `molecule test -s SCENARIO`, its output echoed and kept; exit status and output."""
    kept: list[str] = []
    with log_path.open("w") as log, subprocess.Popen(
            [str(Path(sys.executable).with_name("molecule")), "test", "-s", scenario], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            kept.append(line)
        sys.stdout.flush()
    return proc.returncode, "".join(kept)


def main(scenarios: list[str]) -> int:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    second_tries: list[str] = []
    for scenario in scenarios:
        started = time.monotonic()
        log_path = ARTIFACTS / f"molecule-{scenario}.log"
        status, output = run(scenario, log_path)
        if status:
            first = failure_summary(output)
            log_path.rename(log_path.with_suffix(".first.log"))
            print(f"\nmolecule {scenario}: FAILED; once more, as a second try. What failed:", flush=True)
            print("\n".join("  " + line for line in first), flush=True)
            status, output = run(scenario, log_path)
            if status:
                print(f"\nmolecule {scenario}: FAILED twice ({time.monotonic() - started:.0f} s). "
                      f"First try: {' | '.join(first[:3])}", flush=True)
                print(f"Second try, what failed ({log_path.relative_to(ROOT)}):")
                print("\n".join("  " + line for line in failure_summary(output)), flush=True)
                return 1
            second_tries.append(f"{scenario}: {' | '.join(first[:3])}")
        print(f"molecule {scenario}: {time.monotonic() - started:.0f} s", flush=True)
    for line in second_tries:
        print(f"PASSED ON A SECOND TRY (a failure to look into): molecule {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
