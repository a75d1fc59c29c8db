"""The configuration audit of one PACS host: find the product as systemd starts it, read what it
reads, run every PACS-CFG rule. Read-only: never the storage area, never the database."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from . import common, dcmqrscp, orthanc
from .host import Command, Host, Unit
from .model import RULE_IDS, Audit, Node

RULES: dict[str, ModuleType] = {"orthanc": orthanc, "dcmqrscp": dcmqrscp}
# The program each product's unit runs, the Debian package that ships it, the service Debian (or
# pacsguard's role) names it, and the configuration it reads without a command-line path.
BINARIES = {orthanc.BINARY: "orthanc", dcmqrscp.BINARY: "dcmqrscp"}
PACKAGES = {"orthanc": "orthanc", "dcmqrscp": "dcmtk"}
SERVICES = {"orthanc": "orthanc", "dcmqrscp": "dcmqrscp"}
DEFAULT_CONFIG = {"orthanc": "", "dcmqrscp": dcmqrscp.DEFAULT_CONFIG}
FRONT_SERVICE = "pacsguard-tls-front"


class HostAuditError(ValueError):
    """The audit cannot start (no product found, unknown product); the message says why."""


def discover(host: Host, product: str | None = None, service: str | None = None) -> tuple[str, Unit | None]:
    """The product and the unit that runs it: the named service, the product's usual service, or
    any unit whose ExecStart runs a known PACS program."""
    if product and product not in RULES:
        raise HostAuditError(f"product {product!r} is not one of {', '.join(RULES)}")
    if service:
        unit = host.unit(service)
        if unit is None:
            raise HostAuditError(f"no unit file defines the service {service!r}")
        found = BINARIES.get(os.path.basename(unit.argv[0])) if unit.argv else None
        if not (product or found):
            raise HostAuditError(
                f"{unit.path} runs {unit.argv[:1]}, not a PACS product pacsguard knows "
                f"({', '.join(BINARIES)}): give product"
            )
        return product or found or "", unit
    running = host.units_running(BINARIES)
    if product:
        unit = host.unit(SERVICES[product])
        if unit is None or BINARIES.get(os.path.basename(unit.argv[0]) if unit.argv else "") != product:
            unit = next((u for p, u in running if p == product), unit)
        return product, unit
    if running:
        return running[0]
    if host.package_version(PACKAGES["orthanc"]):
        return "orthanc", None
    raise HostAuditError(
        "no PACS product found: no systemd unit runs "
        f"{' or '.join(BINARIES)} and the orthanc package is not installed"
    )


def build_node(
    host: Host,
    product: str,
    unit: Unit | None,
    config: str | None = None,
    front_service: str = FRONT_SERVICE,
    peers: list[dict[str, Any]] | None = None,
    ae_title: str = "",
) -> Node:
    """Read everything the rules judge: version, configuration, service user, TLS front."""
    rules = RULES[product]
    node = Node(
        host,
        product,
        host.package_version(PACKAGES[product]),
        unit,
        peers=peers,
        ae_title=ae_title,
    )
    path = config or (rules.config_path(unit.argv) if unit else "") or DEFAULT_CONFIG[product]
    if product == "orthanc" and not path and not unit:
        path = "/etc/orthanc"  # Debian's, for a host where Orthanc is installed but not a service
    rules.load(node, path)
    drops_to = node.config.settings.get("UserName", "") if product == "dcmqrscp" and node.config else ""
    if unit:
        node.user, node.group = common.service_user(unit, drops_to)
    # A front counts when it is enabled: a retired one (plaintext policy) keeps its unit file.
    front_unit = host.unit(front_service) if front_service and product == "dcmqrscp" else None
    if front_unit and host.enabled(front_unit.name):
        node.front = common.read_front(host, front_unit)
    return node


def _other_units(host: Host, audited: Unit | None, audit: Audit) -> None:
    """PACS-CFG-015: every other enabled unit that runs a PACS program is a PACS this audit did not
    judge (a second Orthanc on its own configuration, a dcmqrscp a site started by hand)."""
    others = [(product, unit) for product, unit in host.pacs_units(BINARIES)
              if audited is None or unit.name != audited.name]
    problems: common.Problems = [
        (f"{unit.name} ({unit.path}) is enabled and runs {product}: not judged by this audit; audit it "
         "as a node of its own (pacs_service) or disable it", None) for product, unit in others]
    audited_name = audited.name if audited else "no unit"
    audit.record("PACS-CFG-015", problems, f"no enabled unit but {audited_name} runs a PACS program")


def run(
    root: str = "/",
    product: str | None = None,
    service: str | None = None,
    config: str | None = None,
    front_service: str = FRONT_SERVICE,
    peers: list[dict[str, Any]] | None = None,
    ae_title: str = "",
    command: Command | None = None,
) -> dict[str, Any]:
    """The whole configuration audit of one host, as plain data for the module and the report;
    command runs the read-only commands it needs (the module's run_command)."""
    for index, peer in enumerate(peers or []):
        if not isinstance(peer, dict) or not peer.get("ae_title") or not peer.get("address"):
            raise HostAuditError(f"peers[{index}]: each peer needs ae_title and address (the policy's "
                                 "resolved peers)")
    host = Host(root, command)
    found, unit = discover(host, product, service)
    node = build_node(host, found, unit, config, front_service, peers, ae_title)
    audit = Audit()
    RULES[found].run(node, audit)
    _other_units(host, unit, audit)
    package = PACKAGES[found]
    problems, detail = common.version_problems(package, node.version)
    if not node.version:
        audit.skip("PACS-CFG-013", f"the {package} package is not installed: version unknown")
    elif not detail.endswith("(not judged)"):
        audit.record("PACS-CFG-013", problems, detail)
    else:
        audit.skip("PACS-CFG-013", detail)
    audit.checks = {rule: audit.checks[rule] for rule in RULE_IDS if rule in audit.checks}
    audit.findings.sort(key=lambda finding: finding.id)
    return {
        "product": found,
        "detected": product is None,
        "version": node.version,
        "service": unit.name if unit else "",
        "unit": {"path": unit.path, "dropins": unit.dropins, "user": node.user} if unit else {},
        "config_files": node.config_paths,
        "config_error": node.config_error,
        "front": {"service": node.front.unit.name, "config": node.front.config_path} if node.front else {},
        **audit.as_dict(),
    }
