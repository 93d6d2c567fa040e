"""Match an executed notebook's stored outputs to the values ``run()`` returns.

A regression test is only as good as its expected values, so a value counts only when the output
provably belongs to the statement that showed it, and that statement shows a result ``run()``
returns under a key:

- the ``execute_result`` of a cell is the value of the cell's last expression (``metrics``,
  ``{"mae": mae}``, ``accuracy_score(y, p)``), read with :func:`ast.literal_eval`;
- the ``stdout`` text of a cell is what its top-level ``print`` calls wrote, in order: each call
  becomes a template (its literal text, its ``sep`` and ``end``, a field per shown value) and the
  text's lines must be the cell's templates in order, whole lines that other statements may write
  in between. A reading that is not unique (the earliest and the latest placement, or the shortest
  and the longest field, disagree) counts for nothing. Every search is linear: no regular
  expression with backtracking ever sees the stored text.

The tolerance follows how the value was shown: half a unit of the last printed digit
(``f"{acc:.3f}"`` printing ``0.953``: 0.0005), a float's ``repr`` relative ``1e-9``, ints, bools and
strings exactly. Nothing is run: everything comes from the code's AST and the stored text. Outputs
of a notebook that was not run top to bottom (execution counts missing or out of order) are stale
and give no value at all; :attr:`Matched.notes` says why.
"""

from __future__ import annotations

import ast
import math
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from mlpack_cli.notebook.dataflow import ASSIGN_TO, ParsedCell, Pipeline
from mlpack_cli.notebook.scopes import held_by

RELATIVE = 1e-9  # a float shown by its repr: as exact as two machines' float arithmetic agree
_MAX_TEXT = 10_000  # longer outputs (training logs) are not searched
_MAX_CAPTURES = 40  # fields of the prints of one cell
_MAX_VALUE = 2_000  # characters of a shown value's repr written into a test
_NUMBER = re.compile(r"[+-]?(?:\d[\d,_]*)?(?:\.\d*)?(?:[eE][+-]?\d+)?")
_NUMBER_TEXT = re.compile(r"\s*[-+]?[\d,_]*\.?\d*(?:[eE][-+]?\d+)?%?\s*")  # what a number format writes
_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?z?#?0?(?P<width>\d+)?(?P<grouping>[,_])?"
    r"(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?"
)
_PERCENT = re.compile(r"%(?:\((?P<key>\w+)\))?(?P<flags>[#0\- +]*)(?P<width>\d+)?(?:\.(?P<precision>\d+))?"
                      r"(?P<type>[diouxXeEfFgGcrsa%])")
_NUMPY_SCALARS = frozenset({"float64", "float_", "double", "longdouble", "int64", "int32", "int16", "int8",
                            "uint64", "uint32", "uint16", "uint8", "intp", "bool_", "bool", "str_"})
_SILENT_MAGICS = ("%matplotlib", "%load_ext", "%config", "%autoreload", "%reload_ext")
# methods that read a list or dict without changing it; any other method call on it may change it
_READING_METHODS = frozenset({"items", "keys", "values", "get", "copy", "count", "index", "to_dict", "tolist"})
_MUTATING_CALLS = frozenset({"shuffle"})  # functions known to change the list they are given


@dataclass(frozen=True)
class Stored:
    """A code cell's stored execution: its count and its outputs (nbformat output dicts)."""

    execution_count: int | None
    outputs: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Shown:
    """A value the notebook showed that ``run()`` returns under ``key``."""

    key: str
    value: Any  # a Python literal: number, bool, string, or containers of them
    absolute: float
    relative: float
    cell: int
    statement: str  # the first line of the statement that showed it (for the test's comment)


@dataclass
class Matched:
    shown: list[Shown] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why there is no (or a partial) regression test


@dataclass(frozen=True)
class _Capture:
    node: ast.expr
    spec: str | None  # the format spec, None for str(); "" for an f-string field without one
    conversion: str  # "", "r", "s" or "a"


_Item = str | _Capture | None  # literal text, a shown value, or a gap other statements may fill


