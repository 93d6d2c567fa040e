"""Write Python source from an AST that passes flake8: wrapped long lines, lint fixes, last-resort noqa.

Notebook code arrives in every style; the generated module is rebuilt from the AST (so spacing,
quotes and semicolons are uniform), long calls and literals are wrapped one item per line, and
what pyflakes would report in the user's own code is fixed where the fix cannot change behaviour
(an unused local assignment keeps its right-hand side, an f-string without placeholders becomes a
plain string, an unused local import goes). Whatever style problem remains (an unbreakable long
string, ``l = ...``) gets a ``# noqa: <code>`` on its line, so the file passes flake8 as it stands.
"""

from __future__ import annotations

import ast
import bisect
import functools
import itertools
import re
from collections.abc import Callable
from typing import Any

from mlpack_cli.notebook.names import child_fields, walk

INDENT = 4


def unparse(node: ast.AST, max_line: int = 100) -> str:
    """``ast.unparse`` that wraps statements longer than ``max_line`` where it can."""
    unparser_class = getattr(ast, "_Unparser", None)
    if unparser_class is None:  # pragma: no cover - every supported Python has it
        return ast.unparse(node)
    return str(_wrapping_unparser(unparser_class, max_line)().visit(node))


@functools.lru_cache(maxsize=8)
def _wrapping_unparser(base: Any, max_line: int) -> Any:
    """The unparser class for ``max_line`` (made once: a class costs more to make than most statements)."""

    class Wrapping(base):  # type: ignore[misc, valid-type]
        def _wrapped(
            self, node: ast.stmt, prefix: Callable[[], str], value: ast.expr, visit: Callable[[ast.stmt], None]
        ) -> None:
            start = len(self._source)
            visit(node)
            if max(len(line) for line in "".join(self._source[start:]).split("\n")) <= max_line:
                return
            del self._source[start:]  # too long: write it again, wrapped
            indent = INDENT * self._indent
            text = prefix()
            self.fill(text + wrap_expression(value, indent + len(text), indent, max_line))

        _after_annotated_arg = False

        def visit_arg(self, node: ast.arg) -> None:
            super().visit_arg(node)
            self._after_annotated_arg = node.annotation is not None

        def write(self, *text: str) -> None:
            # pycodestyle (E252) wants "a: int = 1" where ast.unparse writes "a: int=1".
            if text == ("=",) and self._after_annotated_arg:
                text = (" = ",)
            self._after_annotated_arg = False
            super().write(*text)

        def _function_helper(self, node: ast.FunctionDef | ast.AsyncFunctionDef, fill_suffix: str) -> None:
            # A signature too long for one line gets one parameter per line.
            header = f"{fill_suffix} {node.name}({ast.unparse(node.args)})"
            if node.returns is not None:
                header += f" -> {ast.unparse(node.returns)}"
            if INDENT * self._indent + len(header) + 1 <= max_line or getattr(node, "type_params", None):
                super()._function_helper(node, fill_suffix)
                return
            self.maybe_newline()
            for decorator in node.decorator_list:
                self.fill("@")
                self.traverse(decorator)
            self.fill(f"{fill_suffix} {node.name}(")
            inner = " " * (INDENT * (self._indent + 1))
            for text in _parameter_texts(node.args):
                self.write(f"\n{inner}{text},")
            self.write("\n" + " " * (INDENT * self._indent) + ")")
            if node.returns is not None:
                self.write(" -> ")
                self.traverse(node.returns)
            with self.block(extra=self.get_type_comment(node)):
                self._write_docstring_and_traverse_body(node)

        def visit_Assign(self, node: ast.Assign) -> None:
            self._wrapped(
                node, lambda: "".join(_target_text(t) + " = " for t in node.targets), node.value, super().visit_Assign
            )

        def visit_AugAssign(self, node: ast.AugAssign) -> None:
            operator = self.binop[node.op.__class__.__name__]
            self._wrapped(node, lambda: f"{ast.unparse(node.target)} {operator}= ", node.value, super().visit_AugAssign)

        def visit_Expr(self, node: ast.Expr) -> None:
            if isinstance(node.value, ast.Constant):
                super().visit_Expr(node)
            else:
                self._wrapped(node, lambda: "", node.value, super().visit_Expr)

        def visit_Return(self, node: ast.Return) -> None:
            if node.value is None:
                super().visit_Return(node)
            else:
                self._wrapped(node, lambda: "return ", node.value, super().visit_Return)

    return Wrapping


