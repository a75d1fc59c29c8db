"""The end of a failed Molecule run names the failing task and its message (tools/molecule_suite.py)."""

from molecule_suite import failure_summary

BAR = "\x1b[2m\x1b[31m\u2502\x1b[0m "
LOG = "\n".join([
    "INFO     scenario converge: Executed: Successful",
    f"  {BAR}TASK [Assert the rogue got nothing] ***",
    f"  {BAR}\x1b[0;31mfatal: [pg-rogue]: FAILED! => \x1b[0m",
    f"  {BAR}\x1b[31m    assertion: pg_rogue.findings | length == 0\x1b[0m",
    f"  {BAR}\x1b[31m    msg: 'pg-orthanc12: PACS-NET-001 accepted\x1b[0m",
    f"  {BAR}\x1b[31m      the rogue AE'\x1b[0m",
    # another host's failure that the task ignores, printed after the one that stops the run
    f"  {BAR}TASK [Check the web port] ***",
    f"  {BAR}\x1b[0;31mfatal: [pg-node]: FAILED! => {{\"changed\": false}}\x1b[0m",
    f"  {BAR}...ignoring",
    "ERROR    Ansible return code was 2",
])


def test_the_last_unignored_failure_is_named_with_its_message():
    summary = failure_summary(LOG)
    assert summary[0] == "TASK [Assert the rogue got nothing] ***"
    assert summary[1] == "fatal: [pg-rogue]: FAILED! =>"
    assert summary[2].startswith("msg: 'pg-orthanc12: PACS-NET-001 accepted the rogue AE'")
    assert not any("\x1b" in line or "\u2502" in line for line in summary)


def test_a_log_without_a_failed_task_gives_its_errors():
    assert failure_summary("starting\nERROR    Failed to create the container\ndone") == [
        "ERROR    Failed to create the container"]
