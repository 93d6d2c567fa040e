"""From placed cells to a pipeline: module-level code, stage bodies, parameters and return values.

Imports, literal constants and self-contained helper definitions move to module level; the rest
of each kept cell goes into its stage. A stage takes as parameters the names it reads that earlier
stages bind, plus the constants it reads as keyword parameters, and returns the names later stages
read. Names nothing binds (say, the output of a dropped ``x = !cmd``) become required parameters.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.names import BUILTINS, analyze, bound_names, free_names, loaded_names, walk

# Names the generated module defines itself; notebook names that collide get a trailing "_".
RESERVED = frozenset({*st.STAGES, "run", "monitoring"})
RESULT_NAME = "evaluation"


@dataclass
class ParsedCell:
    number: int
    tags: tuple[str, ...]
    source: str
    heading: str | None
    tree: ast.Module
    code: str = ""  # the Python text ``tree`` was parsed from (magics handled); node positions refer to it
    markdown: str = ""  # the markdown cells between the previous code cell and this one


@dataclass
class Stage:
    name: str
    cells: list[int] = field(default_factory=list)
    body: list[tuple[int, list[ast.stmt]]] = field(default_factory=list)  # (cell number, statements)
    inputs: list[str] = field(default_factory=list)  # bound by earlier stages
    required: list[str] = field(default_factory=list)  # bound by nothing: the caller must pass them
    constants: list[str] = field(default_factory=list)  # keyword parameters defaulting to constants
    returns: list[str] = field(default_factory=list)
    doc: str | None = None  # the notebook's markdown above this stage's cells, for the docstring

    @property
    def is_stub(self) -> bool:
        return not any(statements for _, statements in self.body)

    @property
    def statements(self) -> list[ast.stmt]:
        return [s for _, statements in self.body for s in statements]


@dataclass
class Pipeline:
    imports: list[ast.stmt]
    constants: list[ast.stmt]
    helpers: list[ast.stmt]
    stages: list[Stage]
    placements: dict[int, st.Placement]
    result: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What run() returns: (key in the returned dict, name bound in the evaluate stage), in order.
    results: list[tuple[str, str]] = field(default_factory=list)
    # Helper function -> notebook globals it reads, passed explicitly: parameters of the def and
    # keyword arguments (name=name) at every call of it in the notebook's code.
    helper_globals: dict[str, list[str]] = field(default_factory=dict)
    # Nested statements (cell number, first line in that cell's code) to delete from kept compound
    # statements, such as a plotting call inside a training loop.
    drop_nested: set[tuple[int, int]] = field(default_factory=set)

    @property
    def constant_names(self) -> list[str]:
        return [_target(c) for c in self.constants]

    @property
    def required(self) -> list[str]:
        names: list[str] = []
        for stage in self.stages:
            names.extend(n for n in stage.required if n not in names)
        return names


class OutOfOrder(Exception):
    """A tagged cell reads a name that only a later stage binds."""

    def __init__(self, cell: int, name: str, stage: str, later: str) -> None:
        super().__init__(f"cell {cell} ({stage}) reads {name!r}, which only the later stage {later!r} binds")
        self.cell = cell


def build_pipeline(cells: Sequence[ParsedCell], keywords: Mapping[str, Sequence[str]]) -> Pipeline:
    renamed = _rename_reserved(cells)
    for cell in cells:
        cell.tree.body = _normalize(cell.tree.body)
    counts = _binding_counts(cells)
    imports = _hoistable_imports(cells, counts)
    shared = _declared_global(cells)
    constants = _constants(cells, counts, shared)
    module_names = {name for statement in imports + constants for name in bound_names(statement)}
    helpers = _hoistable_definitions(cells, counts, module_names)
    hoisted = {id(s) for s in imports + constants + helpers}

    evidence = []
    for cell in cells:
        rest = [s for s in cell.tree.body if id(s) not in hoisted]
        had = len(rest) != len(cell.tree.body)
        evidence.append(st.CellEvidence(cell.number, cell.tags, cell.source, cell.heading, rest, had))
    placements = st.place_cells(evidence, keywords)
    placements = _rescue(evidence, placements)

    stage_map = {name: Stage(name) for name in st.STAGES}
    for kept, placement in zip(evidence, placements):
        if placement.stage in stage_map:
            stage_map[placement.stage].cells.append(kept.number)
            stage_map[placement.stage].body.append((kept.number, list(kept.statements)))
    pipeline = Pipeline(
        imports=_dedupe(imports), constants=constants, helpers=helpers, stages=list(stage_map.values()),
        placements={c.number: p for c, p in zip(evidence, placements)}, renamed=renamed,
    )
    _move_late_definitions(pipeline, module_names | {_def_name(h) for h in helpers}, counts)
    pipeline.result = _evaluation_result(stage_map["evaluate"], cells, _shown_after_evaluate(evidence, placements))
    for stage in pipeline.stages:
        stage.body = [(n, [s for s in body if not st.is_display(s) or not isinstance(s, ast.Expr)])
                      for n, body in stage.body]
    _wire(pipeline, module_names | {_def_name(h) for h in helpers}, shared)
    _prune_module_level(pipeline)
    return pipeline


# -- preparing the cells --------------------------------------------------------------------------


def _rename_reserved(cells: Sequence[ParsedCell]) -> dict[str, str]:
    used = set()
    for cell in cells:
        for node in walk(cell.tree):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                used.add(node.name)
            elif isinstance(node, ast.alias):
                used.add(node.asname or node.name.split(".")[0])
            elif isinstance(node, ast.arg):
                used.add(node.arg)
    renamed = {}
    for name in sorted(used & RESERVED):
        new = name + "_"
        while new in used:
            new += "_"
        renamed[name] = new
    if renamed:
        for cell in cells:
            _Renamer(renamed).visit(cell.tree)
    return renamed


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        self.generic_visit(node)
        return node

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST:
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_alias(self, node: ast.alias) -> ast.alias:
        bound = node.asname or node.name.split(".")[0]
        if bound in self.mapping and node.name != "*":
            if node.asname is None and "." in node.name:
                return node  # "import a.b" binds "a"; a reserved top-level package name is left alone
            node.asname = self.mapping[bound]
        return node

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = [self.mapping.get(n, n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global


def _normalize(body: list[ast.stmt]) -> list[ast.stmt]:
    """Unwrap ``if __name__ == "__main__":`` (true in a notebook) and drop module-level ``global``."""
    result: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.Global):
            continue
        if isinstance(statement, ast.If) and not statement.orelse and _is_main_check(statement.test):
            result.extend(_normalize(statement.body))
            continue
        result.append(statement)
    return result


def _is_main_check(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
        and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _binding_counts(cells: Sequence[ParsedCell]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for cell in cells:
        for statement in cell.tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                continue
            counts.update(bound_names(statement))
    return counts


def _import_key(statement: ast.Import | ast.ImportFrom, alias: ast.alias) -> str:
    if isinstance(statement, ast.ImportFrom):
        return f"from {'.' * statement.level}{statement.module or ''} import {alias.name}"
    return f"import {alias.name}" if alias.asname is None else f"import {alias.name} as {alias.asname}"


def _hoistable_imports(cells: Sequence[ParsedCell], counts: Counter[str]) -> list[ast.stmt]:
    """Top-level imports whose names nothing else rebinds, and never to something else."""
    sources: dict[str, set[str]] = {}
    statements: list[ast.Import | ast.ImportFrom] = []
    for cell in cells:
        for statement in cell.tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                statements.append(statement)
                for alias in statement.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    key = _import_key(statement, alias)
                    if isinstance(statement, ast.Import) and alias.asname is None:
                        key = f"import {alias.name.split('.')[0]}"  # "import a.b" and "import a" both bind a
                    sources.setdefault(bound, set()).add(key)
    ok = {name for name, keys in sources.items() if len(keys) == 1 and counts[name] == 0}
    return [s for s in statements if all((a.asname or a.name.split(".")[0]) in ok for a in s.names)]


def _constants(cells: Sequence[ParsedCell], counts: Counter[str], shared: set[str]) -> list[ast.stmt]:
    """Literal assignments to names bound once; a list, dict or set only if nothing mutates it
    (a module constant is shared by every run, so ``points = []`` filled by a loop is not one),
    or if a function declares it ``global`` (then it is module state, shared by design)."""
    mutated = _mutated_names(cells) - shared
    constants = []
    for cell in cells:
        for statement in cell.tree.body:
            name = _target(statement)
            value = getattr(statement, "value", None)
            if value is not None and name and counts[name] == 1 and _is_literal(value):
                if name in mutated and any(isinstance(n, (ast.List, ast.Dict, ast.Set)) for n in walk(value)):
                    continue
                constants.append(statement)
    return constants


_MUTATING_METHODS = {
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem", "add",
    "discard", "sort", "reverse", "difference_update", "intersection_update", "symmetric_difference_update",
}


def _mutated_names(cells: Sequence[ParsedCell]) -> set[str]:
    """Names changed in place: ``name.append(...)``, ``name[...] = / del / +=``, ``shuffle(name)``."""
    mutated: set[str] = set()
    for cell in cells:
        for node in walk(cell.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if isinstance(node.func.value, ast.Name) and node.func.attr in _MUTATING_METHODS:
                    mutated.add(node.func.value.id)
                if node.func.attr == "shuffle":
                    mutated.update(a.id for a in node.args if isinstance(a, ast.Name))
            elif isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
                if isinstance(node.value, ast.Name):
                    mutated.add(node.value.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
                if isinstance(node.target.value, ast.Name):
                    mutated.add(node.target.value.id)
    return mutated


def _declared_global(cells: Sequence[ParsedCell]) -> set[str]:
    """Names a function declares ``global``: it rebinds them when called, so they stay module
    variables that every stage reads as they are then, never keyword parameters frozen at their
    first value."""
    return {name for cell in cells if "global" in cell.source  # (only text can make the statement)
            for node in walk(cell.tree) if isinstance(node, ast.Global) for name in node.names}


def _target(statement: ast.stmt) -> str:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and statement.value is not None and isinstance(statement.target, ast.Name):
        return statement.target.id
    return ""


def _is_literal(node: ast.expr | None) -> bool:
    if node is None or isinstance(node, ast.Constant) and node.value is Ellipsis:
        return False
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _def_name(statement: ast.stmt) -> str:
    return getattr(statement, "name", "")


def _hoistable_definitions(
    cells: Sequence[ParsedCell], counts: Counter[str], module_names: set[str]
) -> list[ast.stmt]:
    """Functions and classes bound once whose free names are all module-level (a greatest fixpoint)."""
    candidates: list[ast.stmt] = [
        s for cell in cells for s in cell.tree.body
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and counts[s.name] == 1
    ]
    frees = {id(c): set(free_names(c)) for c in candidates}  # type: ignore[arg-type]
    while True:
        names = module_names | {c.name for c in candidates} | BUILTINS  # type: ignore[attr-defined]
        keep = [c for c in candidates if frees[id(c)] <= names]
        if len(keep) == len(candidates):
            return candidates
        candidates = keep


def _rescue(evidence: Sequence[st.CellEvidence], placements: list[st.Placement]) -> list[st.Placement]:
    """Keep a dropped cell that binds names later kept cells read; it joins the stage before it."""
    analyses = [analyze(cell.statements) for cell in evidence]
    needed: set[str] = set()
    wanted: dict[int, list[str]] = {}
    for index in range(len(evidence) - 1, -1, -1):
        placement, names = placements[index], analyses[index]
        if placement.stage in st.STAGES:
            needed |= set(names.reads)
        elif placement.stage == st.DROPPED and not placement.strong and evidence[index].statements:
            binds = sorted(set(names.binds) & needed)
            if binds:
                wanted[index] = binds
                needed |= set(names.reads)
    result = list(placements)
    current = st.STAGES[0]
    for index, placement in enumerate(result):
        if index in wanted:
            result[index] = st.Placement(current, f"kept in {current}: binds {', '.join(wanted[index])}, read later")
        elif placement.stage in st.STAGES:
            current = placement.stage
    return result


def _dedupe(imports: list[ast.stmt]) -> list[ast.stmt]:
    seen: set[str] = set()
    result = []
    for statement in imports:
        key = ast.dump(statement, include_attributes=False)
        if key not in seen:
            seen.add(key)
            result.append(statement)
    return result


def _move_late_definitions(pipeline: Pipeline, module_names: set[str], counts: Counter[str]) -> None:
    """A function that reads a global bound by a later stage is defined in that stage instead.

    Notebooks often define a helper early that reads a variable set further down; it is only
    called once that variable exists, so defining it in the stage that binds the variable keeps
    the behaviour and lets the closure see it.
    """
    binders: dict[str, list[int]] = {}
    for index, stage in enumerate(pipeline.stages):
        for name in analyze(stage.statements).binds:
            binders.setdefault(name, []).append(index)
    for index, stage in enumerate(pipeline.stages):
        for number, statements in stage.body:
            for statement in list(statements):
                if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                if counts[statement.name] != 1:
                    continue
                frees = set(free_names(statement)) - module_names - BUILTINS
                targets = [min(binders[n]) for n in frees if n in binders and min(binders[n]) > index
                           and not any(b <= index for b in binders[n])]
                if targets:
                    target = pipeline.stages[max(targets)]
                    statements.remove(statement)
                    target.body.insert(0, (number, [statement]))
                    if number not in target.cells:
                        target.cells.append(number)


# -- the evaluation result ------------------------------------------------------------------------


def _shown_after_evaluate(evidence: Sequence[st.CellEvidence], placements: list[st.Placement]) -> list[str]:
    """Names shown by the dropped display cells right after the last evaluate cell (``metrics``)."""
    last = max((i for i, p in enumerate(placements) if p.stage == "evaluate"), default=None)
    shown: list[str] = []
    if last is None:
        return shown
    for cell, placement in zip(evidence[last + 1:], placements[last + 1:]):
        if placement.stage in st.STAGES:
            break
        statements = cell.statements
        if placement.stage == st.DROPPED and statements and isinstance(statements[-1], ast.Expr):
            if isinstance(statements[-1].value, ast.Name):
                shown.append(statements[-1].value.id)
    return shown


def _evaluation_result(stage: Stage, cells: Sequence[ParsedCell], shown_after: list[str]) -> str | None:
    """What ``run()`` returns: the last value the evaluate stage displays (in its own cells or in
    a display cell right after them), else a dict of what it binds."""
    if stage.is_stub:
        return None
    bound = analyze(stage.statements).binds
    for name in reversed(shown_after):
        if name in bound:
            return name
    for _, statements in reversed(stage.body):
        if statements and isinstance(statements[-1], ast.Expr) and _shows_a_value(statements[-1].value):
            value = statements[-1].value
            if isinstance(value, ast.Name):
                statements.pop()
                return value.id
            name = _fresh(RESULT_NAME, cells)
            statements[-1] = ast.Assign(targets=[ast.Name(name, ast.Store())], value=value, lineno=0)
            return name
        if statements:
            break
    binds = [n for n in analyze(stage.statements).binds]
    if not binds:
        return None
    name = _fresh(RESULT_NAME, cells)
    value = ast.Dict(keys=[ast.Constant(n) for n in binds], values=[ast.Name(n, ast.Load()) for n in binds])
    stage.body[-1][1].append(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value, lineno=0))
    return name


def _shows_a_value(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return False
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name not in st.DISPLAY_CALLS | st.DISPLAY_METHODS and st._root_name(value) not in st.PLOT_MODULES
    return True


def _fresh(base: str, cells: Sequence[ParsedCell]) -> str:
    used = {n.id for cell in cells for n in walk(cell.tree) if isinstance(n, ast.Name)}
    name = base
    while name in used:
        name += "_"
    return name


# -- wiring the stages ----------------------------------------------------------------------------


def _wire(pipeline: Pipeline, module_names: set[str], shared: set[str]) -> None:
    constants = set(pipeline.constant_names) - shared  # module state is read from the module
    active = [s for s in pipeline.stages if not s.is_stub]
    analyses = {s.name: analyze(s.statements) for s in active}
    bound_before: dict[str, str] = {}  # name -> the latest earlier stage that binds it
    for stage in active:
        names = analyses[stage.name]
        for name in names.reads:
            if name in constants:
                stage.constants.append(name)
            elif name in module_names or name in BUILTINS:
                continue
            elif name in bound_before:
                stage.inputs.append(name)
            elif name not in names.binds:
                later = next((s.name for s in active if s is not stage and name in analyses[s.name].binds), None)
                if later is not None and any(p.strong for p in _placements_of(pipeline, stage)):
                    raise OutOfOrder(_first_reader(stage, name), name, stage.name, later)
                stage.required.append(name)
            elif _read_before_bound_outside_loops(stage.statements, name):
                stage.required.append(name)  # a cell that set it was dropped: the caller must pass it
        for name in names.binds:
            bound_before[name] = stage.name
    for index, stage in enumerate(active):
        later_inputs = {n for s in active[index + 1:] for n in s.inputs}
        stage.returns = [n for n in analyses[stage.name].binds if n in later_inputs]
        if stage.name == "evaluate" and pipeline.result and pipeline.result not in stage.returns:
            stage.returns.append(pipeline.result)
    for name in pipeline.required:
        pipeline.warnings.append(f"{name!r} is read but no kept cell binds it: run() needs it as a parameter")


def _read_before_bound_outside_loops(statements: list[ast.stmt], name: str) -> bool:
    """True when a statement reads ``name`` before any statement binds it, not inside a loop (where
    a later iteration may read what an earlier one bound)."""
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue  # a function reads its globals when called, not when defined
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
            if name in analyze([statement]).binds:
                return False
            continue
        names = analyze([statement])
        if name in names.reads:
            return True
        if name in names.binds:
            return False
    return False


def _placements_of(pipeline: Pipeline, stage: Stage) -> list[st.Placement]:
    return [pipeline.placements[n] for n in stage.cells]


def _first_reader(stage: Stage, name: str) -> int:
    for number, statements in stage.body:
        if name in analyze(statements).reads:
            return number
    return stage.cells[0]


def _prune_module_level(pipeline: Pipeline) -> None:
    """Keep only the imports, constants and helpers the generated code uses."""
    used: set[str] = set()
    for stage in pipeline.stages:
        used |= {n for s in stage.statements for n in loaded_names(s)}
        used |= set(stage.constants)
    by_name = {_def_name(h): h for h in pipeline.helpers}
    pending = [n for n in used if n in by_name]
    while pending:
        helper = by_name[pending.pop()]
        for name in free_names(helper):  # type: ignore[arg-type]
            if name not in used:
                used.add(name)
                if name in by_name:
                    pending.append(name)
    pipeline.helpers = [h for h in pipeline.helpers if _def_name(h) in used]
    pipeline.constants = [c for c in pipeline.constants if _target(c) in used]
    kept_imports = []
    for statement in pipeline.imports:
        names = statement.names  # type: ignore[attr-defined]
        aliases = [a for a in names if (a.asname or a.name.split(".")[0]) in used]
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            aliases = list(statement.names)
        if aliases:
            kept_imports.append(_with_names(statement, aliases))
    pipeline.imports = kept_imports


def _with_names(statement: ast.stmt, aliases: list[ast.alias]) -> ast.stmt:
    if isinstance(statement, ast.ImportFrom):
        return ast.ImportFrom(module=statement.module, names=aliases, level=statement.level)
    return ast.Import(names=aliases)
