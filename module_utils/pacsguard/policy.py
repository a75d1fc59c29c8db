"""The node's policy from inventory, checked before anything on a host changes.

One peer list drives the PACS allowlist, DICOM TLS and the firewall, so a mistake in it would be
written three times. Every problem is reported with the variable, the peer and the field it is in;
the caller fails with all of them at once and the hosts stay untouched.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from .aetitle import validate_ae_title
from .auditlog import check_collectors, read_controller_file
from .languages import (
    canonical_address,
    canonical_network,
    check_dcmqrscp_value,
    check_peer_name,
    symbol_name,
)
from .passwords import MIN_PASSWORD_LENGTH, WEAK_PASSWORDS
from .plan import build_plan
from .problems import PolicyReport
from .products import PEER_DEFAULTS, SERVICES, default, get, names
from .tlsfacts import check_suites

PEER_FIELDS = frozenset({"name", "ae_title", "address", "port", "services", "tls"})


def _port_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def check_peer(index: int, peer: Any, tls_on: bool, report: PolicyReport) -> dict[str, Any] | None:
    """One pacs_peers entry, normalised (port 104, services [echo], tls as the node) or None."""
    where = f"pacs_peers[{index}]"
    if not isinstance(peer, dict):
        report.errors.append(f"{where}: must be a mapping with name, ae_title and address")
        return None
    name = peer.get("name")
    name_ok, name_reason = check_peer_name(name)
    if name_ok:
        where = f"pacs_peers[{index}] ({name})"
    else:
        report.errors.append(f"{where}.name: {name_reason}")
    unknown = sorted(set(peer) - PEER_FIELDS)
    if unknown:
        report.errors.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))} "
                             f"(known: {', '.join(sorted(PEER_FIELDS))})")
    ok, reason = validate_ae_title(peer.get("ae_title"))
    if not ok:
        report.errors.append(f"{where}.ae_title: {reason}")
    address, reason = canonical_address(peer.get("address"))
    if address is None:
        report.errors.append(f"{where}.address: {reason}")
    port = peer.get("port", PEER_DEFAULTS["port"])
    if not _port_ok(port):
        report.errors.append(f"{where}.port: {port!r} is not a TCP port (1-65535)")
    services = peer.get("services", PEER_DEFAULTS["services"])
    if not isinstance(services, list) or not services:
        report.errors.append(f"{where}.services: must be a non-empty list of {', '.join(SERVICES)}")
        services = []
    bad = [s for s in services if s not in SERVICES]
    if bad:
        report.errors.append(f"{where}.services: unknown service(s) {', '.join(map(str, bad))} "
                             f"(known: {', '.join(SERVICES)})")
    tls = peer.get("tls", tls_on)
    if not isinstance(tls, bool):
        report.errors.append(f"{where}.tls: must be true or false, got {tls!r}")
    return {"name": name, "ae_title": peer.get("ae_title"), "address": address, "port": port,
            "services": sorted(set(services), key=SERVICES.index) if not bad else services, "tls": tls}


def _name_key(name: str) -> str:
    """Names that become the same stunnel section or HostTable symbol ('ct-1', 'CT_1') are one."""
    return symbol_name(name).lower()


def check_peers(peers: Any, tls_on: bool, report: PolicyReport) -> list[dict[str, Any]]:
    """The peer list: each entry, then duplicates (AE titles compared case-insensitively, as Orthanc
    does: two titles differing only in case would be one peer there)."""
    if peers is None:
        peers = []
    if not isinstance(peers, list):
        report.errors.append("pacs_peers: must be a list of peers")
        return []
    checked = [check_peer(i, peer, tls_on, report) for i, peer in enumerate(peers)]
    normalised = [peer for peer in checked if peer]
    for fieldname, fold in (("name", _name_key), ("ae_title", str.upper)):
        seen: dict[str, str] = {}
        for peer in normalised:
            value = peer[fieldname]
            if not isinstance(value, str):
                continue
            key = fold(value.strip())
            if key in seen:
                how = ("; compared without case, '.' and '-' read as '_'" if fieldname == "name"
                       else "; compared without case")
                report.errors.append(f"pacs_peers: duplicate {fieldname} {value!r} "
                                     f"(peers {seen[key]!r} and {peer['name']!r}{how})")
            else:
                seen[key] = peer["name"]
    if not normalised and not report.errors:
        report.warnings.append("pacs_peers is empty: no peer will be able to talk DICOM to this node")
    return normalised


def check_admin_sources(sources: Any, report: PolicyReport) -> list[str]:
    """Networks allowed to the web/REST API and SSH, normalised (10.0.0.5/24 -> 10.0.0.0/24)."""
    if sources is None:
        return []
    if not isinstance(sources, list):
        report.errors.append("pacs_admin_sources: must be a list of IP addresses or networks")
        return []
    result = []
    for index, source in enumerate(sources):
        network, reason = canonical_network(source)
        if network is None:
            report.errors.append(f"pacs_admin_sources[{index}]: {reason}")
            continue
        if network.endswith("/0"):
            report.warnings.append(f"pacs_admin_sources[{index}]: {network} admits every address to "
                                   "the web/REST API and SSH")
        result.append(network)
    return result


PORTS = ("dicom_port", "http_port", "plaintext_port", "http_plaintext_port")


def check_node(policy: dict[str, Any], report: PolicyReport) -> dict[str, Any]:
    """The node's own identity: product, AE title, and its ports with the product's defaults."""
    product = policy.get("product")
    if get(product) is None:
        report.errors.append(f"pacs_product: {product!r} is not one of {', '.join(names())}")
    ok, reason = validate_ae_title(policy.get("ae_title"))
    if not ok:
        report.errors.append(f"pacs_ae_title: {reason}")
    ports: dict[str, Any] = {}
    for name in PORTS:
        value, fallback = policy.get(name), default(product, name)
        if value is not None and fallback is None and get(product) is not None:
            report.warnings.append(f"pacs_{name}: {product} has no such port; {value!r} is ignored")
            value = None
        value = fallback if value is None else value
        if value is not None and not _port_ok(value):
            report.errors.append(f"pacs_{name}: {value!r} is not a TCP port (1-65535)")
        ports[name] = value
    return ports


def _check_ports_differ(ports: dict[str, Any], report: PolicyReport) -> None:
    """The ports the node really uses must differ (the plaintext port only behind a front)."""
    taken = [port for port in ports.values() if port is not None]
    if len(set(taken)) != len(taken):
        report.errors.append("pacs_dicom_port, pacs_http_port, pacs_plaintext_port and "
                             "pacs_http_plaintext_port must differ, got "
                             + ", ".join(f"{name} {port}" for name, port in ports.items() if port))


def resolve_address(explicit: Any, host: Any, fact: Any) -> str | None:
    """The node's own address, once: pacs_address when given; else ansible_host when it is an IP
    address; else the address the host reports for its default route (gathered facts); else the
    name Ansible connects to (a container name with a podman connection is no use to a probe)."""
    for candidate in (explicit, host if canonical_address(host)[0] else None, fact, host):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def check_rest_users(users: Any, report: PolicyReport) -> None:
    """REST users: a name HTTP Basic can carry, a password that is not empty, short or a default.
    Messages name the user, never the password."""
    if users is None:
        return
    if not isinstance(users, list):
        report.errors.append("REST users: must be a list of {name, password}")
        return
    seen: set[str] = set()
    for index, user in enumerate(users):
        name = user.get("name") if isinstance(user, dict) else None
        where = f"REST user [{index}]" + (f" ({name})" if isinstance(name, str) and name else "")
        if not isinstance(name, str) or not name or ":" in name:
            report.errors.append(f"{where}.name: must be a non-empty string without ':' (HTTP Basic)")
            continue
        if name in seen:
            report.errors.append(f"{where}.name: duplicate user")
        seen.add(name)
        password = user.get("password")
        if not isinstance(password, str) or not password:
            report.errors.append(f"{where}.password: missing or empty")
        elif password.lower() in WEAK_PASSWORDS or password.lower() == name.lower():
            report.errors.append(f"{where}.password: a default or guessable password")
        elif len(password) < MIN_PASSWORD_LENGTH:
            report.errors.append(f"{where}.password: shorter than {MIN_PASSWORD_LENGTH} characters")


def _check_tls_peers(product: Any, front: bool | None, peers: list[dict[str, Any]],
                     report: PolicyReport) -> None:
    """With pacs_tls the one DICOM port speaks TLS only; pacsguard's TLS front maps IPv4 peers.
    ``front`` is None when nobody read whether the installed product speaks TLS itself (the audit)."""
    where = ("the TLS front's DICOM port" if front else
             f"{described.display if (described := get(product)) else product}'s DICOM port")
    plain = [peer["name"] for peer in peers if peer["tls"] is False]
    if plain:
        report.errors.append(f"pacs_peers: {', '.join(map(str, plain))} set tls: false, but with "
                             f"pacs_tls {where} speaks TLS only")
    if front:
        six = [peer["name"] for peer in peers if ":" in str(peer["address"])]
        if six:
            report.errors.append(f"pacs_peers: {', '.join(map(str, six))} have IPv6 addresses; the TLS "
                                 f"front before {product} maps peers by IPv4 address only")


def _front(tls: Any, ports: dict[str, Any], product_tls: Any, report: PolicyReport,
           given: Any) -> bool | None:
    """Whether pacsguard's TLS front serves DICOM TLS for the product: with pacs_tls, for a product
    that has a plaintext port (no TLS of its own in some release) unless the installed one was read
    to speak TLS itself (product_tls). None when that was not read (the audit needs no answer)."""
    if not tls or ports["plaintext_port"] is None:
        return False
    if product_tls is True:
        if given is not None:
            report.warnings.append(f"pacs_plaintext_port: the installed product speaks DICOM TLS "
                                   f"itself, no TLS front is set up; {given!r} is ignored")
        return False
    return True if product_tls is False else None


def _check_dcmqrscp_values(ae_title: Any, peers: Any, report: PolicyReport) -> None:
    """AE titles dcmqrscp.cfg reads back as one token each (its separators and quotes refused);
    peers are named by their index in pacs_peers, as every other refusal names them."""
    if isinstance(ae_title, str):
        ok, reason = check_dcmqrscp_value(ae_title)
        if not ok:
            report.errors.append(f"pacs_ae_title: {reason}")
    for index, peer in enumerate(peers if isinstance(peers, list) else []):
        title = peer.get("ae_title") if isinstance(peer, dict) else None
        if isinstance(title, str):
            ok, reason = check_dcmqrscp_value(title)
            if not ok:
                report.errors.append(f"pacs_peers[{index}] ({peer.get('name')}).ae_title: {reason}")


def _check_web_tls(policy: dict[str, Any], ports: dict[str, Any], report: PolicyReport,
                   read: Callable[[str], bytes] | None, now: datetime.datetime | None,
                   material: Any, dicom_tls: dict[str, Any] | None,
                   suites: dict[str, list[str]] | None = None) -> dict[str, Any] | None:
    """pacs_web_tls: HTTPS on the web port from pacsguard's web TLS front, for a product that has a
    web server (the front takes its port; the product moves to its loopback-only plaintext port).
    Left unset on a node with pacs_tls, the node's DICOM certificate and key serve HTTPS too (no
    client certificate asked for: administrators use browsers); ``enabled: false`` turns it off."""
    from .tlscheck import check_tls

    web = policy.get("web_tls")
    if web is False:
        return None
    web = web or None
    if isinstance(web, dict) and web.get("enabled", True) is False:
        if set(web) - {"enabled"}:
            report.errors.append("pacs_web_tls: enabled is false, so no other field may be set")
        return None
    if isinstance(web, dict) and "enabled" in web and web["enabled"] is not True:
        report.errors.append(f"pacs_web_tls.enabled: must be true or false, got {web['enabled']!r}")
        return None
    if isinstance(web, dict):
        web = {key: value for key, value in web.items() if key != "enabled"} or None
    has_web_port = ports["http_port"] is not None and ports["http_plaintext_port"] is not None
    if web is None:
        return derived_web_tls(dicom_tls) if dicom_tls is not None and has_web_port else None
    if not has_web_port:
        report.errors.append(f"pacs_web_tls: {policy.get('product')} has no web port to serve over HTTPS")
        return None
    checked = check_tls(web, policy.get("product"), report, read, now, material, name="pacs_web_tls",
                        suites=suites)
    return {**checked, "source": "pacs_web_tls"} if checked else None


def derived_web_tls(dicom_tls: dict[str, Any]) -> dict[str, Any]:
    """The web port's TLS taken from the node's pacs_tls (already checked): its certificate, key and
    protocol floor; no client certificate asked for."""
    return {**dicom_tls, "ca": None, "require_client_certificate": False, "source": "pacs_tls"}


def check_policy(policy: dict[str, Any], read: Callable[[str], bytes] | None = None,
                 now: datetime.datetime | None = None) -> PolicyReport:
    """Check the whole policy; ``read`` loads PEM files (the controller's files by default)."""
    from .tlscheck import check_tls  # cryptography is only needed when TLS is configured

    report = PolicyReport()
    ports = check_node(policy, report)
    tls = policy.get("tls") or None
    material = policy.get("material", True)
    suites, problems = check_suites(policy.get("suites"))
    report.errors.extend(problems)
    normal_tls = check_tls(tls, policy.get("product"), report, read, now, material,
                           suites=suites) if tls else None
    web_tls = _check_web_tls(policy, ports, report, read, now, material, normal_tls, suites)
    peers = check_peers(policy.get("peers"), bool(tls), report)
    known_front = _front(tls, ports, policy.get("product_tls"), report, policy.get("plaintext_port"))
    if tls:
        _check_tls_peers(policy.get("product"), known_front, peers, report)
    described = get(policy.get("product"))
    if described and described.config_language == "dcmqrscp.cfg":
        _check_dcmqrscp_values(policy.get("ae_title"), policy.get("peers"), report)
    admin = check_admin_sources(policy.get("admin_sources"), report)
    if web_tls is None and ports["http_plaintext_port"] is not None and admin:
        report.warnings.append("the web/REST API answers its admin sources in plaintext HTTP "
                               "(PACS-WEB-002): set pacs_tls or pacs_web_tls to serve it over HTTPS")
    check_rest_users(policy.get("rest_users"), report)
    collectors = check_collectors(policy.get("log_collectors"), normal_tls if tls else None, report,
                                  (read or read_controller_file) if material else None)
    # Not known (the audit): the front, as on a product without TLS of its own.
    front = known_front is not False
    _check_ports_differ({**ports, "plaintext_port": ports["plaintext_port"] if front else None,
                         "http_plaintext_port": ports["http_plaintext_port"] if web_tls else None}, report)
    report.policy = {
        "product": policy.get("product"), "ae_title": policy.get("ae_title"),
        # the role that hardens the node's product ('' when none does yet: harden.yml refuses it)
        "hardening_role": described.hardening_role if described else "",
        # the upstream version read on the host ('' when not read: the audit, a node without TLS)
        "product_version": policy.get("product_version") or "",
        # the release from which the product's own settings set its TLS floor and suites (None: none)
        "tls_settings_since": described.tls_settings_since if described else None,
        "address": resolve_address(policy.get("address"), policy.get("host"), policy.get("fact_address")),
        "dicom_port": ports["dicom_port"], "http_port": ports["http_port"],
        # The product's own listening port: behind a TLS front its plaintext port, else the DICOM port.
        "plaintext_port": ports["plaintext_port"] if front else None,
        "listen_port": ports["plaintext_port"] if front else ports["dicom_port"],
        "local_ports": ([ports["plaintext_port"]] if front else [])
        + ([ports["http_plaintext_port"]] if web_tls else []),
        # The web port: HTTPS from pacsguard's web TLS front (pacs_web_tls) before the product's own
        # web server on a loopback-only port, else the product's web server itself.
        "web_tls": web_tls,
        "http_plaintext_port": ports["http_plaintext_port"] if web_tls else None,
        "http_listen_port": ports["http_plaintext_port"] if web_tls else ports["http_port"],
        # Who speaks DICOM TLS: the product itself, or pacsguard's TLS front before it.
        "tls_front": bool(tls) and front,
        "peers": peers, "admin_sources": admin, "tls": normal_tls,
        # where the node's logs go: syslog over TLS to each collector (role pacs_log)
        "log_collectors": collectors,
        "material_checked": bool(material)}
    if not report.errors:
        report.policy["plan"] = build_plan(report.policy, policy, report)
    return report
