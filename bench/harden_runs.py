"""Benchmark: a harden.yml run with nothing to change, next to the first run on the same hosts.

A fleet spends its nights in runs that change nothing, so that run's cost against the first one's is
the figure: the orthanc scenario's podman hosts (a Debian 12 and a Debian 13 Orthanc node, a
modality, a rogue host, a log collector) are made and prepared as `make test` makes them, then
`molecule converge` (the project's harden.yml) runs twice and each run is timed. The second run must
change nothing (else the figure would be of another thing, and the benchmark fails). The hosts are
removed afterwards. Prints seconds, tasks per node and the ratio to the first run (target 1/3), for
the whole converge and for harden.yml's own plays in it: a converge also starts Molecule and
gathers the facts of every lab host first (molecule/shared/converge.yml), which harden.yml does not
do. Ansible's profile_tasks callback gives the times at which the harden plays start and end. Then
the user's own path on fresh hosts again: `ansible-playbook playbooks/harden.yml` twice from the
checkout (its ansible.cfg), the lab hosts' facts cached first as a controller with a fact cache has
them (the scenario's peer addresses come from them).

It also prints the last `make test` on this machine (written by the Makefile to
reports/test-artifacts/make-test.seconds) next to the suite's budget.

Not a test: `python bench/harden_runs.py [--scenario orthanc] [TREE ...]` (other checkouts, for
example a git worktree of an earlier commit, measured one after the other in the same run); needs
`make images` first and no other Molecule run at the same time (the scenario's hosts have fixed names).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "reports" / "test-artifacts"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(r"(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
TARGET_RATIO = 1 / 3
# profile_tasks: "(time of the task before)   time since the playbook started"
STAMP = re.compile(r"\(\d+:\d\d:\d\d\.\d+\)\s+(\d+):(\d\d):(\d\d\.\d+)")
# harden.yml's first play (after the lab's fact gathering in molecule/shared/converge.yml)
HARDEN_START = "PLAY [Check the ansible-core release]"
SUITE_BUDGET_MIN = 40


def molecule(step: str, scenario: str, tree: Path = ROOT) -> tuple[float, str]:
    """One Molecule step in a checkout; its wall time and its output (the step must succeed)."""
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}",
               CONTAINERS_CONF=str(ROOT / "images" / "containers.conf"),
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="0")
    started = time.monotonic()
    run = subprocess.run([str(BIN / "molecule"), step, "-s", scenario], cwd=tree, env=env,
                         capture_output=True, text=True, timeout=1800)
    took = time.monotonic() - started
    if run.returncode:
        sys.exit(f"molecule {step} -s {scenario} failed:\n{ANSI.sub('', run.stdout + run.stderr)[-3000:]}")
    return took, ANSI.sub("", run.stdout + run.stderr)


def recap(output: str, group_hosts: set[str]) -> dict[str, tuple[int, int]]:
    """Tasks ok and changed per node, from the last play recap of a run."""
    found: dict[str, tuple[int, int]] = {}
    for match in RECAP.finditer(output):
        if match.group(1) in group_hosts:
            found[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return found


def harden_own(output: str) -> float:
    """Seconds from harden.yml's first play to the end of the playbook, by profile_tasks' times."""
    start = output.find(HARDEN_START)
    first = STAMP.search(output, start) if start >= 0 else None
    stamps = STAMP.findall(output)
    if first is None or not stamps:
        sys.exit("no profile_tasks times in the converge output: cannot tell harden.yml's own time")

    def seconds(parts: tuple[str, ...]) -> float:
        return int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])

    return seconds(stamps[-1]) - seconds(first.groups())


def playbook(tree: Path, inventory: Path, cache: Path, *argv: str) -> tuple[float, str]:
    """ansible-playbook (or ansible) from a checkout as a user runs it: its ansible.cfg, the lab's
    connection to the podman hosts, facts kept in a cache; wall time and output (it must succeed)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(tree / "ansible.cfg"),
               ANSIBLE_CONNECTION_PLUGINS=str(tree / "lab" / "connection_plugins"),
               ANSIBLE_CACHE_PLUGIN="jsonfile", ANSIBLE_CACHE_PLUGIN_CONNECTION=str(cache),
               ANSIBLE_FORCE_COLOR="0")
    started = time.monotonic()
    run = subprocess.run([str(BIN / argv[0]), "-i", str(inventory), *argv[1:]], cwd=tree, env=env,
                         capture_output=True, text=True, timeout=1800)
    took = time.monotonic() - started
    if run.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{ANSI.sub('', run.stdout + run.stderr)[-3000:]}")
    return took, ANSI.sub("", run.stdout + run.stderr)


