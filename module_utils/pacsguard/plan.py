"""A node's plan: what the roles write and the audit probes, computed once from its checked policy.

The roles render this and compute nothing of their own, so the logic that joins the peer list to
the product's allowlist, the TLS front's routes, the firewall's sets and the probe's targets lives
here, where a unit test reaches it, and a value one role derives is never read from a fact another
role set.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from . import auditlog
from .problems import PolicyReport
from .products import get

# The TLS front: one local port and one loopback source address per peer (peers in name order, so
# reordering the inventory list changes nothing on the host).
FRONT_PORT_BASE = 41100
FRONT_SOURCE_PREFIX = "127.77"
# A source is PREFIX.(index // 250).(index % 250 + 1): 250 per third octet, 256 third octets.
SOURCES_PER_OCTET = 250
MAX_FRONT_PEERS = SOURCES_PER_OCTET * 256
_PREFIX = re.compile(r"127\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")
# Orthanc's per-modality flags, each granted by one service of the peer's list.
ORTHANC_FLAGS = {"echo": "AllowEcho", "store": "AllowStore", "find": "AllowFind",
                 "find_worklist": "AllowFindWorklist", "get": "AllowGet", "move": "AllowMove"}


def _check_front_settings(port_base: Any, prefix: Any, count: int, used: list[int],
                          report: PolicyReport) -> bool:
    """The front's ports and sources fit: a loopback prefix, ports inside 1-65535, none of the
    node's own ports among them."""
    ok = True
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        report.errors.append(f"pacs_tls_front_source_prefix: {prefix!r} is not 127.N (a loopback prefix)")
        ok = False
    if isinstance(port_base, bool) or not isinstance(port_base, int) or not 1 <= port_base <= 65535 - count:
        report.errors.append(f"pacs_tls_front_port_base: {port_base!r} must be a port from 1 to "
                             f"{65535 - count} ({count} peer(s) take one port each from it)")
        return False
    if count > MAX_FRONT_PEERS:
        report.errors.append(f"pacs_peers: the TLS front maps at most {MAX_FRONT_PEERS} peers, got {count}")
        ok = False
    taken = [port for port in used if port_base <= port < port_base + count]
    if taken:
        report.errors.append(f"pacs_tls_front_port_base: the front ports {port_base}-{port_base + count - 1} "
                             f"take the node's port(s) {', '.join(map(str, taken))}")
        ok = False
    return ok


def front_routes(peers: list[dict[str, Any]], port_base: int, prefix: str) -> list[dict[str, Any]]:
    """Each peer's front service: its local port and the loopback address it connects from."""
    return [{"name": peer["name"], "ae_title": peer["ae_title"], "address": peer["address"],
             "front_port": port_base + index,
             "source": f"{prefix}.{index // SOURCES_PER_OCTET}.{index % SOURCES_PER_OCTET + 1}"}
            for index, peer in enumerate(sorted(peers, key=lambda peer: peer["name"]))]


