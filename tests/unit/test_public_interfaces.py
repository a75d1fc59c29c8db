"""pacsguard uses ansible-core and pynetdicom through their public interfaces only.

What an internal gives today breaks on the next release (the batch path's private reach into
ansible-core's variable manager and templar made every node an error on 2.16-2.18). This test reads
every Python file of the project and fails on:
- an import of a private module of ansible, ansible_test or pynetdicom (a path part with a leading
  underscore), or of a private name from one;
- a private attribute (one leading underscore) that the project does not define itself, read
  directly or through getattr/hasattr/setattr with a literal name; in an action plugin, the
  attributes Ansible's plugin guide gives action plugins on self are the exception;
- an assignment to an attribute of something imported from ansible or pynetdicom (monkeypatching).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("library", "module_utils", "roles", "lab", "bench", "molecule", "tools", "tests")
LIBRARIES = ("ansible", "ansible_test", "pynetdicom")
# What ActionBase gives an action plugin on self (Ansible's developer guide, "Action plugins").
ACTION_PLUGIN_API = frozenset({"_task", "_templar", "_execute_module", "_connection", "_play_context"})
# Known uses, with their reasons (none today).
EXCEPTIONS: set[tuple[str, str]] = set()


def _files() -> list[Path]:
    return sorted(path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py")
                  if "__pycache__" not in path.parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_names(trees: dict[Path, ast.AST]) -> set[str]:
    """Private names the project defines: functions, classes, module names, self/cls attributes."""
    names: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _library_names(tree: ast.AST) -> set[str]:
    """Names bound by imports from the libraries in one file."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] in LIBRARIES}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            bound |= {alias.asname or alias.name for alias in node.names}
    return bound


def _root(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def _uses(path: Path, tree: ast.AST, own: set[str]) -> list[str]:
    """Every private-interface use and monkeypatch in one file."""
    found = []
    imported = _library_names(tree)
    in_action_plugin = "action_plugins" in path.parts
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""])
            for module in modules:
                parts = module.split(".")
                if parts[0] in LIBRARIES and any(_private(part) for part in parts):
                    found.append(f"import {module}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
                found += [f"import {node.module}.{alias.name}" for alias in node.names
                          if _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not (on_self and in_action_plugin and node.attr in ACTION_PLUGIN_API):
                found.append(f"{ast.unparse(node)} (line {node.lineno})")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value) and node.args[1].value not in own):
            found.append(f"{node.func.id}(..., {node.args[1].value!r}) (line {node.lineno})")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [f"monkeypatch {ast.unparse(target)} (line {node.lineno})" for target in targets
                      if isinstance(target, ast.Attribute) and _root(target) in imported]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                and node.args and _root(node.args[0]) in imported):
            found.append(f"monkeypatch setattr({ast.unparse(node.args[0])}, ...) (line {node.lineno})")
    return [use for use in found if (str(path.relative_to(ROOT)), use) not in EXCEPTIONS]


def test_no_private_interface_of_ansible_or_pynetdicom_is_used():
    trees = {path: ast.parse(path.read_text(), str(path)) for path in _files()}
    own = _own_names(trees)
    uses = {str(path.relative_to(ROOT)): found for path, tree in trees.items()
            if (found := _uses(path, tree, own))}
    assert not uses, uses


@pytest.mark.parametrize("source, expected", [
    ("def f(hostvars):\n    return hostvars._variable_manager\n", "hostvars._variable_manager (line 2)"),
    ("def f(t):\n    return getattr(t, '_engine', None)\n", "getattr(..., '_engine') (line 2)"),
    ("from ansible.module_utils._text import to_text\n", "import ansible.module_utils._text"),
    ("from pynetdicom import _config\n", "import pynetdicom._config"),
    ("import pynetdicom\npynetdicom.AE = None\n", "monkeypatch pynetdicom.AE (line 2)"),
    ("from ansible.template import Templar\nTemplar.template = print\n",
     "monkeypatch Templar.template (line 2)"),
])
def test_the_check_finds_each_kind_of_use(source, expected):
    """Broken on purpose: each kind of use the check exists for is found."""
    tree = ast.parse(source)
    assert expected in _uses(ROOT / "library" / "example.py", tree, _own_names({ROOT: tree}))


def test_the_plugin_api_is_allowed_on_self_in_action_plugins_only():
    source = "class A:\n    def run(self):\n        return self._task.args\n"
    tree = ast.parse(source)
    plugin = ROOT / "roles" / "r" / "action_plugins" / "a.py"
    assert _uses(plugin, tree, _own_names({plugin: tree})) == []
    assert _uses(ROOT / "library" / "a.py", tree, _own_names({plugin: tree})) == ["self._task (line 3)"]
