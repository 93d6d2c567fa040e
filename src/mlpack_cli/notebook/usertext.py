"""The user's own text of each statement, as it goes into the generated module.

A statement is written from the cell's code as the user wrote it: the comment lines above it, its
inline comment, its quotes and line breaks. What must change (a renamed name, a helper's extra
parameters, a nested plotting call deleted, a bare metric given a name) is changed in a concrete
syntax tree (:mod:`mlpack_cli.notebook.cst`, only for the statements that need it). Indentation is
added or removed line by line, never on the lines inside a multi-line string. The text is used
only when it parses back to the statement analysis decided on (the same ``ast.dump``); otherwise
the statement is written by ``ast.unparse``, with its comment lines still above it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from mlpack_cli.notebook.dataflow import ASSIGN_TO
from mlpack_cli.notebook.ipython import COMMENTS
from mlpack_cli.notebook.passes import INSERTED
from mlpack_cli.notebook.scopes import Renamer
from mlpack_cli.notebook.starimports import STAR_NAMES
from mlpack_cli.notebook.statements import drop_nested
from mlpack_cli.notebook.versions import RENAMED

if TYPE_CHECKING:
    from mlpack_cli.notebook.dataflow import ParsedCell

_Node = TypeVar("_Node", bound=ast.AST)
PATH_LITERALS = "mlpack_path_literals"  # attribute of a top-level statement: {string value: code} in its text
FSTRING_HEADS = "mlpack_fstring_heads"  # and {directory: name}: f"dir/..." written f"{name}/..."
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12+
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer ends a line at (not str.splitlines)
_DIRECTIVE = re.compile(r"#\s*mlpack\s*:")
_AFTER = re.compile(r"(?P<space>[ \t\f]*)(?P<comment>#.*)?")  # what may end a statement's last line
_BLOCK_COMMENT = re.compile(r"#:?(?: .*)?")  # block comments pycodestyle accepts (E265, E266)
_INLINE_COMMENT = re.compile(r"[ \t]{2,}#(?: [^ \t].*)?")  # inline comments it accepts (E261, E262)
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try, ast.Match) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
_SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Delete, ast.Pass, ast.Break,
           ast.Continue, ast.Raise, ast.Assert, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)


@dataclass
class Piece:
    """One statement's text at column 0, its comment lines above it; no line ends in whitespace."""

    text: str
    strings: frozenset[int] = frozenset()  # 1-based lines of ``text`` inside a multi-line string
    clean: bool = True  # laid out as pycodestyle wants: only what the code says can still be reported
    blank_before: bool = False  # the notebook has a blank line above it (inside its cell)
    is_definition: bool = False
    kept_text: bool = True  # False: written by ast.unparse

    def indented(self, indent: str) -> list[str]:
        """Its lines with ``indent`` before each, except blank ones and those inside strings."""
        return [
            line if not line or number in self.strings else indent + line
            for number, line in enumerate(self.text.split("\n"), start=1)
        ]


@dataclass
class Edits:
    """What code generation changes in the notebook's statements (the same for every statement)."""

    renamed: Mapping[str, str] = field(default_factory=dict)
    helper_globals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    drop_nested: Iterable[tuple[int, int]] = ()

    def __post_init__(self) -> None:
        names = sorted({*self.renamed, *self.helper_globals}, key=len, reverse=True)
        self.pattern = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, names))) if names else None
        self.dropped: dict[int, set[int]] = {}
        for cell, line in self.drop_nested:
            self.dropped.setdefault(cell, set()).add(line)


