"""pacs_files' decisions: which entries are refused, what each path needs, and the diff shown."""

from __future__ import annotations

import pytest

from pacsguard import fileset
from pacsguard.fileset import Entry, Observed


def test_entries_keep_order_and_normalise_paths():
    entries = fileset.entries_from([
        {"path": "/etc/x/", "state": "directory", "mode": "0750"},
        {"path": "/etc/x//a.conf", "content": "a\n", "mode": 0o644},
        {"path": "/etc/x/key", "secret_content": "KEY"},
    ])
    assert [entry.path for entry in entries] == ["/etc/x", "/etc/x/a.conf", "/etc/x/key"]
    # a number stays a number (its text "420" would be read as octal 0420)
    assert entries[1].mode == 0o644 and entries[0].mode == "0750" and entries[1].show
    assert entries[2].secret and not entries[2].show and entries[2].text == "KEY"


@pytest.mark.parametrize("items, named", [
    ([{"path": "etc/x", "content": ""}], "etc/x: path must be absolute"),
    ([{"path": "/a", "content": ""}, {"path": "/a/", "content": ""}], "/a/: given twice"),
    ([{"path": "/a", "state": "link"}], "state must be one of"),
    ([{"path": "/a", "content": "x", "secret_content": "y"}], "mutually exclusive"),
    ([{"path": "/a"}], "/a: a file needs content, secret_content or line"),
    ([{"path": "/a", "content": "x", "line": "y"}], "mutually exclusive"),
    ([{"path": "/a", "line": "a\nb"}], "/a: line must be one line"),
    ([{"path": "/a", "line": " "}], "/a: line must be one line"),
    ([{"path": "/a", "state": "absent", "line": "x"}], "belong to state=file"),
    ([{"path": "/a", "state": "directory", "content": "x"}], "belong to state=file"),
    ([{"path": "/a", "content": "x", "validate": "nft -c -f"}], "validate must contain %s"),
])
def test_bad_entries_are_refused_naming_the_path(items, named):
    with pytest.raises(fileset.FileSetError, match=named):
        fileset.entries_from(items)


def test_every_problem_is_named_at_once():
    with pytest.raises(fileset.FileSetError) as raised:
        fileset.entries_from([{"path": "rel", "content": ""}, {"path": "/b"}])
    assert "rel: path must be absolute" in str(raised.value) and "/b: a file needs" in str(raised.value)


@pytest.mark.parametrize("entry, seen, todo", [
    (Entry("/f", text="a\n"), Observed(None), "write"),
    (Entry("/f", text="a\n"), Observed("file", "b\n"), "write"),
    (Entry("/f", text="a\n"), Observed("file", "a\n"), None),
    # unreadable as text (too long, not UTF-8): differs from any text given
    (Entry("/f", text="a\n"), Observed("file", None), "write"),
    (Entry("/d", state="directory"), Observed(None), "create"),
    (Entry("/d", state="directory"), Observed("directory"), None),
    (Entry("/f", state="absent"), Observed("file", "x"), "remove"),
    (Entry("/f", state="absent"), Observed(None), None),
])
def test_action_is_needed_only_when_the_host_differs(entry, seen, todo):
    assert fileset.action(entry, seen) == todo


@pytest.mark.parametrize("entry, seen, named", [
    (Entry("/f", text=""), Observed("directory"), "is a directory, not a regular file"),
    (Entry("/f", text=""), Observed("other"), "is a other, not a regular file"),
    (Entry("/d", state="directory"), Observed("file", ""), "exists and is not a directory"),
    (Entry("/d", state="absent"), Observed("directory"), "removes files only"),
])
def test_conflicts_are_named(entry, seen, named):
    assert named in fileset.conflict(entry, seen)


def test_no_conflict_for_what_can_be_applied():
    assert fileset.conflict(Entry("/f", text=""), Observed("file", "x")) is None
    assert fileset.conflict(Entry("/d", state="directory"), Observed(None)) is None


def test_diff_shows_text_before_and_after():
    shown = fileset.content_diff(Entry("/f", text="new\n"), Observed("file", "old\n"), "write")
    assert (shown["before"], shown["after"]) == ("old\n", "new\n")
    assert fileset.content_diff(Entry("/f", text="a"), Observed("file", "a"), None) is None


