import pytest

from pacsguard.aetitle import validate_ae_title

GOOD = ["CT01", "A", "ARCHIVE1", "X" * 16, "RWS 1", "ORTHANC-1_A.B"]
BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("X" * 17, "17 characters"),
    ("CT\\01", "backslash"),
    ("CT\t01", "control character 0x09"),
    ("CT\x0001", "control character 0x00"),
    (" CT01", "leading or trailing"),
    ("CT01 ", "leading or trailing"),
    ("CTÉ1", "default character repertoire"),
    (42, "must be a string"),
    (None, "must be a string"),
]


@pytest.mark.parametrize("title", GOOD)
def test_valid_titles_pass(title):
    assert validate_ae_title(title) == (True, "")


@pytest.mark.parametrize(("title", "reason"), BAD)
def test_invalid_titles_say_why(title, reason):
    ok, why = validate_ae_title(title)
    assert not ok
    assert reason in why
