"""AE title validation (DICOM PS3.5 section 6.2, value representation AE)."""

from __future__ import annotations

AE_TITLE_MAX = 16


def validate_ae_title(value: object) -> tuple[bool, str]:
    """Check an Application Entity title against PS3.5 6.2 (VR AE).

    An AE title is 1 to 16 characters of the default character repertoire, without backslash or
    control characters, and not all spaces. PS3.5 calls leading and trailing spaces
    insignificant; products disagree on whether they strip them, so pacsguard refuses them rather
    than let two peers' titles compare differently on different products.

    Returns (ok, reason); reason is empty when ok.
    """
    if not isinstance(value, str):
        return False, f"must be a string, got {type(value).__name__}"
    if value.strip() == "":
        return False, "must not be empty or only spaces (PS3.5 6.2)"
    if len(value) > AE_TITLE_MAX:
        return False, f"is {len(value)} characters long; at most {AE_TITLE_MAX} (PS3.5 6.2)"
    if value != value.strip(" "):
        return False, "must not have leading or trailing spaces (insignificant in PS3.5 6.2)"
    for char in value:
        if char == "\\":
            return False, "must not contain a backslash (PS3.5 6.2)"
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return False, f"must not contain control character {ord(char):#04x} (PS3.5 6.2)"
        if ord(char) > 0x7E:
            return False, f"must use the default character repertoire; {char!r} is not (PS3.5 6.2)"
    return True, ""
