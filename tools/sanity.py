"""ansible-test sanity and units on the built collection, as installed, with this machine's Python.

The collection is built from the tree (tools/build_collection.py), installed with ansible-galaxy
into a directory outside any git checkout (ansible-test lists a checkout's files through git, and
build/ is ignored there), and ansible-test runs in the installed tree.

ansible-test puts each sanity test in a virtual environment of its own and fills it with pip, which
it bootstraps from a script it downloads from a host of its own, not from a package registry. This
machine reaches only the registries, so the bootstrap is provided locally: a script in ansible-test's
cache that runs the pip of this Python to install the pip version ansible-test asks for (from the
package index pip is configured with). The sanity tests and their pinned requirements are
ansible-test's own, unchanged.

`ansible-test units` runs the core's unit tests the build ships in ansible-test's layout
(build_collection.UNIT_TESTS).

Usage: python tools/sanity.py [ansible-test sanity options, e.g. --test pylint]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import build_collection

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
BOOTSTRAP = '''"""pip bootstrap for ansible-test, written by pacsguard's tools/sanity.py: installs the
packages ansible-test names with the pip found at {pip_home} (no download of a bootstrap script)."""
import sys

sys.path.insert(0, {pip_home!r})
from pip._internal.cli.main import main

# get-pip's own options (no setuptools, no wheel: pip installs neither unless asked)
ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", *ARGS]))
'''


def pip_version() -> str:
    """The pip ansible-test bootstraps into its environments (ansible-test's own pin)."""
    from ansible_test._internal.python_requirements import get_venv_packages

    return get_venv_packages(types.SimpleNamespace(version=PYTHON_VERSION))["pip"]


def provide_bootstrap() -> Path:
    """ansible-test's cached bootstrap script, written when missing; its path."""
    import pip

    cache = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{pip_version().replace('.', '_')}.py"
    if not cache.exists() or "tools/sanity.py" in cache.read_text():
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(BOOTSTRAP.format(pip_home=str(Path(pip.__file__).parent.parent)))
    return cache


def install(into: Path) -> Path:
    """The collection built and installed under into/; the installed tree."""
    meta = build_collection.metadata()
    tree = build_collection.stage(meta, into / "stage")
    tarball = build_collection.build(tree, into / "dist")
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(into / "installed")}
    subprocess.run([str(galaxy), "collection", "install", "--force", "-p", str(into / "installed"),
                    str(tarball)], check=True, stdout=subprocess.DEVNULL, env=env)
    return into / "installed" / "ansible_collections" / meta["namespace"] / meta["name"]


def main() -> int:
    provide_bootstrap()
    with tempfile.TemporaryDirectory(prefix="pacsguard-sanity-") as scratch:
        tree = install(Path(scratch))
        ansible_test = Path(sys.executable).with_name("ansible-test")
        common = ["--python", PYTHON_VERSION, "--requirements", "--color", "no"]
        sanity = subprocess.run([str(ansible_test), "sanity", *common, *sys.argv[1:]], cwd=tree, check=False)
        if sanity.returncode or sys.argv[1:]:
            return sanity.returncode
        # --venv: a virtual environment of its own, so the requirements never land in this one
        units = [str(ansible_test), "units", "--venv", *common]
        return subprocess.run(units, cwd=tree, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
