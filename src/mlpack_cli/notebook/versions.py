"""Versioned names: a name bound afresh (``model = ...`` again) is a new variable.

Notebooks reuse names for a second round of work: ``X_train = ...``, ``model = ...``, fit and
evaluate, then ``X_train = ...`` and ``model = ...`` again. Kept as one name, the second binding
must run after every reader of the first (an anti-dependency), and the stages pass values by name,
so the second round could only follow the first round's evaluation. Giving each earlier version of
the name its own name (``model_1``; the last version keeps the notebook's name, so what ``run()``
returns is keyed as in the notebook) removes that constraint and nothing else: the statements of
one version all use the same new name, and the flow dependencies stay as they were.

A version starts at a top-level assignment that binds the name without reading it; any other
binding (``X = X / 255``, a loop, a branch) continues the version it is in. Left alone: the names
a function, class or lambda reads from the notebook (it would see the value at its call), the
names used inside one that is renamed with its statement, names declared ``global``, imported
names, and every name of a notebook that calls ``eval``, ``exec``, ``globals``, ``locals`` or
``vars``. Each renamed statement carries its
own mapping (the attribute :data:`RENAMED`), which code generation applies to the user's text.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping, Sequence

from mlpack_cli.notebook.scopes import analyze, free_names, walk

RENAMED = "mlpack_renamed"  # attribute of a top-level statement: {old: new} names in its text
_DYNAMIC = frozenset({"eval", "exec", "globals", "locals", "vars"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def fresh_targets(statement: ast.stmt) -> set[str]:
    """Names a top-level assignment binds as plain targets (``a = ...``, ``a, b = ...``), or a
    ``for`` loop binds so in its body before anything of its pass reads them (``for k in ks:
    model = Model(k)``): each pass makes them afresh, so after the loop they hold its own value."""
    if isinstance(statement, ast.For) and not statement.orelse:
        assigned = set().union(*(fresh_targets(s) for s in statement.body
                                 if isinstance(s, (ast.Assign, ast.AnnAssign))))
        return assigned - set(analyze(statement.body).reads) - set(analyze([ast.Expr(statement.iter)]).reads)
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return set()
    found: set[str] = set()
    pending = list(targets)
    while pending:
        target = pending.pop()
        if isinstance(target, ast.Name):
            found.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            pending.extend(target.elts)
        elif isinstance(target, ast.Starred):
            pending.append(target.value)
    return found - set(analyze([statement]).reads)


def _excluded(statements: Sequence[ast.stmt], every: Sequence[ast.stmt]) -> set[str] | None:
    """Names that must keep one name (None: none may be versioned)."""
    excluded: set[str] = set()
    for statement in statements:  # these are renamed: keep the local names of what they define
        for node in walk(statement):
            if isinstance(node, _SCOPES):
                excluded.update(n.id if isinstance(n, ast.Name) else n.arg for n in walk(node)
                                if isinstance(n, (ast.Name, ast.arg)))
    for statement in every:
        for node in walk(statement):
            if isinstance(node, ast.Name) and node.id in _DYNAMIC:
                return None
            if isinstance(node, _SCOPES):
                excluded.update(free_names(node))  # a global a function reads when it is called
                if not isinstance(node, ast.Lambda):
                    excluded.add(node.name)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                excluded.update(node.names)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                excluded.update((a.asname or a.name).split(".")[0] for a in node.names)
    return excluded


def find_versions(statements: Sequence[ast.stmt], every: Sequence[ast.stmt],
                  keep: Collection[str] = ()) -> dict[str, list[list[int]]]:
    """The versions of names bound afresh more than once in ``statements`` (the top-level
    statements placed in stages, in notebook order; ``every``: all of the notebook's, hoisted ones
    included): name -> the indices of the statements of each version, earliest first. ``keep``:
    names never versioned."""
    excluded = _excluded(statements, every)
    if excluded is None:
        return {}
    excluded |= set(keep)
    occurrences: dict[str, list[tuple[int, bool]]] = {}  # name -> (statement, starts a version)
    for index, statement in enumerate(statements):
        fresh = fresh_targets(statement)
        for name in {n.id for n in walk(statement) if isinstance(n, ast.Name)} - excluded:
            occurrences.setdefault(name, []).append((index, name in fresh))
    result: dict[str, list[list[int]]] = {}
    for name, seen in occurrences.items():
        versions: list[list[int]] = []
        bound = False
        for index, starts in seen:
            if not versions or starts and bound:
                versions.append([])
                bound = False
            versions[-1].append(index)
            bound = bound or starts or name in _bound(statements[index])
        if len(versions) > 1:
            result[name] = versions
    return result


Joins = list[tuple[str, int]]


def merge_in_order(versions: Mapping[str, list[list[int]]], stage_of: Mapping[int, int],
                   apart: Collection[tuple[str, int]] = ()) -> tuple[dict[str, list[list[int]]], Joins]:
    """Join each version with the next when every kept statement of the first sits in a stage no
    later than every kept statement of the next (``stage_of``: index -> stage; dropped ones are
    absent): one name then keeps its meaning, so it need not change. ``apart``: (name, k) pairs
    whose versions k and k + 1 stay apart. Returns the versions and the joins made."""
    merged: dict[str, list[list[int]]] = {}
    joins: list[tuple[str, int]] = []
    for name, groups in versions.items():
        joined = [list(groups[0])]
        for k, group in enumerate(groups[1:]):
            before = [stage_of[i] for i in joined[-1] if i in stage_of]
            after = [stage_of[i] for i in group if i in stage_of]
            if (name, k) not in apart and (not before or not after or max(before) <= min(after)):
                joined[-1].extend(group)
                joins.append((name, k))
            else:
                joined.append(list(group))
        if len(joined) > 1:
            merged[name] = joined
    return merged, joins


def out_of_force(versions: Mapping[str, list[list[int]]], joins: Collection[tuple[str, int]],
                 stage_of: Mapping[int, float]) -> list[tuple[str, int]]:
    """The joins ``(name, k)`` that make a statement read a later value than the notebook's: a
    statement of version k, or of a version joined before it, in a later stage than a statement of
    version k + 1 (``stage_of``: index -> the stage each kept statement ends in, those added after
    placement included, such as a display revived as a result in ``evaluate``). Under one name it
    would read the value of version k + 1, bound in an earlier stage; apart, each reads its own."""
    joined = set(joins)
    found: list[tuple[str, int]] = []
    for name, groups in versions.items():
        block: list[float] = []  # the stages of the versions sharing the name so far
        for k in range(len(groups) - 1):
            block += [stage_of[i] for i in groups[k] if i in stage_of]
            if (name, k) not in joined:
                block = []
                continue
            after = [stage_of[i] for i in groups[k + 1] if i in stage_of]
            if block and after and max(block) > min(after):
                found.append((name, k))
                block = []  # (kept apart, version k + 1 starts a name of its own)
    return found


def rename_versions(statements: Sequence[ast.stmt], versions: Mapping[str, list[list[int]]],
                    used: Collection[str]) -> dict[str, list[str]]:
    """Give each version but the last its own name (``model_1``, ``model_2``; ``used``: names
    taken); the last keeps the notebook's name. Returns each name's new names, earliest first."""
    taken = set(used)
    result: dict[str, list[str]] = {}
    renames: dict[int, dict[str, str]] = {}
    for name, groups in versions.items():
        names = []
        for number, group in enumerate(groups[:-1], start=1):
            new = f"{name}_{number}"
            while new in taken:
                new += "_"
            taken.add(new)
            names.append(new)
            for index in group:
                renames.setdefault(index, {})[name] = new
        result[name] = names
    for index, mapping in renames.items():
        apply(statements[index], mapping)
    return result


def revert(statements: Sequence[ast.stmt]) -> None:
    """Undo :func:`rename_versions` on ``statements``."""
    for statement in statements:
        own = getattr(statement, RENAMED, None)
        if not own:
            continue
        back = {new: old for old, new in own.items()}
        for node in walk(statement):
            if isinstance(node, ast.Name) and node.id in back:
                node.id = back[node.id]
        delattr(statement, RENAMED)


def _bound(statement: ast.stmt) -> set[str]:
    return set(analyze([statement]).binds)


def apply(statement: ast.stmt, mapping: Mapping[str, str]) -> None:
    """Rename ``mapping``'s names in ``statement`` (every ast.Name) and record it for codegen."""
    for node in walk(statement):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
    own = dict(getattr(statement, RENAMED, None) or {})
    own.update(mapping)
    setattr(statement, RENAMED, own)
