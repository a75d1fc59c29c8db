"""The hand-built PDUs against pynetdicom's own encoder and decoder: what pacsguard sends, pynetdicom
reads back; what pynetdicom sends, pacsguard reads the way the standard says."""

from __future__ import annotations

import pytest
from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RJ, A_ASSOCIATE_RQ
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
    MaximumLengthNotification,
)
from pynetdicom.presentation import PresentationContext

from pacsguard import discovery, pdu


def test_the_request_is_a_verification_association_pynetdicom_reads_back():
    request = A_ASSOCIATE_RQ()
    request.decode(pdu.associate_rq("ANY-SCP", "PG-DISC-1234", b"PACSGUARD_TEST"))
    assert request.called_ae_title == "ANY-SCP" and request.calling_ae_title == "PG-DISC-1234"
    assert [str(c.abstract_syntax) for c in request.presentation_context] == ["1.2.840.10008.1.1"]
    assert request.user_information.implementation_class_uid == pdu.IMPLEMENTATION_CLASS_UID.decode()
    assert request.user_information.implementation_version_name == "PACSGUARD_TEST"
    assert request.user_information.maximum_length == pdu.MAX_RECEIVE
    # discovery's request is the same one, under its own version name
    assert discovery.associate_rq("A", "B") == pdu.associate_rq("A", "B", discovery.IMPLEMENTATION_VERSION)


def _accept(result: int, uid: str = "1.2.276.0.7230010.3.0.3.6.7", version: str = "OFFIS_DCMTK_367") -> bytes:
    primitive = A_ASSOCIATE()
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_ae_title = "PG-PROBE"
    primitive.called_ae_title = "ARCHIVE"
    context = PresentationContext()
    context.context_id = 1
    context.abstract_syntax = "1.2.840.10008.1.1"
    context.transfer_syntax = ["1.2.840.10008.1.2"]
    context.result = result
    primitive.presentation_context_definition_results_list = [context]
    length, klass, name = (MaximumLengthNotification(), ImplementationClassUIDNotification(),
                           ImplementationVersionNameNotification())
    length.maximum_length_received = 16382
    klass.implementation_class_uid = uid
    name.implementation_version_name = version
    primitive.user_information = [length, klass, name]
    primitive.result = 0
    message = A_ASSOCIATE_AC()
    message.from_primitive(primitive)
    encoded = message.encode()
    return encoded[6:]


@pytest.mark.parametrize(("result", "accepted"), [(0, True), (3, False), (4, False)])
def test_an_accept_is_read_for_its_implementation_and_its_context(result, accepted):
    uid, version, context_accepted = pdu.read_accept(_accept(result))
    assert (uid, version, context_accepted) == ("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367", accepted)


def test_server_chosen_text_outside_its_shape_is_dropped():
    uid, version, _ = pdu.read_accept(_accept(0, uid="1.2.3", version="{{ x }}"))
    assert (uid, version) == ("1.2.3", None)


def test_a_reject_is_read_as_result_source_reason_and_a_truncated_one_as_none():
    primitive = A_ASSOCIATE()
    primitive.result, primitive.result_source, primitive.diagnostic = 1, 1, 3
    message = A_ASSOCIATE_RJ()
    message.from_primitive(primitive)
    assert pdu.read_reject(message.encode()[6:]) == (1, 1, 3)
    assert pdu.read_reject(b"\x00\x01") is None


def test_items_stop_at_a_truncation():
    data = bytes([0x10, 0, 0, 3]) + b"abc" + bytes([0x20, 0, 0, 9]) + b"short"
    assert pdu.items(data) == [(0x10, b"abc"), (0x20, b"short")]
