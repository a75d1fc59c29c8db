"""JSON with comments, as Orthanc reads its configuration (``//`` and ``/* */`` outside strings)."""

from __future__ import annotations

import json
from typing import Any


class JsoncError(ValueError):
    """The text is not JSON once its comments are removed; the message gives the line."""


def comment_end(text: str, i: int) -> int:
    """Where the comment starting at ``i`` ends (its newline stays), or ``i`` when none starts."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end < 0:
            raise JsoncError("unterminated /* comment")
        return end + 2
    return i


def strip_comments(text: str) -> str:
    """Blank out comments, keeping line numbers and string contents (URLs with // included)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif char == '"':
                in_string = False
            i += 1
        elif char == '"':
            in_string = True
            out.append(char)
            i += 1
        elif (end := comment_end(text, i)) > i:
            # Keep a block comment's newlines, so error messages give the right line.
            out.append("".join(c for c in text[i:end] if c == "\n"))
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def loads(text: str) -> Any:
    """Parse JSON with comments; JsoncError names the line of a syntax error."""
    try:
        return json.loads(strip_comments(text))
    except json.JSONDecodeError as exc:
        raise JsoncError(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
