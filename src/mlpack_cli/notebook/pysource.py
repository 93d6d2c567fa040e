"""Keep generated Python flake8-clean without changing what the user wrote.

The notebook's statements keep their own text, in every style; what flake8 reports in them (an
unused assignment, a long line, ``l = ...``, a comment without a space after ``#``) gets a
``# noqa: <code>`` where flake8 reads it, so the file passes flake8 as it stands. Text this package
writes itself (signatures, calls between stages, literal lists) is wrapped one item per line when
it is too long (:func:`wrap_expression`).
"""

from __future__ import annotations

import ast
import bisect
import functools
import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlpack_cli.notebook.usertext import Piece

INDENT = 4


def wrap_expression(node: ast.expr, column: int, indent: int, max_line: int) -> str:
    """``node`` as text starting at ``column``; calls and displays too long are split per item."""
    flat = ast.unparse(node)
    if column + len(flat) <= max_line:
        return flat
    inner = indent + INDENT
    items: list[str]
    if isinstance(node, ast.Call):
        opening, closing = ast.unparse(node.func) + "(", ")"
        if isinstance(node.func, (ast.Lambda, ast.NamedExpr, ast.BinOp, ast.BoolOp, ast.IfExp, ast.Await)):
            return flat
        items = [wrap_expression(a, inner, inner, max_line) for a in node.args]
        for keyword in node.keywords:
            prefix = f"{keyword.arg}=" if keyword.arg else "**"
            items.append(prefix + wrap_expression(keyword.value, inner + len(prefix), inner, max_line))
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts:
        opening, closing = {ast.List: ("[", "]"), ast.Tuple: ("(", ")"), ast.Set: ("{", "}")}[type(node)]
        items = [wrap_expression(e, inner, inner, max_line) for e in node.elts]
    elif isinstance(node, ast.Dict) and node.keys:
        opening, closing = "{", "}"
        items = []
        for key, value in zip(node.keys, node.values):
            prefix = "**" if key is None else ast.unparse(key) + ": "
            items.append(prefix + wrap_expression(value, inner + len(prefix), inner, max_line))
    else:
        return flat
    if not items:
        return flat
    body = "".join(" " * inner + item + ",\n" for item in items)
    return f"{opening}\n{body}{' ' * indent}{closing}"


# -- last resort: noqa -----------------------------------------------------------------------------


