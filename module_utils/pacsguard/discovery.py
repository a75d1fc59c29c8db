"""Discovery: sweep addresses and ports for DICOM endpoints, in plaintext and TLS, and say what each is.

Sites rarely know every DICOM server they run (HC3's first recommendation is an inventory). This
sweeps the given networks and ports concurrently (asyncio: one process, many sockets), and on every
port that accepts a connection speaks as little as it can: one A-ASSOCIATE-RQ for the Verification
SOP class from a calling AE title nobody lists, read the answer, release (or abort on a refusal
there is nothing to release). It sends nothing else: no C-ECHO, no query, no store. An endpoint that
answers the request with an A-ASSOCIATE-AC accepts any calling AE. A port that answers with a TLS
record, or closes without a word, is tried once more over TLS (without a client certificate, without
verifying the server: the point is to find it, not to trust it). Web ports get one GET of the
product's status path (Orthanc: /system) to tell the product.

Every wait is bounded (``timeout`` per connect, handshake and read), a PDU longer than MAX_PDU_BYTES
is not read, ``concurrency`` bounds the sockets open at once and ``rate`` the connections started per
second. Nothing here imports Ansible or pynetdicom; the PDUs are built by hand (PS3.8 9.3).
"""

# asyncio.TimeoutError is TimeoutError from Python 3.11 only; a vantage may run an older Python.
# ruff: noqa: UP041

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import secrets
import socket
import ssl
import struct
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from . import jsonc, pdu
from .aetitle import validate_ae_title
from .findings import make_finding
from .products import DICOM_PORT, REGISTRY, default, names

# The usual DICOM ports (PS3.15 Annex B: 104 and 11112; DICOM TLS 2762; ISCL 2761) and every
# product's own DICOM and web ports (products.py), so a product's default install is never missed.
_PRODUCT_DICOM_PORTS = {product.dicom_port for product in REGISTRY.values()}
DICOM_PORTS = tuple(sorted({DICOM_PORT, 11112, 2761, 2762} | _PRODUCT_DICOM_PORTS))
WEB_PORTS = tuple(sorted({product.http_port for product in REGISTRY.values() if product.http_port}))
PRODUCTS = names()
DEFAULT_PORTS = tuple(sorted(set(DICOM_PORTS) | set(WEB_PORTS)))
# Safe defaults: sockets open at once, connections started per second, addresses per sweep.
DEFAULT_CONCURRENCY = 100
DEFAULT_RATE = 5000.0
DEFAULT_TIMEOUT = 3.0
MAX_ADDRESSES = 4096
MAX_PDU_BYTES = 64 * 1024
MAX_HTTP_BYTES = 64 * 1024

# Called AE titles tried: any (many servers do not check it), then products' default titles.
CALLED_AE_TITLES = ("ANY-SCP", "ORTHANC", "DCMQRSCP", "STORESCP")
MAX_CALLED_AE_TITLES = 8
# The implementation version name the sweep's requests carry (pdu.py has the class UID).
IMPLEMENTATION_VERSION = b"PACSGUARD_DISC"
# Implementation class UID roots of DICOM toolkits and products (what an A-ASSOCIATE-AC reveals).
IMPLEMENTATIONS = (
    ("1.2.276.0.7230010.3", "DCMTK"),
    ("1.2.826.0.1.3680043.9.3811", "pynetdicom"),
    ("1.2.40.0.13.1", "dcm4che"),
    ("1.3.6.1.4.1.30071.8", "fo-dicom"),
    ("1.2.826.0.1.3680043.2.1143", "GDCM"),
)


class DiscoveryInputError(ValueError):
    """A sweep that cannot run as asked (bad network, port, AE title, limit)."""


