"""Web/REST checks: does the product's HTTP API hand out patient data without credentials
(PACS-WEB-001), serve non-local clients in plaintext (PACS-WEB-002), accept a product's default
credentials (PACS-WEB-003), answer DICOMweb queries without credentials (PACS-WEB-005)? Only
counts and user names are kept, never the data itself nor a password.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import bounded, jsonc, tlsprobe
from .products import default_web_credentials

# The most of an answer body the probe reads (it needs a count of entries, nothing more).
MAX_BODY_BYTES = 4 * 1024 * 1024
# Resources that list patients or studies: Orthanc's REST API (PACS-WEB-001) and DICOMweb QIDO-RS
# under Orthanc's DICOMweb root (PACS-WEB-005).
REST_RESOURCES: tuple[str, ...] = ("/patients", "/studies")
QIDO_STUDIES = "/dicom-web/studies"
PATIENT_RESOURCES: tuple[str, ...] = (*REST_RESOURCES, QIDO_STUDIES)
# Where a default credential is tried (a resource that needs credentials and holds no patient data).
CREDENTIAL_RESOURCE = "/system"
# Every product's default credentials, once each: a handful of attempts, never a brute force.
DEFAULT_CREDENTIALS: tuple[tuple[str, str], ...] = default_web_credentials()
LOCAL_SOURCES = ("127.0.0.1", "::1")


@dataclass
class WebResult:
    """What the web probe saw (statuses and counts only).

    ``reachable`` is the TCP connection alone: a port that refused it or stayed silent is closed,
    and only then do the rules pass without an answer. A request on an open port that got no usable
    answer (a TLS alert, a reset, silence, an answer that is not HTTP) is in ``failures``, and a rule
    that needed it is an error, never a pass."""

    scheme: str
    host: str
    port: int
    reachable: bool = False
    source_address: str | None = None
    error: str = ""
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    # PACS-WEB-003: how many default credentials were tried, the user of one that was accepted, and
    # why an attempt got no answer
    credentials_tried: int = 0
    default_user_accepted: str | None = None
    credential_failure: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "reachable": self.reachable,
            "source_address": self.source_address,
            "answers": self.answers,
            "failures": self.failures,
            "credentials_tried": self.credentials_tried,
        }

    def verdicts(self) -> list[tuple[str, str, str]]:
        """(rule ID, status, detail) for PACS-WEB-001, 002, 003 and 005."""
        if not self.reachable:
            detail = f"web port closed: {self.error}"
            rules = ("PACS-WEB-001", "PACS-WEB-002", "PACS-WEB-003", "PACS-WEB-005")
            return [(rule, "pass", detail) for rule in rules]
        return [self._unauthenticated(), self._plaintext(), self._default_credentials(), self._dicomweb()]

    def _unauthenticated(self) -> tuple[str, str, str]:
        answers = {p: a for p, a in self.answers.items() if p in REST_RESOURCES}
        leaks = [f"GET {path} answered 200 with {_size(a)}"
                 for path, a in answers.items() if a["status"] == 200 and a["count"] != "not a list"]
        if leaks:
            return ("PACS-WEB-001", "fail", "without credentials: " + "; ".join(leaks))
        unseen = [f"GET {path}: {why}" for path, why in self.failures.items() if path in REST_RESOURCES]
        unseen += [f"GET {path} answered 200 with something that is not a JSON list: cannot tell "
                   "what it holds" for path, a in answers.items() if a["status"] == 200]
        if unseen:
            return ("PACS-WEB-001", "error", "the port accepted TCP but gave no usable answer: "
                    + "; ".join(unseen))
        statuses = ", ".join(f"{p} {a['status']}" for p, a in answers.items())
        return ("PACS-WEB-001", "pass", f"without credentials: {statuses}")

    def _default_credentials(self) -> tuple[str, str, str]:
        if self.default_user_accepted:
            return ("PACS-WEB-003", "fail", f"the default credential of user '{self.default_user_accepted}' "
                    f"is accepted (GET {CREDENTIAL_RESOURCE} 200 with it)")
        if self.credential_failure:
            return ("PACS-WEB-003", "error", f"{self.credentials_tried} default credential(s) tried, "
                    f"then no usable answer: {self.credential_failure}")
        if not self.credentials_tried:
            if self.failures:
                return ("PACS-WEB-003", "error", "no resource could be read to see whether it asks for "
                        f"credentials ({'; '.join(self.failures.values())})")
            return ("PACS-WEB-003", "skipped", "no resource asked for credentials (see PACS-WEB-001)")
        return ("PACS-WEB-003", "pass",
                f"{self.credentials_tried} default credential(s) tried, none accepted")

    def _dicomweb(self) -> tuple[str, str, str]:
        answer = self.answers.get(QIDO_STUDIES)
        if answer is None:
            why = self.failures.get(QIDO_STUDIES, "not asked")
            return ("PACS-WEB-005", "error", f"GET {QIDO_STUDIES} got no usable answer: {why}")
        if answer["status"] == 200:
            count = ("an answer that is not a JSON list" if answer["count"] == "not a list"
                     else _size(answer).replace("entries", "studies"))
            return ("PACS-WEB-005", "fail", f"QIDO-RS GET {QIDO_STUDIES} answered 200 without credentials "
                    f"with {count}")
        if answer["status"] == 404:
            return ("PACS-WEB-005", "pass", f"no DICOMweb service at {QIDO_STUDIES} (404)")
        return ("PACS-WEB-005", "pass", f"QIDO-RS without credentials: {answer['status']}")

    def _plaintext(self) -> tuple[str, str, str]:
        if not self.answers:
            return ("PACS-WEB-002", "error", "the port accepted TCP but no request got an answer: "
                    + "; ".join(self.failures.values()))
        if self.scheme == "https":
            return ("PACS-WEB-002", "pass", "served over HTTPS")
        if self.source_address in LOCAL_SOURCES:
            return ("PACS-WEB-002", "skipped",
                    f"the probe's source {self.source_address} is local to the server; "
                    "probe from another position (vantage host or bind_address)")
        first = next(iter(self.answers.values()))
        return ("PACS-WEB-002", "fail",
                f"plaintext HTTP answered {first['status']} to non-local source {self.source_address}")


def _size(answer: dict[str, Any]) -> str:
    """How much a 200 answer held: its number of entries, or that it was larger than the read cap."""
    if answer["count"] == "over cap":
        return f"more than {MAX_BODY_BYTES} bytes (not read further)"
    return f"{answer['count']} entries"


def inspect(url: str, timeout: float, bind_address: str | None = None) -> WebResult:
    """GET the patient-listing resources under ``url`` without credentials. The port is open when a
    TCP connection to it succeeds; every request after that either answers or is a failure."""
    parts = urlsplit(url)
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    result = WebResult(scheme, parts.hostname or "", port)
    try:
        with tlsprobe.connect(result.host, port, timeout, bind_address) as sock:
            result.source_address = sock.getsockname()[0]
    except OSError as exc:
        if tlsprobe.closed_port(exc):
            result.error = f"TCP connect failed: {_describe(exc)}"
            return result
        # accepted, then reset at once: open; the requests below say what it answers
    result.reachable = True
    base = parts.path.rstrip("/")
    for path in PATIENT_RESOURCES:
        try:
            status, body, source = _get_or_plaintext(result, base + path, timeout, bind_address)
        except (OSError, http.client.HTTPException) as exc:
            result.failures[path] = _describe(exc)
            continue
        result.source_address = source
        result.answers[path] = {"status": status, "count": _count(body) if status == 200 else None}
    if any(a["status"] == 401 for a in result.answers.values()):
        _try_default_credentials(result, base, timeout, bind_address)
    return result


def _describe(exc: BaseException) -> str:
    """Short text for a failed request (the OpenSSL reason of a TLS failure, a timeout as such)."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"TLS {exc.reason}"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(exc) or exc.__class__.__name__


