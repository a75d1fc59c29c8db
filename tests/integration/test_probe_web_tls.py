"""PACS-WEB-004 against real OpenSSL HTTPS servers on loopback (`openssl s_server -www`): one that
accepts TLS 1.0 and CBC suites IS flagged, one with TLS 1.2+ and forward-secret AEAD suites only is
NOT; a plaintext web port is left to PACS-WEB-002."""

from __future__ import annotations

import subprocess
import time

import pytest

import pacslab
from pacsguard.tlsfacts import WEB_TLS12_SUITES

from .conftest import run_probe, status

pytestmark = pytest.mark.integration


def _s_server(pki: dict[str, str], *options: str):
    port = pacslab.free_port()
    process = subprocess.Popen(
        ["openssl", "s_server", "-www", "-quiet", "-accept", f"127.0.0.1:{port}",
         "-cert", pki["server_cert"], "-key", pki["server_key"], *options],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pacslab.wait_for_port("127.0.0.1", port, time.monotonic() + 10, process)
    return process, port


@pytest.fixture
def https_server(request, pki):
    options = {
        # what an HTTPS port left at legacy settings accepts
        "legacy": ("-min_protocol", "TLSv1", "-cipher", "ALL:@SECLEVEL=0"),
        # TLS 1.2 and 1.3, TLS 1.2 with forward-secret AEAD suites only
        "aead": ("-min_protocol", "TLSv1.2", "-cipher", ":".join(WEB_TLS12_SUITES)),
        # TLS 1.2 and 1.3, but a CBC suite allowed in TLS 1.2
        "cbc": ("-min_protocol", "TLSv1.2", "-cipher", "ECDHE-RSA-AES128-SHA:" + ":".join(WEB_TLS12_SUITES)),
    }[request.param]
    process, port = _s_server(pki, *options)
    yield port
    process.terminate()
    process.wait(10)


def _probe(web_url: str) -> dict:
    closed = pacslab.Server("nothing", "NOTHING", pacslab.free_port())
    return run_probe(closed, web_url=web_url, timeout=2.0)


@pytest.mark.parametrize("https_server", ["legacy"], indirect=True)
def test_legacy_https_is_flagged(https_server):
    result = _probe(f"https://127.0.0.1:{https_server}")
    assert status(result, "PACS-WEB-004") == "fail", result["checks"]
    detail = result["checks"]["PACS-WEB-004"]["detail"]
    assert "TLSv1.0" in detail and "TLSv1.1" in detail
    assert "outside forward-secret AEAD" in detail
    assert result["endpoint"]["web"]["tls_versions_accepted"][:2] == ["TLSv1.0", "TLSv1.1"]


@pytest.mark.parametrize("https_server", ["cbc"], indirect=True)
def test_a_cbc_suite_alone_is_flagged(https_server):
    result = _probe(f"https://127.0.0.1:{https_server}")
    assert status(result, "PACS-WEB-004") == "fail", result["checks"]
    detail = result["checks"]["PACS-WEB-004"]["detail"]
    assert "ECDHE-RSA-AES128-SHA" in detail and "TLSv1.0" not in detail


@pytest.mark.parametrize("https_server", ["aead"], indirect=True)
def test_tls12_aead_only_https_passes(https_server):
    result = _probe(f"https://127.0.0.1:{https_server}")
    assert status(result, "PACS-WEB-004") == "pass", result["checks"]
    assert result["endpoint"]["web"]["tls_versions_accepted"] == ["TLSv1.2", "TLSv1.3"]
    assert "PACS-WEB-004" not in {f["id"] for f in result["findings"]}


def test_plaintext_web_is_left_to_web_002(orthanc_default):
    result = _probe(orthanc_default.web_url)
    assert status(result, "PACS-WEB-004") == "skipped"
