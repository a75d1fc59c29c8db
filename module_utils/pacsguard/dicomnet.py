"""DICOM association attempts for the probe, each bounded in time and size, each summed up as an
Outcome.

Every attempt is spoken over the probe's own socket (pdu.py, dimse.py: the association, C-ECHO,
C-FIND, C-STORE of the intrusive checks and the no-match requests); pynetdicom and pydicom give the
SOP class UIDs and encode the requests' datasets, through their public interfaces.

Every wait has a timeout (connect, TLS handshake, each answer however it trickles), and each attempt
also runs under a deadline of its own (bounded.run) that a server trickling bytes cannot stretch: at
most ``timeout`` x (3 + number of DIMSE checks) seconds. What a server controls is capped too: the
length of a PDU it announces (MAX_PDU_BYTES) and the number of C-FIND responses counted
(MAX_FIND_RESPONSES).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

try:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ImplicitVRLittleEndian, generate_uid
    from pynetdicom.dsutils import encode
    from pynetdicom.sop_class import (
        ModalityWorklistInformationFind,
        SecondaryCaptureImageStorage,
        StudyRootQueryRetrieveInformationModelFind,
        StudyRootQueryRetrieveInformationModelGet,
        StudyRootQueryRetrieveInformationModelMove,
        Verification,
    )
except ImportError:
    # The module reports missing_required_lib with this; importing the package stays possible.
    LIBRARY_IMPORT_ERROR: str | None = traceback.format_exc()
    # names used at import time below
    ImplicitVRLittleEndian = None
    StudyRootQueryRetrieveInformationModelFind = StudyRootQueryRetrieveInformationModelGet = None
    StudyRootQueryRetrieveInformationModelMove = ModalityWorklistInformationFind = None
    SecondaryCaptureImageStorage = Verification = None
else:
    LIBRARY_IMPORT_ERROR = None

from . import bounded, dimse, pdu
from .tlsfacts import is_refusal

_PENDING = (0xFF00, 0xFF01)
# The largest PDU the probe reads. It offers a maximum PDU length of 16 KiB (pynetdicom's default);
# an A-ASSOCIATE-AC with many contexts stays far below this. A server announcing more is hostile.
MAX_PDU_BYTES = 1024 * 1024
# The implementation version name of the association-only requests (pdu.py has the class UID).
IMPLEMENTATION_VERSION = b"PACSGUARD_PROBE"
# C-FIND responses counted before the probe stops reading (the finding needs a count, not all).
MAX_FIND_RESPONSES = 1000


@dataclass
class Outcome:
    """How the peer answered an A-ASSOCIATE-RQ.

    kind is one of: accepted, rejected, aborted (peer or local abort after connecting),
    timeout, unreachable (TCP or TLS never set up).
    """

    kind: str
    detail: str
    calling_ae: str
    called_ae: str
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    dimse: dict[str, Any] = field(default_factory=dict)
    # the TLS alert by which the server refused the session, when that is how it ended
    tls_refusal: str = ""
    # the first byte of the server's answer when it was not a PDU the probe reads (a TLS record type
    # 0x15 or 0x16 when a TLS server answered plaintext, anything else is not DICOM nor TLS)
    foreign_answer: int | None = None

    @property
    def answered(self) -> bool:
        """True when the peer spoke DICOM back (A-ASSOCIATE-AC or -RJ)."""
        return self.kind in ("accepted", "rejected")

    def evidence(self) -> str:
        """One line naming the association's result, for findings and check details."""
        return f"{self.detail} to calling AE {self.calling_ae} (called AE {self.called_ae})"


@dataclass(frozen=True)
class Transport:
    """Where and how to connect: plaintext when ``tls`` is None."""

    host: str
    port: int
    timeout: float
    bind_address: str | None = None
    tls: ssl.SSLContext | None = None
    server_name: str | None = None
    # wait up to REFUSAL_WAIT after the TLS handshake for the server's refusal before sending
    # anything: under TLS 1.3 a server refuses a client certificate (or its absence) after the
    # handshake, and a request sent before that alert arrives makes the server's close a reset
    # that destroys the alert (seen with Orthanc), leaving nothing observed
    await_refusal: bool = False


