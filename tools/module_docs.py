"""Every module's documentation must render: ansible-doc on each, failing on any error or warning;
DOCUMENTATION, EXAMPLES and RETURN present; check-mode and diff-mode support stated.

Usage: python tools/module_docs.py
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "library"


def _texts(path: Path) -> dict[str, str]:
    """The module's DOCUMENTATION, EXAMPLES and RETURN strings."""
    tree = ast.parse(path.read_text())
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")
            and isinstance(node.value, ast.Constant)}


# Keys an option or a return value may have; anything else is a flow mapping cut by a comma.
OPTION_KEYS = frozenset({"description", "type", "required", "default", "choices", "elements", "aliases",
                         "no_log", "suboptions", "version_added"})
RETURN_KEYS = frozenset({"description", "type", "returned", "sample", "contains", "elements",
                         "version_added"})


def _stray_keys(entries: object, allowed: frozenset[str], nested: str, where: str) -> list[str]:
    """Entries with keys a documentation entry cannot have (e.g. half of a description)."""
    found: list[str] = []
    for name, entry in (entries or {}).items() if isinstance(entries, dict) else []:
        if not isinstance(entry, dict):
            found.append(f"{where}.{name}: not a mapping")
            continue
        stray = sorted(map(str, set(entry) - allowed))
        if stray:
            found.append(f"{where}.{name}: unexpected key(s) {stray} (a comma in a flow mapping?)")
        found += _stray_keys(entry.get(nested), allowed, nested, f"{where}.{name}")
    return found


def problems(path: Path) -> list[str]:
    """What is wrong with one module's documentation (empty when it renders and is complete)."""
    name = path.stem
    found = []
    texts = _texts(path)
    for part in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        if not texts.get(part, "").strip():
            found.append(f"{name}: no {part}")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    run = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-M", str(LIBRARY), name],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if run.returncode != 0 or "[ERROR]" in run.stderr or "[WARNING]" in run.stderr:
        found.append(f"{name}: ansible-doc failed: {(run.stderr or run.stdout).strip()[:400]}")
    doc = yaml.safe_load(texts.get("DOCUMENTATION", "")) or {}
    found += [f"{name}: {p}" for p in _stray_keys(doc.get("options"), OPTION_KEYS, "suboptions", "options")]
    returned = yaml.safe_load(texts.get("RETURN", "")) or {}
    found += [f"{name}: {p}" for p in _stray_keys(returned, RETURN_KEYS, "contains", "RETURN")]
    attributes = doc.get("attributes")
    if not isinstance(attributes, dict) or not {"check_mode", "diff_mode"} <= set(attributes):
        found.append(f"{name}: attributes must say check_mode and diff_mode support")
    return found


def main() -> int:
    found = [problem for path in sorted(LIBRARY.glob("*.py")) for problem in problems(path)]
    for problem in found:
        print(problem)
    print(f"module docs: {len(list(LIBRARY.glob('*.py')))} modules, {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