def physical_lines(text: str) -> list[str]:
    """The lines of generated code as flake8 reads them, each with its ``\\n``: split at line feeds
    only (it holds no other line end), never at what ``str.splitlines`` also breaks at (a form feed,
    U+2028, ... in the user's comments and strings)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def flake8_problems(text: str, max_line: int, *, pyflakes: bool = True) -> list[tuple[int, str]]:
    """(line, code) for what flake8 would report with ``max-line-length = max_line``."""
    from flake8.plugins.pyflakes import FLAKE8_PYFLAKES_CODES
    from pyflakes import checker

    problems = _pycodestyle(physical_lines(text), max_line, None)
    messages = checker.Checker(ast.parse(text), filename="<generated>").messages if pyflakes else []
    for message in messages:
        problems.append((message.lineno, FLAKE8_PYFLAKES_CODES.get(type(message).__name__, "F999")))
    return problems


def add_noqa(
    text: str, max_line: int, *, only_long_lines: bool = False, pyflakes: bool = True, tree: ast.Module | None = None,
    extra: Sequence[tuple[int, str]] = (),
) -> tuple[str, list[tuple[int, str]]]:
    """Append ``# noqa: CODES`` where flake8 still complains; returns the text and what was silenced.

    ``text`` is generated code (``tree`` its AST when the caller already has it): :func:`style_problems`
    finds what pycodestyle reports on its layout and content, pyflakes runs when ``pyflakes``, and
    ``extra`` adds what the caller found itself (:func:`piece_problems` on the user's statements).
    ``only_long_lines`` is for text made from our own templates, where line length (long module or
    notebook names) is the only thing that can go wrong.
    """
    if only_long_lines:
        problems = [(n, "E501") for n, line in enumerate(text.split("\n"), start=1) if len(line) > max_line]
        if not problems:
            return text, []
        strings = _multiline_strings(ast.parse(text) if tree is None else tree)
    else:
        tree = ast.parse(text) if tree is None else tree
        strings = _multiline_strings(tree)
        problems = style_problems(physical_lines(text), max_line, strings, tree)
        if pyflakes:
            from flake8.plugins.pyflakes import FLAKE8_PYFLAKES_CODES
            from pyflakes import checker

            for message in checker.Checker(tree, filename="<generated>").messages:
                problems.append((message.lineno, FLAKE8_PYFLAKES_CODES.get(type(message).__name__, "F999")))
    problems = sorted(set(problems) | set(extra))
    if not problems:
        return text, []
    lines = text.split("\n")
    codes: dict[int, set[str]] = {}
    for line, code in problems:
        codes.setdefault(_noqa_line(lines, strings, line), set()).add(code)
    for line, found in codes.items():
        if 0 < line <= len(lines):
            base = lines[line - 1].rstrip()
            if base.endswith("#") and base.lstrip() != "#":
                found.add("E262")  # an empty inline comment: the noqa after it would start it with spaces
            if len(f"{base}  # noqa: {','.join(sorted(found))}") > max_line:
                found.add("E501")  # the comment itself makes the line too long
            lines[line - 1] = f"{base}  # noqa: {','.join(sorted(found))}"
    return "\n".join(lines), problems


def users_module_with_noqa(text: str, max_line: int) -> str:
    """A module the user wrote (a copied local module, a ``%%writefile`` one), with ``# noqa`` where
    flake8 would complain, as generated modules get; as it is when it does not parse (nothing to add
    a note to safely). Every pycodestyle check runs: the user's comments and layout are theirs."""
    try:
        return add_noqa(text, max_line, extra=_pycodestyle(physical_lines(text), max_line, None))[0]
    except (SyntaxError, ValueError):
        return text


def _noqa_line(lines: list[str], strings: dict[int, tuple[int, int]], line: int) -> int:
    """The line whose ``# noqa`` flake8 reads for a problem on ``line``: the last line of a
    multi-line string, or of a run of lines joined by backslashes (nothing can follow those)."""
    while True:
        if line in strings:
            line = strings[line][1]
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if line < len(lines) and text.endswith("\\") and "#" not in text:  # (a "#": maybe a comment's)
            line += 1
            continue
        return line


def piece_problems(pieces: Sequence[tuple[int, Piece]]) -> list[tuple[int, str]]:
    """(line, code) for what pycodestyle reports in the user's statements, ``(first line, piece)``.

    Each piece is checked as it is, at column 0, all in one run (two blank lines apart, as
    top-level statements): what pycodestyle says about a statement's own layout (spacing,
    comments, continuation lines, indentation inside it) does not depend on how deep it is
    indented. Line length is measured on the module itself (:func:`style_problems`), and so is
    the place of imports.
    """
    lines: list[str] = []
    origin: list[int] = []
    for first, piece in pieces:
        if lines:
            lines += ["\n", "\n"]
            origin += [0, 0]
        for offset, line in enumerate(piece.text.split("\n")):
            lines.append(line + "\n")
            origin.append(first + offset)
    if not lines:
        return []
    problems = []
    for number, code in _pycodestyle(lines, 10**6, None, ignore=_NOT_FROM_A_PIECE):
        if code in _NOT_FROM_A_PIECE or not 0 < number <= len(origin) or not origin[number - 1]:
            continue
        problems.append((origin[number - 1], code))
        if code == "W191":  # indented by tabs inside, by spaces where the module puts it
            problems.append((origin[number - 1], "E101"))
        elif code in ("E301", "E306"):  # which of the two depends on the definitions around it
            problems.append((origin[number - 1], "E306" if code == "E301" else "E301"))
    return problems


# not about a statement's own text (so pycodestyle skips the checks that report only these)
_NOT_FROM_A_PIECE = ("E501", "E402", "W391", "W292", "E302", "E305")


# -- what pycodestyle reports, without running all of it -----------------------------------------
#
# The layout of what the templates and code generation write, and of every user statement laid out
# as ``ast.unparse`` would lay it out (usertext.Piece.clean), is pycodestyle-clean by construction;
# the other user statements are checked whole by :func:`piece_problems`. What the code says can
# still break a rule anywhere: a line too long, ``l = 1``, ``x == None``, ``f = lambda: 0``, a bare
# ``except:``, whitespace at the end of a docstring line. Those checks look at one logical line (and
# the tokens just before it); each runs only where a pattern that matches every line it could report
# on matches, and then on the statement there. Long lines are measured with pycodestyle's own check.
# (tests/unit/test_notebook_pysource.py compares the result with the full pycodestyle run.)

_CONTENT_CHECKS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("E711", "E712"), r"[=!]=\s*(?:None|True|False)\b|\b(?:None|True|False)\s*[=!]="),
    # "not", one token (a string literal counts as one) and "in" / "is"
    (("E713", "E714"), r"\bnot\s+(?:[^][)(}{\s'\"]|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")+\s+(?:in|is)\s"),
    (("E721",), r"[=!]=\s*type\b|\btype\b.*[=!]="),
    (("E722",), r"\bexcept\s*:"),
    (("E731",), r"^[ \t]*[^\W\d]\w* = lambda\b"),  # an assignment laid out as ast.unparse does, not a keyword argument
    (("E741", "E742", "E743"), r"\b[lIO]\b"),
    # an odd run of backslashes before a character that is not a valid escape
    (("W605",), r"(?<!\\)(?:\\\\)*\\[^\\'\"abfnrtvxNuU0-7\n]"),
    # a space at the end of a line; tabs, and the characters str.splitlines also breaks lines at
    (("W291", "W293", "W191", "E101"), r" $|[\t\v\f\r\x1c-\x1e\x85\u2028\u2029]"),
)


