"""Build the pacsguard.pacs collection from this tree, which stays laid out for running from a clone.

The clone keeps library/ and module_utils/pacsguard/ (wired in by ansible.cfg); a collection wants
plugins/modules/ and plugins/module_utils/ and imports by the collection's full name. This tool
stages the collection under build/collection/ansible_collections/<namespace>/<name>/, rewrites the
modules' `ansible.module_utils.pacsguard` imports to the collection's name (module_utils import
each other relatively, so they need no change), refuses to build when a clone-only import is left,
and runs `ansible-galaxy collection build`.

Usage: python tools/build_collection.py [--stage-only] [--output-path dist]
Prints the path of the tarball (or of the staged tree with --stage-only).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CLONE_IMPORT = "ansible.module_utils.pacsguard"
# What a collection user gets: the rest of the tree (molecule, lab, images, bench) builds and
# tests the project itself.
TOP_FILES = ("README.md", "LICENSE", "CHANGELOG.md")
# The reference the README links to, at the same relative path
DOCS = "docs"
# The collection's own metadata (galaxy.yml, meta/runtime.yml) lives in collection/, not at the top:
# at the top, Molecule would take the tree for a collection and try to install it before each
# scenario.
METADATA = ROOT / "collection"
PLAYBOOKS = ("ansible_release.yml", "audit.yml", "discover.yml", "harden.yml", "site.yml")
# Unit tests of the Python core that need nothing but the core (and cryptography, Debian's own
# orthanc.json and dcmqrscp.cfg where installed): shipped in ansible-test's layout, run by
# `ansible-test units` on the installed collection (tools/sanity.py). The others read the roles,
# the lab or the tools of the tree.
UNIT_TESTS = ("aetitle", "dcmqrscp_config", "findings", "hostile_input", "jsonc", "orthanc_config",
              "reports", "service_state", "tlsprobe", "waivers")
UNIT_REQUIREMENTS = ("cryptography",)
SKIP_NAMES = ("__pycache__", "*.pyc", ".pytest_cache")
SKIP = shutil.ignore_patterns(*SKIP_NAMES)


def release() -> str:
    """The release number, written once: pacsguard.release.VERSION (the reports carry it)."""
    text = (ROOT / "module_utils" / "pacsguard" / "release.py").read_text()
    found = re.search(r'^VERSION = "([^"]+)"$', text, re.MULTILINE)
    if not found:
        raise SystemExit("module_utils/pacsguard/release.py has no VERSION")
    return found.group(1)


def metadata() -> dict:
    """galaxy.yml with the release number added."""
    meta = yaml.safe_load((METADATA / "galaxy.yml").read_text())
    if "version" in meta:
        raise SystemExit("galaxy.yml must not carry a version: it comes from pacsguard.release.VERSION")
    return {**meta, "version": release()}


def collection_import(meta: dict) -> str:
    """The import path module_utils have inside the collection."""
    return f"ansible_collections.{meta['namespace']}.{meta['name']}.plugins.module_utils"


def rewrite_imports(text: str, target: str) -> str:
    """A module's clone import path replaced by the collection's (whole dotted names only)."""
    return re.sub(rf"\b{re.escape(CLONE_IMPORT)}\b", target, text)


def _copy_modules(stage: Path, target: str) -> None:
    """library/*.py to plugins/modules/, imports rewritten."""
    modules = stage / "plugins" / "modules"
    modules.mkdir(parents=True)
    for source in sorted((ROOT / "library").glob("*.py")):
        (modules / source.name).write_text(rewrite_imports(source.read_text(), target))


# How the roles' action plugins import the core once installed (checked against galaxy.yml's name)
ACTION_IMPORT = "ansible_collections.pacsguard.pacs.plugins.module_utils"


def _copy_role_actions(stage: Path, target: str) -> None:
    """roles/*/action_plugins/*.py to plugins/action/: a collection's roles cannot carry plugins, and
    its roles find the collection's own by their short names."""
    actions = stage / "plugins" / "action"
    for source in sorted((ROOT / "roles").glob("*/action_plugins/*.py")):
        actions.mkdir(parents=True, exist_ok=True)
        if (actions / source.name).exists():
            raise SystemExit(f"two roles carry an action plugin named {source.name}")
        text = re.sub(rf"\b{re.escape(ACTION_IMPORT)}\b", target, source.read_text())
        (actions / source.name).write_text(text)


def rewrite_test_imports(text: str, target: str) -> str:
    """A unit test's imports of the core (``pacsguard`` on sys.path) by the collection's name."""
    return re.sub(r"^(\s*)(from|import) pacsguard\b", rf"\1\2 {target}", text, flags=re.MULTILINE)


def _copy_unit_tests(stage: Path, target: str) -> None:
    """UNIT_TESTS to tests/unit/plugins/module_utils/; their requirements pinned as the tree pins them."""
    units = stage / "tests" / "unit" / "plugins" / "module_utils"
    units.mkdir(parents=True)
    for name in UNIT_TESTS:
        text = (ROOT / "tests" / "unit" / f"test_{name}.py").read_text()
        (units / f"test_{name}.py").write_text(rewrite_test_imports(text, target))
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("==")[0] in UNIT_REQUIREMENTS]
    (stage / "tests" / "unit" / "requirements.txt").write_text("\n".join(pins) + "\n")


def _left_behind(stage: Path) -> list[str]:
    """Staged Python files that still import through the clone's path (they would fail installed)."""
    statement = re.compile(rf"^\s*(from|import)\s+{re.escape(CLONE_IMPORT)}\b", re.MULTILINE)
    return [str(path.relative_to(stage)) for path in stage.rglob("*.py")
            if statement.search(path.read_text())]


def stage(meta: dict, into: Path) -> Path:
    """The collection's tree, as it will be installed, under into/ansible_collections/."""
    tree = into / "ansible_collections" / meta["namespace"] / meta["name"]
    if into.exists():
        shutil.rmtree(into)
    tree.mkdir(parents=True)
    for name in TOP_FILES:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(ROOT / DOCS, tree / DOCS, ignore=SKIP)
    (tree / "galaxy.yml").write_text("---\n" + yaml.safe_dump(meta, sort_keys=False))
    shutil.copytree(METADATA / "meta", tree / "meta")
    _copy_modules(tree, collection_import(meta))
    _copy_unit_tests(tree, collection_import(meta))
    # ansible-test's settings for the collection and its per-release sanity ignores
    shutil.copytree(METADATA / "tests", tree / "tests", dirs_exist_ok=True)
    shutil.copytree(ROOT / "module_utils" / "pacsguard", tree / "plugins" / "module_utils", ignore=SKIP)
    roles_skip = shutil.ignore_patterns(*SKIP_NAMES, "action_plugins")
    shutil.copytree(ROOT / "roles", tree / "roles", ignore=roles_skip)
    _copy_role_actions(tree, collection_import(meta))
    (tree / "playbooks").mkdir()
    for name in PLAYBOOKS:
        shutil.copy2(ROOT / "playbooks" / name, tree / "playbooks" / name)
    left = _left_behind(tree)
    if left:
        raise SystemExit(f"clone-only imports left in the collection: {', '.join(left)}")
    return tree


def build(tree: Path, output: Path) -> Path:
    """ansible-galaxy collection build of the staged tree; the tarball's path."""
    output.mkdir(parents=True, exist_ok=True)
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    subprocess.run([str(galaxy), "collection", "build", "--force", "--output-path", str(output), str(tree)],
                   check=True, stdout=subprocess.DEVNULL)
    meta = yaml.safe_load((tree / "galaxy.yml").read_text())
    tarball = output / f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"
    if not tarball.is_file():
        raise SystemExit(f"ansible-galaxy did not write {tarball}")
    return tarball


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage-only", action="store_true", help="stage the tree, do not build the tarball")
    parser.add_argument("--stage-dir", type=Path, default=ROOT / "build" / "collection")
    parser.add_argument("--output-path", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    tree = stage(metadata(), args.stage_dir)
    print(tree if args.stage_only else build(tree, args.output_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