def associate(
    transport: Transport,
    calling_ae: str,
    called_ae: str,
    dimse: tuple[str, ...] = (),
) -> Outcome:
    """Request an association and, when accepted, run the named DIMSE checks before releasing.

    dimse names checks of _RAW_CHECKS ("echo", "find", "store", and the no-match requests "find_none",
    "get", "move", "find_worklist"); their results land in Outcome.dimse. The whole
    attempt ends within ``timeout`` x (3 + len(dimse)) seconds, whatever the server does.
    """
    bounded.ensure_running()
    budget = transport.timeout * (3 + len(dimse))

    def attempt() -> Outcome:
        return _associate_raw(transport, calling_ae, called_ae, dimse)

    try:
        outcome, notes = bounded.within(attempt, budget)
    except bounded.Overrun:
        return Outcome("timeout", f"the exchange did not end within {budget:g} s (the server kept "
                       "it open without completing it)", calling_ae, called_ae)
    if notes:
        outcome.detail = f"{outcome.detail or 'connection closed'} ({'; '.join(notes)})"
    return outcome


def _associate_raw(transport: Transport, calling_ae: str, called_ae: str, dimse: tuple[str, ...]) -> Outcome:
    """An association over a plain (or TLS) socket (pdu.py, dimse.py), and each check of ``dimse``
    on it, without pynetdicom's two polling threads and timers per attempt (which were most of the
    probe's cost). Connect and TLS handshake within ``timeout``, each answer within ``timeout``
    however it trickles; a request the server refuses by an abort gets the next check a fresh
    association (Orthanc aborts a refused request)."""
    contexts = _raw_contexts(dimse)
    outcome, session = _open_raw(transport, calling_ae, called_ae, contexts)
    if session is None:
        return outcome
    if not session.contexts:
        outcome.dimse = {name: {"allowed": False, "offered": False, "status": "not offered"}
                         for name in dimse}
    for name in dimse if session.contexts else ():
        if session is None:
            session = _open_raw(transport, calling_ae, called_ae, contexts)[1]
        if session is None:
            outcome.dimse[name] = {"allowed": False, "status": "association not re-established"}
            continue
        outcome.dimse[name] = _RAW_CHECKS[name](session)
        if not session.alive:
            session = None
    if session is not None:
        session.release()
    return outcome


def _associate_only(transport: Transport, calling_ae: str, called_ae: str) -> Outcome:
    """An association that asks for nothing once accepted (_associate_raw with no check)."""
    return _associate_raw(transport, calling_ae, called_ae, ())