def test_a_secret_or_a_hidden_text_says_only_that_it_changed():
    secret = fileset.entries_from([{"path": "/k", "secret_content": "PRIVATE"}])[0]
    for entry in (secret, Entry("/c", text="CERT", show=False)):
        shown = fileset.content_diff(entry, Observed("file", "OLD"), "write")
        assert "PRIVATE" not in str(shown) and "CERT" not in str(shown) and "OLD" not in str(shown)
        assert shown["after"] == fileset.NOT_SHOWN
    assert fileset.content_diff(secret, Observed(None), "write")["before"] == ""


def test_state_changes_are_shown_as_states():
    made = fileset.content_diff(Entry("/d", state="directory"), Observed(None), "create")
    gone = fileset.content_diff(Entry("/f", state="absent"), Observed("file", "x"), "remove")
    assert (made["before"], made["after"]) == ("absent\n", "directory\n")
    assert (gone["before"], gone["after"]) == ("file\n", "absent\n")


def test_attribute_diff_names_only_what_differed():
    found = {"before": {"mode": "0644", "owner": 0}, "after": {"mode": "0640", "owner": 0}}
    shown = fileset.attribute_diff("/f", found)
    assert (shown["before"], shown["after"]) == ("mode: 0644\n", "mode: 0640\n")
    assert fileset.attribute_diff("/f", {"before": {}, "after": {}}) is None


def test_observe_reads_files_and_kinds(tmp_path):
    (tmp_path / "f").write_text("é\n", encoding="utf-8")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    assert fileset.observe(str(tmp_path / "f")) == Observed("file", "é\n")
    assert fileset.observe(str(tmp_path / "bin")) == Observed("file", None)
    assert fileset.observe(str(tmp_path / "f"), limit=1) == Observed("file", None)
    assert fileset.observe(str(tmp_path)) == Observed("directory")
    assert fileset.observe(str(tmp_path / "none")) == Observed(None)


def test_checksum_is_sha1_of_the_text():
    assert fileset.checksum("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_a_file_needs_its_directory_to_exist_or_to_be_made_before_it():
    exists = {"/etc"}.__contains__
    entries = [Entry("/etc/pacsguard/tls", state="directory"), Entry("/etc/pacsguard/tls/a", text=""),
               Entry("/etc/pacsguard/b", text=""), Entry("/srv/x/c", text="")]
    assert fileset.orphans(entries, exists) == ["/srv/x/c: its directory /srv/x does not exist"]
    # made after the file: too late
    assert fileset.orphans([Entry("/srv/a", text=""), Entry("/srv", state="directory")], exists) == [
        "/srv/a: its directory /srv does not exist"]


@pytest.mark.parametrize("seen, text", [
    (Observed(None), 'include "t.nft"\n'),
    (Observed("file", ""), 'include "t.nft"\n'),
    (Observed("file", "flush ruleset\n"), 'flush ruleset\ninclude "t.nft"\n'),
    (Observed("file", "flush ruleset"), 'flush ruleset\ninclude "t.nft"\n'),
    # held already, anywhere: the text stays as it is (idempotent)
    (Observed("file", 'include "t.nft"\nflush ruleset\n'), 'include "t.nft"\nflush ruleset\n'),
    # a longer line that only starts with it is not the line
    (Observed("file", 'include "t.nft" # old\n'), 'include "t.nft" # old\ninclude "t.nft"\n'),
])
def test_a_line_keeps_the_rest_of_the_file(seen, text):
    entry = fileset.entries_from([{"path": "/etc/nftables.conf", "line": 'include "t.nft"'}])[0]
    resolved = fileset.with_line(entry, seen)
    assert resolved.text == text
    assert fileset.action(resolved, Observed("file", text)) is None


def test_a_line_is_not_added_to_a_file_that_cannot_be_read_as_text():
    entry = fileset.entries_from([{"path": "/etc/nftables.conf", "line": "x"}])[0]
    with pytest.raises(fileset.FileSetError, match="cannot be read as text"):
        fileset.with_line(entry, Observed("file", None))
