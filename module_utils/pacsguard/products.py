"""The product registry: one descriptor per PACS product (ports, package, program, services,
configuration, where its own DICOM TLS starts, the role that hardens it, the audit's rules for it).

Every table, choice list and branch about products derives from REGISTRY. The policy resolution
fills the defaults in once per host; roles, the firewall, the audit and the probe read the resolved
values and never default a port themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The well-known DICOM port (PS3.8): where modalities listen, and DCMTK's default.
DICOM_PORT = 104


@dataclass(frozen=True)
class Product:
    """What pacsguard knows of one PACS product: every table, choice and branch about products
    derives from these descriptors (REGISTRY), so a product is written down here once."""

    name: str
    display: str  # how its makers write its name (messages, discovery's product column)
    package: str  # the Debian package that ships the program
    binary: str  # the program a systemd unit runs (ExecStart's first word, its base name)
    service: str  # the systemd service Debian, or the hardening role, names it
    hardening_role: str  # the pacsguard role that hardens it ('' when none does yet)
    rules: str  # the configuration audit's rule module for it (module_utils/pacsguard/hostaudit/)
    dicom_port: int  # the DICOM port it listens on out of the box
    http_port: int | None = None  # its web/REST port, None when it has none
    # where it listens behind pacsguard's TLS front when it has no DICOM TLS of its own (loopback)
    plaintext_port: int | None = None
    # where its web server listens behind pacsguard's web TLS front (pacs_web_tls; loopback)
    http_plaintext_port: int | None = None
    # the first upstream release of `package` whose server speaks DICOM TLS itself; None: every
    # release does (no TLS front is ever needed)
    native_dicom_tls_since: str | None = None
    # the first upstream release whose own settings set its TLS floor and suites; before it the floor
    # needs a service-scoped OpenSSL policy and its TLS 1.2 suites are RSA-authenticated only (an EC
    # key gets TLS 1.3 alone). None: no such settings to write.
    tls_settings_since: str | None = None
    default_config: str = ""  # what it reads when its command line names no configuration
    # where the package keeps its configuration: audited when the package is installed and no unit
    # runs the program
    package_config: str = ""
    # the setting of its configuration that names the user it drops to after binding its port
    user_setting: str = ""
    # the language its configuration file is written in, where the policy must check values for it
    config_language: str = ""
    # credentials it creates by itself or documents as its example (user, password)
    web_credentials: tuple[tuple[str, str], ...] = ()
    # a word of its HTTP authentication realm, and a key of the JSON its web status page
    # (GET /system) answers, that name it (discovery)
    web_realm: str = ""
    web_status_key: str = ""
    # the services pacsguard's roles run for it, with the files each reads at start (PACS-CFG-014)
    host_services: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def defaults(self) -> dict[str, Any]:
        """The policy's defaults for a node of this product."""
        return {"dicom_port": self.dicom_port, "http_port": self.http_port,
                "plaintext_port": self.plaintext_port, "http_plaintext_port": self.http_plaintext_port}


REGISTRY: dict[str, Product] = {product.name: product for product in (
    Product(
        "orthanc", display="Orthanc", package="orthanc", binary="Orthanc", service="orthanc",
        hardening_role="pacs_orthanc", rules="orthanc",
        dicom_port=4242, http_port=8042, http_plaintext_port=18042, tls_settings_since="1.12.4",
        package_config="/etc/orthanc", web_realm="orthanc", web_status_key="DicomAet",
        # Orthanc up to 1.12.8 creates orthanc/orthanc when remote access is on without users; its
        # configuration file's examples name alice/alicePassword.
        web_credentials=(("orthanc", "orthanc"), ("alice", "alicePassword")),
        host_services=(
            # every file Orthanc loads: *.json in any case, dot-files too (orthanc.loads_file)
            ("orthanc", ("/etc/orthanc/*.[jJ][sS][oO][nN]", "/etc/orthanc/.*.[jJ][sS][oO][nN]",
                         "/etc/pacsguard/orthanc-openssl.cnf", "/etc/pacsguard/tls")),
            ("pacsguard-web-front", ("/etc/pacsguard/web-front.conf", "/etc/pacsguard/web-tls")),
        ),
    ),
    # DCMTK's dcmqrscp has no DICOM TLS before 3.6.9 (Debian 12 ships 3.6.7; Debian 13 3.6.9, tried):
    # older ones get pacsguard's TLS front. Its OpenSSL policy exists where it speaks TLS itself; its
    # TLS material is the front's elsewhere, so the shared directory is not listed for it.
    Product(
        "dcmqrscp", display="dcmqrscp", package="dcmtk", binary="dcmqrscp", service="dcmqrscp",
        hardening_role="pacs_dcmqrscp", rules="dcmqrscp", dicom_port=DICOM_PORT, plaintext_port=11113,
        native_dicom_tls_since="3.6.9",
        default_config="/etc/dcmtk/dcmqrscp.cfg", user_setting="UserName", config_language="dcmqrscp.cfg",
        host_services=(
            ("dcmqrscp", ("/etc/dcmtk/dcmqrscp.cfg", "/etc/pacsguard/dcmqrscp-openssl.cnf",
                          "/etc/dcmtk/dcmqrscp-log.cfg")),
            ("pacsguard-tls-front", ("/etc/pacsguard/tls-front.conf", "/etc/pacsguard/tls")),
        ),
    ),
)}


def names() -> tuple[str, ...]:
    """Every product pacsguard knows, in registry order."""
    return tuple(REGISTRY)


def get(name: Any) -> Product | None:
    """The product's descriptor, or None for a name the registry does not hold."""
    return REGISTRY.get(name) if isinstance(name, str) else None


def native_dicom_tls_since() -> dict[str, tuple[str, str]]:
    """Products whose DICOM TLS depends on the installed release: (package, first release)."""
    return {product.name: (product.package, product.native_dicom_tls_since)
            for product in REGISTRY.values() if product.native_dicom_tls_since}


def host_services() -> dict[str, list[dict[str, Any]]]:
    """Per product, the services its roles run and the files each reads (PACS-CFG-014)."""
    return {product.name: [{"service": service, "paths": list(paths)}
                           for service, paths in product.host_services]
            for product in REGISTRY.values()}


def default_web_credentials() -> tuple[tuple[str, str], ...]:
    """Every product's own or example credentials, once each, in registry order."""
    return tuple(dict.fromkeys(pair for product in REGISTRY.values() for pair in product.web_credentials))


# A peer's defaults: the DICOM port modalities listen on, and the least service (C-ECHO only).
PEER_DEFAULTS: dict[str, Any] = {"port": DICOM_PORT, "services": ["echo"]}
# DICOM services a peer may be granted (least privilege: list only those it needs).
SERVICES: tuple[str, ...] = ("echo", "store", "find", "get", "move", "find_worklist")


def default(product: Any, key: str) -> Any:
    """The product's default for ``key`` (None for an unknown product or a key it lacks)."""
    found = get(product)
    return found.defaults().get(key) if found else None