# Words each match of a pattern above holds one of each group of (a pattern none of whose
# words is in the text is not searched; the text is searched with a line feed after it).
_CONTENT_WORDS: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("E711", "E712"): (("==", "!="), ("None", "True", "False")),
    ("E713", "E714"): (("not",),),
    ("E721",): (("==", "!="), ("type",)),
    ("E722",): (("except",),),
    ("E731",): (("lambda",),),
    ("W605",): (("\\",),),
    ("W291", "W293", "W191", "E101"): (
        (" \n", "\t", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"),
    ),
}


@functools.lru_cache(maxsize=1)
def _content_patterns() -> list[tuple[tuple[str, ...], re.Pattern[str]]]:
    return [(codes, re.compile(pattern, re.MULTILINE)) for codes, pattern in _CONTENT_CHECKS]


def _may_match(codes: tuple[str, ...], text: str) -> bool:
    """False when the pattern of ``codes`` cannot match ``text`` (with a line feed after it)."""
    return all(any(word in text for word in words) for words in _CONTENT_WORDS.get(codes, ()))


def style_problems(
    lines: list[str], max_line: int, strings: dict[int, tuple[int, int]], tree: ast.Module
) -> list[tuple[int, str]]:
    """(line, code) for what pycodestyle reports on generated code: ``lines`` as from
    :func:`physical_lines`, ``tree`` their AST, ``strings`` from :func:`_multiline_strings`.

    A check that may fire runs on the innermost statement holding each line its pattern matched
    (every logical line in it is whole), not on the whole module.
    """
    problems = _long_lines(lines, max_line, strings)
    text = "".join(lines)
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))
    wanted: dict[int, list[str]] = {}  # line -> codes whose pattern matched on it
    ended = text + "\n"  # (" $" matches a space at the very end)
    for pattern_codes, pattern in _content_patterns():
        if not _may_match(pattern_codes, ended):
            continue
        for match in pattern.finditer(text):
            wanted.setdefault(bisect.bisect_right(starts, match.start()), []).extend(pattern_codes)
    spans: dict[tuple[int, int], set[str]] = {}
    contexts: dict[tuple[int, int], int] = {}
    for line, line_codes in wanted.items():
        found = _statement_span(tree.body, line)
        if found is not None:  # else a comment or blank line: no logical line, nothing at its end
            start, end, contexts[start, end] = found
            spans.setdefault((start, end), set()).update(line_codes)
    for start, end in sorted(spans):
        if any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans):
            continue  # checked with the statement around it
        inner = {c for (s, e), more in spans.items() if start <= s and e <= end for c in more}
        context = contexts[start, end]
        for line, code in _pycodestyle(lines[context - 1:end], max_line, tuple(sorted(inner))):
            if start <= line + context - 1:
                problems.append((line + context - 1, code))
    return problems


