"""Every rule both ways against real Orthanc: Debian defaults are flagged, hardening is not."""

import pytest

from .conftest import rule_ids, run_probe, status, tls_args

pytestmark = pytest.mark.integration


def test_default_orthanc_is_flagged(orthanc_default):
    result = run_probe(orthanc_default, web_url=orthanc_default.web_url)
    assert result["verdict"] == "fail"
    assert status(result, "positive_control") == "pass"
    assert {"PACS-NET-001", "PACS-NET-002", "PACS-NET-004", "PACS-NET-006", "PACS-TLS-001",
            "PACS-WEB-001"} <= rule_ids(result)
    # Debian's defaults: DicomAlwaysAllowFind is false, so an unknown AE may not query
    assert status(result, "PACS-NET-003") == "pass"
    assert result["endpoint"]["transport"] == "plaintext"
    assert result["endpoint"]["implementation_version_name"].startswith("OFFIS_DCMTK")


def test_evidence_holds_counts_not_patient_data(orthanc_default):
    result = run_probe(orthanc_default, web_url=orthanc_default.web_url)
    web = next(f for f in result["findings"] if f["id"] == "PACS-WEB-001")
    assert "GET /patients answered 200 with 1 entries" in web["evidence"]
    text = repr(result)
    # CT_small.dcm's patient: name and ID must appear nowhere in the result
    for secret in ("CompressedSamples", "CT1", "1CT1"):
        assert secret not in text.replace("CT01", "")


def test_default_orthanc_accepts_a_rogue_store_when_intrusive(orthanc_default):
    result = run_probe(orthanc_default, intrusive=True)
    assert "PACS-NET-005" in rule_ids(result)
    assert status(run_probe(orthanc_default), "PACS-NET-005") == "skipped"


def test_default_orthanc_serves_plaintext_http_to_a_non_local_source(orthanc_default):
    result = run_probe(orthanc_default, web_url=orthanc_default.web_url, bind_address="127.0.0.2")
    assert "PACS-WEB-002" in rule_ids(result)
    # from 127.0.0.2 Orthanc asks for credentials: no patient data without them
    assert status(result, "PACS-WEB-001") == "pass"


def test_hardened_orthanc_refuses_every_rogue_path(orthanc_hardened):
    result = run_probe(orthanc_hardened, web_url=orthanc_hardened.web_url, intrusive=True)
    assert status(result, "positive_control") == "pass"
    for rule in ("PACS-NET-001", "PACS-NET-002", "PACS-NET-003", "PACS-NET-004", "PACS-NET-005",
                 "PACS-NET-006", "PACS-WEB-001"):
        assert status(result, rule) == "pass", (rule, result["checks"][rule])
    assert "reason 3" in result["checks"]["PACS-NET-001"]["detail"]
    assert "reason 7" in result["checks"]["PACS-NET-002"]["detail"]
    # still plaintext: the only finding left
    assert rule_ids(result) == {"PACS-TLS-001"}


def test_refusing_everybody_is_inconclusive_not_clean(orthanc_hardened):
    result = run_probe(orthanc_hardened, calling_ae_title="NOTLISTED", foreign_ae_title=None)
    assert status(result, "positive_control") == "error"
    assert status(result, "PACS-NET-001") == "pass"
    assert result["verdict"] == "fail"  # plaintext is still a finding
    no_control = run_probe(orthanc_hardened, calling_ae_title=None, foreign_ae_title=None)
    assert status(no_control, "positive_control") == "skipped"


def test_orthanc_tls_as_documented_accepts_legacy_tls(orthanc_tls_docs, pki):
    result = run_probe(orthanc_tls_docs, **tls_args(pki))
    assert result["endpoint"]["transport"] == "tls"
    assert {"TLSv1.0", "TLSv1.1"} <= set(result["endpoint"]["tls_versions_accepted"])
    assert {"PACS-TLS-002", "PACS-TLS-004"} <= rule_ids(result)
    assert "AES128-SHA" in result["checks"]["PACS-TLS-004"]["detail"]
    assert status(result, "PACS-TLS-001") == "pass"
    assert status(result, "PACS-TLS-003") == "pass"
    assert status(result, "PACS-TLS-006") == "pass"
    assert status(result, "PACS-TLS-005") == "pass"
    assert status(result, "positive_control") == "pass"


def test_tls_versions_measured_without_any_tls_material(orthanc_tls_docs):
    result = run_probe(orthanc_tls_docs, calling_ae_title=None, foreign_ae_title=None)
    assert result["endpoint"]["tls"] is True
    assert "PACS-TLS-002" in rule_ids(result)
    assert result["endpoint"]["certificate"]["key_bits"] == 2048  # TLS 1.3 hands it out