class _Cell:
    """One cell's code, split into lines as Python does, with its statements found by position."""

    def __init__(self, cell: ParsedCell) -> None:
        self.number = cell.number
        self.code = cell.code
        self.lines = _LINE_BREAK.split(cell.code)
        self._pristine: ast.Module | None = None
        self._strings: frozenset[int] | None = None
        self._positions: dict[tuple[int, int], ast.stmt] | None = None
        self._block_ends: dict[int, int] | None = None

    @property
    def pristine(self) -> ast.Module:
        """The cell's code parsed again: positions and nodes as written, whatever analysis changed."""
        if self._pristine is None:
            try:
                self._pristine = ast.parse(self.code)
            except (SyntaxError, ValueError):
                self._pristine = ast.Module(body=[], type_ignores=[])
        return self._pristine

    @property
    def strings(self) -> frozenset[int]:
        if self._strings is None:
            self._strings = string_lines(self.code)
        return self._strings

    def statement_at(self, line: int, column: int) -> ast.stmt | None:
        """The statement of the cell's own parse that starts at ``line``, ``column`` (at top level,
        or in the body of a top-level ``if``, as ``if __name__ == "__main__":``)."""
        if self._positions is None:
            self._positions = {}
            pending = list(self.pristine.body)
            while pending:
                statement = pending.pop()
                self._positions[statement.lineno, statement.col_offset] = statement
                if isinstance(statement, ast.If):
                    pending.extend(statement.body)
        return self._positions.get((line, column))

    @property
    def block_ends(self) -> dict[int, int]:
        """The last line of each top-level block (``for``, ``if``, ``def``, ...) of the cell, by its
        last code line, when comment lines indented into it follow its code (``    # print(loss)``
        at the end of a loop): they are the block's, written with it, not the next statement's."""
        if self._block_ends is None:
            self._block_ends = {}
            for statement in self.pristine.body:
                last = statement.end_lineno or statement.lineno
                if not isinstance(statement, _COMPOUND) or last > len(self.lines):
                    continue
                own = len(self.lines[statement.lineno - 1]) - len(self.lines[statement.lineno - 1].lstrip(" \t\f"))
                end, number = last, last + 1
                while number <= len(self.lines) and (self.is_comment(number) or self.is_blank(number)):
                    line = self.lines[number - 1]
                    if self.is_comment(number):
                        if len(line) - len(line.lstrip(" \t\f")) <= own:
                            break
                        end = number
                    number += 1
                if end > last:
                    self._block_ends[last] = end
        return self._block_ends

    def is_comment(self, number: int) -> bool:
        return number not in self.strings and self.lines[number - 1].lstrip(" \t\f").startswith("#")

    def is_blank(self, number: int) -> bool:
        return number not in self.strings and not self.lines[number - 1].strip(" \t\f")

    def comments_above(self, first: int) -> tuple[list[str], bool]:
        """The comment lines right above line ``first`` (blank runs between them kept as one blank
        line), and whether a blank line separates them from the code above them."""
        found: list[str] = []
        number = first - 1
        claimed = max((end for end in self.block_ends.values() if end < first), default=0)  # (a block's own)
        while number > claimed and (self.is_comment(number) or self.is_blank(number)):
            found.append(self.lines[number - 1].strip(" \t\f"))
            number -= 1
        found.reverse()
        blank_before = bool(found) and not found[0] and number >= 1
        return _tidy(found), blank_before

    def comments_below(self, last: int) -> list[str]:
        """The comment lines after the cell's last statement, when it ends on line ``last``."""
        body = self.pristine.body
        if not body or (body[-1].end_lineno or 0) != last:
            return []
        last = self.block_ends.get(last, last)  # (the comments indented into a last block are its own)
        return _tidy([self.lines[n - 1].strip(" \t\f") for n in range(last + 1, len(self.lines) + 1)
                      if self.is_comment(n) or self.is_blank(n)])

    def all_comments(self) -> list[str]:
        return _tidy([self.lines[n - 1].strip(" \t\f") for n in range(1, len(self.lines) + 1)
                      if self.is_comment(n) or self.is_blank(n)])

    def segment(self, node: ast.stmt) -> tuple[str, str, bool, bool] | None:
        """(code at column 0, what follows it on its last line, starts its line, ends its line)."""
        decorators = getattr(node, "decorator_list", None) or []
        first = min([node.lineno, *(d.lineno for d in decorators)])
        last = node.end_lineno
        if last is None or node.end_col_offset is None or not 1 <= first <= last <= len(self.lines):
            return None
        raw = [line.encode("utf-8") for line in self.lines[first - 1:last]]
        column = node.col_offset
        before, raw[0] = raw[0][:column], raw[0][column:]
        after = raw[-1][node.end_col_offset:] if len(raw) > 1 else raw[0][node.end_col_offset - column:]
        raw[-1] = raw[-1][:node.end_col_offset] if len(raw) > 1 else raw[0][:node.end_col_offset - column]
        try:
            lines = [part.decode("utf-8") for part in raw]
            prefix, rest = before.decode("utf-8"), after.decode("utf-8")
        except UnicodeDecodeError:
            return None
        starts_line = not prefix.strip(" \t\f")
        indent = prefix if starts_line else prefix[:len(prefix) - len(prefix.lstrip(" \t\f"))]
        if indent:  # a statement inside a block (an unwrapped ``if __name__ == "__main__":``)
            for index in range(1, len(lines)):
                if first + index not in self.strings and lines[index].startswith(indent):
                    lines[index] = lines[index][len(indent):]
        after_semicolon = rest.lstrip(" \t\f")
        match = _AFTER.fullmatch(after_semicolon[1:] if after_semicolon.startswith(";") else rest)
        ends_line = match is not None
        if match is not None and match.group("comment"):
            lines[-1] += (match.group("space") or "  ") + match.group("comment")
        end = self.block_ends.get(last, last) if ends_line and isinstance(node, _COMPOUND) and not indent else last
        lines += [line.rstrip(" \t\f") for line in self.lines[last:end]]  # its own trailing comments
        return "\n".join(lines), rest if ends_line else "", starts_line, ends_line