def _statement_span(block: list[ast.stmt], line: int) -> tuple[int, int, int] | None:
    """First and last line (decorators included) of the innermost statement holding ``line``, and
    the first line of the statement before it in its block (or its own first line): the tokens
    pycodestyle sees before a statement (how many levels it dedents) change what it reports."""
    span = None
    blocks = [block]
    while blocks:
        found = None
        for statements in blocks:
            previous = None
            for statement in statements:
                decorators = getattr(statement, "decorator_list", None) or []
                first = min([statement.lineno, *(d.lineno for d in decorators)])
                last = statement.end_lineno or statement.lineno
                if first <= line <= last:
                    found, span = statement, (first, last, first if previous is None else previous)
                    break
                previous = first
            if found is not None:
                break
        if found is None:
            break
        parts = [*(getattr(found, "handlers", None) or []), *(getattr(found, "cases", None) or [])]
        blocks = [getattr(found, name, None) or [] for name in ("body", "orelse", "finalbody")]
        blocks = [b for b in blocks if isinstance(b, list)] + [part.body for part in parts]
    return span


def _long_lines(lines: list[str], max_line: int, strings: dict[int, tuple[int, int]]) -> list[tuple[int, str]]:
    """E501 exactly as pycodestyle decides it (its check is called on the long lines only)."""
    import pycodestyle

    problems = []
    for number, line in enumerate(lines, start=1):
        if len(line) <= max_line or len(line.rstrip()) <= max_line:
            continue
        start, end = strings.get(number, (number, number))
        inside = number != end  # a line of a multi-line string, but its last
        if inside and any(pycodestyle.noqa(lines[n - 1]) for n in range(start, end + 1)):
            continue  # pycodestyle skips the whole string
        noqa = not inside and bool(pycodestyle.noqa(line))
        if pycodestyle.maximum_line_length(line, max_line, inside, number, noqa):
            problems.append((number, "E501"))
    return problems


@functools.lru_cache(maxsize=16)
def _style_guide(max_line: int, codes: tuple[str, ...] | None, ignore: tuple[str, ...] = ()) -> Any:
    import pycodestyle

    selection: dict[str, list[str]] = {} if codes is None else {"select": list(codes)}
    if ignore and codes is None:  # the defaults, less ``ignore``
        selection["ignore"] = [*pycodestyle.DEFAULT_IGNORE.split(","), *ignore]
    return pycodestyle.StyleGuide(quiet=True, max_line_length=max_line, **selection)


def _pycodestyle(lines: list[str], max_line: int, codes: tuple[str, ...] | None,
                 ignore: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """Run pycodestyle with only ``codes`` selected (so only their checks run); None: its defaults,
    less the codes in ``ignore`` (a check that reports only those does not run)."""
    import pycodestyle

    problems: list[tuple[int, str]] = []

    class Collect(pycodestyle.BaseReport):  # type: ignore[misc]
        def error(self, line_number: int, offset: int, message: str, check: object) -> str | None:
            code = message[:4]
            if not self._ignore_code(code):
                problems.append((line_number, code))
            return code

    options = _style_guide(max_line, codes, ignore).options
    pycodestyle.Checker(lines=list(lines), options=options, report=Collect(options)).check_all()
    return problems


def _multiline_strings(tree: ast.Module) -> dict[int, tuple[int, int]]:
    """Physical line -> (first, last) line of the multi-line string it is part of.

    flake8 reads a multi-line string's noqa on the string's last line; every other line of the
    generated code (which never uses backslash continuations) carries its own. Only nodes that
    span several lines can hold such a string, so only those are searched.
    """
    mapping: dict[int, tuple[int, int]] = {}
    pending: list[ast.AST] = [tree]
    while pending:
        for child in ast.iter_child_nodes(pending.pop()):
            start = getattr(child, "lineno", None)
            end = getattr(child, "end_lineno", None)
            if start is not None and (end is None or end <= start):
                continue  # on one line
            if isinstance(child, ast.JoinedStr) or (
                isinstance(child, ast.Constant) and isinstance(child.value, (str, bytes))
            ):
                for line in range(start, end + 1):  # type: ignore[arg-type, operator]
                    mapping[line] = (start, end)  # type: ignore[assignment]
                continue
            pending.append(child)
    return mapping
