"""ansible-test sanity and units on the built collection, as installed, with this machine's Python.

The collection is built from the tree (tools/build_collection.py), installed with ansible-galaxy
into a directory outside any git checkout (ansible-test lists a checkout's files through git, and
build/ is ignored there), and ansible-test runs in the installed tree.

ansible-test puts each sanity test in a virtual environment of its own and fills it with pip, which
it bootstraps from a script it downloads from a host of its own, not from a package registry. This
machine reaches only the registries, so the bootstrap is provided locally, where ansible-test says it
looks for one (a first short run in a network namespace of its own asks it, so its download attempt
reaches no network): a script in its cache that runs the pip of this Python to install the pip
version ansible-test asks for (from the package index pip is configured with). No internal of
ansible-test is read to learn the version. The sanity tests
and their pinned requirements are ansible-test's own, unchanged.

`ansible-test units` runs the core's unit tests the build ships in ansible-test's layout
(build_collection.UNIT_TESTS).

Usage: python tools/sanity.py [ansible-test sanity options, e.g. --test pylint]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import build_collection

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# ansible-test names its bootstrap's place when it uses it ("Using cached pip 24.2 bootstrap script:
# PATH") and when it cannot download it ("... can be manually downloaded and saved to: PATH")
ASKED = re.compile(r"(/\S+/get_pip_[0-9_]+\.py)\b")
BOOTSTRAP = '''"""pip bootstrap for ansible-test, written by pacsguard's tools/sanity.py: installs the
packages ansible-test names with the pip found at {pip_home} (no download of a bootstrap script)."""
import runpy
import sys

sys.path.insert(0, {pip_home!r})
# get-pip's own options (no setuptools, no wheel: pip installs neither unless asked)
sys.argv = ["pip", "install", *(a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel"))]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
'''


def bootstrap_path(ansible_test: str, tree: Path) -> Path:
    """Where ansible-test looks for its pip bootstrap, as it says itself: `ansible-test shell --venv`
    (which bootstraps pip into a new environment each time) run in a network namespace of its own
    (`unshare --net`: the download it tries when nothing is cached reaches no network), whatever
    that run's outcome."""
    if shutil.which("unshare") is None:
        raise SystemExit("tools/sanity.py needs unshare (Debian's util-linux) to ask ansible-test offline")
    run = subprocess.run(["unshare", "--net", ansible_test, "shell", "--venv", "--python", PYTHON_VERSION,
                          "--color", "no", "--", "true"],
                         cwd=tree, capture_output=True, text=True, timeout=600, check=False)
    asked = ASKED.search(run.stdout + run.stderr)
    cache = Path.home() / ".ansible" / "test" / "cache"
    if not asked or Path(asked.group(1)).parent != cache:
        raise SystemExit("ansible-test named no pip bootstrap in its cache; it said:\n"
                         + (run.stdout + run.stderr)[-2000:])
    return Path(asked.group(1))


def provide_bootstrap(path: Path) -> None:
    """The offline bootstrap, written where ansible-test looks for one (rewritten when it is this
    tool's own, so that it names this Python's pip)."""
    import pip

    # what its download attempt left behind (it names the file it was writing to)
    path.with_name(path.name + ".download").unlink(missing_ok=True)
    if not path.exists() or "tools/sanity.py" in path.read_text():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BOOTSTRAP.format(pip_home=str(Path(pip.__file__).parent.parent)))


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
    with tempfile.TemporaryDirectory(prefix="pacsguard-sanity-") as scratch:
        tree = install(Path(scratch))
        ansible_test = str(Path(sys.executable).with_name("ansible-test"))
        provide_bootstrap(bootstrap_path(ansible_test, tree))
        common = ["--python", PYTHON_VERSION, "--requirements", "--color", "no"]
        sanity = subprocess.run([ansible_test, "sanity", *common, *sys.argv[1:]], cwd=tree, check=False)
        if sanity.returncode or sys.argv[1:]:
            return sanity.returncode
        # --venv: a virtual environment of its own, so the requirements never land in this one
        units = [ansible_test, "units", "--venv", *common]
        return subprocess.run(units, cwd=tree, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
