"""Which names a piece of code reads and which it binds, scope by scope (def/use analysis).

Notebook globals become function parameters and return values, so every decision the converter
makes about dataflow starts here. Nested functions, classes, lambdas and comprehensions are their
own scopes: what they bind stays inside; what they read from outside counts as a read.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__"}

# Fields that hold names, numbers or flags (never a node), and "ctx": skipped when walking a tree.
# ("name" is not one: TypeAlias.name is a node.)
_LEAF_FIELDS = frozenset({
    "ctx", "id", "arg", "attr", "asname", "module", "level", "kind", "is_async", "conversion",
    "type_comment", "simple", "lineno", "tag", "rest",
})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(node: ast.AST) -> tuple[str, ...]:
    """The fields of ``node`` that can hold nodes (expression contexts left out)."""
    fields = _CHILD_FIELDS.get(node.__class__)
    if fields is None:
        fields = _CHILD_FIELDS[node.__class__] = tuple(f for f in node._fields if f not in _LEAF_FIELDS)
    return fields


_WALKED: dict[int, tuple[ast.AST, list[ast.AST]]] | None = None  # id -> (node, its walk), while remembered
_CALLED: dict[int, tuple[ast.AST, list[ast.Call]]] | None = None  # id -> (node, the calls in it), likewise
_PARENTS: dict[int, tuple[ast.AST, dict[int, ast.AST]]] | None = None  # id -> (node, parent of each node), likewise


@contextlib.contextmanager
def walks_remembered() -> Iterator[None]:
    """Within: :func:`walk` walks each tree once and replays the nodes after that.

    For code that renames names but never changes the shape of a tree (no node added, removed or
    moved): analysis walks every statement dozens of times. The walks are dropped on leaving, so
    that nothing is replayed for a tree changed since; code that adds a node within calls
    :func:`reshaped` on the trees it changed.
    """
    global _WALKED, _CALLED, _PARENTS
    outer, outer_calls, outer_parents = _WALKED, _CALLED, _PARENTS
    _WALKED = {} if outer is None else outer
    _CALLED = {} if outer_calls is None else outer_calls
    _PARENTS = {} if outer_parents is None else outer_parents
    try:
        yield
    finally:
        _WALKED, _CALLED, _PARENTS = outer, outer_calls, outer_parents


def reshaped(*nodes: ast.AST) -> None:
    """Forget what is remembered of ``nodes`` (their walks, calls, parents and analysis): a
    statement was added to them, once placement is done (a loop's results collected pass by pass)."""
    for remembered in (_WALKED, _CALLED, _PARENTS, _ANALYZED):
        if remembered is not None:
            for node in nodes:
                remembered.pop(id(node), None)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` (same nodes, same breadth-first order) without the expression contexts
    (``Load``, ``Store``, ``Del``), several times faster: converting walks every cell many times."""
    remembered = _WALKED
    if remembered is None:
        return iter(_walked(node))
    found = remembered.get(id(node))
    if found is None or found[0] is not node:  # (the entry holds its node: no other can take its id)
        found = remembered[id(node)] = (node, _walked(node))
    return iter(found[1])


def calls_in(node: ast.AST) -> list[ast.Call]:
    """The calls among :func:`walk`'s nodes, in its order (do not change the list): the rules ask
    for a statement's calls far more often than for its other nodes, and most nodes are not calls."""
    remembered = _CALLED
    if remembered is None:
        return [n for n in _walked(node) if isinstance(n, ast.Call)]
    found = remembered.get(id(node))
    if found is None or found[0] is not node:  # (the entry holds its node: no other can take its id)
        found = remembered[id(node)] = (node, [n for n in walk(node) if isinstance(n, ast.Call)])
    return found[1]


def parents(node: ast.AST) -> dict[int, ast.AST]:
    """The parent of each node below ``node`` (by ``id``; expression contexts left out), remembered
    like :func:`walk`'s nodes (do not change the dict): renaming never moves a node."""
    remembered = _PARENTS
    if remembered is not None:
        found = remembered.get(id(node))
        if found is not None and found[0] is node:
            return found[1]
    above: dict[int, ast.AST] = {}
    for current in walk(node):
        for name in child_fields(current):
            value = getattr(current, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        above[id(item)] = current
            elif isinstance(value, ast.AST):
                above[id(value)] = current
    if remembered is not None:
        remembered[id(node)] = (node, above)
    return above


def _walked(node: ast.AST) -> list[ast.AST]:
    """The nodes of :func:`walk`, as a list built without a generator (the list it grows is the walk)."""
    pending = [node]
    known = _CHILD_FIELDS
    for current in pending:  # the list grows as it is read
        fields = known.get(current.__class__)
        for name in child_fields(current) if fields is None else fields:
            value = getattr(current, name, None)
            if value.__class__ is list:
                pending += [item for item in value if isinstance(item, ast.AST)]
            elif isinstance(value, ast.AST):
                pending.append(value)
    return pending


@dataclass
class Names:
    reads: list[str] = field(default_factory=list)  # read before this code binds them, in order
    binds: list[str] = field(default_factory=list)  # bound at this code's own level, in order

    def read(self, name: str) -> None:
        if name not in self.reads:
            self.reads.append(name)

    def bind(self, name: str) -> None:
        if name not in self.binds:
            self.binds.append(name)


# id -> (statement, its state's key -> its analysis), for the statements of analyses_remembered
_ANALYZED: dict[int, tuple[ast.AST, dict[Hashable, Names]]] | None = None
_STATE: Callable[[ast.AST], Hashable] | None = None


@contextlib.contextmanager
def analyses_remembered(statements: Iterable[ast.stmt], state: Callable[[ast.AST], Hashable]) -> Iterator[None]:
    """Within: :func:`analyze` of one of ``statements`` alone is worked out once per ``state`` of
    it, which must tell apart every way its names can change there (the only way they change:
    a versioned name renamed and back; nodes inside a statement have no state of their own, so
    only these top-level ones are remembered). Analysis asks for the names of the same
    statements in many passes and placement rounds."""
    global _ANALYZED, _STATE
    outer, outer_state = _ANALYZED, _STATE
    _ANALYZED = {id(s): (s, {}) for s in statements}
    _STATE = state
    try:
        yield
    finally:
        _ANALYZED, _STATE = outer, outer_state


def analyze(statements: list[ast.stmt], bound: set[str] | None = None) -> Names:
    """Reads and bindings of a statement sequence run at one level, in execution order."""
    if _ANALYZED is not None and len(statements) == 1 and not bound:
        entry = _ANALYZED.get(id(statements[0]))
        if entry is not None and entry[0] is statements[0]:
            key = _STATE(statements[0])  # type: ignore[misc]
            names = entry[1].get(key)
            if names is None:
                names = entry[1][key] = _analyzed(statements, None)
            return Names(list(names.reads), list(names.binds))  # (callers add to theirs)
    return _analyzed(statements, bound)


def _analyzed(statements: list[ast.stmt], bound: set[str] | None) -> Names:
    visitor = _Visitor(set(bound or ()))
    for statement in statements:
        visitor.visit(statement)
    return visitor.names


def free_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda) -> list[str]:
    """Names a definition reads from its enclosing scope (decorators and defaults included)."""
    visitor = _Visitor(set())
    visitor.visit(node)
    return [name for name in visitor.names.reads]


def held_by(node: ast.AST) -> str | None:
    """``m`` of ``m``, ``models[name]`` or ``self.model``: the name holding an object; None for an
    object a call makes (``KMeans(3).fit``)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def loaded_names(node: ast.AST) -> set[str]:
    nodes = walk(node) if _WALKED is not None else _walked(node)  # (every node is read: no generator)
    return {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def bound_names(statement: ast.stmt) -> list[str]:
    """Names one top-level statement binds at its own level."""
    return analyze([statement]).binds


class _Visitor(ast.NodeVisitor):
    def __init__(self, defined: set[str]) -> None:
        self.defined = defined
        self.names = Names()
        self.declared: set[str] = set()  # global/nonlocal: bindings that belong to an outer scope

    def visit(self, node: ast.AST) -> None:
        method = _VISITS.get(node.__class__)
        if method is None:
            found: Callable[[_Visitor, Any], None] = getattr(
                _Visitor, "visit_" + node.__class__.__name__, _Visitor.generic_visit
            )
            method = _VISITS[node.__class__] = found
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        """``ast.NodeVisitor.generic_visit``, without its generators (and the contexts, which say nothing)."""
        fields = _CHILD_FIELDS.get(node.__class__)
        for name in child_fields(node) if fields is None else fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Constant(self, node: ast.Constant) -> None:
        pass  # no names in it (NodeVisitor's own version looks for long-deprecated visit_Str and the like)

    # The most common expressions, visited as generic_visit visits them (same children, same order:
    # the order of the reads is kept) without looking their fields up, and without visiting
    # operators, which hold nothing: these make up most of the nodes of every statement.

    def visit_Attribute(self, node: ast.Attribute | ast.Expr | ast.keyword) -> None:
        self.visit(node.value)

    visit_Expr = visit_keyword = visit_Attribute

    def visit_Call(self, node: ast.Call) -> None:
        visit = self.visit
        visit(node.func)
        for argument in node.args:
            visit(argument)
        for keyword_ in node.keywords:
            visit(keyword_.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self.visit(node.slice)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self.visit(node.left)
        self.visit(node.right)

    def visit_Compare(self, node: ast.Compare) -> None:
        self.visit(node.left)
        for comparator in node.comparators:
            self.visit(comparator)

    def visit_Tuple(self, node: ast.Tuple | ast.List) -> None:
        for element in node.elts:
            self.visit(element)

    visit_List = visit_Tuple

    def _load(self, name: str) -> None:
        if name not in self.defined:
            self.names.read(name)

    def _store(self, name: str) -> None:
        self.defined.add(name)
        self.names.bind(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        else:
            self._store(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def _delete(self, target: ast.expr) -> None:
        """``del x`` needs ``x`` bound and unbinds it: a read, and no longer a binding of this code."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._delete(element)
        elif isinstance(target, ast.Name):
            self._load(target.id)
            self.defined.discard(target.id)
            if target.id in self.names.binds:
                self.names.binds.remove(target.id)
        else:
            self.visit(target)  # del x[i], del x.attr: reads x

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)
        self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.visit(node.target)
        self.visit(node.annotation)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for statement in node.body + node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self._store(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._store(node.name)
        for statement in node.body:
            self.visit(statement)

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        for name in node.names:
            self.declared.add(name)
            self._load(name)

    visit_Nonlocal = visit_Global

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self._store(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._store(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self._store(node.rest)

    # -- nested scopes -----------------------------------------------------------------------------

    def _inner(self, statements: list[ast.AST], own: set[str], is_function: bool) -> None:
        inner = _Visitor(set(own))
        for statement in statements:
            inner.visit(statement)
        local = (set(inner.names.binds) | own if is_function else own) - inner.declared
        for name in inner.names.reads:
            if name not in local:
                self._load(name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        if not isinstance(node, ast.Lambda):
            for decorator in node.decorator_list:
                self.visit(decorator)
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    self.visit(arg.annotation)
            if node.returns is not None:
                self.visit(node.returns)
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
        body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
        self._inner(body, params, is_function=True)
        if not isinstance(node, ast.Lambda):
            self._store(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expression in [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]:
            self.visit(expression)
        self._inner(list(node.body), set(), is_function=False)
        self._store(node.name)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        first, *rest = node.generators
        self.visit(first.iter)
        inner = _Visitor(set())
        inner.visit(first.target)
        for condition in first.ifs:
            inner.visit(condition)
        for generator in rest:
            inner.visit(generator.iter)
            inner.visit(generator.target)
            for condition in generator.ifs:
                inner.visit(condition)
        if isinstance(node, ast.DictComp):
            inner.visit(node.key)
            inner.visit(node.value)
        else:
            inner.visit(node.elt)
        for name in inner.names.reads:
            self._load(name)
        for name in inner.names.binds:  # only walrus targets escape a comprehension
            if any(isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name) and n.target.id == name
                   for n in walk(node)):
                self._store(name)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


_VISITS: dict[type, Callable[[_Visitor, Any], None]] = {}  # node class -> the _Visitor method for it


class Renamer(ast.NodeTransformer):
    """Renamed notebook names: every binding and use, not attributes or keyword-argument names."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        self.generic_visit(node)
        return node

    def _named(self, node: ast.AST) -> ast.AST:
        name = getattr(node, "name", None)
        if isinstance(name, str):
            node.name = self.mapping.get(name, name)  # type: ignore[attr-defined]
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_ExceptHandler = visit_MatchAs = _named
    visit_MatchStar = _named

    def visit_alias(self, node: ast.alias) -> ast.alias:
        bound = node.asname or node.name.split(".")[0]
        if bound in self.mapping and node.name != "*":
            if node.asname is None and "." in node.name:
                return node
            node.asname = self.mapping[bound]
        return node

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = [self.mapping.get(n, n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global
