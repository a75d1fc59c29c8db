"""The web rules over HTTPS against real Orthanc processes behind a real stunnel on loopback, the way
pacs_web_front serves Orthanc's REST API (Orthanc's own HTTPS crashes on Debian's builds): Orthanc
with Debian's DICOMweb plugin and a stored study, open (no authentication) behind a front left at
legacy TLS settings IS flagged (PACS-WEB-001, 004, 005); hardened behind a front with the project's
settings (TLS 1.2+, the BCP 195 AEAD suites, no renegotiation) is NOT, every web rule judged."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

import pacslab
from pacsguard.tlsfacts import profile

from .conftest import HARDENED, STUDY, run_probe, status

pytestmark = pytest.mark.integration

DICOMWEB = {"Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"], "DicomWeb": {"Enable": True}}
WEB_RULES = ("PACS-WEB-001", "PACS-WEB-002", "PACS-WEB-003", "PACS-WEB-004", "PACS-WEB-005")
# What the front's TLS section says: the project's settings (as roles/pacs_web_front renders them
# from the resolved policy's profile), or a front left at legacy settings.
FRONT_TLS = {
    "project": ["sslVersionMin = TLSv1.2", "ciphers = " + ":".join(profile()["tls12_suites"]),
                "ciphersuites = " + ":".join(profile()["tls13_suites"]),
                "options = CIPHER_SERVER_PREFERENCE", "options = NO_RENEGOTIATION"],
    "legacy": ["sslVersionMin = TLSv1", "ciphers = ALL:@SECLEVEL=0"],
    # a front that speaks nothing but TLS 1.0 (a modern client's request gets a protocol alert)
    "tls10": ["sslVersionMin = TLSv1", "sslVersionMax = TLSv1", "ciphers = ALL:@SECLEVEL=0"],
}
# A front that asks every client for a certificate from the site's CA (admins' browsers).
CLIENT_CERTIFICATE = ["verifyChain = yes", "requireCert = yes"]


def _front(workdir: Path, name: str, pki: dict[str, str], backend: pacslab.Server, tls: str,
           client_certificate: bool = False):
    """stunnel in the foreground: HTTPS on a free loopback port, plaintext to Orthanc's web port."""
    port = pacslab.free_port()
    backend_port = int(backend.web_url.rsplit(":", 1)[1])
    config = workdir / f"{name}.conf"
    config.write_text("\n".join([
        "foreground = yes", "pid =", "syslog = no", "debug = warning", "[web]",
        f"accept = 127.0.0.1:{port}", f"connect = 127.0.0.1:{backend_port}",
        f"cert = {pki['server_cert']}", f"key = {pki['server_key']}", *FRONT_TLS[tls],
        *([f"CAfile = {pki['ca_cert']}", *CLIENT_CERTIFICATE] if client_certificate else [])]) + "\n")
    process = subprocess.Popen(["stunnel4", str(config)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pacslab.wait_for_port("127.0.0.1", port, time.monotonic() + 10, process)
    return process, f"https://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def fronted(servers, workdir, pki):
    """Two Orthancs with DICOMweb and a study: open behind a legacy front, hardened behind the
    project's; yields the fronts' URLs and the Orthancs."""
    def start(name, settings, credentials):
        server = pacslab.start_orthanc(workdir, name, {**settings, **DICOMWEB})
        pacslab.orthanc_upload(server, STUDY, credentials)
        return server

    opened = servers("orthanc-front-open", lambda: start("orthanc-front-open", {}, None))
    locked = servers("orthanc-front-locked", lambda: start(
        "orthanc-front-locked", HARDENED, ("admin", "lab-only-password")))
    fronts = [_front(workdir, "front-legacy", pki, opened, "legacy"),
              _front(workdir, "front-project", pki, locked, "project"),
              _front(workdir, "front-tls10", pki, opened, "tls10"),
              _front(workdir, "front-client-cert", pki, opened, "project", client_certificate=True)]
    yield {"legacy": (opened, fronts[0][1]), "project": (locked, fronts[1][1]),
           "tls10": (opened, fronts[2][1]), "client-cert": (opened, fronts[3][1])}
    for process, _url in fronts:
        process.terminate()
        process.wait(10)


def test_open_orthanc_behind_a_legacy_front_is_flagged(fronted):
    server, url = fronted["legacy"]
    result = run_probe(server, web_url=url)
    failed = {rule for rule in WEB_RULES if status(result, rule) == "fail"}
    # Orthanc sees the front's connections as local: without authentication it answers everybody.
    assert failed == {"PACS-WEB-001", "PACS-WEB-004", "PACS-WEB-005"}, result["checks"]
    assert "TLSv1" in result["checks"]["PACS-WEB-004"]["detail"]
    assert "with 1 studies" in result["checks"]["PACS-WEB-005"]["detail"]
    assert result["checks"]["PACS-WEB-002"]["detail"] == "served over HTTPS"


def test_hardened_orthanc_behind_the_project_front_passes_every_web_rule(fronted):
    server, url = fronted["project"]
    result = run_probe(server, web_url=url)
    assert {rule: status(result, rule) for rule in WEB_RULES} == dict.fromkeys(WEB_RULES, "pass"), \
        result["checks"]
    assert result["checks"]["PACS-WEB-005"]["detail"] == "QIDO-RS without credentials: 401"
    assert "none accepted" in result["checks"]["PACS-WEB-003"]["detail"]
    assert not {f["id"] for f in result["findings"]} & set(WEB_RULES)


def test_open_orthanc_behind_a_tls10_only_front_is_flagged_not_unreachable(fronted):
    """The port answers a modern request with a protocol alert: the rules once judged it "not
    reachable" and passed. The web TLS rule fails on its handshakes, and the patient list is read as
    an attacker's client would, over TLS 1.0."""
    server, url = fronted["tls10"]
    result = run_probe(server, web_url=url)
    assert status(result, "PACS-WEB-004") == "fail", result["checks"]["PACS-WEB-004"]
    assert "TLSv1.0" in result["checks"]["PACS-WEB-004"]["detail"]
    assert status(result, "PACS-WEB-001") == "fail", result["checks"]["PACS-WEB-001"]
    assert result["verdict"] == "fail"


def test_a_front_that_wants_a_client_certificate_is_not_a_pass_without_one(fronted):
    """The probe holds no admin certificate: it cannot see what the REST API would give, so the
    rules that need an answer are errors (the node is inconclusive), never passes; the front's own
    TLS is still judged by handshakes."""
    server, url = fronted["client-cert"]
    result = run_probe(server, web_url=url)
    for rule in ("PACS-WEB-001", "PACS-WEB-002", "PACS-WEB-003", "PACS-WEB-005"):
        assert status(result, rule) == "error", (rule, result["checks"][rule])
    assert status(result, "PACS-WEB-004") == "pass", result["checks"]["PACS-WEB-004"]
    assert result["verdict"] != "pass"
