"""One policy, read once: roles read pacs_policy_resolved, never the raw shared variables, and a
default, a suite list or a threshold is written in one place only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pacsguard import products, tlsfacts

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
# The shared policy the pacs_policy role resolves; other roles read pacs_policy_resolved instead.
RAW_POLICY = re.compile(r"\b(pacs_product|pacs_ae_title|pacs_dicom_port|pacs_http_port|pacs_plaintext_port"
                        r"|pacs_peers|pacs_admin_sources|pacs_address|pacs_tls(?![_\w])|ansible_host)\b")


def _role_files():
    for path in sorted(ROLES.rglob("*")):
        if path.is_file() and path.suffix in (".yml", ".j2") and "pacs_policy" not in path.parts \
                and path.name != "argument_specs.yml":
            yield path


def _code(text: str) -> str:
    """The text without YAML and template comments (prose may name the variables)."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return re.sub(r"\{#.*?#\}", "", "\n".join(lines), flags=re.S)


CONDITIONS = ("when", "that", "until", "changed_when", "failed_when")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _expressions(path: Path) -> list[str]:
    """What Ansible evaluates in a role file: Jinja blocks, and conditions (bare expressions).
    Messages and names may mention a variable; only an expression reads it."""
    text = _code(path.read_text())
    if path.suffix == ".j2":
        return JINJA.findall(text)
    found: list[str] = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str):
            found.extend([node] if key in CONDITIONS else JINJA.findall(node))

    walk(yaml.safe_load(text))
    return found


@pytest.mark.parametrize("path", list(_role_files()), ids=lambda p: str(p.relative_to(ROLES)))
def test_roles_read_the_resolved_policy_only(path):
    hits = sorted({match.group(1) for expression in _expressions(path)
                   for match in RAW_POLICY.finditer(expression)})
    assert not hits, f"{path.relative_to(ROOT)} reads {', '.join(hits)}: use pacs_policy_resolved"


def _literals(path: Path) -> str:
    """Code as it runs: without comments, and for Python without docstrings and the module
    DOCUMENTATION, EXAMPLES and RETURN texts (examples may show a port)."""
    text = path.read_text()
    if path.suffix == ".py":
        text = re.sub(r'[rR]?"""(.|\n)*?"""', "", text)
        return "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    return _code(text)


@pytest.mark.parametrize("value", [
    *{str(port) for product in products.REGISTRY.values() for port in product.defaults().values() if port},
    *tlsfacts.BCP195_TLS12_SUITES, *tlsfacts.TLS13_SUITES])
def test_a_default_or_suite_is_written_once(value):
    """Product ports and TLS suites live in module_utils (products.py, tlsfacts.py) only: no role,
    template or other module writes them again."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])")
    places = [str(path.relative_to(ROOT)) for path in
              [*ROLES.rglob("*.yml"), *ROLES.rglob("*.j2"), *(ROOT / "library").glob("*.py"),
               *(ROOT / "module_utils").rglob("*.py")]
              if path.name not in ("products.py", "tlsfacts.py", "argument_specs.yml")
              and pattern.search(_literals(path))]
    assert places == [], f"{value} is written again in {places}"


# -- resolution: the one default of each value the user did not give ---------------------------------
def _resolve(**policy):
    from pacsguard.policy import check_policy
    base = {"ae_title": "ARCHIVE1", "peers": [{"name": "ct", "ae_title": "CT01", "address": "10.0.0.1"}]}
    return check_policy({**base, **policy})


def test_orthanc_without_ports_gets_its_own_not_dicoms():
    """The split the firewall once had: Orthanc listens on 4242 and serves REST on 8042."""
    report = _resolve(product="orthanc")
    assert report.errors == []
    policy = report.policy
    assert (policy["dicom_port"], policy["http_port"], policy["listen_port"]) == (4242, 8042, 4242)
    assert policy["local_ports"] == [] and policy["plaintext_port"] is None
    assert policy["peers"][0]["port"] == 104 and policy["peers"][0]["services"] == ["echo"]


def test_dcmqrscp_without_ports_and_with_tls_listens_behind_the_front(tmp_path):
    import pacslab
    pki = pacslab.make_pki(tmp_path, ("CT01",))
    tls = {"certificate": pki["server_cert"], "private_key": pki["server_key"], "ca": pki["ca_cert"]}
    plain = _resolve(product="dcmqrscp").policy
    assert (plain["dicom_port"], plain["http_port"], plain["listen_port"], plain["local_ports"]) == (
        104, None, 104, [])
    front = _resolve(product="dcmqrscp", tls=tls).policy
    assert (front["dicom_port"], front["plaintext_port"], front["listen_port"]) == (104, 11113, 11113)
    assert front["local_ports"] == [11113]
    assert front["tls"]["profile"]["tls12_suites"] == list(tlsfacts.BCP195_TLS12_SUITES)


def test_given_ports_win_and_must_differ():
    assert _resolve(product="orthanc", dicom_port=11112, http_port=8080).policy["dicom_port"] == 11112
    errors = _resolve(product="orthanc", dicom_port=8042).errors
    assert any("must differ" in error for error in errors), errors
    report = _resolve(product="dcmqrscp", http_port=8042)
    assert report.policy["http_port"] is None
    assert any("dcmqrscp has no such port" in warning for warning in report.warnings)


@pytest.mark.parametrize("given, expected", [
    ({"address": "10.9.9.9", "host": "10.1.1.1", "fact_address": "10.2.2.2"}, "10.9.9.9"),
    ({"host": "10.1.1.1", "fact_address": "10.2.2.2"}, "10.1.1.1"),
    ({"host": "pg-orthanc", "fact_address": "10.2.2.2"}, "10.2.2.2"),
    ({"host": "archive1.example"}, "archive1.example"),
])
def test_the_nodes_address_is_resolved_once(given, expected):
    assert _resolve(product="orthanc", **given).policy["address"] == expected


def test_an_audit_resolves_without_the_key_material():
    tls = {"certificate": "/nowhere/node.crt", "private_key": "/nowhere/node.key", "ca": "/nowhere/ca.crt"}
    report = _resolve(product="orthanc", tls=tls, material=False)
    assert report.errors == [] and report.policy["material_checked"] is False
    assert _resolve(product="orthanc", tls=tls).errors  # hardening reads the files


def test_the_plaintext_port_only_counts_behind_a_front():
    """dcmqrscp without TLS listens on its DICOM port alone: 11113 there is no collision."""
    report = _resolve(product="dcmqrscp", dicom_port=11113)
    assert report.errors == [] and report.policy["listen_port"] == 11113


def test_a_dcmqrscp_refusal_names_the_peer_by_its_own_index():
    peers = ["not a mapping", {"name": "ct", "ae_title": "CT,01", "address": "10.0.0.1"}]
    errors = _resolve(product="dcmqrscp", peers=peers).errors
    assert any(error.startswith("pacs_peers[1] (ct).ae_title:") for error in errors), errors
