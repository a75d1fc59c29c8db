"""TLS measurements of a DICOM port: which protocol versions and suites it accepts, and what its
certificate looks like.

Accepting a version is measured without needing the server to accept us: the client verifies the
server's certificate against a throwaway CA that never signed it, so a handshake that gets as far
as a certificate-verify failure proves the server agreed on the offered version and suite, whatever
it later thinks of our (absent) client certificate.
"""

from __future__ import annotations

import atexit
import datetime
import errno
import os
import shutil
import socket
import ssl
import tempfile
import threading
import traceback
import warnings
from dataclasses import dataclass
from typing import Any

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    # The module reports missing_required_lib with this; importing the package stays possible.
    LIBRARY_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    LIBRARY_IMPORT_ERROR = None

from . import bounded
from .tlsfacts import (
    BCP195_TLS12_SUITES,
    EXPIRY_WARNING_DAYS,
    MIN_KEY_BITS,
    WEAK_SIGNATURE_HASHES,
    WEB_TLS12_SUITES,
    is_refusal,
    key_too_small,
)


def _all_but(suites: tuple[str, ...]) -> str:
    """Every TLS 1.2 suite OpenSSL can offer except ``suites``: a server that picks one of these
    agrees on a suite outside them."""
    return "ALL:COMPLEMENTOFDEFAULT:" + ":".join(f"!{name}" for name in suites) + ":@SECLEVEL=0"


# Outside DICOM's non-downgrading BCP 195 profile (PACS-TLS-004), outside a web port's forward-secret
# AEAD suites (PACS-WEB-004).
NON_BCP195_CIPHER_STRING = _all_but(BCP195_TLS12_SUITES)
NON_AEAD_CIPHER_STRING = _all_but(WEB_TLS12_SUITES)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
        "TLSv1.0": ssl.TLSVersion.TLSv1,
        "TLSv1.1": ssl.TLSVersion.TLSv1_1,
        "TLSv1.2": ssl.TLSVersion.TLSv1_2,
        "TLSv1.3": ssl.TLSVersion.TLSv1_3,
    }


@dataclass(frozen=True)
class Identity:
    """A certificate and key on disk, as ssl.SSLContext.load_cert_chain wants them."""

    certificate: str
    private_key: str
    pem: str


_identity_lock = threading.Lock()
_identity: Identity | None = None


def throwaway_identity() -> Identity:
    """A self-signed client identity made once per process, trusted by nobody.

    Used for PACS-TLS-006 (a server must refuse it) and as the CA that never signed any server's
    certificate in version measurements. Kept in a private temporary directory removed at exit.
    """
    global _identity
    with _identity_lock:
        if _identity is None:
            _identity = _make_identity()
        return _identity


def _make_identity() -> Identity:
    """Write a fresh self-signed EC P-256 certificate and key to a 0700 temporary directory."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pacsguard untrusted probe")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="pacsguard-probe-")
    atexit.register(shutil.rmtree, folder, True)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path = os.path.join(folder, "client.crt")
    key_path = os.path.join(folder, "client.key")
    with open(cert_path, "wb") as handle:
        handle.write(cert_pem)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return Identity(cert_path, key_path, cert_pem.decode("ascii"))


def client_context(
    ca: str | None = None,
    certificate: str | None = None,
    private_key: str | None = None,
    server_name: str | None = None,
) -> ssl.SSLContext:
    """The TLS context a legitimate peer would use (TLS 1.2+, default suites).

    The server's certificate is verified when ``ca`` is given (and its name when ``server_name``
    is), otherwise not: the probe must still reach the AE layer of a server whose CA it lacks.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca:
        ctx.load_verify_locations(cafile=ca)
        ctx.check_hostname = bool(server_name)
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if certificate:
        ctx.load_cert_chain(certificate, private_key)
    return ctx


def any_version_context() -> ssl.SSLContext:
    """A client context that takes whatever the server still offers (TLS 1.0 up, any suite, no
    verification): what an attacker's client would use to read a web API."""
    return _measuring_context(None, None, False)


def _measuring_context(
    version: ssl.TLSVersion | None,
    ciphers: str | None,
    verify: bool,
    identity: tuple[str, str] | None = None,
) -> ssl.SSLContext:
    """A context pinned to one protocol version (or any) and cipher string, for measurements."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if identity:
        ctx.load_cert_chain(*identity)
    ctx.check_hostname = False
    ctx.set_ciphers(ciphers or "ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        # TLS 1.0/1.1 are deprecated in Python; offering them is the point of the measurement.
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version or ssl.TLSVersion.TLSv1
        ctx.maximum_version = version or ssl.TLSVersion.TLSv1_3
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=throwaway_identity().pem)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass
class Handshake:
    """What one TLS handshake attempt showed."""

    accepted: bool
    version: str | None = None
    cipher: str | None = None
    certificate_der: bytes | None = None
    detail: str = ""

    @property
    def refused(self) -> bool:
        """The server was seen to say no: a TLS alert, or a protocol version we did not offer.
        A handshake neither accepted nor refused (reset, end of stream, silence, bytes that are not
        TLS) observed nothing, and a rule must not pass on it."""
        return not self.accepted and is_refusal(self.detail)


def connect(
    host: str, port: int, timeout: float, bind_address: str | None
) -> socket.socket:
    """A TCP connection with a connect timeout, from ``bind_address`` when given, registered under
    the running step's deadline."""
    bounded.ensure_running()
    source = (bind_address, 0) if bind_address else None
    sock = socket.create_connection((host, port), timeout=timeout, source_address=source)
    bounded.register(sock)
    return sock


