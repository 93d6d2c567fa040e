"""Fixes for cells that old notebooks hold and Python 3 refuses, applied only when a cell does not parse.

- Python 2 ``print`` statements become calls: ``print x, y`` -> ``print(x, y)``, a trailing comma ->
  ``end=" "``, ``print >>f, x`` -> ``print(x, file=f)``, a bare ``print`` -> ``print()``;
- ``except X, e:`` becomes ``except X as e:``;
- leading indentation (a cell pasted from inside a block) is removed.

Each fix works on the tokens of the cell's own text and changes nothing else on the line, so line
numbers, comments and formatting stay as written. :func:`fix_cell` says which fixes it applied.
"""

from __future__ import annotations

import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field

_OPEN = {"(", "[", "{"}
_CLOSE = {")", "]", "}"}
# After the word ``print``, a token that makes it an expression, not a Python 2 statement.
_NOT_A_STATEMENT = {"(", "=", ".", "[", ",", ")", ":", "+=", "-=", "*=", "/=", "==", "!=", ";"}


@dataclass
class Fixed:
    source: str
    fixes: list[str] = field(default_factory=list)  # "rewrote a Python 2 print statement (line 3)", ...


def fix_cell(source: str) -> Fixed:
    """``source`` with the fixes above applied where they apply (``fixes`` empty: nothing applied)."""
    result = Fixed(source)
    dedented = _dedent(source)
    if dedented != source:
        result.source = dedented
        result.fixes.append("removed leading indentation")
    tokens = _tokens(result.source)
    if tokens is None:
        return result
    edits: list[tuple[int, int, int, int, str]] = []  # (row, col, end row, end col, replacement)
    for line in _logical_lines(tokens):
        edits.extend(_print_edits(line, result))
        edits.extend(_except_edits(line, result))
    if edits:
        result.source = _apply(result.source, edits)
    return result


def _dedent(source: str) -> str:
    """Remove the indentation of the first code line from every line that has it."""
    lines = source.splitlines(keepends=True)
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    if not indent:
        return source
    common = textwrap.dedent(source)
    if common != source:
        return common
    return "".join(line[len(indent):] if line.startswith(indent) else line for line in lines)


def _tokens(source: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def _logical_lines(tokens: list[tokenize.TokenInfo]) -> list[list[tokenize.TokenInfo]]:
    """Statements as token lists (split at NEWLINE and at ``;``), without layout tokens."""
    skip = {tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER}
    lines: list[list[tokenize.TokenInfo]] = []
    current: list[tokenize.TokenInfo] = []
    depth = 0
    for token in tokens:
        if token.type in skip:
            continue
        if token.type == tokenize.NEWLINE or (token.type == tokenize.OP and token.string == ";" and depth == 0):
            if current:
                lines.append(current)
            current = []
            continue
        if token.type == tokenize.OP:
            depth += token.string in _OPEN
            depth -= token.string in _CLOSE
        current.append(token)
    if current:
        lines.append(current)
    return lines


def _statement_starts(line: list[tokenize.TokenInfo]) -> list[int]:
    """Indexes where a simple statement may start: the line's start and after a top-level ``:``
    (``if x: print y``, ``else: print y``)."""
    starts = [0]
    depth = 0
    for index, token in enumerate(line):
        if token.type == tokenize.OP:
            depth += token.string in _OPEN
            depth -= token.string in _CLOSE
            if token.string == ":" and depth == 0 and line[0].string in _COMPOUND:
                starts.append(index + 1)
    return starts


_COMPOUND = {"if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class"}


def _print_edits(line: list[tokenize.TokenInfo], result: Fixed) -> list[tuple[int, int, int, int, str]]:
    for start in _statement_starts(line):
        if start >= len(line):
            continue
        word = line[start]
        if word.type != tokenize.NAME or word.string != "print":
            continue
        rest = line[start + 1:]
        if rest and rest[0].string in _NOT_A_STATEMENT:
            continue
        result.fixes.append(f"rewrote a Python 2 print statement (line {word.start[0]})")
        return [_print_call(word, rest)]
    return []


def _print_call(word: tokenize.TokenInfo, rest: list[tokenize.TokenInfo]) -> tuple[int, int, int, int, str]:
    """The edit replacing ``print <rest>`` with the call that prints the same."""
    if not rest:
        return (*word.start, *word.end, "print()")
    text = _untokenize_span(rest)
    keywords: list[str] = []
    if rest[0].string == ">>":  # print >>f, a, b
        parts = _split_top_level(rest[1:])
        target, *values = parts
        keywords.append(f"file={_untokenize_span(target)}")
        text = ", ".join(_untokenize_span(part) for part in values if part)
        trailing = bool(values) and not values[-1]
    else:
        trailing = rest[-1].string == ","
        if trailing:
            text = _untokenize_span(rest[:-1])
    if trailing:
        keywords.insert(0, 'end=" "')
    arguments = ", ".join(part for part in [text.strip().rstrip(","), *keywords] if part)
    return (*word.start, *rest[-1].end, f"print({arguments})")


def _split_top_level(tokens: list[tokenize.TokenInfo]) -> list[list[tokenize.TokenInfo]]:
    parts: list[list[tokenize.TokenInfo]] = [[]]
    depth = 0
    for token in tokens:
        if token.type == tokenize.OP:
            depth += token.string in _OPEN
            depth -= token.string in _CLOSE
            if token.string == "," and depth == 0:
                parts.append([])
                continue
        parts[-1].append(token)
    return parts


def _untokenize_span(tokens: list[tokenize.TokenInfo]) -> str:
    """The source text from the first to the last token, as written (line breaks inside kept)."""
    if not tokens:
        return ""
    first, last = tokens[0], tokens[-1]
    lines = first.line.splitlines(keepends=True) if first.start[0] == last.end[0] else None
    if lines is not None:
        return first.line[first.start[1]:last.end[1]]
    # A span over several physical lines: rebuild it from the tokens' own lines.
    pieces = []
    row, col = first.start
    for token in tokens:
        if token.start[0] > row:
            pieces.append("\n" + " " * token.start[1])
        elif token.start[1] > col:
            pieces.append(" " * (token.start[1] - col))
        pieces.append(token.string)
        row, col = token.end
        if "\n" in token.string:
            row, col = token.end
    return "".join(pieces)


_EXCEPT_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _except_edits(line: list[tokenize.TokenInfo], result: Fixed) -> list[tuple[int, int, int, int, str]]:
    """``except X, e:`` -> ``except X as e:`` (a comma at the top level, then one name, then ``:``)."""
    if not line or line[0].string != "except" or len(line) < 5:
        return []
    if line[-1].string != ":" and not any(t.string == ":" for t in line):
        return []
    colon = next(i for i, t in enumerate(line) if t.string == ":")
    if colon < 4 or line[colon - 2].string != "," or not _EXCEPT_NAME.match(line[colon - 1].string):
        return []
    depth = 0
    for token in line[1:colon - 2]:
        if token.type == tokenize.OP:
            depth += token.string in _OPEN
            depth -= token.string in _CLOSE
            if token.string == "," and depth == 0:
                return []  # except (A, B), e is handled by the depth; a bare A, B, e is ambiguous
    comma = line[colon - 2]
    result.fixes.append(f"rewrote a Python 2 `except X, e` (line {comma.start[0]})")
    return [(*comma.start, *comma.end, " as")]


def _apply(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    text = source
    for row, col, end_row, end_col, replacement in sorted(edits, reverse=True):
        start = offsets[row - 1] + col
        end = offsets[end_row - 1] + end_col
        text = text[:start] + replacement + text[end:]
    return text