@dataclass
class Endpoint:
    """What one open port turned out to be. No patient data: protocol facts only."""

    address: str
    port: int
    service: str = "unknown"  # dicom | tls | web | unknown (open, not understood) | silent
    transport: str | None = None  # plaintext | tls
    association: str | None = None  # accepted | rejected | aborted
    rejection: dict[str, int] | None = None  # result, source, reason (PS3.8 9.3.4)
    accepts_any_calling_ae: bool | None = None
    client_certificate_required: bool | None = None
    called_ae_title: str | None = None  # the called AE title the answer above was to
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    toolkit: str | None = None  # the DICOM implementation (DCMTK: dcmqrscp, Orthanc and others)
    product: str | None = None  # the product, where its web port tells
    version: str | None = None
    managed: bool = False
    inventory_name: str | None = None
    detail: str = ""

    @property
    def is_dicom(self) -> bool:
        return self.service == "dicom"


@dataclass
class Sweep:
    """What to sweep and how gently."""

    networks: list[str]
    ports: list[int] = field(default_factory=lambda: list(DEFAULT_PORTS))
    web_ports: list[int] = field(default_factory=lambda: list(WEB_PORTS))
    known: list[dict[str, Any]] = field(default_factory=list)
    calling_ae_title: str = ""
    # Tried in turn while the answer is "called AE title not recognised" (PS3.8 reason 7): a server
    # that checks the called AE says whether it admits any calling AE only when called by its name.
    # A handful of products' default titles, never a list to brute-force with.
    called_ae_titles: list[str] = field(default_factory=lambda: list(CALLED_AE_TITLES))
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float = DEFAULT_RATE
    max_addresses: int = MAX_ADDRESSES

    def addresses(self) -> list[str]:
        """Every address the networks hold (host addresses of a network, the address of a host)."""
        found: list[str] = []
        for text in self.networks:
            try:
                network = ipaddress.ip_network(str(text).strip(), strict=False)
            except ValueError:
                raise DiscoveryInputError(f"networks: {text!r} is not an IP address or network") from None
            hosts = [network.network_address] if network.num_addresses == 1 else network.hosts()
            for address in hosts:
                found.append(str(address))
                if len(found) > self.max_addresses:
                    raise DiscoveryInputError(f"networks hold more than max_addresses ({self.max_addresses}) "
                                              "addresses: sweep smaller networks or raise the limit")
        return list(dict.fromkeys(found))

    def validate(self) -> None:
        if not self.networks:
            raise DiscoveryInputError("networks: give at least one address or network")
        for name in ("ports", "web_ports"):
            bad = [p for p in getattr(self, name) if not isinstance(p, int) or not 0 < p < 65536]
            if bad:
                raise DiscoveryInputError(f"{name}: {bad[0]!r} is not a TCP port (1-65535)")
        if not self.ports:
            raise DiscoveryInputError("ports: give at least one port")
        if not self.called_ae_titles or len(self.called_ae_titles) > MAX_CALLED_AE_TITLES:
            raise DiscoveryInputError(f"called_ae_titles: 1 to {MAX_CALLED_AE_TITLES} titles "
                                      "(a few defaults, not a brute force)")
        for name, value in [("calling_ae_title", self.calling_ae_title),
                            *(("called_ae_titles", title) for title in self.called_ae_titles)]:
            if value or name != "calling_ae_title":
                ok, reason = validate_ae_title(value)
                if not ok:
                    raise DiscoveryInputError(f"{name} {value!r}: {reason}")
        if not 0 < self.timeout <= 60:
            raise DiscoveryInputError("timeout: between 0 and 60 seconds")
        if not 1 <= self.concurrency <= 1000:
            raise DiscoveryInputError("concurrency: between 1 and 1000 sockets")
        if not 0 < self.rate <= 10000:
            raise DiscoveryInputError("rate: between 0 and 10000 connections per second")


def associate_rq(called: str, calling: str) -> bytes:
    """The sweep's A-ASSOCIATE-RQ (Verification, PS3.8 9.3.2)."""
    return pdu.associate_rq(called, calling, IMPLEMENTATION_VERSION)


def read_accept(body: bytes, endpoint: Endpoint) -> None:
    """Implementation class UID and version name of an A-ASSOCIATE-AC (PS3.8 9.3.3, PS3.7 D.3.3.2)."""
    uid, version, _context = pdu.read_accept(body)
    endpoint.implementation_class_uid, endpoint.implementation_version_name = uid, version
    uid = uid or ""
    endpoint.toolkit = next((name for root, name in IMPLEMENTATIONS
                             if uid == root or uid.startswith(root + ".")), None)


