"""Results of each pass of a loop: what a loop over models or settings computes once per pass.

A loop that scores each model, or a model for each setting (``for depth in [2, 4, 8]: ... acc =
accuracy_score(...); print(depth, acc)``), shows one result per pass; at its end its names hold
the last pass's values only. run() returns those (what the notebook holds at its end) and, next
to them, every pass's value: ``acc_by_depth = {}`` before the loop and ``acc_by_depth[depth] =
acc`` in it, keyed by what the notebook printed beside the value (the loop variable, the model's
name) or, when it printed none, by the loop variable over a list of settings, a ``range`` or the
keys of a dict; else a list in pass order. A metric only printed (``print(k, knn.score(X_test,
y_test))``) is scored again just after the print when that is sure to give the same value (a
metric of predictions or of a fitted model's score, nothing that fits or draws).

Only the loop's own statements are looked at (not those nested in an ``if`` or an inner loop),
and not a loop that may skip the rest of a pass (``break``, ``continue``): the value would be
collected where it may not be reached.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from mlpack_cli.notebook.graph import call_name, is_print, shown_values
from mlpack_cli.notebook.scopes import BUILTINS, analyze, loaded_names, walk

INSERTED = "mlpack_inserted"  # attribute of a top-level statement: [(line, column, text)] added after line

# Calls a printed metric may make and still give the same value when it is scored again.
_REPEATABLE = frozenset({"round", "abs", "float", "int", "sqrt", "mean", "std", "item", "len", "sum", "min", "max",
                         "predict", "predict_proba", "predict_log_proba", "decision_function", "score"})
_REFITS = frozenset({"cross_val_score", "cross_validate", "cross_val_predict", "learning_curve", "validation_curve",
                     "permutation_importance", "evaluate", "test", "eval"})
_KEY_CALLS = frozenset({"type", "str", "repr", "int", "round"})  # what a key may call on the loop variables


@dataclass(frozen=True)
class Collected:
    """One result a loop collects: ``start`` (``name = {}``) before the loop, ``record`` after the
    loop's statement ``after``."""

    name: str
    of: str | None  # the notebook's name whose value each pass collects (None: a printed metric)
    after: ast.stmt
    start: ast.stmt
    record: ast.stmt


def collect(loop: ast.stmt, results: Collection[str], taken: set[str], metric_base: Callable[[ast.AST], str],
            is_metric: Callable[[ast.Call], bool]) -> list[Collected]:
    """What ``loop`` (a top-level statement) collects of each pass: the names of ``results`` its
    own statements bind from a metric, and the metrics its own prints show. ``taken``: the names
    in use, to which the new ones are added."""
    if not isinstance(loop, ast.For) or loop.orelse or _skips(loop):
        return []
    targets = _target_names(loop.target)
    if targets is None:
        return []
    accumulated = set(analyze(loop.body).reads)  # (``best = max(best, acc)``: no value of one pass)
    prints = [s.value for s in loop.body if is_print(s)]  # type: ignore[attr-defined]
    default = _default_key(loop, targets)

    def key(shown_by: Sequence[ast.Call], shows: Callable[[ast.expr], bool]) -> ast.expr | None:
        label = _label(shown_by, shows, targets)
        if isinstance(label, ast.Name) and not (isinstance(default, ast.Name) and default.id == label.id):
            label = None  # a model printed as its own label (``print(model, acc)``): no key
        return label or default

    found: list[Collected] = []
    for statement in loop.body:
        if isinstance(statement, ast.Assign) and any(
                is_metric(c) for c in walk(statement.value) if isinstance(c, ast.Call)):
            for target in statement.targets:
                for name in _target_names(target) or []:
                    if name in results and name not in accumulated and name not in targets \
                            and not any(c.of == name for c in found):
                        def reads(part: ast.expr, name: str = name) -> bool:
                            return name in loaded_names(part)

                        found.append(_collected(name, ast.Name(name, ast.Load()), key(prints, reads),
                                                _last_binding(loop, name), taken, name))
        elif is_print(statement):
            call = statement.value  # type: ignore[attr-defined]
            for part in _parts(call):
                if not (isinstance(part, ast.Call) and _repeatable(part, is_metric)):
                    continue

                def itself(candidate: ast.expr, part: ast.expr = part) -> bool:
                    return candidate is part

                found.append(_collected(metric_base(part), part, key([call], itself), statement, taken, None))
    return found


def prints_metrics(loop: ast.stmt, is_metric: Callable[[ast.Call], bool]) -> bool:
    """Whether a loop's own prints show a metric :func:`collect` collects each pass
    (``for name, model in models.items(): print(name, model.score(X_test, y_test))``)."""
    if not isinstance(loop, ast.For) or loop.orelse or _skips(loop) or _target_names(loop.target) is None:
        return False
    return any(isinstance(part, ast.Call) and _repeatable(part, is_metric)
               for statement in loop.body if is_print(statement)
               for part in _parts(statement.value))  # type: ignore[attr-defined]


