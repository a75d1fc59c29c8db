"""The configuration audit of one PACS host: find the product as systemd starts it, read what it
reads, run every PACS-CFG rule. Read-only: never the storage area, never the database."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .. import products
from . import common, logs
from .host import Command, Host, Unit
from .model import RULE_IDS, Audit, Node


def _orthanc() -> ModuleType:
    from . import orthanc

    return orthanc


def _dcmqrscp() -> ModuleType:
    from . import dcmqrscp

    return dcmqrscp


# The rule modules a product's descriptor names (products.Product.rules), each imported when an
# audit judges that product: a module run on a host loads the one it needs.
RULE_MODULES: dict[str, Callable[[], ModuleType]] = {"orthanc": _orthanc, "dcmqrscp": _dcmqrscp}
FRONT_SERVICE = "pacsguard-tls-front"


def rules_of(product: str) -> ModuleType:
    """The rule module that judges the product's configuration."""
    return RULE_MODULES[products.REGISTRY[product].rules]()


def binaries() -> dict[str, str]:
    """The program each product's unit runs, by its base name: the product."""
    return {product.binary: product.name for product in products.REGISTRY.values()}


class HostAuditError(ValueError):
    """The audit cannot start (no product found, unknown product); the message says why."""


def discover(host: Host, product: str | None = None, service: str | None = None) -> tuple[str, Unit | None]:
    """The product and the unit that runs it: the named service, the product's usual service, or
    any unit whose ExecStart runs a known PACS program."""
    if product and products.get(product) is None:
        raise HostAuditError(f"product {product!r} is not one of {', '.join(products.names())}")
    known = binaries()
    if service:
        unit = host.unit(service)
        if unit is None:
            raise HostAuditError(f"no unit file defines the service {service!r}")
        found = known.get(os.path.basename(unit.argv[0])) if unit.argv else None
        if not (product or found):
            raise HostAuditError(
                f"{unit.path} runs {unit.argv[:1]}, not a PACS product pacsguard knows "
                f"({', '.join(known)}): give product"
            )
        return product or found or "", unit
    running = host.units_running(known)
    if product:
        unit = host.unit(products.REGISTRY[product].service)
        if unit is None or known.get(os.path.basename(unit.argv[0]) if unit.argv else "") != product:
            unit = next((u for p, u in running if p == product), unit)
        return product, unit
    if running:
        return running[0]
    # a product whose package keeps a configuration of its own, installed with no unit running it
    installed = [p for p in products.REGISTRY.values()
                 if p.package_config and host.package_version(p.package)]
    if installed:
        return installed[0].name, None
    packaged = [p.package for p in products.REGISTRY.values() if p.package_config]
    raise HostAuditError(
        "no PACS product found: no systemd unit runs "
        f"{' or '.join(known)} and no package of {', '.join(packaged)} is installed"
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
    rules, described = rules_of(product), products.REGISTRY[product]
    node = Node(
        host,
        product,
        host.package_version(described.package),
        unit,
        peers=peers,
        ae_title=ae_title,
    )
    path = config or (rules.config_path(unit.argv) if unit else "") or described.default_config
    if not path and not unit:
        path = described.package_config  # the package's, where it is installed but not a service
    rules.load(node, path)
    drops_to = node.config.settings.get(described.user_setting, "") \
        if described.user_setting and node.config else ""
    if unit:
        node.user, node.group = common.service_user(unit, drops_to)
    # A front counts when it is enabled: a retired one (plaintext policy) keeps its unit file.
    front_unit = host.unit(front_service) if front_service and described.plaintext_port else None
    if front_unit and host.enabled(front_unit.name):
        node.front = common.read_front(host, front_unit)
    return node


def _other_units(host: Host, audited: Unit | None, audit: Audit) -> None:
    """PACS-CFG-015: every other enabled unit that runs a PACS program is a PACS this audit did not
    judge (a second Orthanc on its own configuration, a dcmqrscp a site started by hand)."""
    others = [(product, unit) for product, unit in host.pacs_units(binaries())
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
    log_collectors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole configuration audit of one host, as plain data for the module and the report;
    command runs the read-only commands it needs (the module's run_command); log_collectors are
    the policy's (None: any collector reached over verified TLS counts)."""
    for index, peer in enumerate(peers or []):
        if not isinstance(peer, dict) or not peer.get("ae_title") or not peer.get("address"):
            raise HostAuditError(f"peers[{index}]: each peer needs ae_title and address (the policy's "
                                 "resolved peers)")
    host = Host(root, command)
    found, unit = discover(host, product, service)
    node = build_node(host, found, unit, config, front_service, peers, ae_title)
    audit = Audit()
    rules_of(found).run(node, audit)
    logs.run(node, audit, log_collectors, rules_of(found))
    _other_units(host, unit, audit)
    package = products.REGISTRY[found].package
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