def test_openssl_policy_removes_legacy_tls(orthanc_tls_policy, pki):
    result = run_probe(orthanc_tls_policy, **tls_args(pki))
    assert result["endpoint"]["tls_versions_accepted"] == ["TLSv1.2", "TLSv1.3"]
    assert status(result, "PACS-TLS-002") == "pass"
    assert status(result, "positive_control") == "pass"
    for rule in ("PACS-NET-001", "PACS-NET-002", "PACS-NET-006", "PACS-TLS-003", "PACS-TLS-006"):
        assert status(result, rule) == "pass", (rule, result["checks"][rule])
    # Orthanc 1.10.1 sets its own TLS 1.2 cipher list, which the policy's CipherString does not
    # override: TLS_RSA_WITH_AES_128_CBC_SHA stays accepted. The probe must keep saying so.
    assert rule_ids(result) == {"PACS-TLS-004"}


def test_tls13_only_policy_is_clean(orthanc_tls13, pki):
    result = run_probe(orthanc_tls13, **tls_args(pki))
    assert result["endpoint"]["tls_versions_accepted"] == ["TLSv1.3"]
    assert status(result, "PACS-TLS-004") == "pass"
    assert result["findings"] == []
    assert result["verdict"] == "pass"


def test_mutual_tls_without_client_certificate_is_flagged(servers, workdir, tls_settings, pki):
    import pacslab

    server = servers("orthanc-tls-optional", lambda: pacslab.start_orthanc(
        workdir, "orthanc-tls-optional", {**tls_settings, "DicomTlsRemoteCertificateRequired": False}))
    result = run_probe(server, tls_ca=pki["ca_cert"])
    assert "PACS-TLS-003" in rule_ids(result)


def test_expired_self_signed_server_certificate_is_flagged(servers, workdir, tls_settings):
    import pacslab

    cert, key = pacslab.make_self_signed(workdir / "expired", days=-2)
    server = servers("orthanc-tls-expired", lambda: pacslab.start_orthanc(
        workdir, "orthanc-tls-expired",
        {**tls_settings, "DicomTlsCertificate": cert, "DicomTlsPrivateKey": key}))
    result = run_probe(server)
    finding = next(f for f in result["findings"] if f["id"] == "PACS-TLS-005")
    assert finding["severity"] == "high"
    assert "expired" in finding["evidence"] and "self-signed" in finding["evidence"]


def test_an_https_url_on_a_plaintext_port_is_probed_as_http(orthanc_default):
    from pacsguard.webprobe import inspect

    web = inspect(orthanc_default.web_url.replace("http://", "https://"), timeout=3)
    assert web.scheme == "http" and web.reachable
    assert web.verdicts()[0][:2] == ("PACS-WEB-001", "fail")


DICOMWEB = {"Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"], "DicomWeb": {"Enable": True}}


def test_a_default_credential_is_found_and_named_without_its_password(servers, workdir):
    """Orthanc's own example user (its configuration file's alice/alicePassword) left in place."""
    import pacslab

    server = servers("orthanc-example-user", lambda: pacslab.start_orthanc(
        workdir, "orthanc-example-user", {"AuthenticationEnabled": True,
                                          "RegisteredUsers": {"alice": "alicePassword"}}))
    result = run_probe(server, web_url=server.web_url)
    assert "PACS-WEB-003" in rule_ids(result)
    evidence = next(f for f in result["findings"] if f["id"] == "PACS-WEB-003")["evidence"]
    assert "user 'alice'" in evidence
    assert "alicePassword" not in repr(result)
    assert status(result, "PACS-WEB-001") == "pass"  # credentials are asked for: no data without them


def test_strong_credentials_pass_and_no_credentials_asked_is_not_judged(orthanc_hardened, orthanc_default):
    hardened = run_probe(orthanc_hardened, web_url=orthanc_hardened.web_url)
    assert status(hardened, "PACS-WEB-003") == "pass"
    assert "2 default credential(s) tried, none accepted" in hardened["checks"]["PACS-WEB-003"]["detail"]
    # the default Orthanc answers its local client without credentials: WEB-001's finding, not WEB-003's
    assert status(run_probe(orthanc_default, web_url=orthanc_default.web_url), "PACS-WEB-003") == "skipped"


def test_dicomweb_without_credentials_is_flagged_and_behind_them_is_not(servers, workdir, orthanc_default):
    import pacslab

    from .conftest import HARDENED, STUDY

    def start_open():
        server = pacslab.start_orthanc(workdir, "orthanc-dicomweb-open", DICOMWEB)
        pacslab.orthanc_upload(server, STUDY)
        return server

    opened = servers("orthanc-dicomweb-open", start_open)
    result = run_probe(opened, web_url=opened.web_url)
    assert "PACS-WEB-005" in rule_ids(result)
    assert "answered 200 without credentials with 1 studies" in result["checks"]["PACS-WEB-005"]["detail"]
    locked = servers("orthanc-dicomweb-locked", lambda: pacslab.start_orthanc(
        workdir, "orthanc-dicomweb-locked", {**HARDENED, **DICOMWEB}))
    result = run_probe(locked, web_url=locked.web_url)
    assert status(result, "PACS-WEB-005") == "pass" and "401" in result["checks"]["PACS-WEB-005"]["detail"]
    # without the plugin there is no DICOMweb to judge
    plain = run_probe(orthanc_default, web_url=orthanc_default.web_url)
    assert "404" in plain["checks"]["PACS-WEB-005"]["detail"]