def match_outputs(cells: Sequence[ParsedCell], stored: Mapping[int, Stored], pipeline: Pipeline) -> Matched:
    """The values of ``pipeline.results`` that the stored outputs of ``cells`` show."""
    found = Matched()
    if not pipeline.results:
        return found
    code = [c for c in cells if c.tree.body]
    stale = _stale(code, stored)
    if stale:
        found.notes.append(f"no regression test: {stale}")
        return found
    keys: dict[str, list[str]] = {}
    for key, name in pipeline.results:
        keys.setdefault(name, []).append(key)
    synthesized = {id(s.value): s.targets[0].id for stage in pipeline.stages for s in stage.statements
                   if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)}
    later = _Later(code)
    shown: dict[str, Shown] = {}
    ambiguous: list[int] = []
    for cell in code:
        record = stored.get(cell.number)
        if record is None:
            continue
        for item in _from_result(cell, record, keys, synthesized, later):
            shown[item.key] = item
        printed, unique = _from_stdout(cell, record, keys, synthesized, later)
        if not unique:
            ambiguous.append(cell.number)
        for item in printed:
            shown[item.key] = item
    if ambiguous:
        found.notes.append("regression test: the printed text of cell(s) "
                           f"{', '.join(map(str, ambiguous))} can be read more than one way; not used")
    found.shown = [shown[key] for key, _ in pipeline.results if key in shown]
    if not found.shown:
        found.notes.append("no regression test: no stored output shows a value run() returns")
    return found


def _stale(cells: Sequence[ParsedCell], stored: Mapping[int, Stored]) -> str | None:
    """Why the stored outputs cannot be trusted, or None: every code cell was run, top to bottom."""
    counts = [(c.number, stored[c.number].execution_count if c.number in stored else None) for c in cells]
    if all(count is None for _, count in counts):
        return "the notebook has no stored outputs (run it top to bottom and save it to get one)"
    unrun = [number for number, count in counts if count is None]
    if unrun:
        return f"cell {unrun[0]} was not run, so the stored outputs are stale (run the notebook top to bottom)"
    failed = [c.number for c in cells if c.number in stored
              and any(o.get("output_type") == "error" for o in stored[c.number].outputs)]
    if failed:
        return f"cell {failed[0]} stopped with an error, so the outputs after it are not the notebook's results"
    for (first, a), (second, b) in zip(counts, counts[1:]):
        if a is not None and b is not None and b <= a:
            return (f"the stored outputs are stale: cell {second} (execution count {b}) ran before cell "
                    f"{first} ({a}); run the notebook top to bottom")
    return None


class _Later:
    """Whether a name keeps, after a statement, the value it had there (nothing rebinds or changes it)."""

    def __init__(self, cells: Sequence[ParsedCell]) -> None:
        self._statements = [(c.number, s) for c in cells for s in c.tree.body]
        self._position = {id(s): i for i, (_, s) in enumerate(self._statements)}
        self._changed: dict[tuple[int, bool], set[str]] = {}  # each statement is walked once per kind

    def final(self, name: str, statement: ast.stmt, container: bool) -> bool:
        start = self._position.get(id(statement))
        if start is None:
            return False
        for _, after in self._statements[start + 1:]:
            key = (id(after), container)
            if key not in self._changed:
                self._changed[key] = _changed(after, container)
            if name in self._changed[key]:
                return False
        return True


def _changed(statement: ast.stmt, container: bool) -> set[str]:
    """The names ``statement`` rebinds or changes; ``container``: also those a call may fill."""
    names: set[str | None] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(held_by(node))
        if container and isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr not in _READING_METHODS:
                names.add(held_by(func.value))  # metrics.update(...), scores.append(...)
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in _MUTATING_CALLS:
                names.update(held_by(a) for a in node.args)  # random.shuffle(scores)
    return {name for name in names if name is not None}


# -- the value of the last expression ------------------------------------------------------------


def _from_result(cell: ParsedCell, record: Stored, keys: Mapping[str, list[str]], synthesized: Mapping[int, str],
                 later: _Later) -> list[Shown]:
    last = cell.tree.body[-1]
    if not isinstance(last, ast.Expr) or _is_call(last.value, {"print", "display"}):
        return []
    results = [o for o in record.outputs if o.get("output_type") == "execute_result"]
    if len(results) != 1:
        return []
    text = _text_plain(results[0])
    value = _literal(text) if text is not None else _NOT
    if value is _NOT:
        return []
    line = _first_line(cell, last)
    expression = last.value
    found: list[Shown] = []
    if isinstance(expression, ast.Dict) and isinstance(value, dict) and all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) for k in expression.keys):
        for key_node, item in zip(expression.keys, expression.values):
            label = key_node.value  # type: ignore[union-attr]
            name = _shown_name(item, last, keys, synthesized, later, label in value and _container(value[label]))
            if name is not None and label in keys.get(name, []) and label in value:
                found.extend(_shown(label, value[label], cell.number, line))
        return found
    name = getattr(last, ASSIGN_TO, None)
    if name is None:
        name = _shown_name(expression, last, keys, synthesized, later, _container(value))
    for key in keys.get(name or "", []):
        found.extend(_shown(key, value, cell.number, line))
    return found


