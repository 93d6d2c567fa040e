"""The few changes code generation makes to a notebook statement, made in its concrete syntax tree.

libcst keeps every comment, quote, line break and space that is not changed, so a renamed name or
an added parameter is the only difference from what the user wrote. Used only for the statements
that need a change (parsing costs more than the rest of code generation for a statement).
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from collections.abc import Collection, Mapping, Sequence, Set
from typing import Any

import libcst
from libcst.metadata import MetadataWrapper, PositionProvider


def edit(code: str, renamed: Mapping[str, str], helper_globals: Mapping[str, Sequence[str]],
         dropped: Set[int] = frozenset(), literals: Mapping[str, str] | None = None,
         heads: Mapping[str, str] | None = None) -> str:
    """``code`` (one statement at column 0) with names renamed, helper globals passed explicitly,
    the nested simple statements that start on the lines ``dropped`` (1-based) deleted, each
    string literal whose value is a key of ``literals`` replaced by that code (a path parameter),
    and each f-string that starts with a directory of ``heads`` and a ``/`` starting with the name
    that directory's path parameter has instead (``f"models/a_{t}"`` -> ``f"{models_dir}/a_{t}"``).

    Text libcst cannot parse comes back unchanged: the caller checks what the text means.
    """
    try:
        module = libcst.parse_module(code)
    except libcst.ParserSyntaxError:
        return code
    if dropped:
        module = MetadataWrapper(module, unsafe_skip_copy=True).visit(_DropNested(dropped))
    if renamed or helper_globals:
        module = module.visit(_Edit(renamed, helper_globals))
    if literals:
        module = module.visit(_Literals(literals))
    if heads:
        module = module.visit(_Heads(heads))
    return module.code


class _Heads(libcst.CSTTransformer):
    """An f-string whose text starts with a directory of ``heads`` and a ``/`` starts with the name
    of that directory's path parameter instead: ``f"models/a_{t}"`` -> ``f"{models_dir}/a_{t}"``."""

    def __init__(self, heads: Mapping[str, str]) -> None:
        super().__init__()
        self.heads = heads

    def leave_FormattedString(self, original: libcst.FormattedString, updated: libcst.FormattedString) -> Any:
        first = updated.parts[0] if updated.parts else None
        if not isinstance(first, libcst.FormattedStringText):
            return updated
        for head, name in self.heads.items():
            if first.value.startswith(f"{head}/"):
                parts = [libcst.FormattedStringExpression(libcst.Name(name)),
                         first.with_changes(value=first.value[len(head):]), *updated.parts[1:]]
                return updated.with_changes(parts=parts)
        return updated


class _Literals(libcst.CSTTransformer):
    """A string literal (one piece, not an f-string) of a given value becomes the given code."""

    def __init__(self, literals: Mapping[str, str]) -> None:
        super().__init__()
        self.literals = literals

    def leave_SimpleString(self, original: libcst.SimpleString, updated: libcst.SimpleString) -> Any:
        value = updated.evaluated_value
        if not isinstance(value, str) or value not in self.literals:
            return updated
        replacement = libcst.parse_expression(self.literals[value])
        if isinstance(replacement, libcst.SimpleString) and len(updated.quote) == 1:
            text = replacement.evaluated_value
            if isinstance(text, str) and text.isprintable() and not {updated.quote, "\\"} & set(text):
                return updated.with_changes(value=f"{updated.prefix}{updated.quote}{text}{updated.quote}")
        return replacement  # a name, or a string that needs escapes


