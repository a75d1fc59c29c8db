"""pacs_tls checked on the controller: files readable, key matching certificate, validity, strength.

The thresholds are those of the non-downgrading BCP 195 TLS profile of DICOM PS3.15 (RFC 9325):
RSA keys of at least 2048 bits, EC keys of at least 256 bits, no SHA-1 signatures.
"""

from __future__ import annotations

import datetime
import traceback
from collections.abc import Callable
from typing import Any

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:
    # The module reports missing_required_lib with this; importing the package stays possible.
    LIBRARY_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    LIBRARY_IMPORT_ERROR = None

from .problems import PolicyReport
from .products import get
from .tlsfacts import ALLOWED_MIN_VERSIONS, DEFAULT_MIN_VERSION, EXPIRY_WARNING_DAYS, key_too_small, profile

TLS_FIELDS = frozenset({"certificate", "private_key", "ca", "require_client_certificate", "min_version"})


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def shown_path(value: str) -> str:
    """A path as an error message may show it: never an inline PEM (a private key would be echoed)."""
    if "-----BEGIN" in value or "\n" in value or len(value) > 4096:
        return "(inline content, not shown: give the path of a PEM file)"
    return value


def _load(kind: str, path: Any, read: Callable[[str], bytes], report: PolicyReport,
          name: str = "pacs_tls") -> Any:
    """Load one PEM item (certificate, key or CA bundle); an error names the variable, field and file."""
    where = f"{name}.{kind}"
    if not isinstance(path, str) or not path:
        report.errors.append(f"{where}: missing (a PEM file on the controller)")
        return None
    if shown_path(path) != path:
        report.errors.append(f"{where}: {shown_path(path)}")
        return None
    try:
        data = read(path)
    except OSError as exc:
        report.errors.append(f"{where}: cannot read {path}: {exc.strerror or exc}")
        return None
    try:
        if kind == "private_key":
            return serialization.load_pem_private_key(data, password=None)
        if kind == "ca":
            return x509.load_pem_x509_certificates(data)
        return x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError) as exc:
        reason = "encrypted keys are not supported" if "password" in str(exc).lower() else "not PEM"
        report.errors.append(f"{where}: {path} is not usable ({reason})")
        return None


