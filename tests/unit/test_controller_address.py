"""The controller's own address toward a node (pacs_firewall admits it so that a run cannot lock the
controller out), asked of the kernel without a packet and without a command."""

from __future__ import annotations

import socket

import pytest

from pacsguard.controllertasks import source_address


def test_loopback_is_reached_from_loopback():
    assert source_address("127.0.0.1") == "127.0.0.1"
    assert source_address("127.0.0.5") == "127.0.0.1"


def test_a_non_local_destination_is_reached_from_an_address_of_this_machine():
    found = source_address("192.0.2.31")  # TEST-NET-1: routed by the default route, never sent to
    if not found:
        pytest.skip("this machine has no default IPv4 route")
    # an address this machine holds: binding to it works
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as bound:
        bound.bind((found, 0))


@pytest.mark.parametrize("destination", ["", "pacs.example", "10.0.0.0/8", "None"])
def test_not_an_address_gives_nothing(destination):
    assert source_address(destination) == ""