def _tidy(lines: list[str]) -> list[str]:
    """Comment lines without ``# mlpack:`` directives, blank runs as one, none at either end."""
    kept: list[str] = []
    for line in lines:
        if _DIRECTIVE.match(line):
            continue
        if line or (kept and kept[-1]):
            kept.append(line.rstrip())
    while kept and not kept[-1]:
        kept.pop()
    return kept


# What can make a string span lines: a triple quote, a backslash before a line end, or an f-string
# (from Python 3.12 its replacement fields may hold line breaks)
_MAY_SPAN_LINES = re.compile(r"\"\"\"|'''|\\[\r\n]|(?<![\w.])[rRbB]?[fF][rR]?['\"]")


def string_lines(code: str) -> frozenset[int]:
    """The lines inside a multi-line string (every line of it but its first), found by the tokenizer:
    string literals joined across lines (``"a"`` then ``"b"`` on the next line) are one constant
    in the syntax tree, but each of their lines is code, to indent like any other."""
    if not _MAY_SPAN_LINES.search(code):
        return frozenset()
    found: set[int] = set()
    opened: list[int] = []  # first lines of the f-strings open (Python 3.12+ tokenizes their parts)
    try:
        for token in tokenize.generate_tokens(io.StringIO(code, newline=None).readline):
            if token.type == tokenize.STRING:
                found.update(range(token.start[0] + 1, token.end[0] + 1))
            elif token.type == _FSTRING_START:
                opened.append(token.start[0])
            elif token.type == _FSTRING_END and opened:
                found.update(range(opened.pop() + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return _constant_lines(code)
    return frozenset(found)


def _constant_lines(code: str) -> frozenset[int]:
    """The lines after the first of every string constant spanning lines (when code cannot be
    tokenized, which :func:`ast.parse` accepted: this over-counts strings joined across lines)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return frozenset()
    found: set[int] = set()
    for node in ast.walk(tree):
        start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if start is not None and end is not None and end > start and (
            isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
        ):
            found.update(range(start + 1, end + 1))
    return frozenset(found)


class Sources:
    """The statements of a notebook's cells, as text: see :meth:`piece`."""

    def __init__(self, cells: Sequence[ParsedCell], edits: Edits) -> None:
        self.edits = edits
        self._cells = {cell.number: cell for cell in cells}
        self._texts: dict[int, _Cell] = {}
        self._owner: dict[int, int] | None = None  # id(statement) -> cell number
        self._imports: dict[int, ast.stmt] = {}  # id(alias) -> the notebook's import statement

    def _cell(self, number: int | None) -> _Cell | None:
        if number is None or number not in self._cells:
            return None
        if number not in self._texts:
            self._texts[number] = _Cell(self._cells[number])
        return self._texts[number]

    def _cell_of(self, node: ast.stmt) -> int | None:
        if self._owner is None:
            self._owner = {id(s): cell.number for cell in self._cells.values() for s in cell.tree.body}
            self._imports = {id(a): s for cell in self._cells.values() for s in cell.tree.body
                             if isinstance(s, (ast.Import, ast.ImportFrom)) for a in s.names}
        return self._owner.get(id(node))

    def _original(self, node: ast.stmt) -> ast.stmt:
        """An import analysis made anew from some of the names of a notebook import: that import
        (where its comments are); any other statement: itself."""
        if self._cell_of(node) is None and isinstance(node, (ast.Import, ast.ImportFrom)) and node.names:
            return self._imports.get(id(node.names[0]), node)
        return node

    def comments(self, number: int) -> list[str]:
        """Every comment line of a cell (for a cell of comments only)."""
        cell = self._cell(number)
        return cell.all_comments() if cell is not None else []

    def notes(self, node: ast.stmt) -> list[str]:
        """The comments written with a statement (above it, at the end of its line, after it at the
        end of its cell), for a statement written in other words (an import in the sorted block)."""
        node = self._original(node)
        cell = self._cell(self._cell_of(node))
        found = cell.segment(node) if cell is not None and hasattr(node, "lineno") else None
        if cell is None or found is None:
            return _tidy([line.strip() for line in getattr(node, COMMENTS, None) or []])
        code, _, starts_line, ends_line = found
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", None) or [])])
        notes = cell.comments_above(first)[0] if starts_line else []
        if ends_line and "#" in code and isinstance(node, (ast.Import, ast.ImportFrom)):
            notes.append(code[code.index("#"):])  # (an import holds no string a "#" could be in)
        if ends_line:
            notes += cell.comments_below(node.end_lineno or first)
        return [n for n in notes if n]

    def piece(self, node: ast.stmt, number: int | None = None) -> Piece:
        """The statement's text at column 0: the user's, edited, when it still means ``node``."""
        original = self._original(node) if number is None else node
        if original is not node:  # an import made anew: the notebook's own when it is the same
            if _same(original, node):
                return self.piece(original)
            text = ast.unparse(node)
            return _piece(self.notes(original), text, set(), [], node, False, False, text)
        cell = self._cell(number if number is not None else self._cell_of(node))
        assign_to = getattr(node, ASSIGN_TO, None)
        if assign_to is not None and not (isinstance(node, ast.Expr) and str(assign_to).isidentifier()):
            raise ValueError(f"cannot assign a {type(node).__name__} statement to {assign_to!r}")
        found = cell.segment(node) if cell is not None and hasattr(node, "lineno") else None
        comments: list[str] = []
        trailing: list[str] = []
        blank_before = False
        if cell is None or found is None:
            comments = _tidy([line.strip() for line in getattr(node, COMMENTS, None) or []])
            written = None
        else:
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", None) or [])])
            code, _, starts_line, ends_line = found
            if starts_line:
                comments, blank_before = cell.comments_above(first)
            if ends_line:
                trailing = cell.comments_below(node.end_lineno or first)
            written = self._written(node, cell, first, code, assign_to)
        if written is None:
            if cell is not None and found is not None and not _same_kind(cell, node):
                # positions that point elsewhere (a statement IPython's transformer made from a magic)
                comments = _tidy([line.strip() for line in getattr(node, COMMENTS, None) or []])
                trailing, blank_before = [], False
            meant = self._expected(node, self._dropped(node, cell), assign_to, True)
            text = ast.unparse(meant)
            return _piece(comments, text, _string_lines_of(text), trailing, meant, blank_before, False, text)
        text, strings, meant = written
        return _piece(comments, text, strings, trailing, meant, blank_before, True)

    def _written(self, node: ast.stmt, cell: _Cell, first: int, code: str,
                 assign_to: object) -> tuple[str, set[int], ast.stmt] | None:
        """The user's text of ``node`` with the edits made, when it still means what ``node`` (edited)
        means: (text, its lines inside multi-line strings, ``node`` edited); else None."""
        dropped = self._dropped(node, cell)
        pattern = self.edits.pattern
        own = getattr(node, RENAMED, None)  # this statement's own renames (a versioned name)
        literals = getattr(node, PATH_LITERALS, None)  # paths made parameters (notebook/paths.py)
        heads = getattr(node, FSTRING_HEADS, None)
        stars = _star_names(node, code)  # star imports made explicit (notebook/starimports.py)
        if stars:
            from mlpack_cli.notebook import cst

            explicit = cst.explicit_imports(code, stars)
            if explicit is None:
                return None
            code = explicit
        inserted = getattr(node, INSERTED, None)  # a loop's results collected pass by pass (notebook/passes.py)
        named = bool(own) or bool(literals) or bool(heads) or pattern is not None and pattern.search(code) is not None
        if not (dropped or named or assign_to is not None or stars or inserted):
            written = cell.statement_at(node.lineno, node.col_offset)  # the cell's own parse of this text
            if written is not None:
                if not _same(written, node):
                    return None
                return code, {n - first + 1 for n in cell.strings if first < n <= (written.end_lineno or first)}, node
        expected = self._expected(node, dropped, assign_to, named)
        if inserted:
            code, dropped = _with_inserted(code, first, inserted, dropped)
            named = named or pattern is not None and pattern.search(code) is not None
        if assign_to is not None:
            code = _assigned(str(assign_to), code, [first + n in cell.strings for n in range(code.count("\n") + 1)])
        if dropped or named:
            from mlpack_cli.notebook import cst

            renamed = {**self.edits.renamed, **own} if own else self.edits.renamed
            if not (dropped or heads):  # renames and literals only: replacing the tokens writes what libcst would
                quick = cst.rename_tokens(code, renamed, self.edits.helper_globals, literals)
                found = _meaning(quick, expected) if quick is not None else None
                if found is not None:
                    return found
            code = cst.edit(code, renamed, self.edits.helper_globals, {n - first + 1 for n in dropped}, literals,
                            heads)
        return _meaning(code, expected)

    def _dropped(self, node: ast.stmt, cell: _Cell | None) -> set[int]:
        lines = self.edits.dropped.get(cell.number, set()) if cell is not None else set()
        if not lines or not hasattr(node, "lineno"):
            return set()
        return {n for n in lines if node.lineno <= n <= (node.end_lineno or node.lineno)}

    def _expected(self, node: ast.stmt, dropped: set[int], assign_to: object, named: bool) -> ast.stmt:
        """The statement after the edits code generation makes (on a copy when there are any);
        ``named``: it may hold a name to rename or a helper to pass globals to."""
        edits = self.edits
        if not (dropped or assign_to is not None or named and (edits.renamed or edits.helper_globals)):
            return node
        result = _copied(node)
        if assign_to is not None and isinstance(result, ast.Expr):
            result = ast.Assign(targets=[ast.Name(str(assign_to), ast.Store())], value=result.value, lineno=0)
        if dropped:
            drop_nested(result, lambda s: isinstance(s, _SIMPLE) and s.lineno in dropped)
        if named and edits.renamed:
            Renamer(edits.renamed).visit(result)
        if named and edits.helper_globals:
            _add_helper_globals(result, edits.helper_globals)
        return result


def _with_inserted(code: str, first: int, inserted: Sequence[tuple[int, int, str]],
                   dropped: set[int]) -> tuple[str, set[int]]:
    """``code`` (a statement's text from the cell's line ``first``) with each line of ``inserted``
    (after the cell's line, the first line of the statement it follows, its text) added, indented as
    that statement; and the cell's lines in ``dropped`` as numbered in the text made."""
    lines = code.split("\n")
    at: dict[int, list[str]] = {}
    for after, start, text in inserted:
        indent = re.match(r"[ \t]*", lines[start - first]).group()  # type: ignore[union-attr]
        at.setdefault(after, []).extend(indent + line for line in text.split("\n"))
    for after in sorted(at, reverse=True):
        lines[after - first + 1:after - first + 1] = at[after]
    moved = {n + sum(len(more) for after, more in at.items() if after < n) for n in dropped}
    return "\n".join(lines), moved


def _star_names(node: ast.stmt, code: str) -> list[tuple[str, ...]]:
    """The names each star import written in ``code`` now imports, in the order they are written."""
    if "*" not in code or "import" not in code:
        return []
    found = [n for n in ast.walk(node) if isinstance(n, ast.ImportFrom) and hasattr(n, STAR_NAMES)]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return [tuple(getattr(n, STAR_NAMES)) for n in found]


def _meaning(code: str, expected: ast.stmt) -> tuple[str, set[int], ast.stmt] | None:
    """(code, its lines inside multi-line strings, ``expected``) when ``code`` is one statement that
    parses to ``expected``; else None."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not _same(tree.body[0], expected):
        return None
    return code, set(string_lines(code)), expected


def _copied(node: _Node) -> _Node:
    """A copy of ``node``'s tree (what ``copy.deepcopy`` makes for the edits, several times faster):
    every node and list of nodes copied; names, constants and expression contexts shared, as
    nothing changes them."""
    twin = node.__class__.__new__(node.__class__)
    inner = twin.__dict__
    children = node._fields  # other attributes (positions, ours, a linter's parent links) are shared
    for name, value in node.__dict__.items():
        if name not in children:
            inner[name] = value
        elif value.__class__ is list:
            inner[name] = [_copied(item) if isinstance(item, ast.AST) else item for item in value]
        elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
            inner[name] = _copied(value)
        else:
            inner[name] = value
    return twin


def _same_kind(cell: _Cell, node: ast.stmt) -> bool:
    """Whether the cell's code has a statement of ``node``'s kind where ``node`` says it starts."""
    written = cell.statement_at(node.lineno, node.col_offset)
    return written is not None and type(written) is type(node)


def _assigned(name: str, code: str, in_string: list[bool]) -> str:
    """``name = <code>``; continuation lines aligned with an opening bracket move along with it."""
    prefix = f"{name} = "
    lines = code.split("\n")
    hanging = re.search(r"[(\[{\\]\s*(#.*)?$", lines[0]) is not None
    if not hanging:
        lines[1:] = [line if in_string[n] or not line else " " * len(prefix) + line
                     for n, line in enumerate(lines[1:], start=1)]
    return prefix + "\n".join(lines)


def _same(a: object, b: object) -> bool:
    """``ast.dump(a) == ast.dump(b)`` (positions aside), without making the strings."""
    pending = [(a, b)]
    push = pending.append
    while pending:
        x, y = pending.pop()
        kind = x.__class__
        if kind is not y.__class__:
            return False
        if kind is list:
            if len(x) != len(y):  # type: ignore[arg-type]
                return False
            pending.extend(zip(x, y))  # type: ignore[call-overload]
        elif isinstance(x, ast.AST):
            for name in kind._fields:  # type: ignore[attr-defined]
                push((getattr(x, name, None), getattr(y, name, None)))
        elif x != y:
            return False
    return True


def _string_lines_of(code: str) -> set[int]:
    return set(string_lines(code)) if "\n" in code else set()


def _piece(comments: list[str], code: str, strings: set[int], trailing: list[str], node: ast.stmt,
           blank_before: bool, kept: bool, unparsed: str | None = None) -> Piece:
    """``node``: what ``code`` means, edits made; ``strings``: the lines of ``code`` inside multi-line
    strings; ``kept``: it is the user's text; ``unparsed``: ``ast.unparse(node)`` when known."""
    lines = [*comments, *code.split("\n"), *trailing]
    inner = {n + len(comments) for n in strings}
    lines = [line if number in inner else line.rstrip() for number, line in enumerate(lines, start=1)]
    clean = all(_BLOCK_COMMENT.fullmatch(c) or not c for c in [*comments, *trailing]) and _laid_out_as_unparse(
        lines[len(comments):len(lines) - len(trailing)], code, node, unparsed
    )
    return Piece(
        "\n".join(lines), frozenset(inner), clean=clean, blank_before=blank_before,
        is_definition=isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)), kept_text=kept,
    )


