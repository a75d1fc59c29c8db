"""Real servers on free loopback ports for the integration tests, stopped at teardown."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

import pacslab
from pacsguard.probe import Target, probe

# Ansible run by the tests as a user runs it from the clone, its output as JSON to read back.
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ANSIBLE_ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_LOAD_CALLBACK_PLUGINS="1")

STUDY = get_testdata_file("CT_small.dcm")
# Every DicomAlwaysAllow* off, called AE and modality host checked: the allowlist alone decides.
HARDENED = {
    **{f"DicomAlwaysAllow{s}": False for s in ("Echo", "Store", "Find", "FindWorklist", "Get", "Move")},
    "DicomCheckCalledAet": True,
    "DicomCheckModalityHost": True,
    "DicomModalities": {
        # A modality's Allow* flags default to true in Orthanc: each is written out.
        "ct01": {"AET": "CT01", "Host": "127.0.0.1", "Port": 104, "AllowEcho": True,
                 "AllowStore": True, "AllowFind": True, "AllowGet": False, "AllowMove": False,
                 "AllowFindWorklist": False},
        "rws1": {"AET": "RWS1", "Host": "127.0.0.3", "Port": 11112, "AllowEcho": False,
                 "AllowStore": False, "AllowFind": False, "AllowGet": True, "AllowMove": True,
                 "AllowFindWorklist": False},
    },
    "AuthenticationEnabled": True,
    "RegisteredUsers": {"admin": "lab-only-password"},
}


def _require(binary: str) -> None:
    if shutil.which(binary) is None and not Path(binary).exists():
        pytest.fail(f"{binary} is missing: run .ci/run (it installs orthanc, dcmtk and nmap)")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def pki(workdir) -> dict[str, str]:
    return pacslab.make_pki(workdir / "pki")


@pytest.fixture(scope="session")
def tls_settings(pki) -> dict:
    return {
        "DicomTlsEnabled": True,
        "DicomTlsCertificate": pki["server_cert"],
        "DicomTlsPrivateKey": pki["server_key"],
        "DicomTlsTrustedCertificates": pki["ca_cert"],
        "DicomTlsRemoteCertificateRequired": True,
    }


@pytest.fixture(scope="session")
def servers(workdir):
    """Factory: start a named server once per session; all stopped at the end."""
    started: dict[str, pacslab.Server] = {}

    def get(name: str, start) -> pacslab.Server:
        if name not in started:
            started[name] = start()
        return started[name]

    _require("/usr/sbin/Orthanc")
    _require("dcmqrscp")
    yield get
    for server in started.values():
        server.stop()


@pytest.fixture(scope="session")
def orthanc_default(servers, workdir):
    def start():
        server = pacslab.start_orthanc(workdir, "orthanc-default")
        pacslab.orthanc_upload(server, STUDY)
        return server
    return servers("orthanc-default", start)


@pytest.fixture(scope="session")
def orthanc_hardened(servers, workdir):
    def start():
        server = pacslab.start_orthanc(workdir, "orthanc-hardened", HARDENED)
        pacslab.orthanc_upload(server, STUDY, ("admin", "lab-only-password"))
        return server
    return servers("orthanc-hardened", start)


@pytest.fixture(scope="session")
def orthanc_tls_docs(servers, workdir, tls_settings):
    """DICOM TLS as Orthanc's documentation shows it, nothing more."""
    return servers("orthanc-tls-docs",
                   lambda: pacslab.start_orthanc(workdir, "orthanc-tls-docs", tls_settings))


@pytest.fixture(scope="session")
def orthanc_tls_policy(servers, workdir, tls_settings):
    """Hardened, DICOM TLS, and a service-scoped OpenSSL policy (TLS 1.2+)."""
    return servers("orthanc-tls-policy", lambda: pacslab.start_orthanc(
        workdir, "orthanc-tls-policy", {**HARDENED, **tls_settings}, openssl_policy="TLSv1.2"))


@pytest.fixture(scope="session")
def orthanc_tls13(servers, workdir, tls_settings):
    """Hardened, DICOM TLS, OpenSSL policy with TLS 1.3 only (all suites AEAD)."""
    return servers("orthanc-tls13", lambda: pacslab.start_orthanc(
        workdir, "orthanc-tls13", {**HARDENED, **tls_settings}, openssl_policy="TLSv1.3"))


@pytest.fixture(scope="session")
def dcmqrscp_open(servers, workdir):
    """DCMTK's documented shared storage area: RW for ANY peer."""
    def start():
        server = pacslab.start_dcmqrscp(workdir, "dcmqrscp-open")
        pacslab.dicom_store(server, STUDY)
        return server
    return servers("dcmqrscp-open", start)


@pytest.fixture(scope="session")
def dcmqrscp_listed(servers, workdir):
    peers = [("CT01", "127.0.0.1", 104), ("RWS1", "127.0.0.3", 11112)]
    return servers("dcmqrscp-listed",
                   lambda: pacslab.start_dcmqrscp(workdir, "dcmqrscp-listed", peers=peers))


@pytest.fixture(scope="session")
def accept_anything(servers):
    return servers("accept-anything", pacslab.start_accept_anything)


@pytest.fixture(scope="session")
def silent(servers):
    return servers("silent", pacslab.start_silent)


def run_probe(server: pacslab.Server, **kwargs) -> dict:
    """Probe a lab server with short timeouts; returns the plain result dict."""
    args = {"host": server.host, "port": server.port, "called_ae_title": server.ae_title,
            "calling_ae_title": "CT01", "foreign_ae_title": "RWS1", "timeout": 3.0, **kwargs}
    return probe(Target(**args)).as_dict()


def tls_args(pki: dict[str, str]) -> dict[str, str]:
    return {"tls_ca": pki["ca_cert"], "tls_client_certificate": pki["client_ct01_cert"],
            "tls_client_key": pki["client_ct01_key"]}


def status(result: dict, check: str) -> str:
    return result["checks"][check]["status"]


def rule_ids(result: dict) -> set[str]:
    return {f["id"] for f in result["findings"]}