def judge_answer(kind: int, body: bytes, endpoint: Endpoint, called: str) -> None:
    """The endpoint as its answer to the A-ASSOCIATE-RQ to ``called`` shows it (a later answer, to
    another called AE title, replaces an earlier one)."""
    endpoint.service, endpoint.called_ae_title, endpoint.rejection = "dicom", called, None
    if kind == 0x02:
        endpoint.association, endpoint.accepts_any_calling_ae = "accepted", True
        read_accept(body, endpoint)
        endpoint.detail = "A-ASSOCIATE-AC to a calling AE title nobody lists"
    elif kind == 0x03 and len(body) >= 4:
        endpoint.association, endpoint.accepts_any_calling_ae = "rejected", False
        endpoint.rejection = {"result": body[1], "source": body[2], "reason": body[3]}
        endpoint.detail = f"A-ASSOCIATE-RJ (result {body[1]}, source {body[2]}, reason {body[3]})"
    elif kind == 0x07:
        endpoint.association, endpoint.accepts_any_calling_ae = "aborted", False
        endpoint.detail = "A-ABORT in answer to the A-ASSOCIATE-RQ"
    else:
        endpoint.service = "unknown"
        endpoint.detail = f"answered with PDU type 0x{kind:02x}, not an association answer"


class _Limiter:
    """At most ``rate`` connection starts per second across all tasks, on average over any 50 ms
    (a token bucket holding 50 ms of starts: sleeping for each start alone would cost more than the
    start itself). Single-threaded: nothing awaits between reading and taking a token."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._burst = max(1.0, rate / 20)
        self._tokens = self._burst
        self._stamp = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate) - 1
        self._stamp = now
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._rate)


async def _connect(address: str, port: int,
                   timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection as streams. Most swept ports are closed: the connect is tried on a
    non-blocking socket first, so a refusal the kernel gives at once (a local or fast network's RST)
    costs no task, no future and no stream objects; otherwise it waits, bounded, for the socket."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        error = sock.connect_ex((address, port))
        if error not in (0, errno.EINPROGRESS, errno.EAGAIN):
            raise OSError(error, os.strerror(error))
        if error:
            loop = asyncio.get_running_loop()
            writable = loop.create_future()
            loop.add_writer(sock.fileno(), lambda: writable.done() or writable.set_result(None))
            try:
                await asyncio.wait_for(writable, timeout)
            finally:
                loop.remove_writer(sock.fileno())
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error))
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    writer.close()  # the transport closes the socket on the loop's next turn; nothing to wait for


async def _read_pdu(reader: asyncio.StreamReader, first: bytes, timeout: float) -> tuple[int, bytes] | None:
    """The rest of a PDU whose first bytes were read; None when it announces more than MAX_PDU_BYTES."""
    header = first + await asyncio.wait_for(reader.readexactly(6 - len(first)), timeout)
    kind, _reserved, length = struct.unpack(">BBI", header)
    if length > MAX_PDU_BYTES:
        return None
    return kind, await asyncio.wait_for(reader.readexactly(length), timeout)


async def _ask_dicom(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sweep: Sweep,
                     endpoint: Endpoint, called: str) -> str:
    """Send the A-ASSOCIATE-RQ and judge the answer; returns what happened for the caller to go on:
    answered, closed (not a byte), tls (a TLS record came back), web, other, silent. Plaintext only
    (over TLS: _tls_exchange)."""
    writer.write(associate_rq(called, sweep.calling_ae_title))
    try:
        await asyncio.wait_for(writer.drain(), sweep.timeout)
        first = await asyncio.wait_for(reader.read(6), sweep.timeout)
    except asyncio.TimeoutError:
        endpoint.service, endpoint.detail = "silent", f"no answer within {sweep.timeout:g} s"
        return "silent"
    except OSError:
        return "closed"
    if not first:
        return "closed"
    if first[0] in (0x15, 0x16) and first[1:2] == b"\x03":
        return "tls"
    if first.startswith(b"HTTP/"):
        endpoint.service, endpoint.detail = "web", "answered in HTTP"
        return "web"
    if first[0] not in (0x02, 0x03, 0x07):
        endpoint.detail = f"answered with bytes that are not a DICOM PDU (0x{first[0]:02x})"
        return "other"
    try:
        pdu = await _read_pdu(reader, first, sweep.timeout)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError):
        endpoint.detail = "an association answer cut short"
        return "other"
    if pdu is None:
        endpoint.detail = f"announced a PDU over {MAX_PDU_BYTES} bytes (not read)"
        return "other"
    judge_answer(*pdu, endpoint, called)
    if endpoint.association == "accepted":
        await _release(reader, writer, sweep.timeout)
    return "answered"


async def _release(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
    """A-RELEASE-RQ, and wait (bounded) for the A-RELEASE-RP: leave as a peer would."""
    with contextlib.suppress(asyncio.TimeoutError, OSError, ssl.SSLError):
        writer.write(pdu.RELEASE_RQ)
        await asyncio.wait_for(writer.drain(), timeout)
        await asyncio.wait_for(reader.read(10), timeout)


def _tls_context() -> ssl.SSLContext:
    """A client that finds TLS servers: no certificate of its own, the server's not verified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _tls_exchange(address: str, port: int, called: str, calling: str, timeout: float) -> tuple[str, Any]:
    """The A-ASSOCIATE-RQ over TLS, with blocking sockets (run in a worker thread): a TLS 1.3
    server's certificate-required alert arrives after the handshake, on the first read, and Python's
    blocking ssl module reports it where asyncio's streams see only the end of the connection.
    Returns (what, value): ("refused", reason), ("alert", reason), ("closed", None), ("pdu", (kind,
    body)), ("other", first bytes) or ("silent", None)."""
    with socket.create_connection((address, port), timeout=timeout) as raw:
        try:
            conn = _tls_context().wrap_socket(raw)
        except ssl.SSLError as exc:
            return "refused", str(exc.reason or exc)
        with conn:
            # A DICOM server never speaks first: anything before the request is the server's verdict
            # on the handshake (TLS 1.3's certificate-required alert). Sending first races with it.
            conn.settimeout(min(1.0, timeout))
            try:
                early = conn.recv(1)
            except ssl.SSLError as exc:
                return "alert", str(exc.reason or exc)
            except socket.timeout:
                early = None
            except OSError:
                return "closed", None
            if early == b"":
                return "closed", None
            conn.settimeout(timeout)
            deadline = time.monotonic() + 2 * timeout  # the whole answer, as in plaintext
            try:
                conn.sendall(associate_rq(called, calling))
                header = pdu.recv_exactly(conn, pdu.HEADER.size, deadline)
                kind, _reserved, length = struct.unpack(">BBI", header)
                if kind not in (0x02, 0x03, 0x07) or length > MAX_PDU_BYTES:
                    return "other", header
                answer = (kind, pdu.recv_exactly(conn, length, deadline))
            except ssl.SSLError as exc:
                return "alert", str(exc.reason or exc)
            except socket.timeout:
                return "silent", None
            except (ConnectionError, OSError):
                return "closed", None
            if kind == 0x02:
                with contextlib.suppress(OSError):
                    conn.sendall(pdu.RELEASE_RQ)
                    conn.recv(10)
            return "pdu", answer