def _parameter_texts(args: ast.arguments) -> list[str]:
    """Each parameter of a signature as source text, with the ``/`` and ``*`` markers."""

    def one(arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg + (f": {ast.unparse(arg.annotation)}" if arg.annotation is not None else "")
        if default is not None:
            text += (" = " if arg.annotation is not None else "=") + ast.unparse(default)
        return text

    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    texts = [one(arg, default) for arg, default in zip(positional, defaults)]
    if args.posonlyargs:
        texts.insert(len(args.posonlyargs), "/")
    if args.vararg is not None:
        texts.append("*" + one(args.vararg, None))
    elif args.kwonlyargs:
        texts.append("*")
    texts.extend(one(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults))
    if args.kwarg is not None:
        texts.append("**" + one(args.kwarg, None))
    return texts


def _target_text(target: ast.expr) -> str:
    if isinstance(target, ast.Tuple) and target.elts:
        return ", ".join(ast.unparse(e) for e in target.elts)
    return ast.unparse(target)


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


# -- lint fixes ------------------------------------------------------------------------------------


def fix_lint(module: ast.Module) -> bool:
    """Fix, in place, what pyflakes reports that has a fix that cannot change behaviour.

    A fix can uncover a problem pyflakes did not report: of the imports binding one name in the
    branches of an ``if``, it reports only the last (drop it and the others are unused), and an
    unused annotated assignment takes its annotation along (maybe an import's only use). So
    pyflakes runs again after a pass that did either, until one does neither. Returns whether
    pyflakes reported anything else (then :func:`add_noqa` runs pyflakes again on the final
    text, to place its noqa comments).
    """
    while True:
        reported, fixed, uncovering = _fix_lint_once(module)
        if not uncovering:
            return fixed != reported


def _fix_lint_once(module: ast.Module) -> tuple[int, int, bool]:
    """One pass of :func:`fix_lint`: how many problems pyflakes reported, how many were fixed, and
    whether a fix may have uncovered another (see there)."""
    from pyflakes import checker, messages

    lines, parents = _number(module)
    reported = checker.Checker(module, filename="<generated>").messages
    fixed = 0
    unused: dict[int, tuple[ast.FunctionDef | ast.AsyncFunctionDef, set[str]]] = {}
    unimported: set[str] = set()  # names whose import was dropped
    uncovering = False
    for message in reported:
        node = lines.get(message.lineno)
        if isinstance(message, messages.UnusedVariable) and isinstance(node, ast.ExceptHandler):
            node.name = None  # pyflakes judges each handler on its own
            fixed += 1
        elif isinstance(message, messages.UnusedVariable) and node is not None:
            scope = _function_of(node, parents)
            if scope is not None:
                unused.setdefault(id(scope), (scope, set()))[1].add(str(message.message_args[0]))
        elif isinstance(message, messages.FStringMissingPlaceholders) and isinstance(node, ast.JoinedStr):
            fixed += _plain_string(node, parents)
        elif isinstance(message, messages.UnusedImport) and isinstance(node, (ast.Import, ast.ImportFrom)):
            dropped_names = _drop_import(node, str(message.message_args[0]), parents)
            fixed += bool(dropped_names)
            unimported.update(dropped_names)
    for scope, names in unused.values():
        # A name the function never reads at all: every binding goes (each right-hand side stays,
        # for its side effects). pyflakes also reports names read before their binding in a loop;
        # those are read, so they stay (and get a noqa).
        names -= {n.id for n in walk(scope) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
        binders = [node for node in _own_scope_nodes(scope) if isinstance(node, _BINDERS)]
        dropped = {name for node in binders for name in names if _drop_one(node, name, parents)}
        fixed += len(dropped)
        uncovering = uncovering or any(
            isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) in dropped for node in binders
        )
    # an import dropped while its name is bound again elsewhere: that binding may have been hidden
    uncovering = uncovering or bool(unimported and unimported & _bound_names(module))
    return len(reported), fixed, uncovering


def _bound_names(module: ast.Module) -> set[str]:
    """Names the module's imports and assignments bind, in any scope."""
    bound: set[str] = set()
    for node in walk(module):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
    return bound


def _number(module: ast.Module) -> tuple[dict[int, ast.AST], dict[int, ast.AST]]:
    """One walk that gives every node its own line number (so a pyflakes message points at
    exactly one node), maps each node to its parent, and applies the rewrites pycodestyle asks
    for that mean the same: ``not a in b`` -> ``a not in b``, ``import a, b`` -> two imports."""
    lines: dict[int, ast.AST] = {}
    parents: dict[int, ast.AST] = {}
    number = 0
    pending: list[ast.AST] = [module]
    while pending:
        node = pending.pop()
        if "lineno" in node._attributes:
            number += 1
            node.lineno = node.end_lineno = number  # type: ignore[attr-defined]
            node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]
            lines[number] = node
        for field in child_fields(node):
            value = getattr(node, field, None)
            if isinstance(value, list):
                _modernize_block(value)
                for child in value:
                    if isinstance(child, ast.AST):
                        parents[id(child)] = node
                        pending.append(child)
            elif isinstance(value, ast.AST):
                if _negated_test(value):
                    value = _negate(value)  # type: ignore[arg-type]
                    setattr(node, field, value)
                parents[id(value)] = node
                pending.append(value)
    return lines, parents


