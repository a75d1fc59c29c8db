"""The few DIMSE messages the probe's checks send, framed by hand in P-DATA-TF PDUs (PS3.7 9.3, 9.1;
PS3.8 9.3.5), and the responses read back only as far as the checks need: the command field and
the status of each response, datasets skipped unread.

The checks ask one question per service (C-ECHO; a universal STUDY-level C-FIND whose matches are
counted; C-STORE of a synthetic probe object; C-FIND, C-GET, C-MOVE and worklist C-FIND for a study
that cannot exist). A pynetdicom
association spends two polling threads and its timers on each; on a probe of many endpoints those
are most of the cost. The command set is always Implicit VR Little Endian (PS3.7 6.3.1); a
request's identifier is encoded by pynetdicom (dsutils.encode) in the transfer syntax the server
accepted. Nothing here keeps what a response's dataset holds: no patient data is read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from . import pdu

EXPLICIT_LE = b"1.2.840.10008.1.2.1"
# Command fields (PS3.7 E.1): requests, and each response is the request's with bit 15 set.
C_ECHO, C_FIND, C_GET, C_MOVE, C_STORE = 0x0030, 0x0020, 0x0010, 0x0021, 0x0001
RESPONSE = 0x8000
PENDING = (0xFF00, 0xFF01)
NO_DATASET = 0x0101
# The most command bytes read for one response: a command set is a few hundred bytes; a server
# that sends command fragments without end is not buffered (its datasets are never kept at all).
MAX_COMMAND_BYTES = 64 * 1024
_ELEMENT = struct.Struct("<HHI")
_MEDIUM = 0x0000
_P_DATA = 0x04


def _element(element: int, value: bytes) -> bytes:
    """One command element (group 0000) in Implicit VR Little Endian, padded to an even length."""
    if len(value) % 2:
        value += b"\x00"
    return _ELEMENT.pack(0x0000, element, len(value)) + value


def _us(value: int) -> bytes:
    return struct.pack("<H", value)


def command(field: int, sop_class: bytes, message_id: int, with_dataset: bool,
            move_destination: str | None = None, affected_instance: bytes | None = None) -> bytes:
    """A request's command set (PS3.7 9.3): affected SOP class, command field, message ID, move
    destination (C-MOVE), priority (not for C-ECHO), data set type, affected SOP instance (C-STORE);
    the group length first."""
    body = _element(0x0002, sop_class) + _element(0x0100, _us(field)) + _element(0x0110, _us(message_id))
    if move_destination is not None:
        body += _element(0x0600, move_destination.ljust(16).encode("ascii"))
    if field != C_ECHO:
        body += _element(0x0700, _us(_MEDIUM))
    body += _element(0x0800, _us(0x0001 if with_dataset else NO_DATASET))
    if affected_instance is not None:
        body += _element(0x1000, affected_instance)
    return _element(0x0000, struct.pack("<I", len(body))) + body


def p_data(context_id: int, payload: bytes, is_command: bool) -> bytes:
    """One P-DATA-TF holding ``payload`` whole, as the last fragment of a command or a dataset."""
    control = (0x01 if is_command else 0x00) | 0x02
    pdv = struct.pack(">IBB", len(payload) + 2, context_id, control) + payload
    return pdu.HEADER.pack(_P_DATA, 0, len(pdv)) + pdv


def read_command(data: bytes) -> dict[int, int]:
    """The US elements of a command set (command field, status, data set type ...) by element
    number; others are skipped. A truncated command yields what was complete."""
    values: dict[int, int] = {}
    offset = 0
    while offset + _ELEMENT.size <= len(data):
        group, element, length = _ELEMENT.unpack_from(data, offset)
        offset += _ELEMENT.size
        if group == 0x0000 and length == 2 and offset + 2 <= len(data):
            values[element] = struct.unpack_from("<H", data, offset)[0]
        offset += length
    return values


class Aborted(Exception):
    """The server sent an A-ABORT (or asked to release) instead of a response."""


def read_response(read_pdu: Callable[[], tuple[int, bytes]]) -> dict[int, int]:
    """The next response's command (read_command), its dataset, if any, read and dropped.

    ``read_pdu`` returns the next PDU (type, body) within the caller's bounds. Raises Aborted on an
    A-ABORT or A-RELEASE-RQ, ConnectionError on any other PDU that is not P-DATA-TF or on a command
    set longer than MAX_COMMAND_BYTES.
    """
    command_bytes = bytearray()
    values: dict[int, int] | None = None
    while True:
        kind, body = read_pdu()
        if kind in (pdu.ABORT, 0x05):
            raise Aborted("A-ABORT" if kind == pdu.ABORT else "A-RELEASE-RQ")
        if kind != _P_DATA:
            raise ConnectionError(f"PDU type 0x{kind:02x} where a response was due")
        offset = 0
        while offset + 6 <= len(body):
            length = struct.unpack_from(">I", body, offset)[0]
            control = body[offset + 5]
            fragment = body[offset + 6:offset + 4 + length]
            offset += 4 + length
            if control & 0x01:
                command_bytes += fragment
                if len(command_bytes) > MAX_COMMAND_BYTES:
                    raise ConnectionError(f"a command set over {MAX_COMMAND_BYTES} bytes")
                if control & 0x02:
                    values = read_command(bytes(command_bytes))
                    if values.get(0x0800, NO_DATASET) == NO_DATASET:
                        return values
            elif values is not None and control & 0x02:
                return values


def status_of(values: dict[int, int]) -> int | None:
    """The response's status (0000,0900), None when it has none."""
    return values.get(0x0900)


def is_response_to(values: dict[int, int], field: int) -> bool:
    return values.get(0x0100) == field | RESPONSE
