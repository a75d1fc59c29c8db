"""Transport and TLS checks (PACS-TLS-*): does the DICOM port refuse plaintext, legacy protocol
versions, suites outside the non-downgrading BCP 195 profile, sessions without a trusted client
certificate, and does it present a sound certificate?
"""

from __future__ import annotations

from typing import Any

from .. import tlsprobe
from ..dicomnet import Outcome, Transport, associate
from ..findings import family, severity_rank
from ..tlsfacts import LEGACY_VERSIONS
from .model import Run

RULES = family("PACS-TLS")


def handshake(run: Run, version: Any = None, ciphers: str | None = None) -> tlsprobe.Handshake:
    """One TLS handshake with the DICOM port (with the peer's identity when one is given)."""
    target = run.target
    identity = ((target.tls_client_certificate, target.tls_client_key)
                if target.tls_client_certificate else None)
    return tlsprobe.handshake(target.host, target.port, target.timeout, target.bind_address,
                              version, ciphers, identity)


def plaintext_endpoint(run: Run, rogue_plain: Outcome) -> None:
    """The port negotiated DICOM in plaintext: PACS-TLS-001, and no other TLS check applies."""
    run.result.endpoint["transport"] = "plaintext"
    run.fingerprint(rogue_plain)
    run.result.check("transport", "pass", "plaintext DICOM")
    if rogue_plain.kind == "accepted":
        evidence = f"{rogue_plain.evidence()} over plaintext TCP"
    else:
        evidence = f"the port negotiates DICOM in plaintext: {rogue_plain.evidence()}"
    run.result.fail("PACS-TLS-001", evidence)
    run.result.skip(RULES, "the port speaks plaintext DICOM, not TLS")


def tls_endpoint(run: Run, rogue_plain: Outcome, detection: tlsprobe.Handshake) -> None:
    """The port speaks TLS: every TLS check, then the AE checks go over TLS (run.secure)."""
    target, endpoint = run.target, run.result.endpoint
    endpoint["transport"], endpoint["tls"] = "tls", True
    run.result.check("transport", "pass", "DICOM over TLS")
    if _refused_plaintext(rogue_plain):
        run.result.check("PACS-TLS-001", "pass",
                         f"plaintext A-ASSOCIATE-RQ got no DICOM answer ({rogue_plain.detail})")
    else:
        run.result.check("PACS-TLS-001", "error", "plaintext A-ASSOCIATE-RQ: the port neither answered "
                                                  f"DICOM nor ended the connection ({rogue_plain.detail})")
    _versions(run)
    _suites(run)
    _certificate(run, detection)
    _client_auth(run)
    run.secure = Transport(target.host, target.port, target.timeout, target.bind_address,
                           run.tls_context, target.tls_server_name)


# TLS record types (RFC 8446 5.1) a TLS server may answer a plaintext request with: alert, handshake.
_TLS_RECORDS = (0x15, 0x16)


def _refused_plaintext(outcome: Outcome) -> bool:
    """A TLS port seen to refuse a plaintext association: it closed or reset the connection (DCMTK
    and Orthanc reset it), or answered with a TLS record. Silence, or bytes that are neither DICOM
    nor TLS, observed no refusal."""
    if outcome.kind in ("timeout", "unreachable"):
        return False
    if outcome.foreign_answer is not None:
        return outcome.foreign_answer in _TLS_RECORDS
    return outcome.kind == "aborted" and outcome.detail.startswith("connection closed")


def _versions(run: Run) -> None:
    """PACS-TLS-002: which protocol versions the server completes a handshake with. A legacy
    version the server neither accepted nor refused (a reset, silence) leaves the rule unjudged."""
    shakes = {name: handshake(run, version) for name, version in tlsprobe.TLS_VERSIONS.items()}
    accepted = [name for name, shake in shakes.items() if shake.accepted]
    run.result.endpoint["tls_versions_accepted"] = accepted
    legacy = [version for version in accepted if version in LEGACY_VERSIONS]
    unseen = unobserved({name: shakes[name] for name in LEGACY_VERSIONS})
    if legacy:
        run.result.fail("PACS-TLS-002", f"TLS handshake completed with {' and '.join(legacy)}")
    elif unseen:
        run.result.check("PACS-TLS-002", "error", f"neither accepted nor refused: {unseen}")
    else:
        run.result.check("PACS-TLS-002", "pass", f"{' and '.join(LEGACY_VERSIONS)} refused by alert")
    run.tls12 = shakes["TLSv1.2"]


