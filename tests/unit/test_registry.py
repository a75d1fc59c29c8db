"""The product registry is the one place a product is written down: a third product added to it
alone is taken up by the policy, the host audit's detection, discovery and the modules' checks."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from pacsguard import discovery, policy, products, producttls
from pacsguard.hostaudit import audit
from pacsguard.hostaudit.host import Host

ROOT = Path(__file__).resolve().parents[2]
PACSX = products.Product(
    "pacsx", display="PacsX", package="pacsx", binary="pacsxd", service="pacsx", hardening_role="pacs_pacsx",
    rules="dcmqrscp", dicom_port=11112, http_port=8080, http_plaintext_port=18080,
    default_config="/etc/pacsx/dcmqrscp.cfg", native_dicom_tls_since="2.0.0",
    host_services=(("pacsx", ("/etc/pacsx/dcmqrscp.cfg",)),),
)
NODE = {"product": "pacsx", "ae_title": "PX1", "host": "10.20.0.5",
        "peers": [{"name": "ct", "ae_title": "CT01", "address": "10.20.0.11"}]}
UNIT = ("[Service]\nExecStart=/usr/bin/pacsxd -c /etc/pacsx/dcmqrscp.cfg\n"
        "[Install]\nWantedBy=multi-user.target\n")


@pytest.fixture
def pacsx(monkeypatch):
    monkeypatch.setitem(products.REGISTRY, "pacsx", PACSX)
    return PACSX


def test_the_policy_refuses_a_product_the_registry_does_not_hold():
    errors = policy.check_policy(NODE).errors
    assert errors == ["pacs_product: 'pacsx' is not one of orthanc, dcmqrscp"], errors


def test_the_policy_resolves_a_product_added_to_the_registry(pacsx):
    report = policy.check_policy(NODE)
    assert report.errors == [], report.errors
    resolved = report.policy
    assert (resolved["dicom_port"], resolved["http_port"], resolved["hardening_role"]) == \
        (11112, 8080, "pacs_pacsx")
    assert products.names() == ("orthanc", "dcmqrscp", "pacsx")
    assert products.native_dicom_tls_since()["pacsx"] == ("pacsx", "2.0.0")
    assert producttls.native_by_version("pacsx", "1.9.0") is False
    assert producttls.native_by_version("pacsx", "2.0.1-1") is True
    assert products.host_services()["pacsx"] == [{"service": "pacsx", "paths": ["/etc/pacsx/dcmqrscp.cfg"]}]


def _host(root: Path) -> Host:
    unit = root / "etc/systemd/system/pacsx.service"
    unit.parent.mkdir(parents=True)
    unit.write_text(UNIT)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir()
    os.symlink("../pacsx.service", wants / "pacsx.service")
    return Host(str(root))


def test_the_host_audit_finds_a_product_added_to_the_registry_by_its_program(tmp_path, pacsx):
    host = _host(tmp_path)
    product, unit = audit.discover(host)
    assert (product, unit.name if unit else None) == ("pacsx", "pacsx.service")
    assert audit.discover(host, "pacsx")[0] == "pacsx"


def test_without_it_the_host_audit_finds_no_product(tmp_path):
    with pytest.raises(audit.HostAuditError, match="no PACS product found"):
        audit.discover(_host(tmp_path))
    with pytest.raises(audit.HostAuditError, match="'pacsx' is not one of orthanc, dcmqrscp"):
        audit.discover(Host(str(tmp_path)), "pacsx")


def test_no_module_role_or_playbook_lists_the_products_itself():
    """Choices and branches come from the registry: no `choices` of product names in a module's
    argument spec or documentation, none in a role's argument spec, no product list in a playbook."""
    listed = []
    for path in sorted((ROOT / "library").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if "choices: [orthanc" in text:
                listed.append(f"{path.name}: documentation")
            if isinstance(node, ast.Dict):
                choices = [value for key, value in zip(node.keys, node.values, strict=True)
                           if isinstance(key, ast.Constant) and key.value == "choices"]
                if any("orthanc" in ast.unparse(value) or "RULES" in ast.unparse(value) for value in choices):
                    listed.append(f"{path.name}: argument spec")
    for path in [*ROOT.glob("roles/*/meta/argument_specs.yml"), *ROOT.glob("playbooks/*.yml")]:
        if "[orthanc, dcmqrscp]" in path.read_text():
            listed.append(str(path.relative_to(ROOT)))
    assert listed == []


def test_discovery_takes_product_ports_and_web_signatures_from_the_registry():
    assert {product.dicom_port for product in products.REGISTRY.values()} <= set(discovery.DICOM_PORTS)
    assert {product.http_port for product in products.REGISTRY.values() if product.http_port} \
        <= set(discovery.WEB_PORTS)
    endpoint = discovery.Endpoint("10.0.0.9", 8042)
    discovery._read_web(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Orthanc Secure Area"'
                        b'\r\n\r\n', endpoint)
    assert endpoint.product == "Orthanc"
