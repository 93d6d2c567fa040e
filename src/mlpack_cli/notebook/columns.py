"""Column-level reads and writes of data frames, so that adding a feature column after a first
model does not have to wait for that model.

A statement that uses a frame only through known columns (``df['a']``, ``df[['a', 'b']]``,
``df[cols]`` with ``cols`` bound to a literal list, ``df.loc[rows, 'a']``, ``df.a`` when ``a`` is
named as a column elsewhere, a formula ``'y ~ a + C(b)'`` with ``data=df``) reads those columns
only; one that assigns a column by a literal key (``df['c'] = ...``, ``df.loc[mask, 'c'] = ...``)
writes that column only. Anything else (``df.shape``, ``df.drop(...)``, a call that receives
``df``, ``df[cols]`` with a computed ``cols``) uses the whole frame. The graph then drops the
dependency between a reader and a writer of disjoint columns of the same frame.

The rules hold for any container with string keys (a frame, a dict, a scikit-learn ``Bunch``):
keys are separate slots. Keys that start with a digit are left out: on a series indexed by dates
``s['2020']`` selects every row of that year, which ``s['2020-05-01'] = ...`` changes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mlpack_cli.notebook import scopes

# Attributes of frames and series that are not columns: ``df.shape`` reads the whole frame.
FRAME_ATTRIBUTES = frozenset({
    "T", "at", "attrs", "axes", "columns", "dtypes", "dtype", "empty", "flags", "iat", "iloc", "index", "loc",
    "ndim", "shape", "size", "style", "values", "plot", "sparse", "array", "dt", "str", "cat", "name", "names",
    "hasnans", "is_unique", "is_monotonic_increasing", "is_monotonic_decreasing", "nbytes",
})


@dataclass
class Columns:
    """What one statement does to the columns of the names it uses. A name it reads that is not in
    ``reads`` is read whole; a name it changes that is not in ``writes`` is changed whole."""

    reads: dict[str, set[str]] = field(default_factory=dict)  # literal keys read
    refs: dict[str, set[str]] = field(default_factory=dict)  # names whose literal list gives the keys
    attributes: dict[str, set[str]] = field(default_factory=dict)  # ``df.a``: a column if ``a`` is one
    writes: dict[str, set[str]] = field(default_factory=dict)  # literal keys assigned
    keys: set[str] = field(default_factory=set)  # literal keys used anywhere: the notebook's columns

    def used_whole(self, names: Iterable[str], changed: bool = True) -> None:
        """Names used other than column by column: read whole (and, if ``changed``, changed)."""
        for name in names:
            for part in (self.reads, self.refs, self.attributes, *([self.writes] if changed else [])):
                part.pop(name, None)


def _key(node: ast.expr) -> set[str] | None:
    """The literal keys of a subscript: ``'a'`` or ``['a', 'b']``; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value and not node.value[0].isdigit():
        return {node.value}
    if isinstance(node, ast.List) and node.elts:
        keys = [_key(e) for e in node.elts]
        if all(k is not None and not isinstance(e, ast.List) for k, e in zip(keys, node.elts)):
            return {k for ks in keys if ks for k in ks}
    return None


