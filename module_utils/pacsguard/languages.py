"""What each configuration language pacsguard writes can carry, checked before any host changes.

Inventory values end up in stunnel's INI-like files, dcmqrscp.cfg, nftables rulesets, systemd units
and Orthanc's JSON. Each language has characters that end a value and start a new directive (a
newline in stunnel, a comma or parenthesis in dcmqrscp.cfg, a brace in nft); a value holding one could
add a service, a peer or a rule nobody asked for. The checks here refuse such values up front, and
the parsers that read rendered files back (dcmqrscp.py, stunnel.py) catch anything a check missed.

Each check returns (ok, reason) and states the language's rule.
"""

from __future__ import annotations

import ipaddress
import re

# Peer names become stunnel section names, HostTable symbols, nft comments and log lines: letters,
# digits, dot, dash and underscore, starting with a letter or digit.
PEER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
PEER_NAME_RULE = ("1-63 characters of letters, digits, '.', '-' and '_', starting with a letter or "
                  "digit (names are written into stunnel, dcmqrscp.cfg and nftables)")
# Paths, user names and similar role settings written into systemd units, stunnel and nftables:
# one plain token, nothing a line break, space, quote, brace or semicolon could turn into more.
PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_./@:+-]{1,255}")
# dcmqrscp.cfg separates values with whitespace, '=' and ',' and quotes them with " ' ( ); a value
# holding one would be split into several (DCMTK dcmqrcnf.cc, isgap/isquote).
DCMQRSCP_SEPARATORS = frozenset(" \t=,\"'()#")
# dcmqrscp reads its file in 512-byte buffers (fgets): a longer line becomes two entries.
DCMQRSCP_MAX_LINE = 511


def symbol_name(name: str) -> str:
    """A peer name as dcmqrscp.cfg's HostTable symbols take it ('.' and '-' become '_'); two names
    that give one symbol would be one peer there."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def check_peer_name(value: object) -> tuple[bool, str]:
    """A peer name every target language carries as one plain token."""
    if not isinstance(value, str) or not value:
        return False, "missing or empty"
    if not PEER_NAME.fullmatch(value):
        return False, f"{value!r} is not a usable name: {PEER_NAME_RULE}"
    return True, ""


def canonical_address(value: object) -> tuple[str | None, str]:
    """The canonical text of an IP address, or (None, reason).

    Scope IDs are refused (fe80::1%eth0: Python accepts any text after '%', and products compare the
    address literally); so are forms other than the canonical one, because Orthanc and dcmqrscp
    compare the text they are given with the text of the peer's address.
    """
    text = value if isinstance(value, str) else None
    if text is None:
        return None, f"{value!r} is not an IP address (a string such as 10.20.0.11)"
    if "%" in text:
        return None, f"{text!r} has a scope ID; give a global or unique-local address without '%'"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None, (f"{text!r} is not an IP address (PACS products compare the peer's address "
                      "literally; networks belong in pacs_admin_sources)")
    if str(address) != text:
        return None, f"{text!r} is not in canonical form; write {str(address)!r}"
    return str(address), ""


def canonical_network(value: object) -> tuple[str | None, str]:
    """The canonical text of an address or network (host bits cleared), or (None, reason)."""
    if not isinstance(value, str) or "%" in value:
        return None, f"{value!r} is not an IP address or network (no scope IDs)"
    try:
        return str(ipaddress.ip_network(value, strict=False)), ""
    except ValueError:
        return None, f"{value!r} is not an IP address or network"


def check_dcmqrscp_value(value: str) -> tuple[bool, str]:
    """A value dcmqrscp.cfg reads back as exactly one token."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return False, f"{value!r} holds a control character (a line break ends the entry)"
    bad = sorted(DCMQRSCP_SEPARATORS & set(value))
    if bad:
        shown = " ".join(repr(char) for char in bad)
        return False, (f"{value!r} holds {shown}, which dcmqrscp.cfg reads as a separator or quote "
                       "(it would become several values)")
    return True, ""


def check_plain_token(value: object) -> tuple[bool, str]:
    """A setting that systemd, stunnel and nftables all read as one plain token."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not PLAIN_TOKEN.fullmatch(text):
        return False, (f"{value!r} is not one plain token (letters, digits and . _ / @ : + - only; it "
                       "is written into systemd, stunnel or nftables files)")
    return True, ""