def key_weakness(key: Any) -> str:
    """Why a public key is too weak for the BCP 195 profile, or '' (thresholds: tlsfacts)."""
    if isinstance(key, rsa.RSAPublicKey):
        return key_too_small("RSA", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key_too_small("EC", key.curve.key_size)
    return key_too_small(type(key).__name__.lstrip("_").replace("PublicKey", ""), 0)


def _check_certificate(cert: x509.Certificate, now: datetime.datetime, report: PolicyReport,
                       name: str = "pacs_tls") -> None:
    """Validity window, signature hash and key strength of the node's certificate."""
    where = f"{name}.certificate"
    if cert.not_valid_after_utc <= now:
        report.errors.append(f"{where}: expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    elif cert.not_valid_before_utc > now:
        report.errors.append(f"{where}: not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    elif cert.not_valid_after_utc - now < datetime.timedelta(days=EXPIRY_WARNING_DAYS):
        report.warnings.append(f"{where}: expires on {cert.not_valid_after_utc:%Y-%m-%d}")
    if isinstance(cert.signature_hash_algorithm, (hashes.SHA1, hashes.MD5)):
        report.errors.append(f"{where}: signed with {cert.signature_hash_algorithm.name} (use SHA-256+)")
    weakness = key_weakness(cert.public_key())
    if weakness:
        report.errors.append(f"{where}: key too weak for the BCP 195 profile: {weakness}")


def check_tls(tls: Any, product: Any, report: PolicyReport,
              read: Callable[[str], bytes] | None = None,
              now: datetime.datetime | None = None, material: bool = True,
              name: str = "pacs_tls", suites: dict[str, list[str]] | None = None) -> dict[str, Any] | None:
    """Check pacs_tls (DICOM) or pacs_web_tls (the web port, ``name``); returns it normalised
    (TLSv1.2 by default; client certificates required by default for DICOM, optional for the web,
    where the CA is then optional too) with the profile's suites. ``material`` false skips reading
    the PEM files (an audit from a position that has no copy of the node's key); ``suites`` is the
    site's checked choice of suites (pacs_tls_suites), None for the profile's."""
    read = read or _read_file
    now = now or datetime.datetime.now(datetime.timezone.utc)
    web = name != "pacs_tls"
    if not isinstance(tls, dict):
        report.errors.append(f"{name}: must be a mapping with certificate, private_key"
                             + ("" if web else " and ca"))
        return None
    unknown = sorted(set(tls) - TLS_FIELDS)
    if unknown:
        report.errors.append(f"{name}: unknown field(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(TLS_FIELDS))})")
    minimum = tls.get("min_version", DEFAULT_MIN_VERSION)
    if minimum not in ALLOWED_MIN_VERSIONS:
        allowed = ", ".join(ALLOWED_MIN_VERSIONS)
        report.errors.append(f"{name}.min_version: {minimum!r} is not one of {allowed} "
                             "(BCP 195 allows nothing older)")
    require = tls.get("require_client_certificate", not web)
    if not isinstance(require, bool):
        report.errors.append(f"{name}.require_client_certificate: must be true or false, got {require!r}")
    elif not require and not web:
        report.warnings.append("pacs_tls.require_client_certificate is false: any TLS client may "
                               "associate (PACS-TLS-003)")
    facts = (_check_material(tls, product, minimum, read, now, report, name,
                             ca_needed=not web or require is True or bool(tls.get("ca")))
             if material else None)
    return {"certificate": tls.get("certificate"), "private_key": tls.get("private_key"),
            "ca": tls.get("ca"), "require_client_certificate": require, "min_version": minimum,
            "profile": profile(suites), "certificate_facts": facts}


def _tls_settings_since(product: Any) -> tuple[str, str] | None:
    """The product's name and the release from which its own settings choose its TLS suites (the
    registry's tls_settings_since), None when it has none."""
    described = get(product)
    if described is None or not described.tls_settings_since:
        return None
    return described.display, described.tls_settings_since


def certificate_summary(cert: x509.Certificate) -> dict[str, str]:
    """What a reviewer wants to see of a certificate change (instead of base64 in a diff)."""
    return {"subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "serial": format(cert.serial_number, "x"),
            "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "sha256": cert.fingerprint(hashes.SHA256()).hex(":")}


def _check_material(tls: dict[str, Any], product: Any, minimum: str, read: Callable[[str], bytes],
                    now: datetime.datetime, report: PolicyReport, name: str = "pacs_tls",
                    ca_needed: bool = True) -> dict[str, str] | None:
    """The PEM files: readable, key matching certificate, validity, strength, CA expiry. Returns
    the certificate's summary (subject, serial, expiry, fingerprint) when it could be read."""
    cert = _load("certificate", tls.get("certificate"), read, report, name)
    key = _load("private_key", tls.get("private_key"), read, report, name)
    cas = _load("ca", tls.get("ca"), read, report, name) if ca_needed else None
    if cert is not None:
        _check_certificate(cert, now, report, name)
    if cert is not None and key is not None:
        mine = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        theirs = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        if mine != theirs:
            report.errors.append(f"{name}.private_key: {tls['private_key']} does not belong to "
                                 f"{name}.certificate {tls['certificate']}")
        elif (name == "pacs_tls" and (since := _tls_settings_since(product)) and minimum == "TLSv1.2"
              and isinstance(key, ec.EllipticCurvePrivateKey)):
            report.warnings.append(f"pacs_tls: an EC key on {since[0]} before {since[1]} serves TLS 1.3 "
                                   "only (its TLS 1.2 suites are RSA-authenticated)")
    for index, ca in enumerate(cas or []):
        if ca.not_valid_after_utc <= now:
            report.errors.append(f"{name}.ca: certificate {index} ({ca.subject.rfc4514_string()}) "
                                 f"expired on {ca.not_valid_after_utc:%Y-%m-%d}")
    return certificate_summary(cert) if cert is not None else None
