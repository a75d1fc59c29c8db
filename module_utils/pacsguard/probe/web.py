"""Web/REST checks (PACS-WEB-*): does the product's web API hand out patient data without
credentials, serve non-local clients in plaintext, accept a default credential, answer DICOMweb
queries without credentials, and does its HTTPS accept legacy protocol versions or suites that are
not forward-secret AEAD? (The HTTP work is in webprobe.py, the handshakes in tlsprobe.py.)
"""

from __future__ import annotations

from .. import tlsprobe, webprobe
from ..findings import family
from ..tlsfacts import LEGACY_VERSIONS
from .model import Run
from .tls import unobserved

RULES = family("PACS-WEB")
# Handshakes PACS-WEB-004 makes at most: one per protocol version, and one offering only suites
# outside forward-secret AEAD (for deadlines; each handshake may take two attempts).
TLS_HANDSHAKES = len(tlsprobe.TLS_VERSIONS) + 1


def check(run: Run) -> None:
    """GET the patient-listing resources without credentials and judge the answers; on HTTPS, the
    port's protocol versions and suites."""
    target = run.target
    if not target.web_url:
        run.result.skip(RULES, "no web_url given")
        return
    web = webprobe.inspect(target.web_url, target.timeout, target.bind_address)
    run.result.endpoint["web"] = web.summary()
    for rule_id, status, detail in web.verdicts():
        if status == "fail":
            run.result.fail(rule_id, detail)
        else:
            run.result.check(rule_id, status, detail)
    _tls(run, web)


def _tls(run: Run, web: webprobe.WebResult) -> None:
    """PACS-WEB-004: TLS 1.0/1.1, or a TLS 1.2 suite that is not forward-secret AEAD, accepted. Judged
    by handshakes alone, whatever the HTTP requests got: a port that speaks only TLS 1.0 fails it even
    though no request of ours got an answer."""
    if not web.reachable:
        run.result.check("PACS-WEB-004", "pass", f"web port closed: {web.error}")
        return
    if web.scheme != "https":
        run.result.check("PACS-WEB-004", "skipped", "the web port speaks plaintext HTTP (PACS-WEB-002)")
        return
    target = run.target

    def shake(version: str, ciphers: str | None = None) -> tlsprobe.Handshake:
        return tlsprobe.handshake(web.host, web.port, target.timeout, target.bind_address,
                                  tlsprobe.TLS_VERSIONS[version], ciphers)

    shakes = {name: shake(name) for name in tlsprobe.TLS_VERSIONS}
    accepted = [name for name, result in shakes.items() if result.accepted]
    run.result.endpoint["web"]["tls_versions_accepted"] = accepted
    problems = [f"TLS handshake completed with {name}" for name in accepted if name in LEGACY_VERSIONS]
    unseen = [unobserved({name: result}) for name, result in shakes.items()
              if name in (*LEGACY_VERSIONS, "TLSv1.2")]
    if "TLSv1.2" in accepted:
        suite = shake("TLSv1.2", tlsprobe.NON_AEAD_CIPHER_STRING)
        if suite.accepted:
            problems.append(f"TLS 1.2 handshake agreed on {suite.cipher or 'a suite'} with only suites "
                            "outside forward-secret AEAD offered")
        unseen.append(unobserved({"TLSv1.2 with only non-AEAD suites": suite}))
    unseen = [text for text in unseen if text]
    if problems:
        run.result.fail("PACS-WEB-004", "; ".join(problems))
    elif not accepted:
        run.result.check("PACS-WEB-004", "error", "the port accepted TCP but completed no TLS handshake: "
                         + "; ".join(f"{n}: {r.detail}" for n, r in shakes.items()))
    elif unseen:
        run.result.check("PACS-WEB-004", "error", "neither accepted nor refused: " + "; ".join(unseen))
    else:
        run.result.check("PACS-WEB-004", "pass", f"{' and '.join(LEGACY_VERSIONS)} refused by alert; "
                         "TLS 1.2 only with forward-secret AEAD suites" if "TLSv1.2" in accepted
                         else f"{' and '.join(LEGACY_VERSIONS)} and TLSv1.2 refused by alert")