async def _try_tls(sweep: Sweep, endpoint: Endpoint, limiter: _Limiter) -> None:
    """The port once more over TLS: the handshake, then the same A-ASSOCIATE-RQ inside it."""
    await limiter.wait()
    called = sweep.called_ae_titles[0]
    try:
        what, value = await asyncio.get_running_loop().run_in_executor(
            None, _tls_exchange, endpoint.address, endpoint.port, called, sweep.calling_ae_title,
            sweep.timeout)
    except OSError:
        return  # not TLS either: the plaintext outcome stands
    endpoint.service, endpoint.transport = "tls", "tls"
    if what == "pdu":
        judge_answer(*value, endpoint, called)
    elif what in ("refused", "alert"):
        endpoint.client_certificate_required = "CERTIFICATE_REQUIRED" in value.upper() or None
        endpoint.detail = (f"TLS handshake refused without a client certificate ({value})"
                           if what == "refused" else f"TLS session ended before any DICOM answer ({value})")
    elif what == "closed":
        endpoint.detail = "TLS, but the session closed before any DICOM answer"
    elif what == "silent":
        endpoint.detail = f"TLS, but no DICOM answer within {sweep.timeout:g} s"
    else:
        endpoint.detail = "TLS, but the answer is not a DICOM PDU"