def product_peers(peers: list[dict[str, Any]], routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The peers as the product sees them: behind the front each from its own loopback address."""
    sources = {route["name"]: route["source"] for route in routes}
    return [{**peer, "address": sources.get(peer["name"], peer["address"])} for peer in peers]


def orthanc_modalities(peers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Orthanc's DicomModalities: each peer's AE title bound to its address, flags from its services."""
    return {peer["name"]: {"AET": peer["ae_title"], "Host": peer["address"], "Port": peer["port"],
                           **{flag: service in peer["services"] for service, flag in ORTHANC_FLAGS.items()},
                           "AllowStorageCommitment": False, "UseDicomTls": peer["tls"]}
            for peer in peers}


def _families(addresses: list[str]) -> tuple[list[str], list[str]]:
    """Addresses and networks split into IPv4 and IPv6, order kept, duplicates dropped."""
    four: list[str] = []
    six: list[str] = []
    for address in addresses:
        family = four if ipaddress.ip_network(address, strict=False).version == 4 else six
        if address not in family:
            family.append(address)
    return four, six


def firewall(policy: dict[str, Any]) -> dict[str, Any]:
    """The firewall's ports and sets: DICOM from the peers, web and SSH from the admin sources, the
    ports behind a front kept to loopback."""
    peers_v4, peers_v6 = _families([peer["address"] for peer in policy["peers"]])
    admin_v4, admin_v6 = _families(policy["admin_sources"])
    return {"dicom_ports": [policy["dicom_port"]],
            "web_ports": [policy["http_port"]] if policy["http_port"] else [],
            "loopback_ports": list(policy["local_ports"]),
            "peers_v4": peers_v4, "peers_v6": peers_v6, "admin_v4": admin_v4, "admin_v6": admin_v6}


def probe_target(policy: dict[str, Any]) -> dict[str, Any]:
    """What the network probe checks on the node: its DICOM endpoint, its peers, the web URL its
    policy implies and the loopback-only ports that must not answer from outside."""
    web_url = None
    if policy["http_port"]:
        scheme = "https" if policy["web_tls"] else "http"
        host = policy["address"]
        if isinstance(host, str) and ":" in host:
            host = f"[{host}]"
        web_url = f"{scheme}://{host}:{policy['http_port']}"
    return {"host": policy["address"], "port": policy["dicom_port"],
            "called_ae_title": policy["ae_title"], "peers": policy["peers"],
            "web_url": web_url, "other_ports": list(policy["local_ports"])}


# What a node's old configuration let a stranger do and its new policy must refuse, as seen from a
# vantage outside the allowlist after a restart: an unknown calling AE, a wrong called AE, an
# unknown AE's C-ECHO; and plaintext DICOM where the policy asks for TLS.
VERIFY_REFUSALS = ("PACS-NET-001", "PACS-NET-002", "PACS-NET-004")
VERIFY_TLS_REFUSALS = ("PACS-TLS-001",)


def verify(policy: dict[str, Any]) -> dict[str, Any]:
    """What a restarted node must show before a role moves on (role pacs_verify)."""
    tls = policy["tls"] is not None
    return {"refusals": list(VERIFY_REFUSALS), "tls_refusals": list(VERIFY_TLS_REFUSALS) if tls else [],
            "tls": tls}


# The allowlist in the shape each product's configuration module takes, by the product's rules
# module: Orthanc's DicomModalities; otherwise the peers as the product sees them (dcmqrscp.cfg's
# HostTable and AETable are written from that list by dcmqrscp_config).
ALLOWLISTS = {"orthanc": orthanc_modalities}


def build_plan(policy: dict[str, Any], settings: dict[str, Any],
               report: PolicyReport) -> dict[str, Any] | None:
    """The node's plan from its checked policy (None, with errors in ``report``, when the front's
    settings do not fit). ``settings``: front_port_base and front_source_prefix (None: defaults),
    product_tls_settings (whether the installed release sets its TLS floor and suites itself)."""
    peers = policy["peers"]
    routes: list[dict[str, Any]] = []
    if policy["tls_front"]:
        port_base = settings.get("front_port_base")
        prefix = settings.get("front_source_prefix")
        port_base = FRONT_PORT_BASE if port_base is None else port_base
        prefix = FRONT_SOURCE_PREFIX if prefix is None else prefix
        used = [port for port in (policy["dicom_port"], policy["plaintext_port"], policy["http_port"],
                                  policy["http_plaintext_port"]) if port]
        if not _check_front_settings(port_base, prefix, len(peers), used, report):
            return None
        routes = front_routes(peers, port_base, prefix)
    seen = product_peers(peers, routes)
    described = get(policy["product"])
    allowlist = ALLOWLISTS.get(described.rules if described else "", list)
    return {"front_routes": routes, "allowlist": allowlist(seen),
            "firewall": firewall(policy), "probe": probe_target(policy), "verify": verify(policy),
            "log": auditlog.plan(policy["log_collectors"], policy["tls"]),
            # where the node serves (discovery counts an endpoint found there as listed)
            "endpoint": {"address": policy["address"],
                         "ports": [port for port in (policy["dicom_port"], policy["http_port"]) if port]},
            # the product's TLS floor and suites written as its own settings (None: not read)
            "own_tls_settings": settings.get("product_tls_settings")}