def unobserved(shakes: dict[str, tlsprobe.Handshake]) -> str:
    """The handshakes that were neither accepted nor refused, and what happened to each ('' when
    every one was observed)."""
    return "; ".join(f"{name} handshake: {shake.detail or 'no answer'}" for name, shake in shakes.items()
                     if not shake.accepted and not shake.refused)


def _suites(run: Run) -> None:
    """PACS-TLS-004: a TLS 1.2 handshake offering only suites outside the profile must fail."""
    if not run.tls12.accepted:
        if run.tls12.refused:
            run.result.check("PACS-TLS-004", "pass", "TLS 1.2 refused; TLS 1.3 suites are AEAD")
        else:
            run.result.check("PACS-TLS-004", "error", unobserved({"TLSv1.2": run.tls12}))
        return
    shake = handshake(run, tlsprobe.TLS_VERSIONS["TLSv1.2"], tlsprobe.NON_BCP195_CIPHER_STRING)
    if shake.accepted:
        run.result.fail("PACS-TLS-004", f"TLS 1.2 handshake agreed on {shake.cipher or 'a suite'} "
                                        "with only non-BCP 195 suites offered")
    elif shake.refused:
        run.result.check("PACS-TLS-004", "pass",
                         f"TLS 1.2 with only non-BCP 195 suites offered refused ({shake.detail})")
    else:
        run.result.check("PACS-TLS-004", "error", "TLS 1.2 with only non-BCP 195 suites offered: "
                                                  f"neither accepted nor refused ({shake.detail})")


def _certificate(run: Run, detection: tlsprobe.Handshake) -> None:
    """PACS-TLS-005: expiry, key, signature hash and issuer of the server certificate."""
    if not detection.certificate_der:
        run.result.check("PACS-TLS-005", "error",
                         "server certificate not obtained: the server ends TLS 1.2 handshakes "
                         f"without a trusted client certificate ({detection.detail})")
        return
    facts = tlsprobe.certificate_facts(detection.certificate_der)
    run.result.endpoint["certificate"] = facts
    problems = tlsprobe.certificate_weaknesses(facts)
    if problems:
        worst = max((severity for severity, _text in problems), key=severity_rank)
        evidence = "; ".join(text for _severity, text in problems)
        run.result.fail("PACS-TLS-005", "server certificate: " + evidence, worst)
    else:
        run.result.check("PACS-TLS-005", "pass",
                         f"{facts['key_type']} {facts['key_bits']} bits, {facts['signature_hash']}, "
                         f"{facts['days_left']} days left, CA-issued")


def _client_auth(run: Run) -> None:
    """PACS-TLS-003 (no client certificate) and PACS-TLS-006 (untrusted client certificate)."""
    target = run.target
    calling = run.calling or run.rogue
    bare = tlsprobe.client_context(target.tls_ca, server_name=target.tls_server_name)
    ident = tlsprobe.throwaway_identity()
    untrusted = tlsprobe.client_context(target.tls_ca, ident.certificate, ident.private_key,
                                        target.tls_server_name)
    for rule_id, context, what in (
        ("PACS-TLS-003", bare, "without a client certificate"),
        ("PACS-TLS-006", untrusted, "with a self-signed client certificate no CA vouches for"),
    ):
        transport = Transport(target.host, target.port, target.timeout, target.bind_address, context,
                              target.tls_server_name, await_refusal=True)
        outcome = associate(transport, calling, target.called_ae_title)
        run.fingerprint(outcome)
        if outcome.answered:
            run.result.fail(rule_id, f"TLS session {what}: {outcome.evidence()}")
        elif outcome.tls_refusal:
            run.result.check(rule_id, "pass", f"TLS session {what} refused ({outcome.detail})")
        else:
            run.result.check(rule_id, "error", f"TLS session {what}: no DICOM answer and no TLS "
                                               f"refusal ({outcome.detail})")