def _open_raw(transport: Transport, calling_ae: str, called_ae: str,
              contexts: tuple[tuple[bytes, tuple[bytes, ...]], ...]) -> tuple[Outcome, _Session | None]:
    """Connect, send the A-ASSOCIATE-RQ, read the answer: the Outcome, and the open session when
    the server accepted (the caller releases it)."""
    outcome = Outcome("aborted", "", calling_ae, called_ae)
    try:
        conn = _connect(transport)
    except (OSError, ssl.SSLError) as exc:
        outcome.kind, outcome.detail = "unreachable", "no TCP/TLS connection"
        _note_refusal(outcome, exc)
        return outcome, None
    started = time.monotonic()
    try:
        conn.sendall(pdu.associate_rq(called_ae, calling_ae, IMPLEMENTATION_VERSION, contexts))
        kind, body = _read_pdu(conn, started + transport.timeout)
    except socket.timeout:  # noqa: UP041 - TimeoutError from Python 3.10 only, an OSError before
        outcome.kind = "timeout"
        outcome.detail = f"no A-ASSOCIATE answer within {transport.timeout:g} s"
        return outcome, _closed(conn)
    except PduOverCap as exc:
        outcome.detail = str(exc)
        return outcome, _closed(conn)
    except (OSError, ssl.SSLError, ConnectionError) as exc:
        outcome.detail = "connection closed before any A-ASSOCIATE answer"
        _note_refusal(outcome, exc)
        return outcome, _closed(conn)
    reject = pdu.read_reject(body) if kind == pdu.ASSOCIATE_RJ else None
    if kind == pdu.ASSOCIATE_AC:
        uid, version, context = pdu.read_accept(body)
        outcome.kind = "accepted"
        outcome.detail = ("A-ASSOCIATE-AC" if context
                          else "A-ASSOCIATE-AC (no requested presentation context)")
        outcome.implementation_class_uid, outcome.implementation_version_name = uid, version
        accepted = pdu.accepted_contexts(body)
        by_syntax = {contexts[(cid - 1) // 2][0].decode(): (cid, syntax) for cid, syntax in accepted.items()
                     if cid % 2 and (cid - 1) // 2 < len(contexts) and syntax in _RAW_SYNTAXES}
        return outcome, _Session(conn, by_syntax, calling_ae, transport.timeout)
    if reject is not None:
        result, source, reason = reject
        outcome.kind = "rejected"
        outcome.detail = f"A-ASSOCIATE-RJ (result {result}, source {source}, reason {reason})"
    elif kind == pdu.ABORT:
        outcome.detail = "A-ABORT from the peer before any A-ASSOCIATE answer"
    else:
        outcome.detail = f"answered with PDU type 0x{kind:02x}, not an A-ASSOCIATE answer"
        outcome.foreign_answer = kind
    return outcome, _closed(conn)


def _note_refusal(outcome: Outcome, exc: BaseException) -> None:
    """Keep the TLS alert by which the server refused the session (a refusal observed), if any."""
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and reason and is_refusal(reason):
        outcome.tls_refusal = reason
        outcome.detail += f" (TLS alert {reason})"


def _closed(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.close()


class _Session:
    """An accepted association over a socket: its accepted contexts by abstract syntax, and the
    requests of the checks (one at a time, each answer read within ``timeout``)."""

    def __init__(self, conn: socket.socket, contexts: dict[str, tuple[int, bytes]], calling_ae: str,
                 timeout: float) -> None:
        self.conn, self.contexts, self.calling_ae, self.timeout = conn, contexts, calling_ae, timeout
        self.alive = True
        self.aborted = False
        self._message_id = 0

    def ask(self, field: int, sop_class: str, identifier: Dataset | None = None,
            limit: int = 0, instance: str | None = None) -> tuple[int | None, int]:
        """Send one request and read its responses up to the final one: (final status or None,
        pending responses). With ``limit``, stops (and aborts) after that many pending ones;
        ``instance`` is the affected SOP instance (C-STORE)."""
        context_id, syntax = self.contexts[sop_class]
        self._message_id += 1
        destination = self.calling_ae if field == dimse.C_MOVE else None
        pending = 0
        try:
            request = dimse.p_data(context_id, dimse.command(
                field, sop_class.encode(), self._message_id, identifier is not None, destination,
                instance.encode() if instance else None), True)
            if identifier is not None:
                encoded = encode(identifier, syntax == pdu.IMPLICIT_LE, True) or b""
                request += dimse.p_data(context_id, encoded, False)
            self.conn.sendall(request)
            while True:
                values = dimse.read_response(
                    lambda: _read_pdu(self.conn, time.monotonic() + self.timeout))
                if not dimse.is_response_to(values, field):
                    continue  # a sub-operation request (C-GET's C-STORE): nothing to answer here
                status = dimse.status_of(values)
                if status not in dimse.PENDING:
                    return status, pending
                pending += 1
                if limit and pending >= limit:
                    self.abort()
                    return None, pending
        except dimse.Aborted:
            self.aborted = True
        except (OSError, ssl.SSLError, ConnectionError, socket.timeout):  # noqa: UP041
            pass
        self._end()
        return None, pending

    def status_text(self, code: int | None) -> str:
        """The DIMSE status in hex, or what happened instead (an abort, no answer)."""
        if code is not None:
            return f"0x{code:04X}"
        return "A-ABORT (no DIMSE status)" if self.aborted else "no DIMSE status"

    def abort(self) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            self.conn.sendall(pdu.ABORT_RQ)
        self._end()

    def release(self) -> None:
        _release(self.conn, self.timeout)
        self._end()

    def _end(self) -> None:
        self.alive = False
        _closed(self.conn)


def _connect(transport: Transport) -> socket.socket:
    """A connected socket (TLS when the transport says so) under the running step's deadline."""
    source = (transport.bind_address, 0) if transport.bind_address else None
    raw = socket.create_connection((transport.host, transport.port), timeout=transport.timeout,
                                   source_address=source)
    bounded.register(raw)
    if transport.tls is None:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return raw
    try:
        conn = transport.tls.wrap_socket(raw, server_hostname=transport.server_name)
    except BaseException:
        raw.close()
        raise
    bounded.register(conn)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if transport.await_refusal:
        _await_refusal(conn, min(transport.timeout, REFUSAL_WAIT))
        conn.settimeout(transport.timeout)
    return conn


# How long a TLS session is watched for the server's refusal before the first request (a refusal
# on loopback arrives in milliseconds; only a server that accepts the session costs the wait).
REFUSAL_WAIT = 1.0


def _await_refusal(conn: ssl.SSLSocket, wait: float) -> None:
    """Read nothing for ``wait`` seconds: an alert raises ssl.SSLError (the refusal), an end of
    stream or a byte before our request is an OSError (the server did not behave as DICOM)."""
    conn.settimeout(wait)
    try:
        early = conn.recv(1)
    except socket.timeout:  # noqa: UP041 - TimeoutError from Python 3.10 only, an OSError before
        return  # the session stands
    raise ConnectionError("the server closed the TLS session before any request" if not early
                          else "the server sent data before any request")


def _read_pdu(conn: socket.socket, deadline: float) -> tuple[int, bytes]:
    """One PDU (type, body); one that announces more than MAX_PDU_BYTES is not read (the connection
    is closed, and the step's report says why)."""
    kind, _reserved, length = pdu.HEADER.unpack(pdu.recv_exactly(conn, pdu.HEADER.size, deadline))
    if length > MAX_PDU_BYTES:
        registry = bounded.current()
        if registry is not None:
            registry.note(f"the server announced a PDU of {length} bytes (the probe reads at most "
                          f"{MAX_PDU_BYTES})")
        raise PduOverCap(f"the answer announced a PDU of {length} bytes, over the cap (not read)")
    return kind, pdu.recv_exactly(conn, length, deadline)


class PduOverCap(ConnectionError):
    """An answer announced a PDU larger than MAX_PDU_BYTES; it was not read."""


def _release(conn: socket.socket, timeout: float) -> None:
    """A-RELEASE-RQ, and the A-RELEASE-RP waited for within ``timeout`` (a server that does not
    answer it changes nothing: the association was already judged)."""
    with contextlib.suppress(OSError, ssl.SSLError, ConnectionError):
        conn.sendall(pdu.RELEASE_RQ)
        _read_pdu(conn, time.monotonic() + timeout)


def _not_offered(name: str) -> dict[str, Any]:
    return {"allowed": False, "offered": False,
            "status": f"not offered (the server accepted no presentation context for {name})"}


# Services asked for with a no-match request (_raw_no_match), by their information model.
_NO_MATCH = {
    "find_none": StudyRootQueryRetrieveInformationModelFind,
    "get": StudyRootQueryRetrieveInformationModelGet,
    "move": StudyRootQueryRetrieveInformationModelMove,
    "find_worklist": ModalityWorklistInformationFind,
}
# DIMSE statuses that refuse the request itself (PS3.7 Annex C: not authorised, SOP class not
# supported).
_REFUSED = (0x0124, 0x0122)


# The checks spoken over a socket (_associate_raw), each with the context it needs.
def _raw_echo(session: _Session) -> dict[str, Any]:
    if Verification not in session.contexts:
        return _not_offered("Verification")
    code, _pending = session.ask(dimse.C_ECHO, Verification)
    return {"allowed": code == 0x0000, "status": session.status_text(code)}


def _raw_find(session: _Session) -> dict[str, Any]:
    """Universal C-FIND at STUDY level (Study Root): counts matches, keeps none of them (the
    identifier asks only for the Study Instance UID; counting stops at MAX_FIND_RESPONSES)."""
    if StudyRootQueryRetrieveInformationModelFind not in session.contexts:
        return _not_offered("Study Root C-FIND")
    query = _universal_study_query()
    code, matches = session.ask(dimse.C_FIND, StudyRootQueryRetrieveInformationModelFind, query,
                                limit=MAX_FIND_RESPONSES)
    if matches >= MAX_FIND_RESPONSES:
        return {"allowed": True, "matches": matches, "status": f"stopped after {matches} pending responses"}
    return {"allowed": code == 0x0000 or matches > 0, "matches": matches, "status": session.status_text(code)}


_RAW_FIELDS = {"find_none": dimse.C_FIND, "get": dimse.C_GET, "move": dimse.C_MOVE,
               "find_worklist": dimse.C_FIND}


def _raw_store(session: _Session) -> dict[str, Any]:
    """C-STORE of a synthetic, clearly labelled probe object (never real patient data)."""
    if SecondaryCaptureImageStorage not in session.contexts:
        return _not_offered("Secondary Capture storage")
    probe_object = _probe_object()
    code, _pending = session.ask(dimse.C_STORE, SecondaryCaptureImageStorage, probe_object,
                                 instance=str(probe_object.SOPInstanceUID))
    return {"allowed": code == 0x0000, "status": session.status_text(code)}


def _raw_no_match(name: str) -> Any:
    """A request of service ``name`` for a study that cannot exist (a fresh random UID): it reads
    and moves nothing, and answers whether the node processes this service for the calling AE (any
    DIMSE status but 0x0124 "not authorised" and 0x0122 "SOP class not supported" means it does; a
    refusing Orthanc aborts without a status)."""
    def request(session: _Session) -> dict[str, Any]:
        model = _NO_MATCH[name]
        if model not in session.contexts:
            return _not_offered(str(model.name))
        code, _pending = session.ask(_RAW_FIELDS[name], model, _no_match_query(name))
        return {"allowed": code is not None and code not in _REFUSED, "status": session.status_text(code)}
    return request


def _universal_study_query() -> Dataset:
    """Every study, by its Study Instance UID alone (only the number of matches is kept)."""
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = ""
    return query


def _no_match_query(name: str) -> Dataset:
    """The identifier of a request for a study (or worklist patient) that cannot exist."""
    query = Dataset()
    if name == "find_worklist":
        query.PatientID = "PGNONE" + generate_uid()[-10:]
        query.ScheduledProcedureStepSequence = []
    else:
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = generate_uid()
    return query


def _probe_object() -> Dataset:
    """An 8x8 Secondary Capture image whose patient is obviously the probe itself."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = "PACSGUARD^PROBE"
    ds.PatientID = "PACSGUARD-PROBE"
    ds.Modality = "OT"
    ds.ConversionType = "SYN"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(64)
    return ds


_RAW_CHECKS = {"echo": _raw_echo, "find": _raw_find, "store": _raw_store,
               **{name: _raw_no_match(name) for name in _NO_MATCH}}
_RAW_SYNTAXES = (pdu.IMPLICIT_LE, dimse.EXPLICIT_LE)


def _raw_contexts(checks: tuple[str, ...]) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """Verification (always, as pynetdicom's path proposes it), then the model of each check."""
    if not checks:
        return pdu.VERIFICATION_ONLY
    models = {"echo": Verification, "find": StudyRootQueryRetrieveInformationModelFind,
              "store": SecondaryCaptureImageStorage, **_NO_MATCH}
    wanted = [str(Verification)] + [str(models[name]) for name in checks]
    return tuple((uid.encode(), _RAW_SYNTAXES) for uid in dict.fromkeys(wanted))