def _collected(base: str, value: ast.expr, key: ast.expr | None, after: ast.stmt, taken: set[str],
               of: str | None) -> Collected:
    label = None
    if key is not None:  # (``type(model).__name__``: the model's name)
        named = any(isinstance(n, ast.Attribute) and n.attr == "__name__" for n in walk(key))
        label = "name" if named else next(
            (n.id for n in walk(key) if isinstance(n, ast.Name) and n.id not in _KEY_CALLS), "pass")
    name = f"{base}_by_{label}" if label else f"{base}_all"
    number = 2
    fresh = name
    while fresh in taken:
        fresh = f"{name}_{number}"
        number += 1
    taken.add(fresh)
    value = copy.deepcopy(value)
    if key is None:
        start: ast.expr = ast.List(elts=[], ctx=ast.Load())
        record: ast.stmt = ast.Expr(ast.Call(ast.Attribute(ast.Name(fresh, ast.Load()), "append", ast.Load()),
                                             [value], []))
    else:
        start = ast.Dict(keys=[], values=[])
        record = ast.Assign(targets=[ast.Subscript(ast.Name(fresh, ast.Load()), copy.deepcopy(key), ast.Store())],
                            value=value)
    start_statement = ast.Assign(targets=[ast.Name(fresh, ast.Store())], value=start)
    for made in (start_statement, record):
        for node in ast.walk(made):
            ast.copy_location(node, after)
    return Collected(fresh, of, after, start_statement, record)


def _skips(loop: ast.For) -> bool:
    """Whether a pass may end early: a ``break``, ``continue``, ``return`` or ``yield`` of its own."""
    pending: list[ast.AST] = list(loop.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Break, ast.Continue, ast.Return, ast.Yield, ast.YieldFrom, ast.Raise)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):  # an inner loop's break ends that loop
            pending.extend(n for n in node.body if not isinstance(n, (ast.Break, ast.Continue)))
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return False


def _target_names(target: ast.expr) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return None


def _parts(call: ast.Call) -> list[ast.expr]:
    """The values a ``print`` shows, in order (those of an f-string, ``str.format`` or ``%`` one by one)."""
    return [part for argument in call.args if not isinstance(argument, ast.Starred)
            for part in shown_values(argument)]


def _label(prints: Sequence[ast.Call], shows: Callable[[ast.expr], bool], targets: list[str]) -> ast.expr | None:
    """What the first print showing the value shows before it, made of the loop variables only
    (``name``, ``type(model).__name__``): the key the notebook gave the value."""
    for call in prints:
        parts = _parts(call)
        for index, part in enumerate(parts):
            if not shows(part):
                continue
            for candidate in parts[:index]:
                if _key_of_loop(candidate, targets):
                    return candidate
            break
    return None


def _key_of_loop(part: ast.expr, targets: list[str]) -> bool:
    names = loaded_names(part)
    if not names & set(targets) or names - set(targets) - _KEY_CALLS:
        return False
    return isinstance(part, ast.Name) or all(
        not isinstance(n, ast.Call) or isinstance(n.func, ast.Name) and n.func.id in _KEY_CALLS for n in walk(part))


def _default_key(loop: ast.For, targets: list[str]) -> ast.expr | None:
    """The loop variable, when it goes over settings: a list or tuple of constants, a ``range``,
    the keys of a dict (``for name, model in models.items()``), the index of ``enumerate``."""
    iterated = loop.iter
    first = ast.Name(targets[0], ast.Load())
    if isinstance(iterated, (ast.List, ast.Tuple, ast.Set)) and len(targets) == 1 and all(
            isinstance(e, ast.Constant) for e in iterated.elts):
        return first
    if isinstance(iterated, ast.Call):
        func = iterated.func
        if isinstance(func, ast.Name) and func.id == "range" and len(targets) == 1:
            return first
        if isinstance(func, ast.Name) and func.id == "enumerate" and len(targets) == 2:
            return first
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys") and (
                len(targets) == 2 if func.attr == "items" else len(targets) == 1):
            return first
    return None


def _last_binding(loop: ast.For, name: str) -> ast.stmt:
    return [s for s in loop.body if isinstance(s, ast.Assign)
            and any(name in (_target_names(t) or []) for t in s.targets)][-1]


def _repeatable(part: ast.Call, is_metric: Callable[[ast.Call], bool]) -> bool:
    """Whether scoring ``part`` again gives what the print showed: a metric, and every call in it
    a metric, a prediction or arithmetic (nothing that fits, cross-validates or draws)."""
    calls = [n for n in walk(part) if isinstance(n, ast.Call)]
    if not any(is_metric(c) for c in calls):
        return False
    return all((is_metric(c) or call_name(c) in _REPEATABLE) and call_name(c) not in _REFITS
               for c in calls) and not loaded_names(part) & BUILTINS - _REPEATABLE
