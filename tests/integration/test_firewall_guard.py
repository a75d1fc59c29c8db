"""The firewall guard script, run for real with nft in a network namespace of the test's own:
first apply, confirmation, rollback, a table replaced by hand, overlapping changes, a bad table."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
GUARD = Path(__file__).resolve().parents[2] / "roles/pacs_firewall/files/guard.sh"
TABLE = "pacsguard"


def _table(port: int) -> str:
    return (f"table inet {TABLE}\ndelete table inet {TABLE}\n"
            f"table inet {TABLE} {{\n  chain input {{\n    type filter hook input priority filter - 10; "
            f"policy accept;\n    tcp dport {port} drop\n  }}\n}}\n")


@pytest.fixture
def netns(tmp_path):
    if shutil.which("nft") is None or shutil.which("ip") is None:
        pytest.skip("nft and ip are needed")
    name = "pgtest-" + secrets.token_hex(3)
    subprocess.run(["ip", "netns", "add", name], check=True)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    yield name, state
    subprocess.run(["ip", "netns", "delete", name], check=False)


def _nft(ns: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, "nft", *args], capture_output=True, text=True)


def _guard(ns: str, state: Path, token: str, port: int, wait: int) -> subprocess.Popen:
    (state / f"candidate.{token}.nft").write_text(_table(port))
    return subprocess.Popen(["ip", "netns", "exec", ns, "sh", str(GUARD), token, str(wait), str(state),
                             TABLE])


def _wait_for(path: Path, seconds: float = 20) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists():
            return path.read_text().strip()
        time.sleep(0.1)
    raise AssertionError(f"{path.name} never appeared")


def test_first_apply_unconfirmed_removes_the_table_again(netns):
    ns, state = netns
    guard = _guard(ns, state, "t1", 4242, 2)
    assert _wait_for(state / "loaded.t1")
    assert "dport 4242" in _nft(ns, "list", "table", "inet", TABLE).stdout
    assert guard.wait(timeout=30) == 0
    assert (state / "done.t1").read_text().strip() == "rolled-back"
    assert _nft(ns, "list", "table", "inet", TABLE).returncode != 0  # as before: no table at all
    assert "the table it replaced is restored" in (state / "guard.log").read_text()


def test_a_confirmed_change_stays_and_an_unconfirmed_one_restores_exactly(netns):
    ns, state = netns
    first = _guard(ns, state, "a", 104, 10)
    _wait_for(state / "loaded.a")
    (state / "confirmed.a").touch()
    assert first.wait(timeout=30) == 0 and (state / "done.a").read_text().strip() == "confirmed"
    good = _nft(ns, "list", "table", "inet", TABLE).stdout
    second = _guard(ns, state, "b", 4242, 2)
    _wait_for(state / "loaded.b")
    assert second.wait(timeout=30) == 0
    assert (state / "done.b").read_text().strip() == "rolled-back"
    assert _nft(ns, "list", "table", "inet", TABLE).stdout == good


def test_a_table_replaced_meanwhile_is_not_rolled_back(netns):
    ns, state = netns
    guard = _guard(ns, state, "c", 104, 3)
    _wait_for(state / "loaded.c")
    (state / "by-hand.nft").write_text(_table(11112))
    assert _nft(ns, "-f", str(state / "by-hand.nft")).returncode == 0
    assert guard.wait(timeout=30) == 1
    assert (state / "done.c").read_text().strip() == "superseded"
    assert "dport 11112" in _nft(ns, "list", "table", "inet", TABLE).stdout


def test_overlapping_changes_never_undo_a_later_confirmed_one(netns):
    ns, state = netns
    early = _guard(ns, state, "early", 104, 3)
    _wait_for(state / "loaded.early")
    late = _guard(ns, state, "late", 4242, 20)
    time.sleep(1)
    assert not (state / "loaded.late").exists()  # waits for the lock
    assert early.wait(timeout=30) == 0 and (state / "done.early").read_text().strip() == "rolled-back"
    _wait_for(state / "loaded.late")
    (state / "confirmed.late").touch()
    assert late.wait(timeout=30) == 0
    assert "dport 4242" in _nft(ns, "list", "table", "inet", TABLE).stdout


def test_a_table_that_does_not_load_changes_nothing_and_says_why(netns):
    ns, state = netns
    (state / "candidate.bad.nft").write_text("table inet pacsguard { chain input { nonsense } }\n")
    guard = subprocess.run(["ip", "netns", "exec", ns, "sh", str(GUARD), "bad", "2", str(state), TABLE],
                           timeout=30)
    assert guard.returncode == 1
    assert "the new table did not load" in (state / "failed.bad").read_text()
    assert _nft(ns, "list", "table", "inet", TABLE).returncode != 0


def _render_role_table(dicom_ports: list[int]) -> str:
    """The role's own template, rendered as the role renders it (Ansible's comment filter stubbed)."""
    import jinja2

    folder = GUARD.parents[1] / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), trim_blocks=True,
                             keep_trailing_newline=True)
    env.filters["comment"] = lambda text: "# " + text
    sets = {name: {"type": "ipv6" if name.endswith("v6") else "ipv4", "comment": name,
                   "elements": ["10.20.0.11"] if name == "peers_v4" else []}
            for name in ("peers_v4", "peers_v6", "admin_v4", "admin_v6", "controller_v4",
                         "controller_v6")}
    return env.get_template("etc/nftables.d/pacsguard.nft.j2").render(
        ansible_managed="managed by pacsguard", pacs_firewall_table=TABLE, pacs_firewall_sets=sets,
        pacs_firewall_other_ports="drop", pacs_firewall_ssh_port=22, pacs_firewall_loopback_ports=[11113],
        pacs_firewall_dicom_ports=dicom_ports, pacs_firewall_web_ports=[8042])


@pytest.mark.parametrize("ports", [[4242], [4242, 11112]])
def test_the_role_table_lists_as_a_table_that_loads_back(netns, tmp_path, ports):
    # The guard restores a table from its listing: what nft lists must load again (a port change
    # admits two DICOM ports for a while)
    ns, _state = netns
    rendered = tmp_path / "table.nft"
    rendered.write_text(_render_role_table(ports))
    assert _nft(ns, "-f", str(rendered)).returncode == 0
    listing = _nft(ns, "list", "table", "inet", TABLE).stdout
    assert all(f"proto-dst {port} " in listing for port in ports)
    back = tmp_path / "back.nft"
    back.write_text(f"table inet {TABLE}\ndelete table inet {TABLE}\n{listing}")
    result = _nft(ns, "-c", "-f", str(back))
    assert result.returncode == 0, result.stderr
