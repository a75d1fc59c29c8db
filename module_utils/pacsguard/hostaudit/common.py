"""Rules every product shares: files and secrets on disk, the service's user and sandbox,
certificates, versions, and a TLS front's configuration."""

from __future__ import annotations

import datetime
import re
import shutil
import stat
from typing import Optional

from ..tlsfacts import (
    ACCEPTED_TLS12_SUITES,
    ALLOWED_MIN_VERSIONS,
    EXPIRY_WARNING_DAYS,
    WEAK_SIGNATURE_HASHES,
    key_too_small,
)
from . import versions
from .host import Host, mode_text
from .model import Front, Node, Unit

Problems = list[tuple[str, Optional[str]]]  # noqa: UP045 (evaluated at import time; modules may run on 3.8)

# The systemd sandbox pacsguard's units and drop-ins apply, and the values that count as applied.
SANDBOX: dict[str, tuple[str, ...]] = {
    "NoNewPrivileges": ("yes", "true", "1", "on"),
    "PrivateTmp": ("yes", "true", "1", "on"),
    "ProtectSystem": ("full", "strict"),
    "ProtectHome": ("yes", "true", "1", "on", "read-only", "tmpfs"),
}
_TLS_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def is_aead(suite: str) -> bool:
    """Whether an OpenSSL TLS 1.2 suite name is a forward-secret AEAD suite (tlsfacts)."""
    return suite in ACCEPTED_TLS12_SUITES


def tls_at_least_12(version: str) -> bool:
    """Whether an OpenSSL/stunnel protocol name is TLS 1.2 or later."""
    return version in ALLOWED_MIN_VERSIONS


# -- PACS-CFG-008 ----------------------------------------------------------------------------------
def secret_file(host: Host, path: str, what: str) -> Problems:
    """A file holding a secret: owned by root, not readable by others."""
    info = host.stat(path)
    if info is None:
        return []
    problems: Problems = []
    if info.st_mode & stat.S_IROTH:
        problems.append((f"{what} {path} is readable by every local user (mode {mode_text(info)})", None))
    if info.st_uid != 0:
        problems.append((f"{what} {path} is not owned by root (uid {info.st_uid})", None))
    return problems


def writable_config(node: Node, paths: list[str], user: str = "", group: str = "") -> Problems:
    """Configuration the service's own user could rewrite (an exploit would keep its foothold)."""
    user, group = user or node.user, group or node.group
    if user == "root":
        return []  # PACS-CFG-009 reports a service that runs as root
    return [
        (
            f"{path} is writable by the service user {user} (mode {mode_text(info)}, "
            f"uid {info.st_uid}, gid {info.st_gid})",
            None,
        )
        for path in paths
        if (info := node.host.stat(path)) and node.host.writable_by(path, user, group)
    ]


# -- PACS-CFG-009 ----------------------------------------------------------------------------------
def service_user(unit: Unit, drops_to: str = "") -> tuple[str, str]:
    """The user and group the service runs as: the unit's User=, else the one the program switches
    to after binding its port (``drops_to``), else root."""
    user = unit.get("User") or drops_to or "root"
    return user, unit.get("Group") or (drops_to if user == drops_to else "")


def sandbox(unit: Unit, user: str, drops_to: str = "") -> Problems:
    """The service runs as root, or without the systemd sandbox pacsguard applies."""
    problems: Problems = []
    if user == "root":
        problems.append((f"{unit.name} runs as root ({unit.path}: no User=)", None))
    elif not unit.get("User") and drops_to:
        pass  # starts as root to bind, then switches to drops_to: the sandbox below still applies
    missing = [
        f"{key}={unit.get(key) or '(unset)'}"
        for key, good in SANDBOX.items()
        if unit.get(key).lower() not in good
    ]
    if missing:
        problems.append((f"{unit.name} lacks the systemd sandbox: {', '.join(missing)}", None))
    return problems


# -- PACS-CFG-012 ----------------------------------------------------------------------------------
def _facts_cryptography(data: bytes) -> tuple[datetime.datetime, str, str, int]:
    from cryptography import x509  # the host may lack it: openssl's reading below is the fallback
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_pem_x509_certificate(data)
    key = cert.public_key()
    kind = (
        "RSA"
        if isinstance(key, rsa.RSAPublicKey)
        else "EC"
        if isinstance(key, ec.EllipticCurvePublicKey)
        else type(key).__name__.lstrip("_").replace("PublicKey", "")
    )
    bits = (
        key.key_size
        if isinstance(key, rsa.RSAPublicKey)
        else key.curve.key_size
        if isinstance(key, ec.EllipticCurvePublicKey)
        else 0
    )
    algorithm = cert.signature_hash_algorithm
    return cert.not_valid_after_utc, algorithm.name if algorithm else "none", kind, bits


