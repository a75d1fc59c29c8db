"""A PASS must be earned: for every step of a probe run against a hardened server, a server that
misbehaves at that step (accepts TCP, then resets, sends a TLS alert, stalls, floods or answers
garbage) may turn a check into `error` or `fail`, never into a `pass` that the hardened server's own
answer did not give.

The hardened server is real Orthanc (every DicomAlwaysAllow* off, called AE and modality host
checked, DICOM TLS 1.3 with client certificates required, REST with authentication), put behind a
relay (lab/misbehave.py) that pipes every connection to it but the one numbered ``step``. A check
that still passes must pass on the same evidence as in the clean run (its detail, with the random AE
titles, the relay's ports and the name of a refusing TLS alert set aside): a refusal by another alert
is still a refusal, a refusal that the misbehaviour took away is not.
"""

from __future__ import annotations

import contextlib
import re
import socket

import misbehave
import pytest

import pacslab
from pacsguard import webprobe
from pacsguard.probe import Target, probe

from .conftest import HARDENED, run_probe, tls_args
from .test_probe_web_front import _front

pytestmark = pytest.mark.integration
TIMEOUT = 0.5


@pytest.fixture(scope="module")
def hardened(servers, workdir, tls_settings):
    return servers("orthanc-earned-pass", lambda: pacslab.start_orthanc(
        workdir, "orthanc-earned-pass", {**HARDENED, **tls_settings}, openssl_policy="TLSv1.3"))


def _probe(server, pki, mode: str | None = None, step: int = -1, front: str | None = None
           ) -> tuple[dict, list[str]]:
    """One probe run through the relay. Without ``front``: DICOM TLS and plaintext REST of the
    hardened Orthanc. With ``front`` (an https URL): only the web side, over the project's HTTPS
    front (the DICOM port given is closed, so those checks are out of the way)."""
    if front:
        backends = {"web": ("127.0.0.1", int(front.rsplit(":", 1)[1]))}
    else:
        backends = {"dicom": ("127.0.0.1", server.port),
                    "web": ("127.0.0.1", int(server.web_url.rsplit(":", 1)[1]))}
    relay = misbehave.Relay(backends, mode, step).start()
    scheme = "https" if front else "http"
    try:
        result = probe(Target(host="127.0.0.1", port=relay.ports.get("dicom", CLOSED_PORT),
                              called_ae_title=server.ae_title, calling_ae_title="CT01",
                              foreign_ae_title="RWS1", timeout=TIMEOUT,
                              web_url=f"{scheme}://127.0.0.1:{relay.ports['web']}", **tls_args(pki)))
    finally:
        relay.stop()
    return result.as_dict(), relay.seen


def _evidence(detail: str) -> str:
    detail = re.sub(r"PG[A-Z]+[0-9A-F]{8}", "PG*", detail)
    detail = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:*", detail)
    return re.sub(r"\b[A-Z0-9]+_ALERT_[A-Z_]+", "ALERT", detail)


CLOSED_PORT = pacslab.free_port()


@pytest.fixture(scope="module")
def web_front(hardened, workdir, pki):
    """The project's HTTPS front (real stunnel, TLS 1.2+, AEAD suites) before the hardened Orthanc."""
    process, url = _front(workdir, "earned-pass-front", pki, hardened, "project")
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def clean(hardened, pki, web_front):
    result, seen = _probe(hardened, pki)
    assert result["verdict"] == "pass", result["checks"]
    assert seen.count("dicom") > 10 and seen.count("web") >= 4, seen
    over_https, seen_https = _probe(hardened, pki, front=web_front)
    web = {name: check["status"] for name, check in over_https["checks"].items()
           if name.startswith("PACS-WEB")}
    assert web == dict.fromkeys(web, "pass") and len(web) == 5, over_https["checks"]
    return {None: (result, len(seen)), web_front: (over_https, len(seen_https))}


@pytest.mark.parametrize("side", ["dicom-tls-and-rest", "rest-over-https"])
@pytest.mark.parametrize("mode", misbehave.MODES)
def test_no_misbehaving_step_turns_into_a_pass(hardened, pki, clean, web_front, mode, side):
    front = web_front if side == "rest-over-https" else None
    reference, steps = clean[front]
    passed = {name: _evidence(c["detail"]) for name, c in reference["checks"].items()
              if c["status"] == "pass"}
    unearned, changed = [], 0
    for step in range(steps):
        result, _seen = _probe(hardened, pki, mode, step, front)
        for name, check in result["checks"].items():
            if check["status"] == "pass" and passed.get(name) != _evidence(check["detail"]):
                unearned.append((step, name, check["detail"]))
        changed += any(check["status"] != reference["checks"][name]["status"]
                       for name, check in result["checks"].items() if name in reference["checks"])
    assert not unearned, unearned
    # the relay really broke the run: many steps change what some check concludes (an alert where
    # the server refuses anyway, a TLS version the rules do not judge, changes nothing)
    assert changed >= steps // 3, (mode, changed, steps)


def _big_patients(conn, stop):
    """An HTTP server whose patient list is larger than the probe reads (about 6 MiB of IDs)."""
    conn.recv(65536)
    body = b"[" + b",".join(b'"%040d"' % i for i in range(150_000)) + b"]"
    with contextlib.suppress(OSError):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % len(body) + body)


def test_an_answer_past_the_read_cap_is_a_finding_not_a_pass(servers):
    """An open patient list larger than the read cap once counted as "not a JSON list" and passed."""
    big = servers("web-big-answer", lambda: pacslab.serve_connections("big", "X", _big_patients))
    closed = pacslab.Server("nothing", "NOTHING", pacslab.free_port())
    result = run_probe(closed, web_url=f"http://127.0.0.1:{big.port}", timeout=2.0)
    check = result["checks"]["PACS-WEB-001"]
    assert check["status"] == "fail", check
    assert f"more than {webprobe.MAX_BODY_BYTES} bytes" in check["detail"]


def _listening():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


def test_fw001_from_outside_judges_every_port_on_tcp_connect():
    """From an outside position the DICOM port is closed, but the web port and a front's local back
    end accept TCP (whatever they answer): each is PACS-FW-001. With every port closed it passes."""
    web, backend = _listening(), _listening()
    closed = pacslab.Server("closed", "ARCHIVE", pacslab.free_port())
    try:
        outside = {"position": "outside", "timeout": 1.0,
                   "web_url": f"https://127.0.0.1:{web.getsockname()[1]}",
                   "other_ports": (backend.getsockname()[1],)}
        result = run_probe(closed, **outside)
        check = result["checks"]["PACS-FW-001"]
        assert check["status"] == "fail", check
        assert f"web 127.0.0.1:{web.getsockname()[1]}" in check["detail"]
        assert f"other 127.0.0.1:{backend.getsockname()[1]}" in check["detail"]
        assert result["verdict"] == "fail"
    finally:
        web.close()
        backend.close()
    result = run_probe(closed, **outside)
    assert result["checks"]["PACS-FW-001"]["status"] == "pass", result["checks"]["PACS-FW-001"]
    assert result["verdict"] == "pass", result["checks"]