def _modernize_block(items: list[Any]) -> None:
    for index, item in enumerate(items):
        if _negated_test(item):
            items[index] = _negate(item)
    if any(isinstance(s, ast.Import) and len(s.names) > 1 for s in items):
        items[:] = [
            part for s in items
            for part in ([ast.Import(names=[a]) for a in s.names] if isinstance(s, ast.Import) else [s])
        ]


def _function_of(node: ast.AST, parents: dict[int, ast.AST]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    scope = parents.get(id(node))
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        scope = parents.get(id(scope))
    return scope if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _negated_test(node: object) -> bool:
    return (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Compare)
        and len(node.operand.ops) == 1 and isinstance(node.operand.ops[0], (ast.In, ast.Is))
    )


def _negate(node: ast.UnaryOp) -> ast.Compare:
    compare = node.operand
    assert isinstance(compare, ast.Compare)
    op = ast.NotIn() if isinstance(compare.ops[0], ast.In) else ast.IsNot()
    return ast.Compare(left=compare.left, ops=[op], comparators=compare.comparators)


def _replace_statement(old: ast.stmt, new: list[ast.stmt], parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(old))
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and any(s is old for s in block):
            index = next(i for i, s in enumerate(block) if s is old)
            block[index:index + 1] = new or ([] if len(block) > 1 else [ast.Pass()])
            return True
    return False


def _own_scope_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
              ast.DictComp, ast.GeneratorExp)
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        for field in child_fields(node):
            value = getattr(node, field, None)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST) and not isinstance(child, nested):
                    pending.append(child)
    return found


_BINDERS = (ast.Assign, ast.AnnAssign, ast.withitem, ast.Import, ast.ImportFrom)


def _drop_one(node: ast.AST, name: str, parents: dict[int, ast.AST]) -> bool:
    if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name) and node.optional_vars.id == name:
        node.optional_vars = None
        return True
    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
        node.targets = [t for t in node.targets if not (isinstance(t, ast.Name) and t.id == name)]
        return bool(node.targets) or _replace_statement(node, [ast.Expr(node.value)], parents)
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
        return _replace_statement(node, [ast.Expr(node.value)] if node.value else [], parents)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        kept = [a for a in node.names if (a.asname or a.name.split(".")[0]) != name]
        if len(kept) != len(node.names):
            if kept:
                node.names = kept
                return True
            return _replace_statement(node, [], parents)
    return False


def _plain_string(node: ast.JoinedStr, parents: dict[int, ast.AST]) -> bool:
    text = "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    parent = parents.get(id(node))
    if parent is None:
        return False
    for field, value in ast.iter_fields(parent):
        if value is node:
            setattr(parent, field, ast.Constant(text))
            return True
        if isinstance(value, list) and any(v is node for v in value):
            value[next(i for i, v in enumerate(value) if v is node)] = ast.Constant(text)
            return True
    return False


def _drop_import(node: ast.Import | ast.ImportFrom, name: str, parents: dict[int, ast.AST]) -> set[str]:
    """Drop the alias pyflakes reports as ``name``; returns the names it bound (empty: none dropped)."""

    def bound(alias: ast.alias) -> str:
        full = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        return f"{full} as {alias.asname}" if alias.asname else full

    names = [a for a in node.names if bound(a) != name and (a.asname or a.name) != name]
    gone = {a.asname or a.name.split(".")[0] for a in node.names if a not in names}
    if not gone:
        return set()
    if names:
        node.names = names
        return gone
    return gone if _replace_statement(node, [], parents) else set()


# -- last resort: noqa -----------------------------------------------------------------------------


def flake8_problems(text: str, max_line: int, *, pyflakes: bool = True) -> list[tuple[int, str]]:
    """(line, code) for what flake8 would report with ``max-line-length = max_line``."""
    from flake8.plugins.pyflakes import FLAKE8_PYFLAKES_CODES
    from pyflakes import checker

    problems = _pycodestyle(text.splitlines(keepends=True), max_line, None)
    messages = checker.Checker(ast.parse(text), filename="<generated>").messages if pyflakes else []
    for message in messages:
        problems.append((message.lineno, FLAKE8_PYFLAKES_CODES.get(type(message).__name__, "F999")))
    return problems