_NOT = object()


def _text_plain(output: Mapping[str, Any]) -> str | None:
    data = output.get("data") or {}
    text = data.get("text/plain") if isinstance(data, Mapping) else None
    if isinstance(text, list):
        text = "".join(str(t) for t in text)
    return text if isinstance(text, str) else None


def _literal(text: str) -> Any:
    """The value a ``repr`` shows, numpy scalars (``np.float64(0.5)``) as plain numbers; else _NOT."""
    if len(text) > _MAX_VALUE:
        return _NOT
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return _NOT

    class Unwrap(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802 - the visitor protocol
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and func.value.id in ("np", "numpy") and func.attr in _NUMPY_SCALARS \
                    and len(node.args) == 1 and not node.keywords:
                return cast(ast.AST, self.visit(node.args[0]))
            return node

    try:
        value = ast.literal_eval(Unwrap().visit(tree))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT
    return value if _writable(value) else _NOT


def _writable(value: Any) -> bool:
    """A value whose repr is a literal that reads back the same (no inf, nan, sets of floats...)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (bool, int, str, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_writable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int, bool)) and _writable(v) for k, v in value.items())
    return False


def _container(value: Any) -> bool:
    return isinstance(value, (list, dict, tuple))


def _shown(key: str, value: Any, cell: int, line: str, absolute: float = 0.0,
           relative: float | None = None) -> list[Shown]:
    if value is None or len(repr(value)) > _MAX_VALUE:
        return []
    if relative is None:
        relative = RELATIVE if _has_float(value) else 0.0
    return [Shown(key, value, absolute, relative, cell, line)]


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def _shown_name(node: ast.expr, statement: ast.stmt, keys: Mapping[str, list[str]], synthesized: Mapping[int, str],
                later: _Later, container: bool) -> str | None:
    """The result name a shown expression is: a name that keeps its value, or the name analysis gave it."""
    if isinstance(node, ast.Name):
        return node.id if node.id in keys and later.final(node.id, statement, container) else None
    name = synthesized.get(id(node))
    return name if name in keys else None


def _first_line(cell: ParsedCell, statement: ast.stmt) -> str:
    lines = cell.code.splitlines()
    line = lines[statement.lineno - 1].strip() if 0 < statement.lineno <= len(lines) else ""
    return line[:72] + ("..." if len(line) > 72 else "")


# -- what print() wrote ----------------------------------------------------------------------------


def _from_stdout(cell: ParsedCell, record: Stored, keys: Mapping[str, list[str]], synthesized: Mapping[int, str],
                 later: _Later) -> tuple[list[Shown], bool]:
    """(values, unique): the printed values run() returns; unique is False when the text could be
    read more than one way (then no value is taken)."""
    text = "".join(_stream_text(o) for o in record.outputs if o.get("output_type") == "stream"
                   and o.get("name") == "stdout")
    prints = [s for s in cell.tree.body if isinstance(s, ast.Expr) and _is_call(s.value, {"print"})]
    if not text or not prints or len(text) > _MAX_TEXT:
        return [], True
    magics = [line.lstrip() for line in cell.source.splitlines() if line.lstrip().startswith(("%", "!"))
              and not line.lstrip().startswith(_SILENT_MAGICS)]
    if any(m.startswith(("%%capture", "%timeit", "%%timeit")) for m in magics):
        return [], True  # nothing printed, or printed many times
    timing = bool(magics) and all(m.split()[0] in ("%time", "%%time") for m in magics)  # prints after the code
    owners: dict[int, ast.stmt] = {}
    names: dict[int, str | None] = {}
    elements: list[list[_Item] | None] = [None] if magics and not timing else []  # print blocks, None: a gap
    for statement in cell.tree.body:
        template = _print_template(statement) if statement in prints else None
        if template is None:
            if _may_write(statement):
                elements.append(None)
            continue
        fields = [i for i in template if isinstance(i, _Capture)]
        for item in fields:
            owners[id(item)] = statement
            names[id(item)] = _shown_name(item.node, statement, keys, synthesized, later, container=True) or \
                _shown_name(item.node, statement, keys, synthesized, later, container=False)
        # a print that shows no value run() returns writes what it writes: a gap, its fields may span lines
        elements.append(template if not fields or any(names[id(f)] for f in fields) else None)
    if magics:
        elements.append(None)
    blocks = _merged(elements)
    captures = [i for b in blocks if b is not None for i in b if isinstance(i, _Capture)]
    if len(captures) > _MAX_CAPTURES or not any(names.get(id(c)) for c in captures):
        return [], True
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)
    first = _align(blocks, lines, forward=True)
    last = _align(blocks, lines, forward=False)
    if first is None or last is None:
        return [], True
    found: list[Shown] = []
    for block, start, end in zip([b for b in blocks if b is not None], first, last):
        fields = [i for i in block if isinstance(i, _Capture)]
        if not any(names[id(f)] for f in fields):
            continue
        block_text = "".join(lines[start[0]:start[1]])
        shortest, longest = _read(block, block_text, lazy=True), _read(block, block_text, lazy=False)
        if start != end or shortest is None or longest is None:
            return [], False
        for capture, value_text, other in zip(fields, shortest, longest):
            if names[id(capture)] is None:
                continue
            if value_text != other:
                return [], False
            statement = owners[id(capture)]
            parsed = _parse_printed(value_text, capture)
            name = _shown_name(capture.node, statement, keys, synthesized, later,
                               container=parsed is None or _container(parsed[0]))
            if name is None or parsed is None:
                continue
            value, absolute, relative = parsed
            for key in keys[name]:
                found.extend(_shown(key, value, cell.number, _first_line(cell, statement), absolute, relative))
    return found, True


def _merged(elements: list[list[_Item] | None]) -> list[list[_Item] | None]:
    """Consecutive gaps as one, consecutive prints as one block (what they write follows directly)."""
    merged: list[list[_Item] | None] = []
    for element in elements:
        if element is None:
            if not merged or merged[-1] is not None:
                merged.append(None)
        elif merged and merged[-1] is not None:
            merged[-1] = [*merged[-1], *element]
        else:
            merged.append(list(element))
    return merged


def _line_count(block: list[_Item]) -> int:
    text = "".join(i for i in block if isinstance(i, str))
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def _align(blocks: list[list[_Item] | None], lines: list[str], forward: bool) -> list[tuple[int, int]] | None:
    """The lines (first, end) each print block wrote: the earliest reading (``forward``) or the
    latest; a gap is any number of whole lines. None when the text is not what the cell prints."""
    order = blocks if forward else blocks[::-1]
    spans: list[tuple[int, int]] = []
    position = 0 if forward else len(lines)
    free = False
    final = max((i for i, b in enumerate(order) if b is not None), default=-1)
    for index, block in enumerate(order):
        if block is None:
            free = True
            continue
        count = _line_count(block)
        if index == final and index == len(order) - 1:  # nothing may follow it: it ends the text
            candidates = range(len(lines) - count, len(lines) - count + 1) if forward else range(0, 1)
            if not free and candidates[0] != (position if forward else position - count):
                return None
        elif forward:
            candidates = range(position, len(lines) - count + 1) if free else range(position, position + 1)
        else:
            candidates = range(position - count, -1, -1) if free else range(position - count, position - count + 1)
        for begin in candidates:
            inside = begin >= position if forward else begin + count <= position
            if begin >= 0 and begin + count <= len(lines) and inside \
                    and _read(block, "".join(lines[begin:begin + count]), lazy=True) is not None:
                break
        else:
            return None
        spans.append((begin, begin + count))
        position = begin + count if forward else begin
        free = False
    if not free and position != (len(lines) if forward else 0):
        return None
    return spans if forward else spans[::-1]


def _read(block: list[_Item], text: str, lazy: bool) -> list[str] | None:
    """The text of each field when ``text`` is what ``block`` prints: each literal found at its first
    place after the previous one (``lazy``) or at its last place before the next one; None when the
    reading does not fit (a field across a line break, a number format showing no number). Linear:
    the readings of a text lie between these two, so when they agree the text has one reading."""
    joined: list[str | _Capture] = []
    for item in block:  # adjacent literals as one: each is then found as a whole
        if isinstance(item, str) and joined and isinstance(joined[-1], str):
            joined[-1] += item
        elif item is not None:
            joined.append(item)
    items = joined if lazy else joined[::-1]
    values: list[str] = []
    position = 0 if lazy else len(text)
    pending: _Capture | None = None
    for item in items:
        if isinstance(item, _Capture):
            if pending is not None:
                return None  # two fields with nothing between them: any split would do
            pending = item
            continue
        if lazy:
            found = text.find(item, position) if pending is not None else (
                position if text.startswith(item, position) else -1)
            if found < 0:
                return None
            if pending is not None:
                values.append(text[position:found])
            position = found + len(item)
        else:
            found = text.rfind(item, 0, position) if pending is not None else (
                position - len(item) if text.endswith(item, 0, position) else -1)
            if found < 0:
                return None
            if pending is not None:
                values.append(text[found + len(item):position])
            position = found
        pending = None
    if pending is not None:
        values.append(text[position:] if lazy else text[:position])
    elif position != (len(text) if lazy else 0):
        return None
    fields = [i for i in items if isinstance(i, _Capture)]
    if any("\n" in value or _numeric(field.spec) and not _NUMBER_TEXT.fullmatch(value)
           for field, value in zip(fields, values)):
        return None
    return values if lazy else values[::-1]


def _stream_text(output: Mapping[str, Any]) -> str:
    text = output.get("text", "")
    return "".join(str(t) for t in text) if isinstance(text, list) else str(text)


def _is_call(node: ast.expr, names: set[str]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def _may_write(statement: ast.stmt) -> bool:
    """Whether a statement could write to stdout: anything that calls something, and anything compound."""
    if not isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Import, ast.ImportFrom,
                                  ast.Pass, ast.Delete, ast.Global, ast.Nonlocal, ast.FunctionDef, ast.ClassDef,
                                  ast.AsyncFunctionDef)):
        return True
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return bool(statement.decorator_list) or isinstance(statement, ast.ClassDef)
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return True  # an import runs the module's code
    return any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.Subscript, ast.Attribute))
               for n in ast.walk(statement))


def _print_template(statement: ast.stmt) -> list[_Item] | None:
    """What a ``print(...)`` writes, as literal text and shown values; None when it cannot be known
    (``*args``, a computed ``sep``, a ``file=`` other than stdout)."""
    call = statement.value  # type: ignore[attr-defined]
    sep, end = " ", "\n"
    for keyword_ in call.keywords:
        value = keyword_.value
        if keyword_.arg in ("sep", "end"):
            if isinstance(value, ast.Constant) and isinstance(value.value, (str, type(None))):
                text = value.value if value.value is not None else (" " if keyword_.arg == "sep" else "\n")
                sep, end = (text, end) if keyword_.arg == "sep" else (sep, text)
                continue
            return None
        if keyword_.arg == "flush":
            continue
        return None  # file=..., **kwargs
    items: list[_Item] = []
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            return None
        if index:
            items.append(sep)
        items.extend(_argument_template(argument))
    items.append(end)
    return items


def _argument_template(argument: ast.expr) -> list[_Item]:
    if isinstance(argument, ast.Constant):
        return [str(argument.value)]
    if isinstance(argument, ast.JoinedStr):
        items: list[_Item] = []
        for part in argument.values:
            if isinstance(part, ast.Constant):
                items.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                spec = _constant_spec(part.format_spec)
                conversion = chr(part.conversion) if part.conversion > 0 else ""
                items.append(_Capture(part.value, spec if spec is not None else "\0", conversion))
        return items
    if isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute) and argument.func.attr == "format" \
            and isinstance(argument.func.value, ast.Constant) and isinstance(argument.func.value.value, str):
        return _format_template(argument.func.value.value, argument)
    if isinstance(argument, ast.BinOp) and isinstance(argument.op, ast.Mod) \
            and isinstance(argument.left, ast.Constant) and isinstance(argument.left.value, str):
        return _percent_template(argument.left.value, argument.right)
    return [_Capture(argument, None, "")]


def _constant_spec(spec: ast.expr | None) -> str | None:
    """An f-string field's format spec when it is constant ("" when there is none); else None."""
    if spec is None:
        return ""
    if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
        return "".join(str(v.value) for v in spec.values)  # type: ignore[attr-defined]
    return None


def _opaque() -> _Capture:
    return _Capture(ast.Constant(None), "\0", "")


def _format_template(template: str, call: ast.Call) -> list[_Item]:
    """``"{:.3f} and {name}".format(a, name=b)``: literal text and fields."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return [_opaque()]
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    items: list[_Item] = []
    automatic = 0
    for literal, field_name, spec, conversion in parsed:
        if literal:
            items.append(literal)
        if field_name is None:
            continue
        node: ast.expr | None = None
        if field_name == "":
            node = call.args[automatic] if automatic < len(call.args) else None
            automatic += 1
        elif field_name.isdigit():
            node = call.args[int(field_name)] if int(field_name) < len(call.args) else None
        elif field_name.isidentifier():
            node = keywords.get(field_name)
        if node is None or isinstance(node, ast.Starred) or "{" in (spec or ""):
            items.append(_opaque())
        else:
            items.append(_Capture(node, spec or "", conversion or ""))
    return items


def _percent_template(template: str, right: ast.expr) -> list[_Item]:
    """``"%s: %.3f" % (name, value)``: literal text and fields."""
    values = list(right.elts) if isinstance(right, ast.Tuple) else [right]
    items: list[_Item] = []
    position = 0
    index = 0
    for match in _PERCENT.finditer(template):
        items.append(template[position:match.start()])
        position = match.end()
        kind = match.group("type")
        if kind == "%":
            items.append("%")
            continue
        if match.group("key") or index >= len(values) or "*" in match.group(0):
            items.append(_opaque())
            continue
        node = values[index]
        index += 1
        precision = match.group("precision")
        if kind in "rsa":
            items.append(_Capture(node, None, "" if kind == "s" else kind))
        else:
            spec = (f".{precision}" if precision is not None else "") + ("d" if kind in "iu" else kind)
            items.append(_Capture(node, spec, ""))
    items.append(template[position:])
    return [i for i in items if i != ""]


def _numeric(spec: str | None) -> bool:
    """Whether a format spec writes a number (``.3f``, ``,d``, ``.1%``)."""
    match = _SPEC.fullmatch(spec or "")
    kind = match.group("type") if match else None
    return bool(match and (kind or match.group("precision")) and (kind or "f") in "dfFeEgG%"
                and not match.group("fill"))


def _parse_printed(text: str, capture: _Capture) -> tuple[Any, float, float] | None:
    """(value, absolute, relative tolerance) of a printed value, from its text and its format."""
    if capture.spec == "\0":
        return None  # a field mlpack cannot read
    if capture.conversion in ("r", "a") and capture.spec in ("", None):
        value = _literal(text)
        if value is _NOT:
            return None
        return value, 0.0, RELATIVE if _has_float(value) else 0.0
    spec = _SPEC.fullmatch(capture.spec or "")
    if spec is None:
        return None
    kind = spec.group("type") or ""
    stripped = text.strip()
    if spec.group("fill") and spec.group("align"):
        stripped = stripped.strip(spec.group("fill"))
    if kind in ("b", "c", "o", "x", "X", "n"):
        return None
    if not kind and not spec.group("precision"):
        if stripped in ("True", "False"):
            return stripped == "True", 0.0, 0.0
        if not _NUMBER.fullmatch(stripped) or not any(ch.isdigit() for ch in stripped):
            if capture.spec or stripped != text or "\n" in text or " at 0x" in text or not text:
                return None
            return text, 0.0, 0.0  # a string (or what str() of the value shows): exactly
    percent = kind == "%"
    if percent:
        if not stripped.endswith("%"):
            return None
        stripped = stripped[:-1]
    number = stripped.replace(",", "").replace("_", "")
    if not _NUMBER.fullmatch(number) or not any(ch.isdigit() for ch in number):
        return None
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa and not exponent and kind in ("", "d"):
        return int(number), 0.0, 0.0
    value = float(number)
    decimals = len(mantissa.partition(".")[2])
    power = int(exponent or 0) - decimals - (2 if percent else 0)
    absolute = 0.5 * 10.0 ** power
    if percent:
        value /= 100
    if not math.isfinite(value):
        return None
    if not kind and not spec.group("precision"):
        return value, 0.0, RELATIVE  # str()/repr of a float: the shortest text that reads back the same
    return value, absolute, 0.0
