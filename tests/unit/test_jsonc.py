import pytest

from pacsguard import jsonc


def test_comments_removed_strings_kept():
    text = """{
      // a line comment
      "Url" : "http://example.invalid/a//b", /* block
      comment */ "Name" : "with /* not a comment */ inside",
      "Escaped" : "quote \\" // still string"
    }"""
    assert jsonc.loads(text) == {
        "Url": "http://example.invalid/a//b",
        "Name": "with /* not a comment */ inside",
        "Escaped": 'quote " // still string',
    }


def test_debian_orthanc_config_parses():
    from pathlib import Path

    path = Path("/etc/orthanc/orthanc.json")
    if not path.exists():
        pytest.fail("orthanc is not installed (run .ci/run or apt-get install orthanc)")
    config = jsonc.loads(path.read_text())
    assert config["DicomAet"] == "ORTHANC"


def test_syntax_error_names_the_line():
    with pytest.raises(jsonc.JsoncError, match="line 3"):
        jsonc.loads('{\n "a": 1,\n "b": }\n')
    with pytest.raises(jsonc.JsoncError, match="unterminated"):
        jsonc.loads('{ /* open ')
