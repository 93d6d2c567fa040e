"""Encoders for outside text (file names, notebook metadata, CLI options, pyproject values) that lands
in a generated Python file.

The one rule: such text reaches a generated ``.py`` only through these functions. Each returns text
that cannot end the literal or the comment it is placed in, whatever the input holds: quotes,
backslashes, CR, LF, NEL, U+2028/U+2029, NUL and every other character that is not printable are
escaped. The escapes are Python's own, so a string literal means exactly the input, and a comment
can be decoded back with :func:`decode_comment`.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

_ESCAPE = re.compile(r"\\(?:\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escaped(text: str, quote: str = "") -> str:
    """``text`` with backslashes, ``quote`` characters and every unprintable character escaped."""
    if text.isprintable() and "\\" not in text and not (quote and quote in text):
        return text  # nothing to escape (NEL, U+2028 and U+2029 are not printable)
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == quote:
            out.append("\\" + char)
        elif not char.isprintable() or char in "\x85\u2028\u2029":
            out.append(_escape_char(char))
        else:
            out.append(char)
    return "".join(out)


def py_string(value: object) -> str:
    """A one-line Python string literal whose value is ``str(value)``."""
    return '"' + _escaped(str(value), '"') + '"'


def py_docstring_text(value: object) -> str:
    """``str(value)`` for use inside a triple-double-quoted docstring: one line, nothing can close it.

    Every ``"`` is escaped, so neither ``\"\"\"`` nor a quote just before the closing quotes can end it.
    """
    return _escaped(str(value), '"')


def py_docstring_block(value: object, indent: str = "") -> str:
    """``str(value)`` for use inside a triple-double-quoted docstring, its line breaks kept.

    Each ``\\n`` stays a line break, the lines after it indented by ``indent`` (so that
    ``inspect.cleandoc`` gives the text back); everything else is escaped as by
    :func:`py_docstring_text` (quotes, backslashes, CR and the other characters that end a line
    or cannot be seen), and so are spaces at the end of a line, so nothing can close the docstring
    and no line ends in whitespace.
    """
    lines = []
    for number, line in enumerate(str(value).split("\n")):
        text = _escaped(line, '"')
        stripped = text.rstrip(" ")
        text = stripped + "\\x20" * (len(text) - len(stripped))
        lines.append(indent + text if number and text else text)
    return "\n".join(lines)


def py_comment(value: object) -> str:
    """``str(value)`` for use after ``#`` on one line: no character can end the comment line."""
    return _escaped(str(value))


def py_identifier(value: object) -> str:
    """``str(value)`` checked to be a name Python imports as written: an identifier, not a keyword,
    already in NFKC form (Python normalises identifiers with NFKC, so ``ﬁle`` would import ``file``).

    Names are validated with a clear error where the user gives them; a name that fails here is a
    bug, hence :class:`ValueError`.
    """
    text = str(value)
    if not text.isidentifier() or keyword.iskeyword(text) or unicodedata.normalize("NFKC", text) != text:
        raise ValueError(f"{text!r} is not a Python identifier in NFKC form")
    return text


def decode_comment(text: str) -> str:
    """The inverse of :func:`py_comment`."""

    def one(match: re.Match[str]) -> str:
        escape = match.group(0)
        return "\\" if escape == "\\\\" else chr(int(escape[2:], 16))

    return _ESCAPE.sub(one, text)