def formula_columns(text: str) -> set[str] | None:
    """The columns a patsy or statsmodels formula names (``'y ~ a + np.log(b) + C(c)'``): plain
    names, and names in simple calls of names; None for anything else."""
    if text.count("~") != 1:
        return None
    source = text.replace("~", "+").replace(":", "*")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return None
    found: set[str] = set()

    def visit(node: ast.expr) -> bool:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            return visit(node.left) and visit(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return visit(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return True  # 0 or 1: the intercept
        if isinstance(node, ast.Name):
            found.add(node.id)
            return True
        if isinstance(node, ast.Call) and not node.keywords and _dotted_name(node.func):
            return all(isinstance(a, (ast.Name, ast.Constant)) and visit(a) for a in node.args)
        return False

    return found if visit(tree.body) and found else None


def _dotted_name(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _formula_of(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "formula":
            value = keyword.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str) \
            and "~" in call.args[0].value:
        return call.args[0].value
    return None


def _formula_frame(name: ast.Name, parent: ast.AST, grand: ast.AST | None) -> set[str] | None:
    """``smf.ols('y ~ a', data=df)``, ``dmatrices('y ~ a', df)``: the columns the formula reads
    from ``df``, when ``df`` is the call's data argument."""
    if isinstance(parent, ast.keyword) and parent.arg == "data" and isinstance(grand, ast.Call):
        call = grand
    elif isinstance(parent, ast.Call) and len(parent.args) >= 2 and parent.args[1] is name:
        call = parent
    else:
        return None
    text = _formula_of(call)
    return formula_columns(text) if text is not None else None


def column_access(statement: ast.stmt, pure_call: Callable[[ast.Call], bool]) -> Columns:
    """What ``statement`` reads and writes of each name, column by column where it can tell.
    ``pure_call``: whether a call changes nothing (a method call on a column must not)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return Columns()  # its body runs when it is called: what a call reads is the call's
    parents = scopes.parents(statement)
    columns = Columns()
    whole: set[str] = set()  # used whole: read whole, and maybe changed
    changed: set[str] = set()  # maybe changed other than column by column
    for node in scopes.walk(statement):
        if isinstance(node, ast.Subscript):
            keys = _key(node.slice)
            if keys:
                columns.keys |= keys
        elif isinstance(node, ast.Call):
            text = _formula_of(node)
            terms = formula_columns(text) if text else None
            if terms:
                columns.keys |= terms
        if not isinstance(node, ast.Name):
            continue
        name = node.id
        if not isinstance(node.ctx, ast.Load):
            whole.add(name)  # bound, or deleted: the whole name
            if not _loop_target(node, parents):  # (what a loop sets of its items: the items' columns)
                changed.add(name)
            continue
        parent = parents.get(id(node))
        grand = parents.get(id(parent)) if parent is not None else None
        use = _use(node, parent, grand, parents, pure_call)
        if use is None:
            whole.add(name)  # len(df), df.shape: read whole; df.drop(..., inplace=True), f(df): maybe changed
            if _may_change(node, parents, pure_call):
                changed.add(name)
            continue
        kind, keys = use
        if kind == "read":
            columns.reads.setdefault(name, set()).update(keys)
        elif kind == "ref":
            columns.refs.setdefault(name, set()).update(keys)
        elif kind == "attribute":
            columns.attributes.setdefault(name, set()).update(keys)
        elif kind == "write":
            columns.writes.setdefault(name, set()).update(keys)
        else:  # "update": an augmented assignment reads and writes the column
            columns.reads.setdefault(name, set()).update(keys)
            columns.writes.setdefault(name, set()).update(keys)
    columns.used_whole(whole, changed=False)
    columns.used_whole(changed)
    for name in set(columns.writes) | set(columns.refs) | set(columns.attributes):
        columns.reads.setdefault(name, set())
    return columns


def _loop_target(node: ast.Name, parents: dict[int, ast.AST]) -> bool:
    """A name a ``for`` loop or a comprehension binds to each item in turn."""
    owner = parents.get(id(node))
    while isinstance(owner, (ast.Tuple, ast.List, ast.Starred)):
        node, owner = owner, parents.get(id(owner))  # type: ignore[assignment]
    return isinstance(owner, (ast.For, ast.AsyncFor, ast.comprehension)) and owner.target is node


def _use(node: ast.Name, parent: ast.AST | None, grand: ast.AST | None, parents: dict[int, ast.AST],
         pure_call: Callable[[ast.Call], bool]) -> tuple[str, set[str]] | None:
    """How one load of a name uses it: (kind, keys), or None for a use of the whole."""
    terms = _formula_frame(node, parent, grand) if parent is not None else None
    if terms is not None:
        return "read", terms
    if isinstance(parent, ast.Subscript) and parent.value is node:
        target = parent
        keys = _key(parent.slice)
        ref = parent.slice.id if isinstance(parent.slice, ast.Name) else None
    elif isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "loc" \
            and isinstance(grand, ast.Subscript) and grand.value is parent and isinstance(grand.slice, ast.Tuple) \
            and len(grand.slice.elts) == 2:
        target = grand
        rows, selected = grand.slice.elts
        keys = _key(selected)
        ref = selected.id if isinstance(selected, ast.Name) else None
        if isinstance(grand.ctx, ast.Store) and isinstance(rows, ast.Constant):
            return None  # df.loc['new', 'c'] = v may add a row
    elif isinstance(parent, ast.Attribute) and parent.value is node and isinstance(parent.ctx, ast.Load) \
            and parent.attr not in FRAME_ATTRIBUTES and not parent.attr.startswith("_") \
            and not (isinstance(grand, ast.Call) and grand.func is parent):
        return ("attribute", {parent.attr}) if _only_read(parent, parents, pure_call) else None
    else:
        return None
    if keys is None and ref is None:
        return None
    if isinstance(target.ctx, ast.Store):
        if keys is None or not _assigned_directly(target, parents):
            return None
        owner = parents.get(id(target))
        return ("update" if isinstance(owner, ast.AugAssign) else "write"), keys
    if not isinstance(target.ctx, ast.Load) or not _only_read(target, parents, pure_call):
        return None
    return ("read", keys) if keys is not None else ("ref", {ref})  # type: ignore[arg-type]


def _assigned_directly(target: ast.expr, parents: dict[int, ast.AST]) -> bool:
    """A subscript that is itself a target of an assignment (maybe in a tuple of targets)."""
    owner = parents.get(id(target))
    while isinstance(owner, (ast.Tuple, ast.List)):
        owner = parents.get(id(owner))
    if isinstance(owner, ast.Assign):
        return target is not owner.value
    return isinstance(owner, (ast.AugAssign, ast.AnnAssign)) and owner.target is target


def _may_change(node: ast.Name, parents: dict[int, ast.AST], pure_call: Callable[[ast.Call], bool]) -> bool:
    """Whether a use of a name other than a column may change it: assigned into, a call on it
    that may change it, or passed to a call that may (``f(df)``; ``len(df)`` may not)."""
    if not _only_read(node, parents, pure_call):
        return True
    top: ast.AST = node
    while isinstance(parents.get(id(top)), (ast.Attribute, ast.Subscript, ast.Starred)) or (
            isinstance(parents.get(id(top)), ast.Call) and parents[id(top)].func is top):  # type: ignore[attr-defined]
        top = parents[id(top)]
    owner = parents.get(id(top))
    if isinstance(owner, ast.keyword):
        owner = parents.get(id(owner))
    return isinstance(owner, ast.Call) and owner.func is not top and not pure_call(owner)


def _only_read(selection: ast.expr, parents: dict[int, ast.AST], pure_call: Callable[[ast.Call], bool]) -> bool:
    """The selected column is only read: no assignment into it (``df['a'][0] = 1``) and no call
    on it that may change it (``df['a'].fillna(0, inplace=True)``)."""
    node: ast.AST = selection
    while True:
        parent = parents.get(id(node))
        if isinstance(parent, ast.Attribute) and parent.value is node or \
                isinstance(parent, ast.Subscript) and parent.value is node:
            if not isinstance(parent.ctx, ast.Load):
                return False
            node = parent
            continue
        if isinstance(parent, ast.Call) and parent.func is node:
            if not pure_call(parent):
                return False
            node = parent
            continue
        return True


def disjoint(first: set[str] | None, second: set[str] | None) -> bool:
    """Two known column sets with no column in common (None: the whole frame)."""
    return first is not None and second is not None and not first & second
