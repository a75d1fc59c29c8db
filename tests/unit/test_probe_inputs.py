import pytest

from pacsguard.aetitle import validate_ae_title
from pacsguard.probe import ProbeInputError, Target, choose_controls, probe, rogue_ae_title

PEERS = (
    {"ae_title": "CT01", "address": "10.20.0.11"},
    {"ae_title": "MODALITIES", "address": "10.30.0.0/24"},
    {"ae_title": "RWS1", "address": "10.20.1.5"},
    {"ae_title": "BROKEN", "address": "not-an-ip"},
)


def test_controls_follow_the_source_address():
    assert choose_controls(PEERS, "10.20.0.11") == ("CT01", "MODALITIES")
    assert choose_controls(PEERS, "10.30.0.77") == ("MODALITIES", "CT01")
    assert choose_controls(PEERS, "192.0.2.1") == (None, "CT01")
    assert choose_controls((), "10.20.0.11") == (None, None)


def test_rogue_title_is_a_valid_unknown_ae():
    title = rogue_ae_title()
    assert validate_ae_title(title) == (True, "")
    assert title.startswith("PGROGUE") and title != rogue_ae_title()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"called_ae_title": "X" * 17}, "called_ae_title"),
    ({"calling_ae_title": "CT\\01"}, "calling_ae_title"),
    ({"foreign_ae_title": ""}, "foreign_ae_title"),
    ({"port": 0}, "port 0"),
    ({"timeout": 0}, "timeout"),
    ({"position": "sideways"}, "position"),
    ({"tls_client_certificate": "/x.crt"}, "go together"),
    ({"web_url": "ftp://x"}, "web_url"),
    ({"tls_ca": "/nonexistent/ca.crt"}, "TLS material unusable"),
])
def test_bad_input_is_refused_before_any_network_traffic(kwargs, message):
    # Loopback only: were the input accepted, the probe would run and return instead of raising.
    args = {"host": "127.0.0.1", "port": 9, "called_ae_title": "ARCHIVE1", **kwargs}
    with pytest.raises(ProbeInputError, match=message):
        probe(Target(**args))


def test_the_documented_deadline_is_the_derived_one():
    """The check counts the default deadline is derived from are written in the module's docs and
    docs/usage.md; they follow the code (a new check changes them)."""
    from pathlib import Path

    from pacsguard.probe import engine

    root = Path(__file__).resolve().parents[2]
    network, with_web = engine.NETWORK_CHECKS, engine.NETWORK_CHECKS + engine.WEB_CHECKS
    docs = (root / "library" / "dicom_probe.py").read_text()
    assert f"({network}, or {with_web} with O(web_url))" in docs
    usage = (root / "docs" / "usage.md").read_text()
    assert f"x {network}\nnetwork checks, x {with_web} with `web_url`" in usage
