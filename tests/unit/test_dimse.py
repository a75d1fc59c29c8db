"""The hand-framed DIMSE requests against pynetdicom's own decoder, and responses pynetdicom encodes
read back by pacsguard: the fields the probe's checks send and read mean what PS3.7 says."""

from __future__ import annotations

import io
import struct

import pytest
from pydicom.dataset import Dataset
from pynetdicom.dimse_messages import C_FIND_RSP, C_MOVE_RQ
from pynetdicom.dimse_primitives import C_FIND, C_MOVE
from pynetdicom.dsutils import decode, encode
from pynetdicom.pdu import A_ASSOCIATE_RQ, P_DATA_TF
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND_MODEL
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove as MOVE_MODEL

from pacsguard import dimse, pdu


def _decoded(command: bytes) -> Dataset:
    return decode(io.BytesIO(command), True, True)


@pytest.mark.parametrize(("field", "with_dataset", "destination"), [
    (dimse.C_ECHO, False, None), (dimse.C_FIND, True, None), (dimse.C_MOVE, True, "PG-ROGUE")])
def test_a_request_command_is_what_pynetdicom_reads(field, with_dataset, destination):
    ds = _decoded(dimse.command(field, b"1.2.840.10008.5.1.4.1.2.2.1", 7, with_dataset, destination))
    assert ds.CommandField == field and ds.MessageID == 7
    assert ds.AffectedSOPClassUID == "1.2.840.10008.5.1.4.1.2.2.1"
    assert (ds.CommandDataSetType != 0x0101) is with_dataset
    assert ("Priority" in ds) is (field != dimse.C_ECHO)
    assert ds.get("MoveDestination", None) == destination
    # the group length counts the elements after it
    encoded = dimse.command(field, b"1.2.840.10008.5.1.4.1.2.2.1", 7, with_dataset, destination)
    assert struct.unpack_from("<I", encoded, 8)[0] == len(encoded) - 12


def test_a_p_data_pdu_carries_one_last_fragment_pynetdicom_reads():
    payload = dimse.command(dimse.C_ECHO, b"1.2.840.10008.1.1", 1, False)
    message = P_DATA_TF()
    message.decode(dimse.p_data(3, payload, True))
    [item] = message.presentation_data_value_items
    assert item.context_id == 3 and item.presentation_data_value[0] == 0x03
    assert item.presentation_data_value[1:] == payload


def _pynetdicom_pdus(message, context_id: int, max_pdu: int) -> list[bytes]:
    """The P-DATA-TF PDUs pynetdicom sends for ``message`` (its P-DATA primitives, encoded)."""
    encoded = []
    for primitive in message.encode_msg(context_id, max_pdu):
        tf = P_DATA_TF()
        tf.from_primitive(primitive)
        encoded.append(tf.encode())
    return encoded


def test_a_pending_response_with_its_dataset_in_fragments_is_read_and_the_dataset_dropped():
    primitive = C_FIND()
    primitive.MessageIDBeingRespondedTo = 5
    primitive.AffectedSOPClassUID = FIND_MODEL
    primitive.Status = 0xFF00
    identifier = Dataset()
    identifier.StudyInstanceUID = "1.2.3"
    identifier.StudyDescription = "X" * 60
    identifier.PatientID = "Y" * 60
    primitive.Identifier = io.BytesIO(encode(identifier, True, True))
    message = C_FIND_RSP()
    message.primitive_to_message(primitive)
    pdus = _pynetdicom_pdus(message, 1, 64)   # small PDUs: command and dataset in several fragments
    assert len(pdus) > 3
    queue = [(pdu.HEADER.unpack_from(raw)[0], raw[6:]) for raw in pdus]
    values = dimse.read_response(lambda: queue.pop(0))
    assert dimse.is_response_to(values, dimse.C_FIND) and dimse.status_of(values) == 0xFF00
    assert queue == []   # the whole dataset was read, and nothing of it is returned
    assert set(values) <= {0x0000, 0x0100, 0x0120, 0x0800, 0x0900}


def test_an_abort_instead_of_a_response_is_said_so():
    queue = [(pdu.ABORT, bytes(4))]
    with pytest.raises(dimse.Aborted):
        dimse.read_response(lambda: queue.pop(0))


def test_command_fragments_without_end_are_not_buffered():
    """A server that sends command fragments and never the last one: refused past the cap, not
    read into memory until the deadline."""
    fragment = dimse.p_data(1, bytes(8000), True)
    pdv = bytearray(fragment[6:])
    pdv[5] = 0x01                      # a command fragment, not the last one
    sent = []

    def endless():
        sent.append(1)
        return 0x04, bytes(pdv)

    with pytest.raises(ConnectionError, match="command set over"):
        dimse.read_response(endless)
    assert len(sent) * 8000 <= dimse.MAX_COMMAND_BYTES + 8000


def test_a_request_proposes_every_context_with_odd_ids_and_reads_which_were_accepted():
    contexts = ((pdu.VERIFICATION, (pdu.IMPLICIT_LE,)),
                (FIND_MODEL.encode(), (pdu.IMPLICIT_LE, dimse.EXPLICIT_LE)))
    request = A_ASSOCIATE_RQ()
    request.decode(pdu.associate_rq("ARCHIVE", "PG-ROGUE", b"PACSGUARD_TEST", contexts))
    proposed = {c.context_id: (str(c.abstract_syntax), [str(s) for s in c.transfer_syntax])
                for c in request.presentation_context}
    assert proposed == {1: ("1.2.840.10008.1.1", ["1.2.840.10008.1.2"]),
                        3: (str(FIND_MODEL), ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"])}


def test_move_request_names_the_calling_ae_as_destination_like_pynetdicom():
    primitive = C_MOVE()
    primitive.MessageID = 1
    primitive.AffectedSOPClassUID = MOVE_MODEL
    primitive.MoveDestination = "PG-ROGUE"
    primitive.Identifier = io.BytesIO(b"")
    theirs = C_MOVE_RQ()
    theirs.primitive_to_message(primitive)
    ours = _decoded(dimse.command(dimse.C_MOVE, MOVE_MODEL.encode(), 1, True, "PG-ROGUE"))
    assert ours.MoveDestination == theirs.command_set.MoveDestination