def user_path(tree: Path, scenario: str) -> tuple[float, float, dict, dict]:
    """`ansible-playbook playbooks/harden.yml` twice on fresh hosts of the scenario (made and prepared
    by Molecule), as a fleet runs it every night. The lab hosts' facts are cached first, as a
    controller with a fact cache has them: the scenario's peer addresses come from them."""
    nodes = pacs_nodes(scenario, tree)
    molecule("destroy", scenario, tree)
    try:
        molecule("create", scenario, tree)
        molecule("prepare", scenario, tree)
        # the scenario's inventory, written by this create (Molecule's directory for this checkout)
        inventory = max(Path.home().glob(f".ansible/tmp/molecule.*.{scenario}/inventory"),
                        key=lambda path: path.stat().st_mtime)
        with tempfile.TemporaryDirectory(prefix="pacsguard-facts-") as cache:
            playbook(tree, inventory, Path(cache), "ansible", "all", "-m", "ansible.builtin.setup")
            first, first_out = playbook(tree, inventory, Path(cache), "ansible-playbook", "--diff",
                                        "playbooks/harden.yml")
            again, again_out = playbook(tree, inventory, Path(cache), "ansible-playbook", "--diff",
                                        "playbooks/harden.yml")
    finally:
        molecule("destroy", scenario, tree)
    first_tasks, again_tasks = recap(first_out, nodes), recap(again_out, nodes)
    if set(again_tasks) != nodes or any(changed for _ok, changed in again_tasks.values()):
        sys.exit(f"{tree}: the second ansible-playbook run changed something: {again_tasks}")
    return first, again, first_tasks, again_tasks


def pacs_nodes(scenario: str, tree: Path = ROOT) -> set[str]:
    """The scenario's PACS nodes (the platforms of group pacs)."""
    import yaml

    config = yaml.safe_load((tree / "molecule" / scenario / "molecule.yml").read_text())
    return {platform["name"] for platform in config["platforms"] if "pacs" in platform.get("groups", [])}


def suite_figure() -> str:
    """The last make test on this machine, next to its budget."""
    record = ARTIFACTS / "make-test.seconds"
    if not record.exists():
        return f"make test: no run recorded on this machine yet (budget {SUITE_BUDGET_MIN} min)"
    seconds, *rest = record.read_text().split()
    minutes = int(seconds) / 60
    return (f"make test, last run ({' '.join(rest)}): {minutes:.1f} min, budget {SUITE_BUDGET_MIN} min "
            f"({minutes / SUITE_BUDGET_MIN:.2f} of it)")


def measure(tree: Path, scenario: str) -> tuple[float, float, dict, dict]:
    """The first run and the run with nothing to change on fresh hosts of one checkout."""
    nodes = pacs_nodes(scenario, tree)
    molecule("destroy", scenario, tree)
    try:
        molecule("create", scenario, tree)
        molecule("prepare", scenario, tree)
        first, first_out = molecule("converge", scenario, tree)
        again, again_out = molecule("converge", scenario, tree)
    finally:
        molecule("destroy", scenario, tree)
    first_tasks, again_tasks = recap(first_out, nodes), recap(again_out, nodes)
    if set(again_tasks) != nodes or any(changed for _ok, changed in again_tasks.values()):
        sys.exit(f"{tree}: the second run is not a run with nothing to change: {again_tasks}")
    return first, again, first_tasks, again_tasks, harden_own(first_out), harden_own(again_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="orthanc")
    parser.add_argument("trees", nargs="*", type=Path, help="other checkouts to measure the same way")
    args = parser.parse_args()
    print(f"harden.yml on the {args.scenario} scenario's nodes (molecule converge on fresh hosts):")
    for tree in [ROOT, *args.trees]:
        first, again, first_tasks, again_tasks, first_own, again_own = measure(tree.resolve(), args.scenario)
        print(f"{tree}:")
        print(f"  first run                 {first:6.1f} s (harden.yml's plays {first_own:5.1f} s), "
              f"tasks ok per node {sorted(ok for ok, _ in first_tasks.values())}")
        print(f"  again, nothing to change  {again:6.1f} s (harden.yml's plays {again_own:5.1f} s), "
              f"tasks ok per node {sorted(ok for ok, _ in again_tasks.values())}")
        user_first, user_again, user_first_tasks, user_again_tasks = user_path(tree.resolve(), args.scenario)
        print(f"  ansible-playbook playbooks/harden.yml on fresh hosts, first run {user_first:6.1f} s, "
              f"again {user_again:6.1f} s, tasks ok per node "
              f"{sorted(ok for ok, _ in user_first_tasks.values())} and "
              f"{sorted(ok for ok, _ in user_again_tasks.values())}")
        ratios = (("molecule converge", again / first), ("harden.yml's plays", again_own / first_own),
                  ("ansible-playbook harden.yml", user_again / user_first))
        for what, ratio in ratios:
            print(f"  ratio, {what}: {ratio:.2f} of the first run (target {TARGET_RATIO:.2f})"
                  f"{'' if ratio <= TARGET_RATIO else ': OVER TARGET'}")
    print(suite_figure())


if __name__ == "__main__":
    main()