def _try_default_credentials(result: WebResult, base: str, timeout: float,
                             bind_address: str | None) -> None:
    """Each default credential once, until one is accepted (PACS-WEB-003)."""
    for user, password in DEFAULT_CREDENTIALS:
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        try:
            status, _body, _source = _get(result, base + CREDENTIAL_RESOURCE, timeout, bind_address,
                                          {"Authorization": f"Basic {token}"})
        except (OSError, http.client.HTTPException) as exc:
            result.credential_failure = _describe(exc)
            return
        result.credentials_tried += 1
        if status == 200:
            result.default_user_accepted = user
            return


def _get_or_plaintext(result: WebResult, path: str, timeout: float,
                      bind_address: str | None) -> tuple[int, bytes, str]:
    """``_get``; when HTTPS was asked for and the port answers plaintext HTTP, probe what is served
    (the scheme becomes http only once a plaintext request got an HTTP answer)."""
    try:
        return _get(result, path, timeout, bind_address)
    except ssl.SSLError as exc:
        if result.answers or result.scheme != "https" or "WRONG_VERSION_NUMBER" not in str(exc).upper():
            raise
        first = exc
    result.scheme = "http"
    try:
        return _get(result, path, timeout, bind_address)
    except (OSError, http.client.HTTPException):
        result.scheme = "https"
        raise first from None