def _facts_openssl(host: Host, path: str) -> tuple[datetime.datetime, str, str, int]:
    """The same facts from ``openssl x509 -text`` (hosts without python3-cryptography), run by the
    host's command runner (the module's run_command)."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise ValueError("neither python3-cryptography nor openssl is installed")
    argv = [openssl, "x509", "-in", host.path(path), "-noout", "-enddate", "-text"]
    rc, stdout, _stderr = host.command(argv)
    if rc != 0:
        raise ValueError("holds no PEM certificate")
    end = re.search(r"notAfter=(.+)", stdout)
    sig = re.search(r"Signature Algorithm:\s*(\S+)", stdout)
    bits = re.search(r"Public-Key:\s*\((\d+) bit", stdout)
    algo = re.search(r"Public Key Algorithm:\s*(\S+)", stdout)
    if not (end and sig and bits and algo):
        raise ValueError("openssl's reading of it is incomplete")
    not_after = datetime.datetime.strptime(end.group(1).strip(), "%b %d %H:%M:%S %Y %Z").replace(
        tzinfo=datetime.timezone.utc
    )
    signature = sig.group(1).lower()
    digest = next((h for h in ("sha1", "md5", "sha256", "sha384", "sha512") if h in signature), signature)
    kind = {"rsaEncryption": "RSA", "id-ecPublicKey": "EC"}.get(algo.group(1), algo.group(1))
    return not_after, digest, kind, int(bits.group(1))


def certificate(host: Host, path: str, where: str, now: datetime.datetime | None = None) -> Problems:
    """Expired, expiring within 30 days, SHA-1/MD5 signed or a weak key; a file that cannot be read
    is a problem of severity 'error'."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        data = host.read_bytes(path)
    except OSError as exc:
        return [(f"{where}: cannot read {path}: {exc.strerror or exc}", "error")]
    try:
        try:
            not_after, digest, kind, bits = _facts_cryptography(data)
        except ImportError:
            not_after, digest, kind, bits = _facts_openssl(host, path)
    except ValueError as exc:
        return [(f"{where}: {path}: {exc if str(exc) else 'holds no PEM certificate'}", "error")]
    label = f"{where} {path}"
    problems: Problems = []
    if not_after <= now:
        problems.append((f"{label} expired on {not_after:%Y-%m-%d}", "high"))
    elif not_after - now < datetime.timedelta(days=EXPIRY_WARNING_DAYS):
        problems.append(
            (f"{label} expires on {not_after:%Y-%m-%d} (within {EXPIRY_WARNING_DAYS} days)", "medium")
        )
    if digest in WEAK_SIGNATURE_HASHES:
        problems.append((f"{label} is signed with {digest}", "high"))
    weakness = key_too_small(kind, bits)
    if weakness:
        problems.append((f"{label} has a weak key: {weakness}", "high"))
    return problems


# -- PACS-CFG-013 ----------------------------------------------------------------------------------
def version_problems(package: str, version: str) -> tuple[Problems, str]:
    """Missing known fixes as problems, and the pass detail (or why nothing was judged)."""
    if not version:
        return [], ""
    missing, covered = versions.missing_fixes(package, version)
    if not covered:
        return [], f"{package} {version}: its release line has no entry in the known-fix table (not judged)"
    problems: Problems = [
        (
            f"{package} {version} is older than {fix.fixed}, which fixes "
            f"{', '.join(fix.cves)} (source: {fix.source})",
            None,
        )
        for fix in missing
    ]
    return problems, f"{package} {version} has every fix the table lists for its release line"


# -- a TLS front (stunnel) -------------------------------------------------------------------------
def read_front(host: Host, unit: Unit) -> Front:
    """stunnel's configuration named on the unit's command line: global options and services."""
    argv = unit.argv
    path = next((arg for arg in argv[1:] if not arg.startswith("-")), "/etc/stunnel/stunnel.conf")
    front = Front(unit, path)
    try:
        text = host.read(path)
    except OSError as exc:
        front.error = f"cannot read {path}: {exc.strerror or exc}"
        return front
    section: dict[str, str] = front.settings
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = front.services.setdefault(line[1:-1], {})
        elif "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            section[key] = value
    return front


def front_tls(front: Front) -> Problems:
    """Each service of the front: client certificate required and verified, TLS 1.2+, AEAD suites."""
    if front.error:
        return [(f"TLS front {front.unit.name}: {front.error}", "error")]
    problems: Problems = []
    services = front.services or {"(global)": {}}
    for name, own in services.items():
        opts = {**front.settings, **own}
        where = f"{front.config_path} [{name}]"
        if opts.get("requireCert", "no").lower() != "yes":
            problems.append(
                (
                    f"{where}: requireCert={opts.get('requireCert', '(unset: no)')} "
                    "(a client without a certificate is served)",
                    None,
                )
            )
        verify = opts.get("verifyChain", opts.get("verifyPeer", "no")).lower()
        level = opts.get("verify", "")
        if verify != "yes" and level not in ("2", "3", "4"):
            problems.append(
                (f"{where}: the client's certificate chain is not verified (verifyChain=no)", None)
            )
        minimum = opts.get("sslVersionMin") or opts.get("sslVersion", "")
        if not tls_at_least_12(minimum):
            problems.append((f"{where}: sslVersionMin={minimum or '(unset: stunnel allows TLS 1.0)'}", None))
        suites = [s for s in opts.get("ciphers", "").split(":") if s]
        weak = [s for s in suites if not is_aead(s)]
        if not suites or weak:
            shown = ", ".join(weak) if weak else "(unset: OpenSSL's default list, CBC suites included)"
            problems.append((f"{where}: TLS 1.2 suites outside the AEAD profile: {shown}", None))
    return problems
