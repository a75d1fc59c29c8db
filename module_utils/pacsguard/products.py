"""Every product's defaults, in one table: the one place a value the user did not give comes from.

The policy resolution (policy.resolve) fills these in once per host; roles, the firewall, the audit
and the probe read the resolved values and never default a port themselves.
"""

from __future__ import annotations

from typing import Any

# The well-known DICOM port (PS3.8): where modalities listen, and DCMTK's default.
DICOM_PORT = 104
# dicom_port: the DICOM port the product listens on out of the box (Orthanc 4242, DCMTK 104).
# http_port: its web/REST port, None when it has none.
# plaintext_port: where the product listens behind pacsguard's TLS front when it has no DICOM TLS of
#   its own (loopback only), None when it speaks TLS itself.
# http_plaintext_port: where the product's web server listens behind pacsguard's web TLS front
#   (pacs_web_tls; loopback only), None when it has no web server.
PRODUCT_DEFAULTS: dict[str, dict[str, Any]] = {
    "orthanc": {"dicom_port": 4242, "http_port": 8042, "plaintext_port": None,
                "http_plaintext_port": 18042},
    "dcmqrscp": {"dicom_port": DICOM_PORT, "http_port": None, "plaintext_port": 11113,
                 "http_plaintext_port": None},
}
PRODUCTS: tuple[str, ...] = tuple(PRODUCT_DEFAULTS)
# Products whose DICOM TLS depends on the installed release: the Debian package and the first
# upstream version whose server speaks TLS itself. DCMTK's dcmqrscp has none before 3.6.9 (Debian 12
# ships 3.6.7; Debian 13 3.6.9, tried): older ones need pacsguard's TLS front.
NATIVE_DICOM_TLS_SINCE: dict[str, tuple[str, str]] = {"dcmqrscp": ("dcmtk", "3.6.9")}
# A peer's defaults: the DICOM port modalities listen on, and the least service (C-ECHO only).
PEER_DEFAULTS: dict[str, Any] = {"port": DICOM_PORT, "services": ["echo"]}
# DICOM services a peer may be granted (least privilege: list only those it needs).
SERVICES: tuple[str, ...] = ("echo", "store", "find", "get", "move", "find_worklist")


# Credentials a product creates by itself or documents as its example (user, password): the network
# probe tries these few, once each, where the web API asks for credentials (PACS-WEB-003); the policy
# and the configuration audit refuse them as passwords. Orthanc up to 1.12.8 creates orthanc/orthanc
# when remote access is on without users; its configuration file's examples name alice/alicePassword.
DEFAULT_WEB_CREDENTIALS: dict[str, tuple[tuple[str, str], ...]] = {
    "orthanc": (("orthanc", "orthanc"), ("alice", "alicePassword")),
}


def default(product: Any, key: str) -> Any:
    """The product's default for ``key`` (None for an unknown product or a key it lacks)."""
    return PRODUCT_DEFAULTS.get(product, {}).get(key) if isinstance(product, str) else None


# The services pacsguard's roles run for each product, with the files each reads at start (the roles'
# defaults; tests/unit/test_products.py keeps the two equal). The audit reads them on the host to
# tell whether a restart is pending (PACS-CFG-014).
HOST_SERVICES: dict[str, list[dict[str, Any]]] = {
    "orthanc": [{"service": "orthanc",
                 # every file Orthanc loads: *.json in any case, dot-files too (orthanc.loads_file)
                 "paths": ["/etc/orthanc/*.[jJ][sS][oO][nN]", "/etc/orthanc/.*.[jJ][sS][oO][nN]",
                           "/etc/pacsguard/orthanc-openssl.cnf",
                           "/etc/pacsguard/tls"]},
                {"service": "pacsguard-web-front", "paths": ["/etc/pacsguard/web-front.conf",
                                                             "/etc/pacsguard/web-tls"]}],
    # dcmqrscp's OpenSSL policy exists where it speaks TLS itself (DCMTK 3.6.9); its TLS material is
    # the front's elsewhere, so the shared directory is not listed for it.
    "dcmqrscp": [{"service": "dcmqrscp",
                  "paths": ["/etc/dcmtk/dcmqrscp.cfg", "/etc/pacsguard/dcmqrscp-openssl.cnf"]},
                 {"service": "pacsguard-tls-front", "paths": ["/etc/pacsguard/tls-front.conf",
                                                              "/etc/pacsguard/tls"]}],
}
