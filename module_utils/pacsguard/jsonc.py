"""JSON with comments, as Orthanc reads its configuration (``//`` and ``/* */`` outside strings)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# The deepest nesting and the largest text parsed: a configuration or an answer the project does not
# control gets a clear error past these, never a RecursionError or a parse that eats the memory.
MAX_DEPTH = 64
MAX_BYTES = 16 * 2**20
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


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


def strip_comments(text: str, comment_end: Callable[[str, int], int] = comment_end) -> str:
    """Blank out comments, keeping line numbers and string contents (URLs with // included);
    ``comment_end`` is the language's comment grammar (JSON with comments by default)."""
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


def depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (brackets inside strings ignored)."""
    deepest = level = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            level += 1
            deepest = max(deepest, level)
        elif token in "]}":
            level -= 1
    return deepest


def loads(text: str) -> Any:
    """Parse JSON with comments; JsoncError names the line of a syntax error, and refuses a text
    larger than MAX_BYTES or nested deeper than MAX_DEPTH."""
    if len(text) > MAX_BYTES:
        raise JsoncError(f"larger than {MAX_BYTES // 2**20} MiB: not parsed")
    plain = strip_comments(text)
    if depth(plain) > MAX_DEPTH:
        raise JsoncError(f"nested deeper than {MAX_DEPTH} levels: not parsed")
    try:
        return json.loads(plain)
    except json.JSONDecodeError as exc:
        raise JsoncError(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def loads_bounded(data: bytes | str) -> Any:
    """Plain JSON (an answer from a server) within MAX_BYTES and MAX_DEPTH; None when it is not JSON,
    too large or too deep."""
    if len(data) > MAX_BYTES:
        return None
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if depth(text) > MAX_DEPTH:
            return None
        return json.loads(text)
    except (ValueError, RecursionError):
        return None