_STRING = re.compile(r"""[rRbBuUfF]{0,2}(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")
_NUMBER = re.compile(r"(?<![\w.])(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?[jJ]?(?![\w.])")
_PARENS = re.compile(r"[()]")
_DEFINITION = re.compile(r"[ \t]*(?:async[ \t]+def|def|class|@)\b")
_ANNOTATED_DEFAULT = re.compile(r"[ \t]*(?:async[ \t]+)?def\b.*:[^=\n]*[^=!<> ]=[^=]")  # E252: "a: int=1"


def _laid_out_as_unparse(lines: list[str], code: str, node: ast.stmt, unparsed: str | None = None) -> bool:
    """True when the statement's text (``lines``, as written into the piece) is laid out as
    ``ast.unparse`` lays it out, string and number literals, blank lines and a well-formed inline
    comment at the end aside: then pycodestyle can only report what the code says (which the checks
    on the whole module see) and blank lines around nested definitions (checked here). ``node`` is
    what ``code`` means (``unparsed``: its ``ast.unparse``, when the caller has it)."""
    def normal(text: str) -> list[str]:
        text = _NUMBER.sub("N", _STRING.sub("S", text))
        return [line for line in text.split("\n") if line.strip()]

    if "\n" in code.strip() and not isinstance(node, _COMPOUND):
        return False  # ast.unparse writes a simple statement on one line
    written = normal(code)
    if not written or any("#" in line for line in written[:-1]):
        return False
    if "#" in written[-1]:
        head, _, comment = written[-1].partition("#")
        if not head.strip() or not _INLINE_COMMENT.fullmatch(head[len(head.rstrip()):] + "#" + comment):
            return False
        written[-1] = head.rstrip()
    unparsed = ast.unparse(node) if unparsed is None else unparsed
    if [_PARENS.sub("", line) for line in written] != [_PARENS.sub("", line) for line in normal(unparsed)]:
        return False  # (parentheses aside: ast.unparse adds them around tuples, users leave them out)
    previous = ""
    blanks = 0
    for line in lines:
        if not line.strip():
            blanks += 1
            if blanks > 1:
                return False  # E303
            continue
        if _ANNOTATED_DEFAULT.match(line) or blanks and previous.lstrip().startswith("@"):
            return False  # E252, E304
        if previous and _DEFINITION.match(line) and not blanks and not previous.lstrip().startswith("@"):
            if len(previous) - len(previous.lstrip()) >= len(line) - len(line.lstrip()):
                return False  # E301 / E306: a definition right after a statement of its block
        previous, blanks = line, 0
    return True


# -- the same edits on the AST (what the edited text must parse to) -------------------------------


def _add_helper_globals(node: ast.stmt, helper_globals: Mapping[str, Sequence[str]]) -> None:
    for inner in ast.walk(node):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner.name in helper_globals:
            have = {a.arg for a in inner.args.posonlyargs + inner.args.args + inner.args.kwonlyargs}
            for name in helper_globals[inner.name]:
                if name not in have:
                    inner.args.kwonlyargs.append(ast.arg(name))
                    inner.args.kw_defaults.append(None)
        elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in helper_globals:
            passed = {k.arg for k in inner.keywords}
            for name in helper_globals[inner.func.id]:
                if name not in passed:
                    inner.keywords.append(ast.keyword(name, ast.Name(name, ast.Load())))