def _read_web(data: bytes, endpoint: Endpoint) -> None:
    """Status, realm and the status document of a product's web port (Orthanc's /system)."""
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1", "replace").split("\r\n")
    words = lines[0].split(" ", 2)
    # a status is three digits (RFC 9110 15); anything else the server wrote there is not kept
    status = words[1] if len(words) > 1 and len(words[1]) == 3 and words[1].isdigit() else "?"
    headers = {k.strip().lower(): v.strip() for k, _s, v in (line.partition(":") for line in lines[1:])}
    endpoint.service, endpoint.transport = "web", endpoint.transport or "plaintext"
    endpoint.detail = f"HTTP {status} to GET /system"
    realm = headers.get("www-authenticate", "").lower()
    # None when not JSON, too deep or too large
    document = jsonc.loads_bounded(body) if status == "200" else None
    for product in REGISTRY.values():
        if product.web_realm and product.web_realm in realm:
            endpoint.product = product.display
        if product.web_status_key and isinstance(document, dict) and product.web_status_key in document:
            endpoint.product = product.display
            endpoint.version = pdu.server_text(str(document.get("Version") or ""), pdu.NAME_CHARS, 32)
            endpoint.detail += " without credentials"


async def _ask_web(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sweep: Sweep,
                   endpoint: Endpoint) -> bool:
    """One GET of the status path; False when the port does not speak HTTP. The whole answer is read
    within 2 x timeout, however slowly the server trickles it."""
    request = f"GET /system HTTP/1.0\r\nHost: {endpoint.address}\r\nUser-Agent: pacsguard-discovery\r\n\r\n"
    writer.write(request.encode("ascii"))
    data = b""
    deadline = time.monotonic() + 2 * sweep.timeout
    try:
        await asyncio.wait_for(writer.drain(), sweep.timeout)
        while len(data) < MAX_HTTP_BYTES and time.monotonic() < deadline:
            left = min(sweep.timeout, deadline - time.monotonic())
            chunk = await asyncio.wait_for(reader.read(MAX_HTTP_BYTES - len(data)), left)
            if not chunk:
                break
            data += chunk
    except (asyncio.TimeoutError, OSError):
        pass
    if not data.startswith(b"HTTP/"):
        return False
    _read_web(data, endpoint)
    return True


async def _sweep_one(address: str, port: int, sweep: Sweep, limiter: _Limiter,
                     sockets: asyncio.Semaphore) -> Endpoint | None:
    """One address and port: None when nothing accepts a connection there."""
    async with sockets:
        await limiter.wait()
        try:
            reader, writer = await _connect(address, port, sweep.timeout)
        except (OSError, asyncio.TimeoutError):
            return None
        endpoint = Endpoint(address, port, transport="plaintext")
        try:
            if port in sweep.web_ports and await _ask_web(reader, writer, sweep, endpoint):
                return endpoint
            outcome = await _ask_dicom(reader, writer, sweep, endpoint, sweep.called_ae_titles[0])
        finally:
            await _close(writer)
        if outcome in ("closed", "tls"):
            await _try_tls(sweep, endpoint, limiter)
        elif outcome == "answered":
            await _other_called_titles(sweep, endpoint, limiter)
        if outcome == "closed" and endpoint.service == "unknown":
            endpoint.detail = "closed the connection without a word, in plaintext and in TLS"
        return endpoint