def rename_tokens(code: str, renamed: Mapping[str, str], avoid: Collection[str] = (),
                  literals: Mapping[str, str] | None = None) -> str | None:
    """``code`` with the name tokens ``renamed`` names replaced, every other character kept: what
    :func:`edit` writes for a statement that needs only renames (and ``literals`` replaced, as
    :func:`edit` replaces them), without building a syntax tree.

    An attribute after ``.`` and a keyword argument (``f(name=...)``) keep their names, as in
    :func:`edit`. None when a token is in ``avoid``, a literal to replace spans lines, or the text
    cannot be tokenized: the caller uses :func:`edit` then, and checks what either text means (a
    name this misses or renames wrongly shows in the syntax tree of the result).
    """
    lines = code.split("\n")
    changes: list[tuple[int, int, int, str]] = []  # (row, start column, end column, new name)
    depth = 0  # open brackets: a name followed by "=" inside them is a keyword argument
    previous = ""
    last: tuple[tuple[int, str], ...] = ((0, ""), (0, ""))  # the two significant tokens before this one
    pending: tuple[int, int, int, str] | None = None  # a rename that waits for the next token
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            kind, text = token.type, token.string
            if pending is not None:
                if not (kind == tokenize.OP and text == "=" and depth):
                    changes.append(pending)
                pending = None
            if kind == tokenize.NAME:
                if text in avoid:
                    return None
                new = renamed.get(text)
                if new is not None and previous != "." and not keyword.iskeyword(text):
                    (row, start), (end_row, end) = token.start, token.end
                    if row != end_row:
                        return None
                    pending = (row, start, end, new)
            elif kind == _FSTRING_START and literals:
                raise _FString  # (Python 3.12 on: an f-string is tokens of its own, not one STRING)
            elif kind == tokenize.STRING and literals:
                replacement = _literal_replacement(text, literals)
                if replacement is not None:
                    (row, start), (end_row, end) = token.start, token.end
                    if row != end_row or last[1] == (tokenize.OP, "(") and not (
                        last[0][0] in (tokenize.NAME, tokenize.STRING) and not keyword.iskeyword(last[0][1])
                        or last[0] in ((tokenize.OP, ")"), (tokenize.OP, "]"))
                    ):
                        return None  # (maybe parentheses around the string, which libcst drops with it)
                    changes.append((row, start, end, replacement))
            elif kind == tokenize.OP:
                if text in "([{":
                    depth += 1
                elif text in ")]}":
                    depth -= 1
            if kind not in (tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                previous = text if kind == tokenize.OP else ""
                last = (last[1], (kind, text))
    except (tokenize.TokenError, SyntaxError, _FString):  # (IndentationError is a SyntaxError)
        return None
    if pending is not None:
        changes.append(pending)
    changes.sort()
    for row, start, end, new in reversed(changes):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "\n".join(lines)


_FSTRING_START = getattr(tokenize, "FSTRING_START", None)


class _FString(Exception):
    """An f-string in a statement whose literals are replaced."""


def _literal_replacement(token: str, literals: Mapping[str, str]) -> str | None:
    """What :class:`_Literals` writes for the string token ``token`` (None: it stays): a string
    literal in one piece, not an f-string, whose value is a key of ``literals``."""
    prefix = token[:len(token) - len(token.lstrip("rRbBuUfF"))]
    if "f" in prefix.lower():
        raise _FString  # libcst reaches the strings inside it: left to edit()
    if "b" in prefix.lower():
        return None
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(value, str) or value not in literals:
        return None
    replacement = literals[value]
    quote = token[len(prefix):len(prefix) + 3] if token[len(prefix):len(prefix) + 3] in ('"""', "'''") \
        else token[len(prefix)]
    if len(quote) == 1 and _is_plain_string(replacement):
        text = ast.literal_eval(replacement)
        if isinstance(text, str) and text.isprintable() and not {quote, "\\"} & set(text):
            return f"{prefix}{quote}{text}{quote}"
    return replacement


def _is_plain_string(code: str) -> bool:
    """Whether ``code`` is one string literal token (what libcst parses to a ``SimpleString``)."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)
                  if t.type not in (tokenize.NEWLINE, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError):
        return False
    return (len(tokens) == 1 and tokens[0].type == tokenize.STRING and tokens[0].string == code
            and "f" not in code[:len(code) - len(code.lstrip("rRbBuUfF"))].lower())


class _Rename(libcst.CSTTransformer):
    """Every name that refers to a renamed notebook name: not attributes, keyword-argument names or
    the module names of imports. An imported name gets ``as new``."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        super().__init__()
        self.mapping = mapping
        self.skip: set[int] = set()

    def _skip_all(self, node: libcst.CSTNode) -> None:
        pending = [node]
        while pending:
            current = pending.pop()
            self.skip.add(id(current))
            pending.extend(current.children)

    def visit_Attribute(self, node: libcst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: libcst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_ImportFrom(self, node: libcst.ImportFrom) -> None:
        if node.module is not None:
            self._skip_all(node.module)

    def visit_ImportAlias(self, node: libcst.ImportAlias) -> None:
        self._skip_all(node.name)

    def leave_ImportAlias(self, original: libcst.ImportAlias, updated: libcst.ImportAlias) -> libcst.ImportAlias:
        if updated.asname is not None or not isinstance(updated.name, libcst.Name):
            return updated  # an alias' own name is renamed as a name; "import a.b" binds "a", left alone
        new = self.mapping.get(updated.name.value)
        if new is None:
            return updated
        return updated.with_changes(asname=libcst.AsName(name=libcst.Name(new)))

    def leave_Name(self, original: libcst.Name, updated: libcst.Name) -> libcst.Name:
        if id(original) in self.skip or original.value not in self.mapping:
            return updated
        return updated.with_changes(value=self.mapping[original.value])


class _Edit(_Rename):
    """Renamed names, and ``def helper(a, *, g)`` for each global ``g`` a helper reads, and
    ``helper(x, g=g)`` at each call (the names as they are after renaming), in one pass."""

    def __init__(self, mapping: Mapping[str, str], helper_globals: Mapping[str, Sequence[str]]) -> None:
        super().__init__(mapping)
        self.helper_globals = helper_globals

    def leave_FunctionDef(self, original: libcst.FunctionDef, updated: libcst.FunctionDef) -> libcst.FunctionDef:
        names = self.helper_globals.get(updated.name.value)
        if not names:
            return updated
        params = updated.params
        have = {p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]}
        added = [libcst.Param(libcst.Name(n)) for n in names if n not in have]
        if not added:
            return updated
        star = params.star_arg
        if not isinstance(star, (libcst.Param, libcst.ParamStar)):
            star = libcst.ParamStar()
        return updated.with_changes(
            params=params.with_changes(star_arg=star, kwonly_params=[*params.kwonly_params, *added])
        )

    def leave_Call(self, original: libcst.Call, updated: libcst.Call) -> libcst.Call:
        func = updated.func
        names = self.helper_globals.get(func.value) if isinstance(func, libcst.Name) else None
        if not names:
            return updated
        passed = {a.keyword.value for a in updated.args if a.keyword is not None}
        equal = libcst.AssignEqual(
            whitespace_before=libcst.SimpleWhitespace(""), whitespace_after=libcst.SimpleWhitespace("")
        )
        added = [libcst.Arg(libcst.Name(n), keyword=libcst.Name(n), equal=equal) for n in names if n not in passed]
        return updated.with_changes(args=[*updated.args, *added])


class _DropNested(libcst.CSTTransformer):
    """Delete nested simple statements by line; a block left empty gets ``pass``; the comment lines
    above a deleted statement stay."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, lines: Set[int]) -> None:
        super().__init__()
        self.lines = lines
        self.depth = 0
        self.gone: set[int] = set()

    def _line(self, node: libcst.CSTNode) -> int:
        return int(self.get_metadata(PositionProvider, node).start.line)

    def visit_IndentedBlock(self, node: libcst.IndentedBlock) -> None:
        self.depth += 1

    def leave_SimpleStatementLine(
        self, original: libcst.SimpleStatementLine, updated: libcst.SimpleStatementLine
    ) -> libcst.SimpleStatementLine:
        if self.depth and self._line(original) in self.lines:
            self.gone.add(id(updated))
        return updated

    def leave_SimpleStatementSuite(
        self, original: libcst.SimpleStatementSuite, updated: libcst.SimpleStatementSuite
    ) -> libcst.SimpleStatementSuite:
        if self._line(original) in self.lines:
            return updated.with_changes(body=[libcst.Pass()])
        return updated

    def leave_IndentedBlock(
        self, original: libcst.IndentedBlock, updated: libcst.IndentedBlock
    ) -> libcst.IndentedBlock:
        self.depth -= 1
        body: list[libcst.BaseStatement] = []
        comments: list[libcst.EmptyLine] = []
        statement: Any
        for statement in updated.body:  # (every statement has leading_lines; BaseStatement does not say so)
            if id(statement) in self.gone:
                comments.extend(line for line in statement.leading_lines if line.comment is not None)
                continue
            if comments:
                statement = statement.with_changes(leading_lines=[*comments, *statement.leading_lines])
                comments = []
            body.append(statement)
        if not body:
            body.append(libcst.SimpleStatementLine([libcst.Pass()], leading_lines=comments))
            comments = []
        return updated.with_changes(body=body, footer=[*comments, *updated.footer])


def explicit_imports(code: str, names: Sequence[Sequence[str]]) -> str | None:
    """``code`` (one statement) with its star imports, in the order they are written, importing
    ``names[0]``, ``names[1]``, ... instead of ``*``; every other character kept. None when libcst
    cannot parse it or the number of star imports differs."""
    try:
        module = libcst.parse_module(code)
    except libcst.ParserSyntaxError:
        return None
    edit = _ExplicitImports(names)
    module = module.visit(edit)
    return module.code if edit.done == len(names) else None


class _ExplicitImports(libcst.CSTTransformer):
    def __init__(self, names: Sequence[Sequence[str]]) -> None:
        super().__init__()
        self.names = names
        self.done = 0

    def leave_ImportFrom(self, original: libcst.ImportFrom, updated: libcst.ImportFrom) -> libcst.ImportFrom:
        if not isinstance(updated.names, libcst.ImportStar):
            return updated
        if self.done >= len(self.names):
            self.done += 1
            return updated
        names = list(self.names[self.done])
        self.done += 1
        comma = libcst.Comma(whitespace_after=libcst.SimpleWhitespace(" "))
        last = len(names) - 1
        aliases = [libcst.ImportAlias(libcst.Name(n), comma=comma if i < last else libcst.MaybeSentinel.DEFAULT)
                   for i, n in enumerate(names)]
        return updated.with_changes(names=aliases)