def _get(result: WebResult, path: str, timeout: float, bind_address: str | None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    """One unauthenticated GET, over within 2 x ``timeout`` however slowly the server answers
    (http.client caps header lines and their number; the body is read up to MAX_BODY_BYTES)."""
    # bounded.Overrun is a TimeoutError: the caller reports it like any other failed request.
    return bounded.within(lambda: _get_once(result, path, timeout, bind_address, headers), 2 * timeout)[0]


def _get_once(result: WebResult, path: str, timeout: float, bind_address: str | None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    """One unauthenticated GET; returns status, body (at most MAX_BODY_BYTES read) and our source."""
    bounded.ensure_running()
    source = (bind_address, 0) if bind_address else None
    conn: http.client.HTTPConnection
    if result.scheme == "https":
        # as an attacker's client would: any version and suite the server may still take
        conn = _TlsConnection(result.host, result.port, tlsprobe.any_version_context(), timeout=timeout,
                              source_address=source)
    else:
        conn = _Connection(result.host, result.port, timeout=timeout, source_address=source)
    try:
        conn.request("GET", path, headers={"Accept": "application/json", **(headers or {})})
        local = conn.sock.getsockname()[0] if conn.sock else ""
        response = conn.getresponse()
        return response.status, response.read(MAX_BODY_BYTES + 1), local
    finally:
        conn.close()


def _registered_connection(conn: http.client.HTTPConnection) -> socket.socket:
    """The connection's TCP socket, put under the step's deadline before any byte (TLS handshake
    included) is read from it."""
    bounded.ensure_running()
    sock = socket.create_connection((conn.host, conn.port), conn.timeout, conn.source_address)
    bounded.register(sock)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Connection(http.client.HTTPConnection):
    """Plain HTTP whose socket is under the step's deadline (http.client's public connect())."""

    def connect(self) -> None:
        self.sock = _registered_connection(self)


class _TlsConnection(http.client.HTTPSConnection):
    """HTTPS whose socket is under the step's deadline, with the probe's own TLS context."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(host, port, context=tls, **kwargs)
        self.tls = tls

    def connect(self) -> None:
        raw = _registered_connection(self)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        bounded.register(self.sock)


def _count(body: bytes) -> int | str:
    """Number of entries in a JSON list answer; "over cap" when more than MAX_BODY_BYTES came (the
    rest is not read), "not a list" when the answer is not a JSON list (or nests too deep to parse)."""
    if len(body) > MAX_BODY_BYTES:
        return "over cap"
    data = jsonc.loads_bounded(body)
    return len(data) if isinstance(data, list) else "not a list"