def _called_unknown(endpoint: Endpoint) -> bool:
    """Refused by the service user with reason 7, "called AE title not recognised" (PS3.8 9.3.4)."""
    rejection = endpoint.rejection or {}
    return rejection.get("source") == 1 and rejection.get("reason") == 7


async def _other_called_titles(sweep: Sweep, endpoint: Endpoint, limiter: _Limiter) -> None:
    """While the called AE title is the reason of a refusal, the next default title (plaintext)."""
    for called in sweep.called_ae_titles[1:]:
        if not _called_unknown(endpoint):
            return
        await limiter.wait()
        writer = None
        try:
            reader, writer = await _connect(endpoint.address, endpoint.port, sweep.timeout)
            await _ask_dicom(reader, writer, sweep, endpoint, called)
        except (OSError, asyncio.TimeoutError):
            return
        finally:
            await _close(writer)
    if _called_unknown(endpoint):
        endpoint.accepts_any_calling_ae = None
        # dcmqrscp answers an unknown calling AE with reason 7 too: the two cannot be told apart
        tried = ", ".join(sweep.called_ae_titles)
        endpoint.detail += (f" to every called AE title tried ({tried}): it checks the called AE title or "
                            "refuses unknown calling AEs (DCMTK gives reason 7 for both)")


def _known(entries: list[dict[str, Any]]) -> dict[tuple[str, int], str]:
    """(address, port) of every endpoint the inventory lists, to its inventory name; a product's
    default ports stand in for the ports an entry leaves out."""
    listed: dict[tuple[str, int], str] = {}
    for entry in entries:
        try:
            address = str(ipaddress.ip_address(str(entry.get("address", "")).strip()))
        except ValueError:
            raise DiscoveryInputError(f"known: {entry.get('name')!r} has no IP address "
                                      f"({entry.get('address')!r})") from None
        product = entry.get("product")
        ports = entry.get("ports") or [entry.get(key) or default(product, key)
                                       for key in ("dicom_port", "http_port")]
        for port in ports:
            if port:
                listed[(address, int(port))] = str(entry.get("name") or address)
    return listed


def finding_of(endpoint: Endpoint) -> dict[str, Any] | None:
    """PACS-DISC-001 for a DICOM (or mutual-TLS) endpoint no inventory host lists."""
    if endpoint.managed or not (endpoint.is_dicom or endpoint.client_certificate_required):
        return None
    if endpoint.is_dicom:
        if endpoint.accepts_any_calling_ae:
            what = "accepts any calling AE title"
        elif _called_unknown(endpoint):
            what = "refuses the association with reason 7 to every called AE title tried"
        else:
            what = f"refuses an unknown calling AE ({endpoint.association})"
        implementation = " ".join(filter(None, (endpoint.toolkit, endpoint.implementation_class_uid,
                                                endpoint.implementation_version_name)))
        evidence = (f"{endpoint.address}:{endpoint.port} answers DICOM over {endpoint.transport}, {what}"
                    + (f", implementation {implementation}" if implementation else ""))
    else:
        evidence = (f"{endpoint.address}:{endpoint.port} speaks TLS and requires a client certificate "
                    "(most likely DICOM TLS; not confirmed without one)")
    return asdict(make_finding("PACS-DISC-001", evidence + "; no inventory host lists it"))


def inventory_of(endpoints: list[Endpoint]) -> dict[str, Any]:
    """An Ansible inventory of what was found: a host per endpoint, grouped by service, the unmanaged
    ones also in pacs_discovered_unmanaged; facts under pacs_discovery. Ansible templates an
    inventory's strings when it is used: every string in it is reduced by inert() as a last guard,
    after the sweep kept server-chosen values only in their standard shapes."""
    groups: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        name = f"{endpoint.service}-{endpoint.address.replace(':', '-')}-{endpoint.port}"
        facts = {k: v for k, v in asdict(endpoint).items() if v is not None and k not in ("address", "port")}
        host = {"ansible_host": endpoint.address, "pacs_discovery": facts}
        if endpoint.service in ("dicom", "tls"):
            host["pacs_dicom_port"] = endpoint.port
        elif endpoint.service == "web":
            host["pacs_http_port"] = endpoint.port
        kind = endpoint.service if endpoint.service in ("dicom", "tls", "web") else "other"
        group = f"pacs_discovered_{kind}"
        groups.setdefault(group, {"hosts": {}})["hosts"][name] = host
        if not endpoint.managed and endpoint.service in ("dicom", "tls"):
            groups.setdefault("pacs_discovered_unmanaged", {"hosts": {}})["hosts"][name] = {}
    return inert({"all": {"children": groups}})