# Connect failures that mean nothing listens there (or a firewall keeps it so): a refusal, silence,
# no route. Anything else (a reset right after the handshake, seen when a server accepts and drops
# at once) means the port accepted TCP: it is open, whatever it did next.
_CLOSED_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH,
                            errno.EHOSTDOWN, errno.ENETDOWN, errno.ETIMEDOUT})


def closed_port(exc: OSError) -> bool:
    """Whether a failed TCP connect shows the port closed (refused, silent, unroutable), rather than
    a port that accepted the connection and then reset it."""
    closed_kinds = (socket.timeout, TimeoutError, ConnectionRefusedError)
    return isinstance(exc, closed_kinds) or exc.errno in _CLOSED_ERRNOS


def handshake(
    host: str,
    port: int,
    timeout: float,
    bind_address: str | None = None,
    version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    identity: tuple[str, str] | None = None,
) -> Handshake:
    """Whether the server completes a handshake at ``version`` with ``ciphers`` offered.

    First an unverified handshake (which also yields the certificate and negotiated suite); if the
    server breaks it off (e.g. it wants a client certificate under TLS 1.2), a second one that
    stops at our own certificate verification tells whether the version and suite were agreed.
    ``identity`` (certificate, key) is presented in the first handshake when given.
    """
    first_ctx = _measuring_context(version, ciphers, False, identity)
    first = _attempt(host, port, timeout, bind_address, first_ctx)
    if first.accepted or first.detail.startswith("tcp:") or first.detail == "timed out":
        return first
    second = _attempt(host, port, timeout, bind_address, _measuring_context(version, ciphers, True))
    if second.accepted:
        second.detail = f"server agreed on the protocol, then refused the session ({first.detail})"
    return second


def _attempt(
    host: str, port: int, timeout: float, bind_address: str | None, ctx: ssl.SSLContext
) -> Handshake:
    """One handshake, over within 2 x ``timeout`` however slowly the server sends its part."""
    try:
        return bounded.within(lambda: _handshake_once(host, port, timeout, bind_address, ctx),
                              2 * timeout)[0]
    except bounded.Overrun:
        return Handshake(False, detail="timed out")


def _handshake_once(
    host: str, port: int, timeout: float, bind_address: str | None, ctx: ssl.SSLContext
) -> Handshake:
    """One handshake; a certificate-verify failure on our side counts as the server accepting."""
    try:
        raw = connect(host, port, timeout, bind_address)
    except OSError as exc:
        return Handshake(False, detail=f"tcp: {exc}")
    try:
        with ctx.wrap_socket(raw, server_hostname=None) as tls:
            cipher = tls.cipher()
            return Handshake(
                True,
                version=tls.version(),
                cipher=cipher[0] if cipher else None,
                certificate_der=tls.getpeercert(binary_form=True),
            )
    except ssl.SSLCertVerificationError:
        return Handshake(True, detail="handshake reached the server certificate")
    except (ssl.SSLError, OSError) as exc:
        return Handshake(False, detail=_describe_error(exc))
    finally:
        raw.close()


def _describe_error(exc: BaseException) -> str:
    """Short, stable text for a TLS failure (the OpenSSL reason when there is one)."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason
    if isinstance(exc, socket.timeout):
        return "timed out"
    return exc.__class__.__name__ + (f": {exc}" if str(exc) else "")


def certificate_facts(der: bytes, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Facts about a server certificate that matter for PACS-TLS-005 (no subject names kept)."""
    cert = x509.load_der_x509_certificate(der)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, key_bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, key_bits = "EC", key.curve.key_size
    elif isinstance(key, dsa.DSAPublicKey):
        key_type, key_bits = "DSA", key.key_size
    else:
        key_type = key.__class__.__name__.lstrip("_").replace("PublicKey", "")
        key_bits = 0
    hash_algorithm = cert.signature_hash_algorithm
    not_after = cert.not_valid_after_utc
    return {
        "not_after": not_after.isoformat(),
        "days_left": (not_after - now).days,
        "self_signed": cert.issuer == cert.subject,
        "key_type": key_type,
        "key_bits": key_bits,
        "signature_hash": hash_algorithm.name if hash_algorithm else "none",
    }


def certificate_weaknesses(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """(severity, text) for each weakness of a certificate described by certificate_facts()."""
    problems: list[tuple[str, str]] = []
    if facts["days_left"] < 0:
        problems.append(("high", f"expired on {facts['not_after']}"))
    elif facts["days_left"] < EXPIRY_WARNING_DAYS:
        problems.append(("medium", f"expires in {facts['days_left']} days"))
    weakness = key_too_small(facts["key_type"], facts["key_bits"])
    if weakness:
        problems.append(("high" if facts["key_type"] in MIN_KEY_BITS else "medium", f"key: {weakness}"))
    if facts["signature_hash"] in WEAK_SIGNATURE_HASHES:
        problems.append(("high", f"signature hash {facts['signature_hash']}"))
    if facts["self_signed"]:
        problems.append(("medium", "self-signed"))
    return problems
