"""The TLS facts pacsguard relies on, in one place: DICOM PS3.15's non-downgrading BCP 195 profile
(RFC 7525 section 4.2, RFC 9325), the protocol versions it allows, and the key-size and expiry
thresholds the policy check, the probe and the rendered configurations all use.

Templates get these through the resolved policy (pacs_policy returns ``tls_profile``); nothing else
writes a suite name or a threshold.
"""

from __future__ import annotations

# TLS 1.2 suites of the profile, OpenSSL names (ECDSA suites serve EC keys, the others RSA keys).
BCP195_TLS12_SUITES: tuple[str, ...] = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
)
# TLS 1.2 suites a web port may agree on (PACS-WEB-004): forward-secret AEAD suites, the DICOM
# profile's GCM suites and the ChaCha20-Poly1305 ones browsers prefer on hardware without AES.
WEB_TLS12_SUITES: tuple[str, ...] = (
    *BCP195_TLS12_SUITES,
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-CHACHA20-POLY1305",
)
# TLS 1.2 suites a configuration on a host may list without a finding (the host audit): the ones
# above and the other forward-secret AEAD suites (AES-CCM with a full-length tag).
ACCEPTED_TLS12_SUITES: tuple[str, ...] = (
    *WEB_TLS12_SUITES,
    "ECDHE-ECDSA-AES128-CCM",
    "ECDHE-ECDSA-AES256-CCM",
    "DHE-RSA-AES128-CCM",
    "DHE-RSA-AES256-CCM",
)
# TLS 1.3 suites (all AEAD, all within the profile), OpenSSL names.
TLS13_SUITES: tuple[str, ...] = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
)
# Protocol versions the profile allows as a minimum; older ones are PACS-TLS-002.
ALLOWED_MIN_VERSIONS: tuple[str, ...] = ("TLSv1.2", "TLSv1.3")
LEGACY_VERSIONS: tuple[str, ...] = ("TLSv1.0", "TLSv1.1")
DEFAULT_MIN_VERSION = "TLSv1.2"
# Options every stunnel service of pacsguard's fronts carries: the server picks the suite, and no
# renegotiation (RFC 9325 section 3.5).
STUNNEL_OPTIONS: tuple[str, ...] = ("CIPHER_SERVER_PREFERENCE", "NO_RENEGOTIATION")
# Orthanc's numbers for a minimum protocol version (DicomTlsMinimumProtocolVersion,
# SslMinimumProtocolVersion): 4 is TLS 1.2 and later, 5 TLS 1.3 only.
ORTHANC_MIN_PROTOCOL: dict[str, int] = {"TLSv1.2": 4, "TLSv1.3": 5}
# Smallest keys the profile accepts, by key type (bits). A type not listed (DSA, Ed25519, ...) is not
# in the profile: the policy check refuses it for the node, the probe reports it (medium).
MIN_KEY_BITS: dict[str, int] = {"RSA": 2048, "EC": 256}
# A certificate expiring sooner than this is a warning (policy) and a medium finding (probe).
EXPIRY_WARNING_DAYS = 30
# Signature hashes that make a certificate weak.
WEAK_SIGNATURE_HASHES: tuple[str, ...] = ("sha1", "md5", "none")


def key_too_small(key_type: str, bits: int) -> str:
    """Why a key of ``key_type`` and ``bits`` is too weak for the profile, or ''."""
    minimum = MIN_KEY_BITS.get(key_type)
    if minimum is None:
        return f"{key_type} keys are not part of the profile (use RSA or EC)"
    if bits < minimum:
        return f"{key_type} {bits} bits (at least {minimum})"
    return ""


def check_suites(suites: object) -> tuple[dict[str, list[str]] | None, list[str]]:
    """A site's choice of suites (pacs_tls_suites: ``tls12`` and ``tls13`` lists, each optional):
    a narrower set within the profile, never a wider one. Returns the suites to use (None: the
    profile's) and the problems, each naming the suite and what is allowed."""
    if suites is None or suites == {}:
        return None, []
    if not isinstance(suites, dict):
        return None, [f"pacs_tls_suites: must be a mapping with tls12 and/or tls13, got {suites!r}"]
    problems = [f"pacs_tls_suites: unknown field {key!r} (known: tls12, tls13)"
                for key in sorted(map(str, set(suites) - {"tls12", "tls13"}))]
    chosen: dict[str, list[str]] = {}
    for key, allowed in (("tls12", BCP195_TLS12_SUITES), ("tls13", TLS13_SUITES)):
        given = suites.get(key, list(allowed))
        if not isinstance(given, list) or not given or not all(isinstance(item, str) for item in given):
            problems.append(f"pacs_tls_suites.{key}: must be a non-empty list of suite names, got {given!r}")
            continue
        outside = [item for item in given if item not in allowed]
        if outside:
            problems.append(f"pacs_tls_suites.{key}: {', '.join(map(repr, outside))} not in the "
                            f"non-downgrading BCP 195 profile ({', '.join(allowed)})")
        if len(set(given)) != len(given):
            problems.append(f"pacs_tls_suites.{key}: lists a suite twice")
        chosen[key] = list(given)
    return (chosen if not problems else None), problems


def profile(suites: dict[str, list[str]] | None = None) -> dict[str, object]:
    """The profile as plain data, for templates (through the resolved policy); ``suites`` is a
    site's narrower choice, checked by check_suites."""
    suites = suites or {}
    return {"tls12_suites": list(suites.get("tls12", BCP195_TLS12_SUITES)),
            "tls13_suites": list(suites.get("tls13", TLS13_SUITES)),
            "allowed_min_versions": list(ALLOWED_MIN_VERSIONS), "stunnel_options": list(STUNNEL_OPTIONS),
            "orthanc_min_protocol": dict(ORTHANC_MIN_PROTOCOL)}


def is_refusal(reason: str) -> bool:
    """Whether an OpenSSL error reason is the server's refusal (an alert it sent, or a ServerHello
    with a version the client did not offer) rather than a failure to observe anything (a reset, an
    end of stream, silence, bytes that are not TLS)."""
    return "_ALERT_" in reason or reason == "UNSUPPORTED_PROTOCOL"
