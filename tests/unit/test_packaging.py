"""The ways pacsguard ships (clone, collection, execution environment) name the same versions: each
fact is written once, or held equal here."""

import re
from importlib.metadata import version
from pathlib import Path

import build_collection
import yaml

from pacsguard.release import VERSION

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", line.strip())
        if found:
            pins[found.group(1).split("[")[0].lower()] = found.group(2)
    return pins


def test_the_collection_takes_its_version_from_the_core():
    meta = build_collection.metadata()
    assert meta["version"] == VERSION
    assert "version" not in yaml.safe_load((ROOT / "collection" / "galaxy.yml").read_text())
    assert f"## {VERSION} " in (ROOT / "CHANGELOG.md").read_text()


def test_the_ee_carries_the_newest_supported_release():
    definition = yaml.safe_load((ROOT / "ee" / "execution-environment.yml").read_text())
    deps = definition["dependencies"]
    newest = yaml.safe_load((ROOT / "playbooks" / "ansible_release.yml").read_text())[0]["vars"][
        "pacsguard_ansible_tested"][-1]
    assert re.fullmatch(rf"ansible-core=={re.escape(newest)}\.\d+", deps["ansible_core"]["package_pip"])
    assert (ROOT / "ee" / deps["python"]).resolve() == ROOT / "images" / "peer-requirements.txt"


def test_the_probe_libraries_of_hosts_and_ee_are_the_controllers():
    controller = _pins(ROOT / "requirements.txt")
    probe = _pins(ROOT / "images" / "peer-requirements.txt")
    assert probe and all(controller[name] == pin for name, pin in probe.items()), (probe, controller)


def test_requires_ansible_admits_the_tested_core():
    runtime = yaml.safe_load((ROOT / "collection" / "meta" / "runtime.yml").read_text())
    lowest = re.match(r">=(\d+)\.(\d+)", runtime["requires_ansible"])
    tested = tuple(int(part) for part in version("ansible-core").split(".")[:2])
    assert lowest and tested >= (int(lowest.group(1)), int(lowest.group(2)))


def test_the_oldest_supported_release_is_the_first_tested_one():
    """requires_ansible, the release check of every playbook and the matrix name one oldest release."""
    runtime = yaml.safe_load((ROOT / "collection" / "meta" / "runtime.yml").read_text())
    play = yaml.safe_load((ROOT / "playbooks" / "ansible_release.yml").read_text())[0]
    tested = play["vars"]["pacsguard_ansible_tested"]
    assert runtime["requires_ansible"] == f">={tested[0]}.0"
    assert tested == sorted(tested, key=lambda release: tuple(int(p) for p in release.split(".")))
    for name in ("audit.yml", "harden.yml", "discover.yml"):
        first = yaml.safe_load((ROOT / "playbooks" / name).read_text())[0]
        assert first == {"name": "Check the ansible-core release",
                         "ansible.builtin.import_playbook": "ansible_release.yml"}, name