def add_noqa(
    text: str, max_line: int, *, only_long_lines: bool = False, pyflakes: bool = True, tree: ast.Module | None = None
) -> tuple[str, list[tuple[int, str]]]:
    """Append ``# noqa: CODES`` where flake8 still complains; returns the text and what was silenced.

    ``text`` is code this package generated (``tree`` is its AST when the caller already has it):
    :func:`style_problems` finds what pycodestyle reports, pyflakes runs only when ``pyflakes``
    (:func:`fix_lint` left something). ``only_long_lines`` is for text made from our own templates,
    where line length (long module or notebook names) is the only thing that can go wrong.
    """
    if only_long_lines:
        problems = [(n, "E501") for n, line in enumerate(text.splitlines(), start=1) if len(line) > max_line]
        if not problems:
            return text, []
        strings = _multiline_strings(ast.parse(text) if tree is None else tree)
    else:
        tree = ast.parse(text) if tree is None else tree
        strings = _multiline_strings(tree)
        problems = style_problems(text.splitlines(keepends=True), max_line, strings, tree)
        if pyflakes:
            from flake8.plugins.pyflakes import FLAKE8_PYFLAKES_CODES
            from pyflakes import checker

            for message in checker.Checker(tree, filename="<generated>").messages:
                problems.append((message.lineno, FLAKE8_PYFLAKES_CODES.get(type(message).__name__, "F999")))
    if not problems:
        return text, []
    lines = text.split("\n")
    codes: dict[int, set[str]] = {}
    for line, code in problems:
        codes.setdefault(strings[line][1] if line in strings else line, set()).add(code)
    for line, found in codes.items():
        if 0 < line <= len(lines):
            base = lines[line - 1].rstrip()
            if len(f"{base}  # noqa: {','.join(sorted(found))}") > max_line:
                found.add("E501")  # the comment itself makes the line too long
            lines[line - 1] = f"{base}  # noqa: {','.join(sorted(found))}"
    return "\n".join(lines), sorted(problems)


# -- what pycodestyle reports, without running all of it -----------------------------------------
#
# The generated module's layout (indentation, spacing around operators and commas, blank lines,
# where long lines break, comment style) is written by the unparser above and the templates, never
# copied from the notebook, and is pycodestyle-clean by construction. What the notebook's code says
# can still break a rule: a line too long, ``l = 1``, ``x == None``, ``f = lambda: 0``, a bare
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
    (("E731",), r"^[ \t]*[^\W\d]\w* = lambda\b"),  # how the unparser writes an assignment, not a keyword argument
    (("E741", "E742", "E743"), r"\b[lIO]\b"),
    # an odd run of backslashes before a character that is not a valid escape
    (("W605",), r"(?<!\\)(?:\\\\)*\\[^\\'\"abfnrtvxNuU0-7\n]"),
    # a space at the end of a line; tabs, and the characters str.splitlines also breaks lines at
    (("W291", "W293", "W191", "E101"), r" $|[\t\v\f\r\x1c-\x1e\x85\u2028\u2029]"),
)


@functools.lru_cache(maxsize=1)
def _content_patterns() -> list[tuple[tuple[str, ...], re.Pattern[str]]]:
    return [(codes, re.compile(pattern, re.MULTILINE)) for codes, pattern in _CONTENT_CHECKS]


def style_problems(
    lines: list[str], max_line: int, strings: dict[int, tuple[int, int]], tree: ast.Module
) -> list[tuple[int, str]]:
    """(line, code) for what pycodestyle reports on generated code: ``lines`` as from
    ``splitlines(keepends=True)``, ``tree`` their AST, ``strings`` from :func:`_multiline_strings`.

    A check that may fire runs on the innermost statement holding each line its pattern matched
    (every logical line in it is whole), not on the whole module.
    """
    problems = _long_lines(lines, max_line, strings)
    text = "".join(lines)
    starts = list(itertools.accumulate((len(line) for line in lines), initial=0))
    wanted: dict[int, list[str]] = {}  # line -> codes whose pattern matched on it
    for pattern_codes, pattern in _content_patterns():
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
def _style_guide(max_line: int, codes: tuple[str, ...] | None) -> Any:
    import pycodestyle

    selection = {} if codes is None else {"select": list(codes)}
    return pycodestyle.StyleGuide(quiet=True, max_line_length=max_line, **selection)


def _pycodestyle(lines: list[str], max_line: int, codes: tuple[str, ...] | None) -> list[tuple[int, str]]:
    """Run pycodestyle with only ``codes`` selected (so only their checks run); None: its defaults."""
    import pycodestyle

    problems: list[tuple[int, str]] = []

    class Collect(pycodestyle.BaseReport):  # type: ignore[misc]
        def error(self, line_number: int, offset: int, message: str, check: object) -> str | None:
            code = message[:4]
            if not self._ignore_code(code):
                problems.append((line_number, code))
            return code

    options = _style_guide(max_line, codes).options
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
