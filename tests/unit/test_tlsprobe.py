import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pacsguard import tlsprobe

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


def _cert(days_left, key=None, issuer_key=None, same_issuer=True):
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pacs.lab")])
    issuer = subject if same_issuer else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - datetime.timedelta(days=400))
            .not_valid_after(NOW + datetime.timedelta(days=days_left))
            .sign(issuer_key or key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_good_ca_issued_certificate_has_no_weakness():
    ca_key = ec.generate_private_key(ec.SECP256R1())
    facts = tlsprobe.certificate_facts(_cert(200, issuer_key=ca_key, same_issuer=False), NOW)
    assert facts["key_type"] == "RSA" and facts["key_bits"] == 2048
    assert facts["signature_hash"] == "sha256"
    assert not facts["self_signed"]
    assert tlsprobe.certificate_weaknesses(facts) == []


def test_expired_self_signed_certificate_is_high_and_medium():
    facts = tlsprobe.certificate_facts(_cert(-3), NOW)
    problems = dict((text.split(" on ")[0], sev) for sev, text in tlsprobe.certificate_weaknesses(facts))
    assert problems == {"expired": "high", "self-signed": "medium"}


def test_expiring_soon_and_weak_key_and_sha1():
    facts = {"days_left": 10, "not_after": "x", "key_type": "RSA", "key_bits": 1024,
             "signature_hash": "sha1", "self_signed": False}
    assert tlsprobe.certificate_weaknesses(facts) == [
        ("medium", "expires in 10 days"), ("high", "key: RSA 1024 bits (at least 2048)"),
        ("high", "signature hash sha1")]


def test_non_bcp195_cipher_string_excludes_every_profile_suite():
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(tlsprobe.NON_BCP195_CIPHER_STRING)
    offered = {c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"}
    assert offered, "the string must still offer some TLS 1.2 suites"
    assert not offered & set(tlsprobe.BCP195_TLS12_SUITES)


def test_throwaway_identity_is_private_and_cached():
    import os
    import stat

    first = tlsprobe.throwaway_identity()
    assert first is tlsprobe.throwaway_identity()
    assert stat.S_IMODE(os.stat(first.private_key).st_mode) == 0o600
    assert "BEGIN CERTIFICATE" in first.pem


def test_only_a_refusal_silence_or_no_route_makes_a_port_closed():
    """A server that accepts TCP and resets at once can make connect() itself fail with ECONNRESET
    (seen on loopback): that port is open, and a rule must not pass it as closed."""
    import errno

    from pacsguard.tlsprobe import closed_port

    assert closed_port(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert closed_port(TimeoutError("timed out"))
    assert closed_port(OSError(errno.EHOSTUNREACH, "no route to host"))
    assert not closed_port(ConnectionResetError(errno.ECONNRESET, "reset"))
    assert not closed_port(BrokenPipeError(errno.EPIPE, "broken pipe"))
