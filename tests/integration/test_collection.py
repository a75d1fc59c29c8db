"""The collection as users install it: built from this tree, installed with ansible-galaxy into a
fresh directory that has no clone on any path, its playbook run by fully qualified name against real
Orthanc processes, with the same findings as the clone gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import build_collection
import pytest
import yaml

from pacsguard.release import VERSION

from .conftest import tls_args
from .test_ansible import _node

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FQCN = "pacsguard.pacs"
# Nothing of the clone's: no ansible.cfg, no library or roles path, no callbacks of the tests.
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The tarball built from the tree and installed where only a user's collections path finds it."""
    base = tmp_path_factory.mktemp("collection")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_collection.py"),
                          "--stage-dir", str(base / "stage"), "--output-path", str(base / "dist")],
                         capture_output=True, text=True, timeout=300, check=True)
    tarball = Path(run.stdout.strip())
    work = base / "work"
    work.mkdir()
    env = {**CLEAN, "ANSIBLE_COLLECTIONS_PATH": str(base / "collections"),
           "ANSIBLE_HOST_KEY_CHECKING": "false", "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(base / "collections"),
                    str(tarball)], cwd=work, env=env, capture_output=True, text=True, timeout=300, check=True)
    return {"tarball": tarball, "work": work, "env": env,
            "tree": base / "collections" / "ansible_collections" / "pacsguard" / "pacs"}


def test_rewrite_touches_whole_import_names_only():
    target = "ansible_collections.pacsguard.pacs.plugins.module_utils"
    assert build_collection.rewrite_imports(
        "from ansible.module_utils.pacsguard.probe import Target\n", target) == \
        f"from {target}.probe import Target\n"
    assert build_collection.rewrite_imports("from ansible.module_utils.pacsguardx import y\n", target) == \
        "from ansible.module_utils.pacsguardx import y\n"


def test_tarball_holds_what_users_need_and_nothing_of_the_test_rig(installed):
    with tarfile.open(installed["tarball"]) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("pacsguard", "pacs", VERSION)
    assert {"LICENSE", "README.md", "CHANGELOG.md", "meta/runtime.yml", "playbooks/audit.yml",
            "plugins/modules/dicom_probe.py", "plugins/module_utils/probe/engine.py",
            "roles/pacs_audit/tasks/main.yml", "tests/unit/plugins/module_utils/test_findings.py",
            "plugins/action/pacs_node_vars.py", "docs/usage.md"} <= names
    assert not {n for n in names if n.split("/")[0] in ("molecule", "lab", "images", "bench", "library")}
    # a collection's roles cannot carry plugins: the roles' own are the collection's
    assert not {n for n in names if "/action_plugins" in n}
    runtime = yaml.safe_load((installed["tree"] / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"].startswith(">=")
    module = (installed["tree"] / "plugins" / "modules" / "dicom_probe.py").read_text()
    assert "ansible.module_utils.pacsguard" not in module
    assert f"ansible_collections.{FQCN}.plugins.module_utils" in module


def test_every_module_documents_itself_by_fqcn(installed):
    modules = sorted(p.stem for p in (ROOT / "library").glob("*.py"))
    listed = subprocess.run([str(BIN / "ansible-doc"), "-l", FQCN, "--json"], cwd=installed["work"],
                            env=installed["env"], capture_output=True, text=True, timeout=120, check=True)
    assert sorted(json.loads(listed.stdout)) == [f"{FQCN}.{m}" for m in modules]
    shown = subprocess.run([str(BIN / "ansible-doc"), "--json", *(f"{FQCN}.{m}" for m in modules)],
                           cwd=installed["work"], env=installed["env"], capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0 and "WARNING" not in shown.stderr, shown.stderr
    assert set(json.loads(shown.stdout)) == {f"{FQCN}.{m}" for m in modules}


def _results(reports: Path) -> dict[str, dict[str, str]]:
    """Per host, each check's status, the findings' rule IDs and the verdict (what the gate and the
    JUnit cases are made of)."""
    document = json.loads((reports / "pacsguard-audit.json").read_text())
    return {h["name"]: {rule: check["status"] for rule, check in h["checks"].items()}
            | {"findings": sorted(f["id"] for f in h["findings"]), "verdict": h["verdict"]}
            for h in document["hosts"]}


def test_audit_by_fqcn_finds_what_the_clone_finds(tmp_path, installed, orthanc_default, orthanc_tls13, pki):
    hosts = {"insecure": _node(orthanc_default),
             "hardened": _node(orthanc_tls13, **{f"pacs_audit_{k}": v for k, v in tls_args(pki).items()})}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"pacs": {"hosts": hosts}}}}))
    # from the installed collection, in a directory of its own, reports in the working directory
    shell_env = {**installed["env"], "PWD": str(installed["work"])}  # as a shell sets it after cd
    collection = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), f"{FQCN}.audit"],
                                cwd=installed["work"], env=shell_env, capture_output=True, text=True,
                                timeout=300)
    assert collection.returncode == 2, collection.stdout[-3000:] + collection.stderr[-2000:]
    assert "gate: FAIL" in collection.stdout, collection.stdout[-3000:]
    # from the clone
    clone = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/audit.yml",
                            "-e", f"pacs_audit_report_dir={tmp_path / 'clone'}"],
                           cwd=ROOT, env={**CLEAN, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
                           capture_output=True, text=True, timeout=300)
    assert clone.returncode == collection.returncode, clone.stdout[-3000:]
    from_collection = _results(installed["work"] / "reports")
    assert from_collection == _results(tmp_path / "clone")
    assert from_collection["insecure"]["verdict"] == "fail"
    assert from_collection["insecure"]["PACS-NET-001"] == "fail"
    assert from_collection["hardened"]["verdict"] == "pass"


def _adhoc(installed: dict, blocked: Path, module: str, args: dict) -> dict:
    env = {**installed["env"], "PYTHONPATH": str(blocked), "ANSIBLE_STDOUT_CALLBACK": "json",
           "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"}
    command = [str(BIN / "ansible"), "localhost", "-m", f"{FQCN}.{module}", "-a", json.dumps(args)]
    run = subprocess.run(command, cwd=installed["work"], env=env, capture_output=True, text=True, timeout=120)
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_a_missing_library_is_named_not_a_traceback(tmp_path, installed):
    """pynetdicom or cryptography missing where the module runs (here: made unimportable)."""
    for library in ("pynetdicom", "cryptography"):
        (tmp_path / library).mkdir()
        (tmp_path / library / "__init__.py").write_text('raise ImportError("not installed here")\n')
    probe = _adhoc(installed, tmp_path, "dicom_probe", {"host": "127.0.0.1", "called_ae_title": "ARCHIVE1"})
    assert probe["failed"] is True
    assert probe["msg"].startswith("Failed to import the required Python library (pynetdicom, pydicom and "
                                   "cryptography)")
    with_tls = _adhoc(installed, tmp_path, "pacs_policy",
                      {"product": "orthanc", "ae_title": "ARCHIVE1", "tls": {"certificate": "/nonexistent"}})
    assert with_tls["msg"].startswith("Failed to import the required Python library (cryptography)")
    # a policy without TLS needs no cryptography
    plain = _adhoc(installed, tmp_path, "pacs_policy", {"product": "orthanc", "ae_title": "ARCHIVE1"})
    assert not plain.get("failed"), plain.get("msg")
    assert plain["policy"]["ae_title"] == "ARCHIVE1"