# What a string written for Ansible to read may hold: no brace, no percent or hash sign, nothing a
# template (``{{``, ``{%``, ``{#``) or a YAML tag could start with.
INERT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-:/,;()=+'[]@")


def inert(value: Any) -> Any:
    """``value`` with every string (keys too) reduced to INERT_CHARS, other characters as '?'."""
    if isinstance(value, str):
        return "".join(c if c in INERT_CHARS else "?" for c in value)
    if isinstance(value, dict):
        return {inert(k): inert(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [inert(v) for v in value]
    return value


async def _sweep(sweep: Sweep, addresses: list[str]) -> list[Endpoint]:
    limiter, sockets = _Limiter(sweep.rate), asyncio.Semaphore(sweep.concurrency)
    jobs = [_sweep_one(a, p, sweep, limiter, sockets) for a in addresses for p in sweep.ports]
    return [e for e in await asyncio.gather(*jobs) if e is not None]


def known_from_policies(policies: dict[str, Any]) -> list[dict[str, Any]]:
    """The endpoints the inventory lists, from the pacs_policy batch (node to its policy, errors and
    warnings): every node whose policy resolved, at its address and the ports its plan serves."""
    return [{"name": name, **node["policy"]["plan"]["endpoint"]}
            for name, node in sorted(policies.items())
            if isinstance(node, dict) and isinstance(node.get("policy"), dict)]


def endpoint_lines(endpoints: list[dict[str, Any]]) -> list[str]:
    """One line per endpoint found, for people: where, what answers, whether the inventory lists it."""
    return [f"{e['address']}:{e['port']} {e['service']} "
            + (f"(listed: {e['inventory_name']})" if e["managed"] else "(not in the inventory)")
            + f" {e['detail']}" for e in endpoints]


def run(sweep: Sweep) -> dict[str, Any]:
    """Sweep, judge and summarise; the module's result."""
    sweep.validate()
    if not sweep.calling_ae_title:
        sweep.calling_ae_title = "PG-DISC-" + secrets.token_hex(2).upper()
    addresses = sweep.addresses()
    known = _known(sweep.known)
    started = time.monotonic()
    endpoints = asyncio.run(_sweep(sweep, addresses))
    for endpoint in endpoints:
        name = known.get((endpoint.address, endpoint.port))
        endpoint.managed, endpoint.inventory_name = name is not None, name
    endpoints.sort(key=lambda e: (ipaddress.ip_address(e.address), e.port))
    findings = [f for f in map(finding_of, endpoints) if f]
    count = {kind: sum(1 for e in endpoints if e.service == kind) for kind in ("dicom", "tls", "web")}
    summary = {"addresses": len(addresses), "ports": len(sweep.ports),
               "probed": len(addresses) * len(sweep.ports), "open": len(endpoints), **count,
               "accepting_any_calling_ae": sum(1 for e in endpoints if e.accepts_any_calling_ae),
               "unmanaged": len(findings), "calling_ae_title": sweep.calling_ae_title,
               "duration": round(time.monotonic() - started, 3)}
    found = [asdict(e) for e in endpoints]
    return {"endpoints": found, "findings": findings, "summary": summary,
            "inventory": inventory_of(endpoints), "lines": endpoint_lines(found)}


__all__ = ["DEFAULT_PORTS", "DICOM_PORTS", "PRODUCTS", "WEB_PORTS", "DiscoveryInputError", "Endpoint",
           "Sweep", "associate_rq", "endpoint_lines", "known_from_policies", "run"]
