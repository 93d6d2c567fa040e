"""From parsed cells to a pipeline: module-level code, statement placement, parameters and results.

Imports (with the set-up statements that must run before them, in notebook order), literal
constants bound once, and helper definitions move to module level; a helper that reads notebook
globals receives them as keyword parameters. Every other top-level statement is placed in a stage
on the statement graph (:mod:`~mlpack_cli.notebook.graph`, :mod:`~mlpack_cli.notebook.placement`),
so a cell may be split. A stage takes as parameters the names it reads that earlier stages bind,
plus the constants it reads as keyword parameters, and returns the names later stages read. Names
nothing binds become required parameters. ``run()`` returns the values the evaluation computed.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlpack_cli.notebook import graph as gr
from mlpack_cli.notebook import passes
from mlpack_cli.notebook import placement as pl
from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook import versions as vs
from mlpack_cli.notebook.disabled import is_commented_out_code
from mlpack_cli.notebook.scopes import (
    BUILTINS, Names, Renamer, analyses_remembered, analyze, bound_names, calls_in, free_names, loaded_names, parents,
    walk, walks_remembered,
)
from mlpack_cli.notebook.starimports import KEEP_IMPORT

# Names the generated module defines itself; notebook names that collide get a trailing "_".
RESERVED = frozenset({*st.STAGES, "run", "monitoring"})
ASSIGN_TO = "mlpack_assign_to"  # attribute of an ast.Expr: codegen writes `name = <expression>`
NEEDED_BY = "mlpack_needed_by"  # attribute of an ast.alias: kept while that name is used (`import pkg.a.b` for a)


@dataclass
class ParsedCell:
    number: int
    tags: tuple[str, ...]
    source: str
    heading: str | None
    tree: ast.Module
    code: str = ""  # the Python text ``tree`` was parsed from (magics handled); node positions refer to it
    markdown: str = ""  # the markdown cells between the previous code cell and this one
    runs: tuple[str, ...] = ()  # the cell's `%run script.py` lines, dropped: the names they bind are unknown
    # names only a dropped IPython construct binds: (name, line, the construct); see ipython.CellCode
    ipython_binds: tuple[tuple[str, int, str], ...] = ()


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
        """No notebook cell belongs here (a comment-only cell does: its comments are kept)."""
        return not self.body

    @property
    def statements(self) -> list[ast.stmt]:
        return [s for _, statements in self.body for s in statements]


@dataclass(frozen=True)
class Part:
    """A run of statements of one cell placed together: what the report shows, one per part."""

    cell: int
    stage: str  # a stage, "helpers" (module level) or "dropped"
    reason: str
    lines: tuple[int, int] | None  # first and last line in the cell's code; None: the whole cell


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
    parts: list[Part] = field(default_factory=list)  # per cell, in order: where each part went and why
    # The files and directories run() reads and writes, as its keyword parameters
    # (notebook/paths.py: PathParameter), and what makes it need the network ("what (cell N, line L)").
    path_parameters: list[Any] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    # A stage moves the working directory (``os.chdir("data")``, notebook/paths.py): run() returns
    # to the one it started in, so that each run() reads the files the notebook did.
    moves_directory: bool = False
    # How the saved model is loaded and predicts (notebook/inference.py: Inference), when it is.
    inference: Any = None

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
    """A tagged cell depends on what only a later stage makes."""

    def __init__(self, cell: int, message: str) -> None:
        super().__init__(message)
        self.cell = cell


class HelperGlobal(Exception):
    """A helper reads a notebook global it cannot be given explicitly."""

    def __init__(self, helper: str, name: str, cell: int, line: int, why: str) -> None:
        super().__init__(f"cell {cell}, line {line}: the function {helper!r} reads the notebook global {name!r}, {why}")
        self.helper, self.name, self.cell, self.line = helper, name, cell, line


class DynamicNames(Exception):
    """The notebook binds names through ``globals()``/``exec`` and reads names nothing else binds."""

    def __init__(self, cell: int, line: int, what: str, names: Sequence[str]) -> None:
        shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
        super().__init__(f"cell {cell}, line {line}: {what} binds names the conversion cannot see, "
                         f"and the notebook reads {shown}, which no statement binds")
        self.cell, self.line, self.names = cell, line, list(names)


class OutputHistory(Exception):
    """A kept statement reads IPython's output or input history (``_``, ``Out[3]``, ``_3``, ``In``),
    which exists only in a kernel: the module would need it as a parameter nobody can give."""

    def __init__(self, cell: int, line: int, name: str) -> None:
        super().__init__(f"cell {cell}, line {line}: reads {name!r}, IPython's "
                         f"{'input' if name.startswith(('In', '_i')) else 'output'} history, "
                         "which exists only in a running notebook, not in a module")
        self.cell, self.line, self.name = cell, line, name


_HISTORY = re.compile(r"_{1,3}|_\d+|Out|In|_oh|_ih|_dh|_i{1,3}|_i\d+")


def _refuse_output_history(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> None:
    """A name of IPython's history that the notebook never binds itself (``for _ in ...`` makes
    ``_`` its own) and that a kept statement reads would become a required parameter of run():
    refuse, naming the first place it is read."""
    history = [name for name in pipeline.required if _HISTORY.fullmatch(name)]
    if not history:
        return
    bound = set(analyze([s for cell in cells for s in cell.tree.body]).binds)
    history = [name for name in history if name not in bound]
    if not history:
        return
    for cell in cells:
        for node in walk(cell.tree):
            if isinstance(node, ast.Name) and node.id in history and isinstance(node.ctx, ast.Load):
                raise OutputHistory(cell.number, node.lineno, node.id)
    raise OutputHistory(cells[0].number if cells else 1, 1, history[0])


def forget_walks() -> None:
    """:func:`~mlpack_cli.notebook.graph.forget_walks`, and the names of the notebook remembered
    here: all of it holds the notebook's trees."""
    gr.forget_walks()
    _ONCE.clear()


def build_pipeline(cells: Sequence[ParsedCell], keywords: Mapping[str, Sequence[str]]) -> Pipeline:
    forget_walks()
    for cell in cells:
        cell.tree.body = _normalize(cell.tree.body)
    with walks_remembered():  # from here on names change, never the shape of a tree (but see _collect_passes)
        renamed = _rename_reserved(cells)  # (what _normalize leaves out binds no name it could rename)
        with analyses_remembered([s for cell in cells for s in cell.tree.body], _renaming):
            return _placed_pipeline(cells, keywords, renamed)


def _renaming(statement: ast.AST) -> tuple[tuple[str, str], ...]:
    """What a top-level statement's names are now: its versioned names (only they change from here on)."""
    return tuple((getattr(statement, vs.RENAMED, None) or {}).items())


def _placed_pipeline(cells: Sequence[ParsedCell], keywords: Mapping[str, Sequence[str]],
                     renamed: dict[str, str]) -> Pipeline:
    counts = _binding_counts(cells)
    shared = _declared_global(cells)
    constants = _constants(cells, counts, shared)
    imports = _hoistable_imports(cells, counts)
    every = [s for cell in cells for s in cell.tree.body]
    aliases = gr.collect_aliases(every)
    prelude, constants = _prelude(cells, imports, constants, aliases)
    constants = _computable_at_import(cells, prelude, constants)
    module_names = {name for statement in prelude + constants for name in bound_names(statement)}
    helpers, helper_globals = _hoistable_definitions(cells, counts, module_names, shared)
    hoisted = {id(s) for s in prelude + constants + helpers}
    # an import repeated word for word in a later cell is the one already at module level: left in
    # a stage it would make the name local to that stage's function (UnboundLocalError above it)
    at_top = {ast.dump(s) for s in prelude if isinstance(s, (ast.Import, ast.ImportFrom))}
    hoisted |= {id(s) for s in imports if ast.dump(s) in at_top}
    helper_names = {_def_name(h) for h in helpers}

    definitions = [s for cell in cells for s in walk(cell.tree)
                   if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    lambdas = {target.id: s.value for cell in cells for s in walk(cell.tree)
               if isinstance(s, ast.Assign) and isinstance(s.value, ast.Lambda)
               for target in s.targets if isinstance(target, ast.Name)}
    user_functions = gr.Functions(definitions, aliases, lambdas)
    model_classes = {d.name for d in definitions if isinstance(d, ast.ClassDef) and any(
        getattr(b, "attr", getattr(b, "id", "")) in pl.MODEL_BASES for b in d.bases)}
    order = [(cell.number, s) for cell in cells for s in cell.tree.body if id(s) not in hoisted]
    explicit = {}
    heading_stage = {}
    for cell in cells:
        tagged = st.explicit_placement(cell.tags, cell.source)
        if tagged is not None and tagged.stage == st.HELPERS:
            tagged = None  # a helpers tag places definitions, which move to module level anyway
        if tagged is not None:
            explicit[cell.number] = tagged
        heading_stage[cell.number] = st.stage_from_heading(cell.heading, keywords) if cell.heading else None
    headings = {c.number: c.heading for c in cells}
    # (a figure or axes bound again is never versioned: its name is how its drawing calls are known)
    tables = frozenset(_target(c) for c in constants if isinstance(c, ast.Assign) and pl.is_literal_table(c.value))
    versions = _Versions(cells, order, every, module_names | helper_names | set(renamed.values()) | aliases.objects,
                         lambda infos: pl.place(infos, explicit, heading_stage, user_functions, aliases,
                                                model_classes, set(), headings, tables),
                         lambda: gr.build_graph(order, aliases, user_functions, helper_globals, constants))
    while True:  # (ends: each round keeps at least one more pair of versions apart)
        infos = gr.build_graph(order, aliases, user_functions, helper_globals, constants)
        keep: set[int] = set()
        while True:
            try:
                decisions = pl.place(infos, explicit, heading_stage, user_functions, aliases, model_classes, keep,
                                     headings, tables)
            except pl.OrderConflict as exc:
                raise OutOfOrder(exc.cell, str(exc)) from exc
            pipeline = Pipeline(
                imports=prelude, constants=constants, helpers=helpers, stages=[Stage(n) for n in st.STAGES],
                placements={}, renamed=renamed, helper_globals=helper_globals,
            )
            models, _ = pl.model_names(infos, model_classes)
            models |= _held_models(infos, models)
            extra, revive, at_end, overwritten = _results(pipeline, cells, infos, decisions, models, heading_stage,
                                                          versions.distinct)
            if not revive - keep:
                break
            keep |= revive  # what run() returns must be computed: place again with its bindings kept
        if not versions.split(decisions, extra, at_end, overwritten):
            break
    extra = [*extra, *_collect_passes(pipeline, cells, infos, decisions)]
    _fill_stages(pipeline, infos, decisions, extra, cells)
    _check_closures(pipeline, cells, infos, decisions, module_names | helper_names)
    dropped_nested = _drop_nested(pipeline, cells, aliases, user_functions)
    _report(pipeline, cells, infos, decisions, hoisted)
    _wire(pipeline, module_names | helper_names | _display_import(pipeline, every), shared, dropped_nested)
    _refuse_output_history(pipeline, cells)
    module_level = [*pipeline.imports, *pipeline.constants, *pipeline.helpers]
    _prune_module_level(pipeline, dropped_nested, aliases)
    _report_pruned(pipeline, cells, module_level)
    _docs(pipeline, cells, keywords)
    _savefig_warnings(pipeline, infos, decisions)
    _unseeded_warnings(pipeline, infos, decisions)
    _clock_warnings(pipeline, infos, decisions, _statsmodels_fits(cells))
    _dynamic_binding_warnings(pipeline, cells, every)
    _unbound_name_warnings(pipeline, cells)
    if not pipeline.results and pipeline.stages[pl.EVALUATE].statements:
        pipeline.warnings.append(
            "run() returns None: no statement of the notebook's evaluation assigns a metric (acc = "
            "accuracy_score(...)) or shows a value it computes; to have run() return a result, assign it to a "
            "name and show the name at the end of an evaluation cell")
    elif not pipeline.results and pipeline.stages[pl.TRAIN].statements:
        pipeline.warnings.append(
            "run() returns None: the notebook trains but evaluates nothing; to have run() return a result, "
            "score the model in a cell of its own (acc = model.score(X_test, y_test)) and show the name")
    if infos and not any(stage.statements for stage in pipeline.stages):
        pipeline.warnings.append("no statement of the notebook is kept in a stage (it only displays, prints or "
                                 "plots): run() computes nothing; tag the cells to keep with mlpack:<stage>")
    return pipeline


class _Versions:
    """The earlier versions of a name bound afresh again (``model = ...`` for a second model) get
    their own names where that lets a later round of work keep its stages: placed once with every
    version renamed, then a version keeps its new name only when that placement puts it in a later
    stage than the version after it, or when sharing the name pushed the version after it down
    (:mod:`~mlpack_cli.notebook.versions`)."""

    def __init__(self, cells: Sequence[ParsedCell], order: Sequence[tuple[int, ast.stmt]],
                 every: Sequence[ast.stmt], keep: set[str], place: Callable[[list[gr.Statement]], list[pl.Decision]],
                 graph: Callable[[], list[gr.Statement]]) -> None:
        self.cells = cells
        self.statements = [s for _, s in order]
        self.versions = vs.find_versions(self.statements, every, keep)
        self.separate: set[tuple[str, int]] = set()
        self.joins: list[tuple[str, int]] = []
        self.apart: dict[int, int] = {}
        if not self.versions:
            return
        self.names = _names_in_trees(cells)  # (the same whenever the versions are reverted)
        taken = self._taken()
        vs.rename_versions(self.statements, self.versions, taken)
        try:
            self.apart = _stages_of(place(graph()))  # every version apart: where each round goes
        except pl.OrderConflict:
            self.versions = {}
        vs.revert(self.statements)
        self._rename(taken)  # (reverted, and placing marks no names: the names taken are the same)

    def _taken(self) -> set[str]:
        _ONCE.pop("used", None)  # (the names change with the versions' names)
        return self.names | _names_assigned(self.cells) | RESERVED

    def _rename(self, taken: set[str] | None = None) -> None:
        merged, self.joins = vs.merge_in_order(self.versions, self.apart, self.separate)
        if taken is None:
            taken = self._taken()
        else:
            _ONCE.pop("used", None)
        vs.rename_versions(self.statements, merged, taken)

    def _versions_of(self, name: str, first: int, second: int) -> tuple[str, int | None, int | None]:
        """The notebook's name for ``name`` as statement ``first`` has it now (``model_1`` for the
        versions of ``model`` that share that name), and the versions of it the two statements use."""
        renamed = getattr(self.statements[first], vs.RENAMED, None) or {}
        name = next((old for old, new in renamed.items() if new == name), name)
        groups = self.versions.get(name, [])
        found = [next((k for k, group in enumerate(groups) if i in group), None) for i in (first, second)]
        return name, found[0], found[1]

    def distinct(self, name: str, first: int, second: int) -> bool:
        """Whether statements ``first`` and ``second`` use two versions of ``name``: apart, or
        kept apart by :meth:`split` when one name would mix them."""
        _, one, other = self._versions_of(name, first, second)
        return one is not None and other is not None and one != other

    def _joins_between(self, name: str, first: int, second: int) -> set[tuple[str, int]]:
        """The joins that give the versions of ``name`` statements ``first`` and ``second`` use one name."""
        name, one, other = self._versions_of(name, first, second)
        if one is None or other is None:
            return set()
        return {(name, k) for k in range(one, other) if (name, k) in self.joins}

    def split(self, decisions: Sequence[pl.Decision], extra: Sequence[Added],
              at_end: Collection[int], overwritten: Collection[tuple[str, int, int]] = ()) -> bool:
        """Keep apart the joined versions that ``decisions`` put later than the first placement
        did, and those whose one name would make a statement read a later version than the one in
        force at its place in the notebook. What :func:`_results` added counts where it ends up:
        its statements in ``evaluate`` (``extra``: a display of a first model's statistics, revived
        as a result), the ones it revived, and the displays whose names run() returns under
        another key (``at_end``: ``{"accuracy": acc}``), read once every stage has run. True when
        names changed (place the notebook again). ``overwritten``: (name, first, second), a result
        statement ``first`` binds that ``second`` binds again (a first model's ``acc``): apart,
        run() returns both (``acc_1`` and ``acc``)."""
        placed: dict[int, float] = dict(_stages_of(decisions))
        pushed = {(name, k) for name, k in self.joins
                  if any(placed.get(i, -1) > self.apart.get(i, 99) for i in self.versions[name][k + 1])}
        pushed.update(join for name, first, second in overwritten for join in self._joins_between(name, first, second))
        placed.update((int(order), stage) for order, _, stage, _ in extra)  # (at index + 0.5)
        placed.update((index, len(st.STAGES)) for index in at_end)  # after every stage
        pushed.update(vs.out_of_force(self.versions, self.joins, placed))
        if not pushed:
            return False
        self.separate |= pushed
        vs.revert(self.statements)
        self._rename()
        return True


def _collect_passes(pipeline: Pipeline, cells: Sequence[ParsedCell], infos: Sequence[gr.Statement],
                    decisions: Sequence[pl.Decision]) -> list[Added]:
    """Every pass's value of the results a loop of the evaluation computes once per pass
    (:mod:`~mlpack_cli.notebook.passes`): the statements collecting them go into the loop (its
    text too, :data:`passes.INSERTED`), a result each, after the result it collects; returns the
    statements that start them, just before the loop."""
    results = [name for _, name in pipeline.results]
    taken = set(_used_names(cells)) | {key for key, _ in pipeline.results} | RESERVED
    code = {cell.number: cell for cell in cells}
    added: list[Added] = []
    for info, decision in zip(infos, decisions):
        node = info.node
        if not isinstance(node, ast.For) or not (
                decision.stage == pl.EVALUATE or decision.stage == pl.TRAIN and decision.evaluates):
            continue
        text = code[info.cell].code  # (none: the module's text of the cell is written from its tree)
        lines = re.split(r"\r\n|\r|\n", text)  # (the lines Python numbers)
        found = [c for c in passes.collect(node, set(results), taken, _metric_base, pl.is_metric_call)
                 if not text or _insertable(lines, node, c.after)]
        if not found:
            continue
        renamed = {**pipeline.renamed, **(getattr(node, vs.RENAMED, None) or {})}
        back = Renamer({new: old for old, new in renamed.items()})  # (the text has the notebook's names)
        inserted = list(getattr(node, passes.INSERTED, None) or [])
        last: dict[int, ast.stmt] = {}  # a statement -> the last record added after it
        for collected in found:
            node.body.insert(node.body.index(last.get(id(collected.after), collected.after)) + 1, collected.record)
            last[id(collected.after)] = collected.record
            text = ast.unparse(back.visit(ast.parse(ast.unparse(collected.record))))
            inserted.append((collected.after.end_lineno or collected.after.lineno, collected.after.lineno, text))
            added.append((info.index - 0.25, info.cell, decision.stage, collected.start))
            where = results.index(collected.of) + 1 if collected.of in results else len(results)
            results.insert(where, collected.name)
            pipeline.results.insert(where, (collected.name, collected.name))
        setattr(node, passes.INSERTED, inserted)
        gr.reshaped(node, code[info.cell].tree)
    return added


def _insertable(lines: Sequence[str], loop: ast.For, after: ast.stmt) -> bool:
    """Whether a line can go after ``after`` in the loop's text: it starts its line, below the
    ``for``, and the next statement of the loop starts on a later line."""
    first, last = after.lineno, after.end_lineno or after.lineno
    if first <= loop.lineno or last > len(lines) or lines[first - 1][:after.col_offset].strip(" \t"):
        return False
    if lines[last - 1].rstrip().endswith("\\"):
        return False
    following = loop.body[loop.body.index(after) + 1:]
    return not following or following[0].lineno > last


def _stages_of(decisions: Sequence[pl.Decision]) -> dict[int, int]:
    return {i: d.stage for i, d in enumerate(decisions) if d.stage is not None and d.stage >= 0}


def _names_assigned(cells: Sequence[ParsedCell]) -> set[str]:
    """The names given to shown metrics (:data:`ASSIGN_TO`, only ever on top-level statements)."""
    return {getattr(s, ASSIGN_TO) for cell in cells for s in cell.tree.body
            if isinstance(s, ast.Expr) and getattr(s, ASSIGN_TO, None)}


def _names_in_trees(cells: Sequence[ParsedCell]) -> set[str]:
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
    return used


# -- module level: the prelude and the helpers ------------------------------------------------------


def _prelude(cells: Sequence[ParsedCell], imports: list[ast.stmt], constants: list[ast.stmt],
             aliases: gr.Aliases | None = None) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """Imports in notebook order, each after the set-up statements (environment, sys.path,
    matplotlib.use, warnings) that come before it in the notebook. An import after a set-up
    statement that cannot move up (it reads a name computed in the notebook) stays where it is."""
    hoistable = {id(s) for s in imports}
    constant_by_name = {_target(c): c for c in constants}
    prelude: list[ast.stmt] = []
    pending: list[ast.stmt] = []
    bound: set[str] = set()
    blocked = False
    moved_constants: list[ast.stmt] = []
    if aliases is None:  # (the caller's, when it has them: collected from the same statements)
        aliases = gr.collect_aliases([s for cell in cells for s in cell.tree.body])
    for cell in cells:
        for statement in cell.tree.body:
            if id(statement) in hoistable:
                if blocked:
                    continue
                prelude.extend(pending)
                pending.clear()
                prelude.append(statement)
                bound.update(bound_names(statement))
            elif gr.is_setup(statement, aliases) and not blocked:
                reads = set(analyze([statement]).reads) - BUILTINS
                needs = [constant_by_name[n] for n in reads - bound if n in constant_by_name]
                if reads - bound - set(constant_by_name):
                    blocked = True
                    continue
                for constant in needs:
                    if constant not in moved_constants:
                        moved_constants.append(constant)
                        pending.append(constant)
                        bound.update(bound_names(constant))
                pending.append(statement)
    kept_imports = {id(s) for s in prelude}
    unhoisted = [s for s in imports if id(s) not in kept_imports]
    del unhoisted  # they stay in their stage, placed with the rest
    result = _dedupe(prelude)
    return result, [c for c in constants if c not in moved_constants]


def _hoistable_definitions(
    cells: Sequence[ParsedCell], counts: Counter[str], module_names: set[str], shared: set[str]
) -> tuple[list[ast.stmt], dict[str, list[str]]]:
    """Functions and classes bound once whose free names are module-level (a greatest fixpoint),
    and functions only ever called by name whose other free names are notebook globals: those get
    them as explicit keyword parameters (``helper_globals``). A lambda bound once to a name
    (``rmse = lambda a, b: ...``) is a function too, when its free names are module-level."""
    candidates: list[ast.stmt] = [
        s for cell in cells for s in cell.tree.body if _def_name(s) and counts[_def_name(s)] == 1
    ]
    bound_anywhere = set(counts)
    direct = _called_only(cells, {_def_name(c) for c in candidates})
    # ``display`` is module-level too when the notebook leaves it IPython's (_display_import)
    frees = {id(c): [n for n in free_names(c)  # type: ignore[arg-type]
                     if n not in BUILTINS and not (n == DISPLAY and not counts[n])] for c in candidates}
    while True:
        names = module_names | {_def_name(c) for c in candidates}
        globals_of: dict[str, list[str]] = {}
        keep = []
        for c in candidates:
            outside = [n for n in frees[id(c)] if n not in names]
            if not outside:
                keep.append(c)
            elif (isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef)) and c.name in direct
                  and all(n in bound_anywhere and n not in shared for n in outside)
                  and not _definition_time_names(c) - names and _takes_keywords_as_written(c)
                  and not any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in walk(c))):
                keep.append(c)
                globals_of[c.name] = outside
        if len(keep) == len(candidates):
            break
        candidates = keep
    # a helper calling a helper that takes globals passes them on, so it takes them too
    calls = {_def_name(c): {n.func.id for n in walk(c)
                            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} for c in candidates}
    changed = True
    while changed:
        changed = False
        for name, called in calls.items():
            for other in called:
                for g in globals_of.get(other, []):
                    if other != name and g not in globals_of.setdefault(name, []):
                        globals_of[name].append(g)
                        changed = True
    globals_of = {k: v for k, v in globals_of.items() if v}
    functions = {_def_name(c) for c in candidates if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name in list(globals_of):
        if name not in direct or name not in functions:  # a class or lambda calling such a helper cannot pass them on
            candidates = [c for c in candidates if _def_name(c) != name]
            del globals_of[name]
    return candidates, globals_of


# Decorators known to hand the arguments of a call to the function unchanged.
_TRANSPARENT_DECORATORS = frozenset({"no_grad", "inference_mode", "enable_grad", "contextmanager",
                                     "asynccontextmanager"})


def _takes_keywords_as_written(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a call can pass the function the notebook globals it reads as keyword parameters:
    not through a decorator that does something with the arguments (``functools.lru_cache`` keys
    its cache on them and needs them hashable, ``np.vectorize`` maps over them, a wrapper of the
    notebook may take fixed parameters). Such a function stays a function of its stage instead."""
    for decorator in definition.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name not in _TRANSPARENT_DECORATORS:
            return False
    return True


def _definition_time_names(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a ``def`` reads when it runs, not when the function is called: decorators, default
    values and annotations (``def f(x, k=K)`` keeps the ``K`` of that moment). A parameter given at
    each call would read the value at the call instead, so such a function is not a helper."""
    args = definition.args
    parts: list[ast.AST] = [*definition.decorator_list, *args.defaults, *(d for d in args.kw_defaults if d)]
    parts += [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
              if a is not None and a.annotation is not None]
    if definition.returns is not None:
        parts.append(definition.returns)
    return {name for part in parts for name in loaded_names(part)}


def _called_only(cells: Sequence[ParsedCell], names: set[str]) -> set[str]:
    """Of ``names``, those the notebook only ever calls by name (never passes on as a value)."""
    called: set[int] = set()
    loads: list[ast.Name] = []
    for cell in cells:
        for node in walk(cell.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called.add(id(node.func))
            elif isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
                loads.append(node)
    return names - {node.id for node in loads if id(node) not in called}


# -- stages, parts and results ----------------------------------------------------------------------


def _fill_stages(pipeline: Pipeline, infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision],
                 extra: Sequence[Added], cells: Sequence[ParsedCell]) -> None:
    """Each stage's statements in notebook order, grouped by cell; a comment-only cell joins the
    stage of the next kept statement (else of the last one), just before it."""
    placed: list[tuple[float, int, int, ast.stmt | None]] = []  # (order, stage, cell, statement)
    for info, decision in zip(infos, decisions):
        if decision.stage is not None:
            placed.append((float(info.index), decision.stage, info.cell, info.node))
    for order, number, stage_index, statement in extra:
        placed.append((order, stage_index, number, statement))
    by_order = sorted(placed, key=lambda item: item[0])
    for cell in cells:
        if cell.tree.body or not any(line.lstrip().startswith("#") for line in cell.code.splitlines()):
            continue
        if is_commented_out_code(cell.code):
            continue  # disabled code does not run in the notebook: not part of run()
        later = [item for item in by_order if item[2] > cell.number]
        earlier = [item for item in by_order if item[2] < cell.number]
        if later:
            placed.append((later[0][0] - 0.25, later[0][1], cell.number, None))
        else:
            placed.append((float("inf"), earlier[-1][1] if earlier else pl.LOAD, cell.number, None))
    for index, stage in enumerate(pipeline.stages):
        for _, _, number, node in sorted((p for p in placed if p[1] == index), key=lambda item: item[0]):
            if stage.body and stage.body[-1][0] == number:
                if node is not None:
                    stage.body[-1][1].append(node)
            else:
                stage.body.append((number, [node] if node is not None else []))
            if number not in stage.cells:
                stage.cells.append(number)


def _results(pipeline: Pipeline, cells: Sequence[ParsedCell], infos: Sequence[gr.Statement],
             decisions: list[pl.Decision], models: set[str], heading_stage: Mapping[int, str | None],
             distinct: Callable[[str, int, int], bool] = lambda name, first, second: False,
             ) -> tuple[list[Added], set[int], set[int], list[tuple[str, int, int]]]:
    """What run() returns: the names evaluation binds from metrics (``acc = accuracy_score(...)``,
    ``results[name] = model.score(...)``, ``scores.append(...)``), and what it prints or displays.
    A displayed metric expression is kept and named; a printed one is assigned to a new name.
    A value shown is computed in ``evaluate``, or earlier where a later statement kept there
    changes what it reads (``model.coef_`` shown, then ``model.fit(X2, y)`` in train): it reads what
    the notebook showed (:func:`_stage_in_force`; ``distinct``: whether two statements use two
    versions of a name, kept apart when one name would mix them). Returns the statements added
    (order, cell, stage, statement), the dropped
    statements that bind a shown value, which must be kept, the displays whose names run()
    returns under another key (``{"accuracy": acc}``): those read the names once every stage has run,
    and (name, first, second) where a later evaluation statement binds a metric's name again
    (a second model's ``acc``): for :meth:`_Versions.split`, so run() returns both."""
    used = set(_used_names(cells))
    used |= {getattr(n, ASSIGN_TO) for cell in cells for n in cell.tree.body if getattr(n, ASSIGN_TO, None)}
    results: list[str] = []
    evaluate_binds: set[str] = set()
    extra: list[Added] = []
    revive: set[int] = set()
    at_end: set[int] = set()
    results_keyed: list[tuple[str, str]] = []
    bound_before = {n for info, d in zip(infos, decisions) if d.stage is not None for n in info.binds}
    kept_binds: set[str] = set()
    # what kept statements of train and after learn or compute from a model (``slope, intercept =
    # linear_regression(...)``, ``coefs = model.coef_``), not the data they hand to it
    # (``sample_weight``): once a model is trained, such a value shown is a result, and so is any
    # value shown in an evaluation cell (``print(score, n_rows)``)
    model_made: set[str] = set()
    evaluation_cells = {info.cell for info, decision in zip(infos, decisions) if decision.stage == pl.EVALUATE}
    kept_cells = {info.cell for info, decision in zip(infos, decisions) if decision.stage is not None}
    result_binders: dict[str, list[int]] = {}  # a metric's name -> the evaluation statements binding it
    rebinders: dict[str, list[int]] = {}  # a name -> the evaluation statements starting a version of it
    steps: set[str] = set()  # predictions on the way to a metric (:func:`_scored_prediction`)

    def add(name: str) -> None:
        if name not in results and not name.startswith("<") and name not in models:
            results.append(name)

    def fresh(call: ast.AST) -> str:
        name = _metric_base(call)
        if name in used:  # a second model's report: ``classification_report_eng`` for ``y_pred_eng``
            own = _scored_as(call)
            name = f"{name}_{own}" if own else name
        name = _unused(name, used)
        used.add(name)
        return name

    def need(info: gr.Statement, expression: ast.AST) -> None:
        """What a new statement computing ``expression`` reads must be computed: keep its writers."""
        for name in loaded_names(expression):
            for writer in info.flow:
                if name in infos[writer].writes and decisions[writer].stage is None \
                        and decisions[writer].level < 3 and not infos[writer].inert:
                    revive.add(writer)

    def compute(info: gr.Statement, node: ast.stmt, name: str, value: ast.expr) -> bool:
        """Add ``name = value`` after ``node``, in the stage where what it reads is what the
        notebook's statement read; False (with a warning) when no stage is."""
        stage, blocker = _stage_in_force(info, loaded_names(value), infos, decisions, distinct)
        if stage is None:
            pipeline.warnings.append(
                f"cell {info.cell}, line {getattr(node, 'lineno', 1)}: run() does not return what it shows "
                f"({_clip(ast.unparse(value))}): cell {infos[blocker].cell} changes what it reads in an earlier "
                "stage than the one its values are made in")
            return False
        assign = ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)
        ast.fix_missing_locations(ast.copy_location(assign, node))
        need(info, value)
        extra.append((info.index + 0.5, info.cell, stage, assign))
        evaluate_binds.add(name)
        return True

    def looking(info: gr.Statement) -> bool:
        """What a cell that keeps nothing shows after the training is a result when it comes from
        what training or evaluation made (``rmse = ...(X @ w - y)``, ``test_loss, test_acc =
        run_test(model, ...)``); else it is a look at the data (class counts per fold, the variance a
        PCA fitted only to be shown explains)."""
        return modelling and info.cell not in kept_cells and heading_stage.get(info.cell) != "evaluate"

    def trained(info: gr.Statement, names: Collection[str]) -> bool:
        """Whether what ``info`` reads of ``names`` comes from what training or evaluation made."""
        return any(infos[w].writes & set(names) and (decisions[w].stage in _MODEL_WORK or (
            decisions[w].stage is None and _from_training(w, infos, decisions, models))) for w in info.flow) \
            or bool(set(names) & models)

    def show(info: gr.Statement, name: str) -> bool:
        if name in steps and any(name in infos[w].writes and _predicts_only(infos[w].node) for w in info.flow):
            return False  # predictions shown on their way to the metric that scores them: no result
        if name in module_state:  # a counter a helper's ``global`` statement keeps: run() returns it
            add(name)
            revive.update(w for w in info.flow if name in infos[w].writes and decisions[w].stage is None)
            return True
        if name in evaluate_binds or name not in models and (
                name in model_made or name in kept_binds and (not modelling or info.cell in evaluation_cells)):
            add(name)
            return True
        viewing = _shows_a_view(info.node)  # ``history_dict.keys()``, ``table.head(10)``
        for writer in info.flow:
            if name in infos[writer].writes and decisions[writer].stage is None and decisions[writer].level < 3 \
                    and not infos[writer].inert and not _predicts_only(infos[writer].node) \
                    and not (viewing and not _from_evaluation(writer, infos)) \
                    and not (looking(info) and not _from_training(writer, infos, decisions, models)):
                revive.add(writer)  # a prediction only shown (``preds``, ``predictions[0]``) is no result
        return False

    def show_value(info: gr.Statement, node: ast.stmt, part: ast.expr, label: str | None = None) -> bool:
        """A shown value: a name; a metric or a model's learned attribute (``model.coef_``), given a
        name of its own (from the text printed before it, ``label``, when that makes one); else the
        evaluation's names it reads."""
        if isinstance(part, ast.Name):
            return show(info, part.id)
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute) and part.func.attr in _RETURNS_NONE \
                and isinstance(part.func.value, ast.Name) and part.func.value.id not in imported_names:
            return False  # ``file.close()`` as a cell's last line shows nothing (None is not displayed)
        if _shows_an_estimator(part):
            return False  # a fitted model shown (grid.best_estimator_): its repr is no result
        learned = _learned_attribute(part, fitted)
        if pl.has_metric(part) or learned or _scored_by_hand(part, info, infos):
            if learned and not pl.has_metric(part) and looking(info) and not trained(info, loaded_names(part)):
                return False  # (what a preprocessor fitted only to be shown learned: ``pca.explained_variance_``)
            again = _shown_before(part, info, shown_before, infos)
            if again:  # ``print(grid.best_params_["C"])`` in two cells: one result, computed once
                return True
            base = _key_of(part) or learned
            named = _label_name(label)
            if named is not None and named not in used:
                name = named
            else:  # (a metric worked out by hand is a "metric")
                name = _fresh_name(base, used) if base and not pl.has_metric(part) else fresh(part)
            used.add(name)
            if not compute(info, node, name, part):
                return False
            add(name)
            shown_before[ast.dump(part)] = (name, info.index)
            return True
        if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and not any(
                part.value.id in infos[w].writes and _from_evaluation(w, infos) for w in info.flow):
            return False  # a part of a dataset shown (``iris.target_names``): not the whole object
        shown = False
        for inner in _shown_names(part, notebook_names):
            shown = show(info, inner) or shown
        return shown

    def show_keyed(info: gr.Statement, node: ast.stmt, value: ast.Dict) -> bool:
        """``{"accuracy": round(accuracy, 4), "n_test": len(test_set)}``: its keys name the results."""
        shown = False
        for key, item in zip(value.keys, value.values):
            label = str(key.value)  # type: ignore[union-attr]
            if isinstance(item, ast.Name) and item.id in evaluate_binds | bound_before:
                results_keyed.append((label, item.id))
                at_end.add(info.index)
                shown = True
                continue
            name = _fresh_name(label, used)
            used.add(name)
            if compute(info, node, name, item):
                results_keyed.append((label, name))
                shown = True
        return shown

    def dropped_as_shown(info: gr.Statement, decision: pl.Decision, context: int | None, made: int) -> None:
        """The display is dropped: run() returns what it shows, from the stage computing it."""
        if len(extra) > made:
            context = extra[-1][2]  # the value shown is computed again, as a result, there
        where = f" from {st.STAGES[context]}" if context is not None else ""
        decisions[info.index] = pl.Decision(
            None, f"{decision.reason}: run() returns what it shows{where}", decision.level, shown_in=context)

    constant_names = {name for statement in pipeline.constants for name in bound_names(statement)}
    imported_names = {(a.asname or a.name).split(".")[0] for cell in cells for s in cell.tree.body
                      if isinstance(s, (ast.Import, ast.ImportFrom)) for a in s.names}  # (``np.append`` returns)
    shown_before: dict[str, tuple[str, int]] = {}  # a value computed as a result -> (its name, where)
    fitted = _statsmodels_fits(cells)
    module_state = _declared_global(cells) & constant_names
    notebook_names = {name for info in infos for name in info.binds} | constant_names | {
        name for statement in pipeline.helpers for name in bound_names(statement)}
    contexts = _contexts(infos, decisions, heading_stage)
    # What is shown once a model is trained is a result; in a notebook that neither trains nor
    # evaluates, what it shows at all is (else its module would compute nothing).
    modelling = any(d.stage in (pl.TRAIN, pl.EVALUATE) for d in decisions)
    # A notebook that trains and never scores (a PCA, feature importances) shows its results in
    # training: there, what it displays of the model's work is a result, as in evaluate.
    evaluating = any(d.stage == pl.EVALUATE for d in decisions)
    showing = (pl.TRAIN, pl.EVALUATE, pl.EXPORT) if modelling else (None, *range(len(st.STAGES)))
    for info, decision, context in zip(infos, decisions, contexts):
        node = info.node
        if decision.stage is not None:
            kept_binds |= info.binds
            if decision.stage in (pl.TRAIN, pl.EVALUATE, pl.EXPORT) and (
                    info.reads & (models | model_made | evaluate_binds) or _learned_attribute(node, fitted)
                    or pl.has_metric(node) or decision.stage == pl.TRAIN and decision.level == 2
                    or not _fed_to_a_fit(info, infos, decisions)):
                model_made |= {n for n in info.writes if not n.startswith("<")}  # not the generator
        if decision.stage == pl.EVALUATE and isinstance(node, ast.Expr) and info.inert and _string_keyed(node.value):
            made = len(extra)  # a displayed dict of metrics: one result per key, as when it is dropped
            if show_keyed(info, node, node.value):  # type: ignore[arg-type]
                dropped_as_shown(info, decision, pl.EVALUATE, made)
                continue
        if decision.stage == pl.EVALUATE or decision.evaluates and decision.stage == pl.TRAIN:
            if decision.evaluates:  # what it fills in (``history.append((depth, acc))``) is computed too
                for name in sorted(info.mutates - info.binds):
                    if name in kept_binds:
                        add(name)
            if isinstance(node, ast.Expr) and info.inert and pl.has_metric(node.value):
                name = getattr(node, ASSIGN_TO, None) or fresh(node.value)
                setattr(node, ASSIGN_TO, name)
                info.binds.add(name)
            for name in _metric_names(node) + ([getattr(node, ASSIGN_TO)] if getattr(node, ASSIGN_TO, None) else []):
                add(name)
                if name in info.binds:
                    result_binders.setdefault(name, []).append(info.index)
            for name in _computed_names(node):  # every value the evaluation computes (not the data it prepares)
                if name in info.binds and not decision.prepares and not _scored_prediction(
                        info, name, infos, decisions, steps):
                    add(name)
            for name in vs.fresh_targets(node) if isinstance(node, ast.Assign) else ():  # (``df = pd.DataFrame(...)``)
                rebinders.setdefault(name, []).append(info.index)  # (a version of the name starts there)
            evaluate_binds |= info.binds
            continue
        if decision.stage is not None or context not in showing or decision.level == 3:
            continue
        if modelling and not pl.reads_kept_work(info.index, infos, decisions, constant_names):
            continue  # shows nothing the pipeline computes (a demo on literals)
        if context == pl.TRAIN and evaluating and not (isinstance(node, ast.Expr) and (
                isinstance(node.value, ast.Name) or _learned_attribute(node.value, fitted)
                or _scored_by_hand(node.value, info, infos)) or gr.is_print(node)):
            continue  # in training, a displayed or printed name, learned statistic or metric is a result; others not
        if context == pl.TRAIN and isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                gr.call_name(node.value) in pl.TRAIN_CALLS:
            continue  # what `model.fit(X, y)` shows is the model: no result
        iterated = _printed_elements(node)  # ``for i, v in enumerate(importance): print(i, v)`` shows importance
        if iterated is None and (not isinstance(node, ast.Expr) or "plot" in info.effects):
            continue  # a plot shows no value
        value = node.value if isinstance(node, ast.Expr) else None  # (None: a loop, ``iterated``)
        shown = False
        made = len(extra)
        if iterated is not None or value is None:
            for part in iterated or ():
                shown = show_value(info, node, part) or shown
        elif isinstance(value, ast.Name):
            shown = show(info, value.id)
        elif _string_keyed(value):
            shown = show_keyed(info, node, value)  # type: ignore[arg-type]
        elif isinstance(value, ast.Call) and gr.call_name(value) in gr.DISPLAY_FUNCTIONS \
                and isinstance(value.func, ast.Name):
            labelled = _labelled_values([*value.args, *[k.value for k in value.keywords if k.arg is None]])
            if labelled and labelled[0][0] is None:  # ``print("Confusion matrix (test set):")`` just before
                labelled[0] = (_printed_title(infos, info), labelled[0][1])
            for label, part in labelled:
                shown = show_value(info, node, part, label) or shown
        else:
            shown = show_value(info, node, value)
        if shown:
            dropped_as_shown(info, decision, context, made)
    for name in _sinks(infos, decisions, models):
        if name not in steps:  # (a prediction a shown metric scores is read by that metric's result)
            add(name)  # computed and never used again: what the notebook leaves as its results
    imported = {name for statement in pipeline.imports for name in bound_names(statement)}
    revive |= _rebound_after(results, infos, decisions, kept_binds | constant_names | imported)
    configuration = _from_environment(infos)  # (a secret moved to the environment: never returned)
    pipeline.results = [(name, name) for name in results if name not in configuration] + [
        (key, name) for key, name in results_keyed if key not in results and name not in configuration]
    for name in results:  # a table of a first sweep made again for a second (``df``, ``rows = []``)
        if name not in result_binders and len(rebinders.get(name, [])) > 1:
            result_binders[name] = rebinders[name]
    overwritten = [(name, first, second) for name, where in result_binders.items()
                   for first, second in itertools.pairwise(where)]
    return extra, revive, at_end, overwritten


def _from_environment(infos: Sequence[gr.Statement]) -> set[str]:
    """Names bound from the environment (``os.environ["KEY"]``, ``os.getenv("KEY")``: the lookups
    a secret moved out of the notebook becomes, a token, a setting of where the pipeline runs), and
    the values that carry what they hold (``headers = {"Authorization": "Bearer " + KEY}``): none
    is a result of run(), whose results are printed, logged and compared."""
    found: set[str] = set()
    for info in infos:
        for node in [info.node, *gr.nested_statements(info.node)]:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                    and _carries(node.value, found):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found |= {n.id for t in targets for n in walk(t) if isinstance(n, ast.Name)}
    return found


def _carries(node: ast.AST, names: set[str]) -> bool:
    """Whether ``node``'s value holds what the environment gave (``names``: bound from it so far):
    through strings, containers and the methods of such a value, not through what a call makes."""
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Attribute, ast.Name)) and \
            getattr(node.value, "attr", getattr(node.value, "id", "")) == "environ":
        return True  # os.environ["KEY"]
    if isinstance(node, ast.Call):
        func = node.func
        name = gr.call_name(node)
        if name == "getenv" or name == "get" and isinstance(func, ast.Attribute) and \
                getattr(func.value, "attr", getattr(func.value, "id", "")) == "environ":
            return True  # os.getenv("KEY"), os.environ.get("KEY")
        if isinstance(func, ast.Attribute) and _carries(func.value, names):
            return True  # KEY.strip(), headers["Authorization"].split()
        return name in ("str", "format", "join") and any(
            _carries(a, names) for a in [*node.args, *(k.value for k in node.keywords)])
    if isinstance(node, ast.Lambda):
        return False
    return any(_carries(child, names) for child in ast.iter_child_nodes(node))


def _stage_in_force(info: gr.Statement, names: Collection[str], infos: Sequence[gr.Statement],
                    decisions: Sequence[pl.Decision], distinct: Callable[[str, int, int], bool]
                    ) -> tuple[int | None, int]:
    """The stage for a statement computing, just after ``info``, a value of ``names`` as ``info``
    saw them: ``evaluate``, unless a later statement that changes one of them (a refit of the model,
    a rebinding; through any chain of later writers) is kept in an earlier stage, which the new
    statement must then precede: that stage, when what it reads is made by then. Writers of another
    version of a name (``distinct``) do not count: those versions get names of their own. Returns
    (stage or None when no stage is, the index of the first writer that decided it; -1 if none)."""
    names = set(names)
    low = max((stage for j in info.flow if infos[j].writes & names
               for stage in [decisions[j].stage] if stage is not None), default=pl.LOAD)
    chain = {info.index}
    high, blocker = pl.EVALUATE, -1
    for later in infos[info.index + 1:]:
        if not later.deps & chain or not {n for n in later.writes & names if not distinct(n, info.index, later.index)}:
            continue
        chain.add(later.index)
        stage = decisions[later.index].stage
        if stage is not None and 0 <= stage < high:
            high, blocker = stage, later.index
    return (high if low <= high else None), blocker


def _clip(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 3] + "..."


def _shown_names(expression: ast.expr, bound: set[str]) -> list[str]:
    """The names whose values an expression shows. A call of something the notebook binds (its
    function, model or object) shows what the call returns, not its inputs: ``predict_sentiment(text,
    model)`` and ``lm.predict(X_new)`` show no ``text`` or ``X_new``, nor the function called
    (``f(w1, w2) / eps``); a library call shows its arguments (``round(acc, 3)``, ``np.mean(scores)``)."""
    hidden: set[int] = set()
    for node in walk(expression):
        if not isinstance(node, ast.Call) or gr.root_name(node.func) not in bound:
            continue
        inputs: list[ast.AST] = [*node.args, *node.keywords]
        if isinstance(node.func, ast.Name):
            inputs.append(node.func)
        hidden |= {id(inner) for part in inputs for inner in walk(part)}
    found: list[str] = []
    for node in walk(expression):
        if isinstance(node, ast.Name) and id(node) not in hidden and node.id not in found:
            found.append(node.id)
    return found


def _fed_to_a_fit(info: gr.Statement, infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision]) -> bool:
    """Whether a later kept fit reads what the statement binds (``sample_weight = ...``, then
    ``model.fit(X, y, sample_weight=sample_weight)``): data handed to the model, not learned."""
    names = {n for n in info.writes if not n.startswith("<")}
    return any(info.index in later.flow and later.reads & names and decision.stage == pl.TRAIN
               and decision.level == 2 for later, decision in zip(infos[info.index + 1:], decisions[info.index + 1:]))


_MODEL_WORK = (pl.TRAIN, pl.EVALUATE)


def _from_training(index: int, infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision],
                   models: Collection[str]) -> bool:
    """Whether a statement reads a model or what kept statements of train or evaluate make,
    itself or through the dropped statements it reads, or comes from a model's predictions or
    scores (:func:`_from_evaluation`)."""
    seen = {index}
    pending = [index]
    while pending:
        info = infos[pending.pop()]
        if info.reads & set(models):
            return True
        for dep in info.flow:
            if not infos[dep].writes & info.reads:
                continue
            if decisions[dep].stage in _MODEL_WORK:
                return True
            if decisions[dep].stage is None and dep not in seen:
                seen.add(dep)
                pending.append(dep)
    return _from_evaluation(index, infos)


def _from_evaluation(index: int, infos: Sequence[gr.Statement]) -> bool:
    """Whether a statement's value comes, through any chain, from a model's predictions or scores
    (a table of predictions against the truth), not only from data or a training log: a view of it
    shown (``table.head(10)``) is a result; a view of anything else keeps nothing for itself."""
    seen = {index}
    pending = [index]
    while pending:
        info = infos[pending.pop()]
        if pl.has_metric(info.node) or set(pl._own_calls(info.node)) & pl.EVALUATE_CALLS or \
                _learned_attribute(info.node):
            return True
        for dep in info.flow - seen:
            if infos[dep].writes & info.reads:
                seen.add(dep)
                pending.append(dep)
    return False


def _predicts_only(statement: ast.stmt) -> bool:
    """``preds = lm.predict(X_new)``, ``y = model.predict(x)[0].argmax()``: an assignment of a
    model's predictions as they are, neither compared with anything nor scored."""
    if not isinstance(statement, ast.Assign):
        return False
    value: ast.AST = statement.value
    while True:
        if isinstance(value, ast.Call) and gr.call_name(value) in pl.PREDICT_CALLS:
            return not pl.has_metric(statement) and not value.keywords and not any(
                isinstance(n, ast.Call) and pl.predicts(gr.call_name(n)) for a in value.args for n in walk(a))
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            value = value.func.value  # .squeeze(), .argmax(dim=-1)
        elif isinstance(value, (ast.Attribute, ast.Subscript)):
            value = value.value
        else:
            return False


_LEARNED = frozenset({"params", "pvalues", "rsquared", "rsquared_adj", "bse", "tvalues", "aic", "bic"})


# Methods of a fitted statistical model (statsmodels' results) that return its statistics.
_STATISTICS = frozenset({"conf_int", "cov_params", "summary2", "f_test", "t_test", "wald_test"})


def _learned_attribute(node: ast.AST, fitted: Collection[str] = ()) -> str | None:
    """``coef`` of ``model.coef_[0]``: a fitted estimator's attribute the expression shows; also
    the statistics of a fitted statistical model (``lm.conf_int()``, and ``lm.summary()`` of a
    name in ``fitted``, bound from a statsmodels fit: a Keras ``model.summary()`` only prints)."""
    for inner in walk(node):
        if isinstance(inner, ast.Attribute) and (
                inner.attr.endswith("_") and not inner.attr.startswith("_") or inner.attr in _LEARNED):
            return inner.attr.rstrip("_") or "learned"
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and (
                inner.func.attr in _STATISTICS or inner.func.attr == "summary"
                and isinstance(inner.func.value, ast.Name) and inner.func.value.id in fitted):
            return inner.func.attr
    return None


def _key_of(node: ast.expr) -> str | None:
    """The key a learned value is read under (``log_reg__C`` of ``grid.best_params_["log_reg__C"]``,
    ``mean_test_score`` of ``grid.cv_results_["mean_test_score"]``): it names the value shown
    better than the attribute holding it."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        key: str = node.slice.value
        return key if key.isidentifier() and not keyword.iskeyword(key) else None
    return None


def _statsmodels_fits(cells: Sequence[ParsedCell]) -> set[str]:
    """Names bound from a fit of a statsmodels model (``lm = smf.ols(...).fit()``, or ``model =
    sm.OLS(y, X)`` and then ``results = model.fit()``)."""
    modules = _statsmodels_names(cells)
    if not modules:
        return set()
    made = set(modules)  # the modules, and the models made with them
    fits: set[str] = set()
    for cell in cells:
        for s in cell.tree.body:
            if not isinstance(s, ast.Assign) or not isinstance(s.value, ast.Call):
                continue
            names = {t.id for t in s.targets if isinstance(t, ast.Name)}
            if gr.root_name(s.value.func) in made:
                (fits if gr.call_name(s.value) == "fit" else made).update(names)
    return fits


def _statsmodels_names(cells: Sequence[ParsedCell]) -> frozenset[str]:
    """The names the notebook's imports give statsmodels and its parts (renaming versions never
    touches an import: worked out once per conversion)."""
    def find(cells: Sequence[ParsedCell]) -> frozenset[str]:
        found: set[str] = set()
        for cell in cells:
            for node in walk(cell.tree):
                if isinstance(node, ast.Import):
                    found.update((a.asname or a.name).split(".")[0] for a in node.names
                                 if a.name.split(".")[0] == "statsmodels")
                elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "statsmodels":
                    found.update(a.asname or a.name for a in node.names)
        return frozenset(found)

    return _once(cells, "statsmodels", find)


def _held_models(infos: Sequence[gr.Statement], models: set[str]) -> set[str]:
    """Names bound to a model taken out of a container the notebook fills with models (``best =
    fitted["SVM"]`` after ``fitted[name] = pipe`` in a loop, or out of ``models = {"lr":
    LogisticRegression()}``): models, passed on to the stages that use them, not values computed."""
    taken = [info.node for info in infos if isinstance(info.node, ast.Assign)
             and isinstance(info.node.value, ast.Subscript) and isinstance(info.node.value.value, ast.Name)]
    if not taken:
        return set()
    containers: set[str] = set()
    for info in infos:
        nested = [info.node, *gr.nested_statements(info.node)]
        local = {n.id for node in nested if isinstance(node, ast.Assign) and _builds_a_model(node.value)
                 for t in node.targets for n in walk(t) if isinstance(n, ast.Name)}
        for node in nested:
            if not isinstance(node, ast.Assign):
                continue
            value = node.value
            if isinstance(value, ast.Dict) and value.values and all(_builds_a_model(v) for v in value.values):
                containers |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            holds = _builds_a_model(value) or isinstance(value, ast.Name) and value.id in models | local
            containers |= {t.value.id for t in node.targets if holds and isinstance(t, ast.Subscript)
                           and isinstance(t.value, ast.Name)}
    return {t.id for node in taken if node.value.value.id in containers  # type: ignore[attr-defined]
            for t in node.targets if isinstance(t, ast.Name)}


def _builds_a_model(value: ast.expr) -> bool:
    """``RandomForestClassifier(...)``, ``Pipeline([...])``, ``make_pipeline(...)``: a model made."""
    if not isinstance(value, ast.Call):
        return False
    name = gr.call_name(value)
    return pl.builds_a_model(name) or name == "Pipeline"


def _string_keyed(value: ast.expr) -> bool:
    """A dict display whose keys are all strings: the keys name the values it shows."""
    return isinstance(value, ast.Dict) and bool(value.keys) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys)


def _shown_before(part: ast.expr, info: gr.Statement, shown_before: Mapping[str, tuple[str, int]],
                  infos: Sequence[gr.Statement]) -> str | None:
    """The result name of the same expression shown earlier, when nothing between the two changed
    what it reads: the second display shows the same value, not a result of its own."""
    earlier = shown_before.get(ast.dump(part))
    if earlier is None:
        return None
    name, index = earlier
    reads = set(loaded_names(part))
    if any(reads & between.writes for between in infos[index + 1:info.index]):
        return None
    return name


def _shows_an_estimator(node: ast.AST) -> bool:
    """``grid.best_estimator_``, ``forest.estimators_[0]``, ``pipe.named_steps["clf"]``: an
    expression whose value is a fitted model held by another, not a number the model learned."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Attribute) and (
        node.attr.rstrip("_").endswith(("estimator", "estimators")) or node.attr in ("named_steps", "steps"))


def _fresh_name(base: str, used: set[str]) -> str:
    return _unused(base if base.isidentifier() and not keyword.iskeyword(base) else "result", used)


def _unused(name: str, used: Collection[str]) -> str:
    """``name``, or the first of ``name_2``, ``name_3``, ... the notebook does not use: a result
    named by convert reads as the second or third of its kind."""
    number = 2
    found = name
    while found in used:
        found = f"{name}_{number}"
        number += 1
    return found


# A statement added after placement: (order: the index it follows + 0.5, cell number, stage, statement).
Added = tuple[float, int, int, ast.stmt]


_T = TypeVar("_T")
# what is worked out once per conversion from the notebook's cells: (cells, value) by kind
_ONCE: dict[str, tuple[Sequence[ParsedCell], Any]] = {}


def _once(cells: Sequence[ParsedCell], kind: str, compute: Callable[[Sequence[ParsedCell]], _T]) -> _T:
    """``compute(cells)``, remembered for ``cells`` until the next notebook (:func:`forget_walks`)."""
    cached = _ONCE.get(kind)
    if cached is not None and cached[0] is cells:
        return cached[1]  # type: ignore[no-any-return]
    value = compute(cells)
    _ONCE[kind] = (cells, value)
    return value


def _used_names(cells: Sequence[ParsedCell]) -> frozenset[str]:
    """Every name the notebook uses (walked once per renaming of its versions)."""
    return _once(cells, "used", lambda cells: frozenset(
        n.id if isinstance(n, ast.Name) else n.name for cell in cells for n in walk(cell.tree)
        if isinstance(n, (ast.Name, ast.FunctionDef, ast.ClassDef))))


def _printed_elements(node: ast.stmt) -> list[ast.expr] | None:
    """The values a loop that only prints its elements goes through, which it shows one element
    at a time: ``importance`` of ``for i, v in enumerate(importance): print(i, v)``, both of
    ``zip(names, importance)``; None for any other statement."""
    if not isinstance(node, ast.For) or node.orelse or isinstance(node.iter, (ast.List, ast.Tuple, ast.Set)) \
            or not all(gr.is_print(s) for s in node.body):
        return None  # (a literal list of things to print is no one value shown)
    elements = {n.id for n in walk(node.target) if isinstance(n, ast.Name)}
    printed = {n.id for s in node.body for n in walk(s) if isinstance(n, ast.Name)} - gr.DISPLAY_FUNCTIONS
    if not printed or not printed <= elements:
        return None
    iterable = node.iter
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id in {
            "zip", "enumerate", "sorted", "reversed"} and not iterable.keywords:
        return list(iterable.args[:1] if iterable.func.id != "zip" else iterable.args)
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) and iterable.func.attr in {
            "items", "keys", "values"} and not iterable.args:
        return [iterable.func.value]  # ``results.items()``: results
    return [iterable]


def _rebound_after(results: Sequence[str], infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision],
                   known: set[str]) -> set[int]:
    """Dropped statements that bind a result again after its last kept binding from what the
    pipeline has (``y_pred = y_pred.reshape(12, 30)`` before a plot of it): kept, so run() returns
    the value the notebook ends with under that name, not an earlier one."""
    found: set[int] = set()
    last_kept = {name: info.index for info, decision in zip(infos, decisions) if decision.stage is not None
                 for name in info.binds}
    for name in results:
        after = last_kept.get(name)
        for info in infos[after + 1:] if after is not None else []:
            if name in info.binds and decisions[info.index].stage is None and isinstance(info.node, ast.Assign) \
                    and not info.effects and not info.inert and info.reads <= known | {name}:
                found.add(info.index)
    return found


def _scored_prediction(info: gr.Statement, name: str, infos: Sequence[gr.Statement],
                       decisions: Sequence[pl.Decision], steps: set[str]) -> bool:
    """Whether ``name`` holds a model's predictions that the evaluation goes on to score, a step
    towards its metrics rather than a result (``pred = np.expm1(lr.predict(X_test))`` read by
    ``rmse = ...``): bound from a prediction call with no metric, worked out from such a step
    sample by sample (:func:`~mlpack_cli.notebook.placement.per_sample`: ``errors = [abs(p - t) for
    p, t in zip(pred, y)]``), or summed up sample by sample by a metric worked out by hand after it
    (``train_predictions = np.argmax(scores, axis=0)``, then ``np.mean(train_predictions ==
    train_true)``), read by kept statements after it or by a metric shown
    (``print(accuracy_score(y, pred))``, computed as a result), and added to by none of them. A
    prediction nothing reads afterwards stays a result. ``steps``: the names found so far, in
    notebook order (this adds ``name`` when it is one)."""
    node = info.node
    if not isinstance(node, ast.Assign) or pl.has_metric(node):
        return False
    readers = [later for later in infos[info.index + 1:] if info.index in later.flow and name in later.reads
               and (decisions[later.index].stage is not None or pl.has_metric(later.node)  # (a metric shown,
                    or later.inert and pl.sums_up(later.node, {name}))]  # or one worked out by hand)
    if not (any(isinstance(n, ast.Call) and pl.predicts(gr.call_name(n)) for n in walk(node.value))
            or pl.per_sample(node.value, steps) or any(pl.sums_up(later.node, {name}) for later in readers)):
        return False
    if readers and not any(name in later.mutates for later in readers):
        steps.add(name)
        return True
    return False


def _scored_by_hand(part: ast.expr, info: gr.Statement, infos: Sequence[gr.Statement]) -> bool:
    """Whether a shown expression is a metric worked out from a model's predictions without a
    metric function (``np.sum(pred == y) / len(y)``, ``np.sqrt(np.mean((y - pred) ** 2))``): a
    call summing up a comparison or a difference of the predictions, sample by sample. Its value
    is the result, not the predictions it reads; a part of them shown (``pred[:10]``) is no metric."""
    predicted = {name for writer in info.flow for name in infos[writer].writes
                 if any(pl.predicts(gr.call_name(call)) for call in calls_in(infos[writer].node))}
    return pl.sums_up(part, predicted)


def _sinks(infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision], models: set[str]) -> list[str]:
    """Values kept statements of train and evaluate compute that no kept statement reads after
    them (not models, figures, functions, classes, imports or loop variables)."""
    read_after: set[str] = set()
    found: list[str] = []
    for info, decision in reversed(list(zip(infos, decisions))):
        if decision.stage is None:
            continue
        if decision.stage in (pl.TRAIN, pl.EVALUATE):
            for name in _computed_names(info.node):
                if name not in read_after and name not in models and name in info.binds and name not in found:
                    found.append(name)
        read_after |= info.reads
    return list(reversed(found))


def _computed_names(statement: ast.stmt) -> list[str]:
    """Names an evaluation statement computes: the names its assignments bind, nested ones
    included, but not loop variables, definitions (``rmse = lambda a, b: ...`` among them),
    imports, literals (``threshold = 0.5``: a setting, not a value computed), objects configured
    from literals (``cv = KFold(n_splits=5)``: a setting too), a file opened (``file =
    open(path, "wb")``: a handle, closed by the time run() returns), or a fitted model taken from
    another (``best = grid.best_estimator_``: a model)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return []
    found: list[str] = []
    passing = _pass_values(statement)
    for node in [statement, *gr.nested_statements(statement)]:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign) and not isinstance(node.value, ast.Lambda) \
                and not _shows_an_estimator(node.value) and not _is_literal(node.value) \
                and not _configured(node.value) and not (isinstance(node.value, ast.Call)
                                                         and gr.call_name(node.value) in _OPENS):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            targets = [node.target]
        for target in targets:
            found += [n.id for n in walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                      and not n.id.startswith("_") and n.id not in passing]  # (not ``name`` of ``scores[name] = ...``)
    return found


# Methods of a file, list, dict or set that return None (a display of their call shows nothing):
# what they are called on is no result. (A module's functions of the same names return values.)
_RETURNS_NONE = frozenset({"close", "flush", "append", "extend", "insert", "sort", "reverse", "clear", "update",
                           "remove", "add", "discard"})
_OPENS = frozenset({"open", "ZipFile", "TarFile", "File"})  # what binds a handle of a file (h5py.File too)


def _configured(value: ast.expr) -> bool:
    """An object of a class configured with literals (``KFold(n_splits=5, shuffle=True)``); not a
    container to fill (``pd.DataFrame()``, ``OrderedDict()``)."""
    if not isinstance(value, ast.Call):
        return False
    name = gr.call_name(value)
    parts = [*value.args, *(k.value for k in value.keywords)]
    return name[:1].isupper() and name not in pl.DATA_CONSTRUCTORS | _CONTAINERS and bool(parts) and all(
        _is_literal(part) for part in parts)


_CONTAINERS = frozenset({"OrderedDict", "Counter", "ChainMap", "UserDict", "UserList"})


def _pass_values(statement: ast.stmt) -> set[str]:
    """Names a loop that fills a container (``rows.append(...)``, ``scores[name] = ...``) binds
    afresh at each pass, unconditionally and without reading their previous value (``res =
    cross_validate(pipe, ...)``, ``preds = pipe.predict(X)``): at the end they hold the last pass's
    value, one row of what the container collects, so the container is the result, not they.
    A name the loop carries (``best = max(best, acc)``) or binds under a test (``if acc > top:
    best = name``) is kept."""
    found: set[str] = set()
    if not getattr(statement, "body", None):
        return found  # (no loop in a simple statement)
    for loop in [statement, *gr.nested_statements(statement)]:
        if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
            continue
        fresh: set[str] = set()
        read: set[str] = set()
        for child in loop.body:
            if isinstance(child, ast.Assign):
                read |= {n.id for n in walk(child.value) if isinstance(n, ast.Name)}
                fresh |= {n.id for t in child.targets for n in walk(t) if isinstance(n, ast.Name)
                          and isinstance(n.ctx, ast.Store) and n.id not in read}
            read |= {n.id for n in walk(child) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        conditional = {n.id for child in loop.body if not isinstance(child, ast.Assign)
                       for inner in [child, *gr.nested_statements(child)]
                       if isinstance(inner, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                       for n in walk(inner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        fresh -= conditional
        if _fills_a_container(loop, fresh):
            found |= fresh
        else:
            found |= _per_pass(loop, fresh)
    return found


def _per_pass(loop: ast.For | ast.AsyncFor | ast.While, fresh: set[str]) -> set[str]:
    """What a loop over several things (``for name, m in models.items()``) binds afresh from the
    thing of the pass and never prints or displays (``fpr, tpr, _ = roc_curve(...)``, ``roc_auc``
    drawn as a label): the last pass's value, shown as no value: no result. A value made from
    something the loop does not step through (``acc = model.score(X, y)`` after ``model.fit`` in an
    epoch loop) is the last, current one, and stays."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return set()
    stepped = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}
    for child in loop.body:
        if isinstance(child, ast.Assign) and stepped & loaded_names(child.value):
            stepped |= {n.id for t in child.targets for n in walk(t) if isinstance(n, ast.Name)} & fresh
    printed = {name for inner in gr.nested_statements(loop) if gr.is_print(inner)
               for name in loaded_names(inner)}
    return (stepped & fresh) - printed


def _fills_a_container(loop: ast.For | ast.AsyncFor | ast.While, fresh: set[str]) -> bool:
    """Whether the loop's body adds to a container bound outside it (``rows.append(row)``,
    ``scores[name] = acc``)."""
    for inner in gr.nested_statements(loop):
        if isinstance(inner, ast.Expr) and isinstance(inner.value, ast.Call) and isinstance(
                inner.value.func, ast.Attribute) and inner.value.func.attr in _FILLING and isinstance(
                inner.value.func.value, ast.Name) and inner.value.func.value.id not in fresh:
            return True
        if isinstance(inner, ast.Assign) and any(
                isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id not in fresh
                for t in inner.targets):
            return True
    return False


def _is_literal(value: ast.expr) -> bool:
    """A literal, or a list, tuple, set or dict of literals (``[0.1, 1, 10]``), none of them empty
    (``scores = {}``, ``scores, hits = {}, {}`` are filled with the results)."""
    return pl.is_literal(value) and not any(isinstance(n, (ast.List, ast.Tuple, ast.Set, ast.Dict)) and not (
        n.keys if isinstance(n, ast.Dict) else n.elts) for n in walk(value))


def _labelled_values(arguments: Sequence[ast.expr]) -> list[tuple[str | None, ast.expr]]:
    """The values print arguments show (:func:`gr.shown_values`), each with the text printed just
    before it: the argument before, when it is a string (``print("Test accuracy:", acc)``), or an
    f-string's text before the field (``f"Test accuracy: {acc}"``)."""
    found: list[tuple[str | None, ast.expr]] = []
    before: str | None = None
    for argument in arguments:
        if isinstance(argument, ast.JoinedStr):
            text = None
            for part in argument.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    text = part.value
                elif isinstance(part, ast.FormattedValue):
                    found.append((text, part.value))
                    text = None
            before = None
            continue
        found += [(before, part) for part in gr.shown_values(argument)]
        before = argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else None
    return found


def _printed_title(infos: Sequence[gr.Statement], info: gr.Statement) -> str | None:
    """The text a print just before ``info`` in its cell shows when it prints only text, rules
    (``print("=" * 60)``) between them aside: ``print("DETAILED CLASSIFICATION REPORT")`` before
    ``print(classification_report(...))``."""
    for before in reversed(infos[:info.index]):
        if before.cell != info.cell or not gr.is_print(before.node):
            return None
        call = before.node.value  # type: ignore[attr-defined]
        texts = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        rules = [a for a in call.args if isinstance(a, ast.BinOp) and isinstance(a.left, ast.Constant)
                 and isinstance(a.left.value, str)]
        if call.keywords or len(texts) + len(rules) != len(call.args):
            return None
        if re.search(r"[^\W\d_]", " ".join(texts)):
            return " ".join(texts)
    return None


_LABEL_WORDS = 6


def _label_name(label: str | None) -> str | None:
    """A name made of the words of a printed label (``test_accuracy`` of ``"Test accuracy:"``), or
    None when it holds no word to make one (``"="``, a label in another script)."""
    words = re.findall(r"[a-z0-9]+", (label or "").lower())
    while words and words[0][0].isdigit():
        words.pop(0)
    name = "_".join(words[:_LABEL_WORDS])
    return name if name.isidentifier() and not keyword.iskeyword(name) and name not in BUILTINS else None


def _metric_base(node: ast.AST) -> str:
    call = next((n for n in walk(node) if isinstance(n, ast.Call) and pl.is_metric_call(n)), None)
    name = gr.call_name(call) if call is not None else "metric"
    if name.endswith("_score") and name != "cross_val_score":
        return name[: -len("_score")] or "score"
    if name == "cross_val_score":
        return "cv_score"
    if name == "evaluate":
        return "evaluation"
    return name


# Words of a prediction's name that say it is one, not whose it is (``y_pred_test``, ``preds``).
_PREDICTION_WORDS = frozenset({"y", "pred", "preds", "predicted", "prediction", "predictions", "proba", "probs",
                               "prob", "hat", "test", "val", "valid", "true", "yhat", "labels", "scores", "score"})


_PREDICTION_KEYWORDS = frozenset({"y_pred", "y_score", "y_prob", "y_proba", "probas_pred", "labels_pred"})


def _scored_as(node: ast.AST) -> str:
    """What tells a metric's call apart from the same metric of another model: the words of its
    last argument's name that are not a prediction's (``eng`` of ``f1_score(y_test, y_pred_eng)``,
    ``knn`` of ``accuracy_score(y, knn.predict(X))``); empty when they are all a prediction's."""
    call = next((n for n in walk(node) if isinstance(n, ast.Call) and pl.is_metric_call(n)), None)
    arguments = [*call.args, *[k.value for k in call.keywords if k.arg in _PREDICTION_KEYWORDS]] \
        if call is not None else []  # (not a setting: ``target_names=iris.target_names``)
    root = gr.root_name(arguments[-1]) if arguments else None
    words = [w for w in (root or "").lower().split("_") if w and w not in _PREDICTION_WORDS]
    own = "_".join(words)
    return own if own.isidentifier() else ""


def _metric_names(statement: ast.stmt) -> list[str]:
    """Names a statement (or the statements nested in it) binds or fills from a metric."""
    found: list[str] = []
    passing = _pass_values(statement)
    for node in [statement, *gr.nested_statements(statement)]:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None \
                and pl.has_metric(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, (ast.Name, ast.Tuple, ast.List)):
                    found += [n.id for n in walk(target) if isinstance(n, ast.Name) and n.id not in passing]
                else:
                    root = gr.root_name(target)
                    if root:
                        found.append(root)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Attribute) and node.value.func.attr in _FILLING \
                and any(pl.has_metric(a) for a in node.value.args):
            root = gr.root_name(node.value.func)
            if root:
                found.append(root)
    return found + [name for name in _filled_with_metrics(statement) if name not in found]


def _filled_with_metrics(statement: ast.stmt) -> list[str]:
    """Containers a loop fills with what it computed from a metric at the same pass:
    ``results`` of ``for name, m in models.items(): acc = m.score(X, y); results[name] = {"acc": acc}``
    (the metric reaches the table through the pass's own names, not in the filling statement)."""
    found: list[str] = []
    for loop in [statement, *gr.nested_statements(statement)] if getattr(statement, "body", None) else []:
        if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
            continue
        inner = gr.nested_statements(loop)
        scored: set[str] = set()
        for _ in range(2):  # (a name computed from a scored one: ``row = {"acc": acc}``)
            for node in inner:
                if isinstance(node, ast.Assign) and (pl.has_metric(node.value) or scored & loaded_names(node.value)):
                    scored |= {n.id for t in node.targets if not isinstance(t, ast.Subscript)
                               for n in walk(t) if isinstance(n, ast.Name)}
        for node in inner if scored else []:
            if isinstance(node, ast.Assign) and scored & loaded_names(node.value):
                roots = [gr.root_name(t) for t in node.targets if isinstance(t, ast.Subscript)]
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(
                    node.value.func, ast.Attribute) and node.value.func.attr in _FILLING and any(
                    scored & loaded_names(a) for a in node.value.args):
                roots = [gr.root_name(node.value.func)]
            else:
                continue
            found += [r for r in roots if r and r not in scored and r not in found]
    return found


_FILLING = frozenset({"append", "extend", "update", "add", "insert"})


def _contexts(infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision],
              heading_stage: Mapping[int, str | None]) -> list[int | None]:
    """For each statement, the stage it shows things for: its own stage, else evaluate when it
    shows what a metric computed (``results["ridge"] = mse`` ... ``results``), else that of the kept
    statement before it in its cell, after it in its cell, its heading's, or the stage of the kept
    statement before it in the notebook; never one before the stage that makes what it shows
    (a table of what the model learned, shown under a "Feature engineering" heading, is shown
    once the model is trained)."""
    contexts: list[int | None] = []
    last: int | None = None
    scored: set[int] = set()  # statements computing a metric, or from one, through the graph
    made_in: list[int | None] = []  # the latest stage of the kept work it reads, through dropped statements
    kept_in_cell: dict[int, list[tuple[int, int | None]]] = {}  # cell -> (position, stage) of its kept statements
    for position, (info, decision) in enumerate(zip(infos, decisions)):
        if decision.stage is not None:
            kept_in_cell.setdefault(info.cell, []).append((position, decision.stage))
    for position, (info, decision) in enumerate(zip(infos, decisions)):
        if pl.has_metric(info.node) or any(dep in scored and infos[dep].writes & info.reads for dep in info.flow):
            scored.add(position)
        upstream = [stage for dep in info.flow if infos[dep].writes & info.reads
                    for stage in [made_in[dep]] if stage is not None]
        if decision.stage is not None:
            contexts.append(decision.stage)
            made_in.append(decision.stage if decision.stage >= 0 else max(upstream, default=None))
            last = decision.stage
            continue
        made_in.append(max(upstream, default=None))
        if position in scored and info.inert:
            contexts.append(pl.EVALUATE)
            continue
        kept = kept_in_cell.get(info.cell, [])
        same = [stage for other, stage in kept if other < position]
        after = [stage for other, stage in kept if other > position]
        heading = heading_stage.get(info.cell)
        by_heading = st.STAGES.index(heading) if heading in st.STAGES else None
        context = same[-1] if same else after[0] if after else by_heading if by_heading is not None else last
        made = made_in[-1]
        contexts.append(max(context, made) if context is not None and made is not None else context)
    return contexts


def _check_closures(pipeline: Pipeline, cells: Sequence[ParsedCell], infos: Sequence[gr.Statement],
                    decisions: Sequence[pl.Decision], module_names: set[str]) -> None:
    """A function left in a stage sees that stage's variables. Refuse one used after a later stage
    rebinds a global it reads: its value would be stale, or missing."""
    stage_of = {info.index: d.stage for info, d in zip(infos, decisions)}
    for info, decision in zip(infos, decisions):
        node, name_of = info.node, _closure_name(info.node)
        if decision.stage is None or name_of is None:
            continue
        function = node.value if isinstance(node, ast.Assign) else node
        reads = [n for n in free_names(function)  # type: ignore[arg-type]
                 if n not in BUILTINS and n not in module_names]
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):  # a default keeps its first value
            at_call = {n for inner in function.body for n in loaded_names(inner)}
            reads = [n for n in reads if n in at_call or n not in _definition_time_names(function)]
        users = [o for o in infos if o.index > info.index and name_of in o.reads and stage_of[o.index] is not None]
        for name in reads:
            for user in users:
                binders = [o for o in infos[: user.index] if name in o.binds and stage_of[o.index] is not None]
                later = stage_of[binders[-1].index] if binders else None
                if later is not None and later > decision.stage:
                    if isinstance(node, ast.Assign):
                        how = "; a lambda keeps seeing the value of the stage that defines it"
                    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                            and not _takes_keywords_as_written(node):
                        how = (", and its decorator takes the arguments of each call, so it cannot be given "
                               "that global as a parameter")
                    else:
                        how = ", and it is passed on as a value, so it cannot be given that global as a parameter"
                    binder = binders[-1]
                    raise HelperGlobal(
                        name_of, name, info.cell, node.lineno,
                        f"which {st.STAGES[later]} binds again in cell {binder.cell}, line {binder.node.lineno} "
                        f"after it is defined{how}",
                    )


def _closure_name(statement: ast.stmt) -> str | None:
    """The name of a function a statement defines: ``def f`` or ``f = lambda ...``."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return statement.name
    if (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda)
            and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)):
        return statement.targets[0].id
    return None


def _drop_nested(pipeline: Pipeline, cells: Sequence[ParsedCell], aliases: gr.Aliases,
                 user_functions: set[str]) -> list[ast.stmt]:
    """Plotting statements nested in kept compound statements and helpers, unless a statement
    kept beside them reads what they bind. Returns the statements dropped."""
    dropped: list[ast.stmt] = []
    number_of = {id(s): c.number for c in cells for s in c.tree.body}
    for top in [*pipeline.helpers, *(s for stage in pipeline.stages for s in stage.statements)]:
        nested = gr.nested_statements(top) if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) else [
            s for inner in top.body for s in [inner, *gr.nested_statements(inner)]]
        cell = number_of.get(id(top))
        if cell is None:
            continue
        for s in gr.nested_plots(nested, aliases, user_functions):
            pipeline.drop_nested.add((cell, s.lineno))
            dropped.append(s)
    return dropped


_VIEWS = frozenset({"head", "tail", "sample", "info", "describe", "keys", "values", "items", "shape", "dtype",
                    "dtypes", "ndim", "size", "columns", "index"})


def _shows_a_view(statement: ast.stmt) -> bool:
    """A display of a view of a value (``df.head()``, ``predictions[0]``, ``x.shape``) rather than
    the value: reported as dropped, though run() may return the value it looks at."""
    value = statement.value if isinstance(statement, ast.Expr) else None
    while isinstance(value, ast.Call) and gr.call_name(value) in gr.DISPLAY_FUNCTIONS and len(value.args) == 1:
        value = value.args[0]
    if isinstance(value, ast.Call) and value.args and any(_shows_a_view(ast.Expr(a)) for a in value.args):
        return True  # np.sum(predictions[0])
    if isinstance(value, ast.Call):
        value = value.func
    if isinstance(value, ast.Attribute):
        return value.attr in _VIEWS or _shows_a_view(ast.Expr(value.value))
    return isinstance(value, ast.Subscript) and isinstance(value.slice, (ast.Constant, ast.UnaryOp))


def _report(pipeline: Pipeline, cells: Sequence[ParsedCell], infos: Sequence[gr.Statement],
            decisions: Sequence[pl.Decision], hoisted: set[int]) -> None:
    """One part per run of statements of a cell that went to the same place."""
    by_id = {id(info.node): (info, decision) for info, decision in zip(infos, decisions)}
    stage_cells = {cell for stage in pipeline.stages for cell, _ in stage.body}
    for cell in cells:
        entries: list[tuple[str, str, ast.stmt]] = []
        for statement in cell.tree.body:
            if id(statement) in hoisted:
                entries.append((st.HELPERS, _module_level_reason(statement), statement))
                continue
            info, decision = by_id[id(statement)]
            name = st.STAGES[decision.stage] if decision.stage is not None else st.DROPPED
            if decision.stage is None and decision.shown_in in (pl.TRAIN, pl.EVALUATE, pl.EXPORT) \
                    and not _shows_a_view(statement):
                name = st.STAGES[decision.shown_in]  # the display goes; what it shows is returned from there
            entries.append((name, decision.reason, statement))
        if not entries:
            if cell.number not in stage_cells and is_commented_out_code(cell.code):
                pipeline.parts.append(Part(cell.number, st.DROPPED, "commented-out code only", None))
            elif cell.number in stage_cells:  # prose: no code runs, its text stays above the code it is about
                stage = next(s.name for s in pipeline.stages if any(c == cell.number for c, _ in s.body))
                pipeline.parts.append(Part(cell.number, st.DROPPED,
                                           f"comments only: nothing to run; the text is kept in {stage}", None))
            else:
                pipeline.parts.append(Part(cell.number, st.DROPPED, "no code left once magics are handled", None))
            continue
        runs: list[list[tuple[str, str, ast.stmt]]] = []
        for entry in entries:
            if runs and runs[-1][0][0] == entry[0]:
                runs[-1].append(entry)
            else:
                runs.append([entry])
        for run in runs:
            reasons = list(dict.fromkeys(reason for _, reason, _ in run))
            reason = reasons[0] if len(reasons) == 1 else f"{reasons[0]} (and {len(reasons) - 1} more)"
            first, last = run[0][2], run[-1][2]
            pipeline.parts.append(Part(cell.number, run[0][0], reason,
                                       (first.lineno, getattr(last, "end_lineno", None) or last.lineno)))
    for part in pipeline.parts:
        if part.cell not in pipeline.placements:
            pipeline.placements[part.cell] = st.Placement(part.stage, part.reason)
    for part in pipeline.parts:  # a cell's main place: its first part kept in a stage
        if part.stage in st.STAGES and pipeline.placements[part.cell].stage not in st.STAGES:
            pipeline.placements[part.cell] = st.Placement(part.stage, part.reason)


def _report_pruned(pipeline: Pipeline, cells: Sequence[ParsedCell], module_level: Sequence[ast.stmt]) -> None:
    """A part of constants or definitions (with the imports among them) the module leaves out
    (only dropped code used them: toy data of a demo, a plotting helper) is reported as dropped,
    not as module level. So is a part of imports alone none of which the module keeps (what used
    them was dropped: ``from IPython.core.magic import register_cell_magic`` once the magic is gone):
    the report says what the module holds."""
    kept_aliases = {id(a) for s in pipeline.imports if isinstance(s, (ast.Import, ast.ImportFrom)) for a in s.names}
    kept = {id(s) for s in [*pipeline.imports, *pipeline.constants, *pipeline.helpers]}
    pruned = {id(s) for s in module_level if id(s) not in kept and not (
        isinstance(s, (ast.Import, ast.ImportFrom)) and any(id(a) in kept_aliases for a in s.names))}
    if not pruned:
        return
    by_cell = {cell.number: cell.tree.body for cell in cells}
    changed: set[int] = set()
    for index, part in enumerate(pipeline.parts):
        if part.stage != st.HELPERS or part.lines is None:
            continue
        inside = [s for s in by_cell.get(part.cell, []) if part.lines[0] <= s.lineno <= part.lines[1]]
        if inside and all(id(s) in pruned for s in inside):
            imports_only = all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in inside)
            reason = "import: dropped, nothing kept uses it" if imports_only else \
                f"{part.reason}, but nothing kept uses it"
            pipeline.parts[index] = Part(part.cell, st.DROPPED, reason, part.lines)
            changed.add(part.cell)
    for number in changed:
        stages = [p.stage for p in pipeline.parts if p.cell == number]
        placement = pipeline.placements.get(number)
        if placement is not None and placement.stage == st.HELPERS and st.HELPERS not in stages:
            first = next(p for p in pipeline.parts if p.cell == number and p.stage == (
                next((s for s in stages if s in st.STAGES), st.DROPPED)))
            pipeline.placements[number] = st.Placement(first.stage, first.reason)


def _module_level_reason(statement: ast.stmt) -> str:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return "import: module level"
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return "definition: module level"
    if gr.is_setup(statement) or not _target(statement):  # a constant binds a name; set-up configures
        return "set-up before imports: module level, in order"
    return "constant: module level"


def _docs(pipeline: Pipeline, cells: Sequence[ParsedCell], keywords: Mapping[str, Sequence[str]] | None = None) -> None:
    """Each stage's docstring: the headings and first paragraph of the markdown above its cells,
    but for markdown under an exploration heading ("Plot the Data"): it tells of the plots and
    displays the module leaves out, not of what a kept statement of that cell computes."""
    markdown = {cell.number: cell.markdown for cell in cells if cell.markdown.strip()
                and not (keywords and _explores(cell.markdown, keywords))}
    owner: dict[int, Stage] = {}
    for stage in pipeline.stages:
        for number, statements in stage.body:
            owner.setdefault(number, stage)
    texts: dict[str, list[str]] = {}
    for number, text in markdown.items():
        found = owner.get(number)
        if found is not None:
            texts.setdefault(found.name, []).append(text)
    for stage in pipeline.stages:
        if stage.name in texts:
            stage.doc = summarize_markdown(texts[stage.name])


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")  # the underline of a setext heading
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")  # a thematic break


def _explores(markdown: str, keywords: Mapping[str, Sequence[str]]) -> bool:
    """Whether the last heading of ``markdown`` names exploration (the dropped stage's keywords)."""
    found = st.headings(markdown)
    return bool(found) and st.stage_from_heading(found[-1], keywords) == st.DROPPED


def summarize_markdown(texts: Sequence[str], max_headings: int = 6, max_paragraph: int = 400) -> str | None:
    headings: list[str] = []
    paragraph = ""
    for text in texts:
        block: list[str] = []
        for line in [*text.splitlines(), ""]:
            match = _HEADING.match(line)
            if match:
                if match.group(1) not in headings:
                    headings.append(match.group(1).strip())
                continue
            if _SETEXT.match(line) and block:  # the lines above it are a heading ("Title\n=====")
                heading = " ".join(block)
                if heading not in headings:
                    headings.append(heading)
                block = []
                continue
            if _RULE.match(line) and not block:
                continue  # a thematic break ("---"): no text
            if line.strip():
                block.append(line.strip())
            elif block:
                if not paragraph and not block[0].startswith(("<", "![", "|", "```")):
                    paragraph = " ".join(block)
                block = []
    if len(paragraph) > max_paragraph:
        cut = paragraph[:max_paragraph].rsplit(" ", 1)[0]
        paragraph = cut + " ..."
    parts = headings[:max_headings] + ([paragraph] if paragraph else [])
    return "\n\n".join(parts) if parts else None


def _savefig_warnings(pipeline: Pipeline, infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision]) -> None:
    for info, decision in zip(infos, decisions):
        if "savefig" in info.effects and decision.stage is None:
            pipeline.warnings.append(
                f"cell {info.cell}, line {info.node.lineno}: savefig dropped with the plots "
                "(no later statement reads the file it writes)"
            )


def _unseeded_warnings(pipeline: Pipeline, infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision]) -> None:
    """A kept statement that draws random numbers with no seed anywhere before it computes other
    values on each run, in the notebook as in run(): the conversion cannot make them the same,
    so it says so, where, and what would."""
    calls_of = [gr.own_calls(info.node) for info in infos]
    configured = {n.args[0].id for calls in calls_of for n in calls  # given settings later: setattr(m, k, v)
                  if gr.call_name(n) == "setattr" and n.args and isinstance(n.args[0], ast.Name)}
    configured |= {root for calls in calls_of for n in calls
                   if gr.call_name(n) == "set_params" for root in [gr.root_name(n.func)] if root}
    drawing = _drawing_functions([*pipeline.helpers, *(info.node for info in infos)])
    found: list[tuple[gr.Statement, ast.Call]] = []
    for info, decision, calls in zip(infos, decisions, calls_of):
        if any(gr.call_name(c) in gr.SEED_CALLS for c in calls):
            break  # seeded from here on (what draws before a seed is found above)
        if decision.stage is not None and not info.binds & configured:
            found += [(info, c) for c in calls if gr.unseeded_draw(c) or (
                isinstance(c.func, ast.Name) and c.func.id in drawing)][:1]
    if found:
        info, call = found[0]
        more = f" (and {len(found) - 1} more statement{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
        inside = f" ({drawing[call.func.id]} in its body)" if isinstance(call.func, ast.Name) \
            and call.func.id in drawing else ""
        pipeline.warnings.append(
            f"cell {info.cell}, line {call.lineno}: {gr.call_name(call)}() draws random numbers with no seed"
            f"{inside}{more}: the notebook and run() compute other values on each run; give it random_state=0, or "
            "seed the generators at the top (np.random.seed(0)), to get the same ones")


def _drawing_functions(statements: Sequence[ast.stmt]) -> dict[str, str]:
    """The notebook's functions whose bodies draw random numbers with no seed of their own, maybe
    through another such function (``W = np.random.rand(K, M)`` in ``logisticGD``): name -> the
    first draw, as written."""
    bodies = {s.name: [n for inner in s.body for n in walk(inner) if isinstance(n, ast.Call)]
              for s in statements if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    unseeded = {name: calls for name, calls in bodies.items()
                if not any(gr.call_name(c) in gr.SEED_CALLS for c in calls)}
    drawing: dict[str, str] = {}
    changed = True
    while changed:  # (a function calling one that draws draws too)
        changed = False
        for name, calls in unseeded.items():
            draw = next((_clip(ast.unparse(c)) for c in calls if gr.unseeded_draw(c)), None) or next(
                (f"{c.func.id}()" for c in calls if isinstance(c.func, ast.Name) and c.func.id in drawing
                 and c.func.id != name), None)
            if name not in drawing and draw is not None:
                drawing[name] = draw
                changed = True
    return drawing


# Calls that read the clock: ``datetime.now()``, ``pd.Timestamp.today()``, ``time.time()``.
_CLOCK_METHODS = frozenset({"now", "today", "utcnow"})
_CLOCK_OWNERS = ("datetime", "date", "Timestamp")
_TIMERS = frozenset({"time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "process_time"})
_TIMED_CALLS = frozenset({"cross_validate"})  # what they return holds the times they measured


def _scores_only(statement: ast.stmt, name: str) -> bool:
    """Whether ``statement`` reads ``name`` only under keys that are no timings (``cv["test_score"]``
    of what ``cross_validate`` returned, not its ``fit_time``)."""
    keys = [n.slice for n in walk(statement) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
            and n.value.id == name]
    uses = [n for n in walk(statement) if isinstance(n, ast.Name) and n.id == name]
    return bool(keys) and len(keys) == len(uses) and all(_timeless_keys(key) for key in keys)


def _clock_in(statement: ast.stmt, dated: Collection[str] = ()) -> ast.expr | None:
    """Where ``statement`` reads the clock or timings (:func:`_reads_the_clock`, :func:`_search_timings`),
    or the summary of a statsmodels fit among ``dated``, which prints the date and time it was made."""
    return next((c for c in gr.own_calls(statement) if _reads_the_clock(c) or (
        isinstance(c.func, ast.Attribute) and c.func.attr == "summary" and gr.root_name(c.func) in dated)),
        None) or _search_timings(statement)


def _search_timings(statement: ast.stmt) -> ast.Attribute | None:
    """A search's ``cv_results_`` read whole (``pd.DataFrame(gs.cv_results_)``): it holds the times
    each fit and score took; its other keys taken out (``gs.cv_results_["mean_test_score"]``,
    ``pd.DataFrame(gs.cv_results_)[["params", "mean_test_score"]]``) do not."""
    found = [n for n in walk(statement) if isinstance(n, ast.Attribute) and n.attr == "cv_results_"]
    if not found:
        return None
    above = parents(statement)
    for node in found:
        current: ast.AST = node
        while id(current) in above and not isinstance(current, ast.stmt):
            outer = above[id(current)]
            if isinstance(outer, ast.Subscript) and outer.value is current and _timeless_keys(outer.slice):
                break
            current = outer
        else:
            return node
    return None


def _timeless_keys(key: ast.expr) -> bool:
    """``"mean_test_score"`` or ``["params", "mean_test_score"]``: string keys, none a timing."""
    keys = key.elts if isinstance(key, (ast.List, ast.Tuple)) else [key]
    return bool(keys) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) and "time" not in k.value
                              for k in keys)


def _reads_the_clock(call: ast.Call) -> bool:
    """A call of the clock, or one whose result holds times it measured (``cross_validate``'s
    ``fit_time`` and ``score_time``)."""
    func = call.func
    if gr.call_name(call) in _TIMED_CALLS:
        return True
    if not isinstance(func, ast.Attribute):
        return False
    owner = ast.unparse(func.value) if isinstance(func.value, (ast.Name, ast.Attribute)) else ""
    return func.attr in _CLOCK_METHODS and owner.endswith(_CLOCK_OWNERS) or func.attr in _TIMERS and owner == "time"


def _clock_warnings(pipeline: Pipeline, infos: Sequence[gr.Statement], decisions: Sequence[pl.Decision],
                    dated: Collection[str] = ()) -> None:
    """A result made from the clock (``model_path = f"models/clf_{datetime.now():%H%M}.pkl"``,
    ``elapsed = time.time() - start``, ``results.summary()`` of a statsmodels fit in ``dated``) is
    another value on each run, in the notebook as in run(): no conversion makes them the same, so
    it says which result, where, and why."""
    timed: dict[str, tuple[int, ast.expr]] = {}  # a name made from the clock -> (cell, where it was read)
    for info, decision in zip(infos, decisions):
        if decision.stage is None:
            continue
        clock = _clock_in(info.node, dated)
        source = (info.cell, clock) if clock is not None else next(
            (timed[n] for n in sorted(info.reads) if n in timed and not _scores_only(info.node, n)), None)
        if source is not None:
            timed.update({name: source for name in info.binds})
    placed = {id(info.node) for info in infos}
    for stage in pipeline.stages:  # the values run() returns that convert computes itself, named
        for cell, statements in stage.body:
            for statement in statements:
                clock = _clock_in(statement, dated) if id(statement) not in placed else None
                if clock is not None:
                    timed.update({name: (cell, clock) for name in bound_names(statement)})
    found = list(dict.fromkeys(name for _, name in pipeline.results if name in timed))
    if found:
        cell, call = timed[found[0]]
        more = f" (and {', '.join(found[1:])})" if found[1:] else ""
        measured = isinstance(call, ast.Attribute) or gr.call_name(call) in _TIMED_CALLS  # type: ignore[arg-type]
        summary = isinstance(call, ast.Call) and gr.call_name(call) == "summary"
        timings = "its fit and score times: " if measured else "the date and time it prints: " if summary else ""
        pipeline.warnings.append(
            f"cell {cell}, line {call.lineno}: run() returns {found[0]}{more}, made from the clock "
            f"({timings}{_clip(ast.unparse(call))}): the notebook and run() get another value on each run")


_NAMESPACES = frozenset({"globals", "locals", "vars"})


def _dynamic_binding_warnings(pipeline: Pipeline, cells: Sequence[ParsedCell], every: Sequence[ast.stmt]) -> None:
    """``globals()[f"score_{d}"] = ...``, ``globals().update(...)``, ``exec("x = 1")`` bind names no
    analysis can see: what reads them is placed, wired and returned as if nothing bound them, so
    the conversion says so, where, rather than compute something else silently. When the notebook
    reads names that nothing else binds, those are the names: it refuses (:class:`DynamicNames`)."""
    found: list[tuple[int, int, str]] = []
    for cell in cells:
        if not any(f"{word}(" in cell.source for word in (*_NAMESPACES, "exec")):
            continue  # (only text can make the call)
        for node in walk(cell.tree):
            what = None
            if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load) and _namespace(node.value):
                what = f"{gr.call_name(node.value)}()[...] = ..."  # type: ignore[arg-type]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _namespace(node.func.value) \
                    and node.func.attr in {"update", "setdefault", "__setitem__", "pop", "clear"}:
                what = f"{gr.call_name(node.func.value)}().{node.func.attr}(...)"  # type: ignore[arg-type]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exec":
                what = "exec(...)"
            if what is not None:
                found.append((cell.number, node.lineno, what))  # type: ignore[attr-defined]
    if not found:
        return
    names = analyze(list(every))
    unbound = sorted(set(names.reads) - set(names.binds) - BUILTINS - _NOTEBOOK_BUILTINS)
    if unbound:
        raise DynamicNames(*found[0], unbound)
    for number, line, what in found:
        pipeline.warnings.append(
            f"cell {number}, line {line}: {what} binds names the conversion cannot see: "
            "run() may not compute what the notebook did (bind each name with an assignment)")


def _unbound_name_warnings(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> None:
    """A function or method of the notebook that reads a name nothing in the notebook binds
    (``euc_dist(...)`` for ``self.euc_dist(...)``: a class's scope is not its methods') raises
    ``NameError`` once called, in the module as in the notebook: the conversion names it, so that
    the failure of ``run()`` is explained."""
    helpers = {id(h) for h in pipeline.helpers if isinstance(h, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    if not helpers:
        return
    bound: set[str] = set()
    for node in (n for cell in cells for n in walk(cell.tree)):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(a.name == "*" for a in node.names):
                return  # (a star import binds names no one can list)
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    bound |= {n.name for cell in cells for s in cell.tree.body for n in [s, *gr.nested_statements(s)]  # (not methods)
              if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for cell in cells:
        for statement in cell.tree.body:
            if id(statement) not in helpers:
                continue
            for function in _functions_of(statement):
                for name in sorted(set(free_names(function)) - bound - BUILTINS - _NOTEBOOK_BUILTINS):
                    line = next(n.lineno for n in walk(function) if isinstance(n, ast.Name) and n.id == name)
                    pipeline.warnings.append(
                        f"cell {cell.number}, line {line}: {function.name}() reads {name}, which nothing in the "
                        "notebook binds: calling it raises NameError (in the notebook too)")


def _functions_of(statement: ast.stmt) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """A function, or the methods of a class (each reads its names from the module, not the class)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [statement]
    if isinstance(statement, ast.ClassDef):
        return [m for s in statement.body for m in _functions_of(s)]
    return []


_NOTEBOOK_BUILTINS = frozenset({"display", "get_ipython", "In", "Out", "_", "__", "___"})


def _namespace(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NAMESPACES \
        and not node.args and not node.keywords


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
            Renamer(renamed).visit(cell.tree)
    return renamed


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
    """What an import binds, by its dotted path: ``from a import b as c`` and ``import a.b as c``
    bind the same module (the second form only imports modules), so they are one source."""
    if isinstance(statement, ast.ImportFrom):
        if statement.level:
            return f"from {'.' * statement.level}{statement.module or ''} import {alias.name}"
        return f"{statement.module}.{alias.name}"
    return f"import {alias.name}" if alias.asname is None else alias.name


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
    imported = {a.asname or a.name.split(".")[0] for cell in cells for s in cell.tree.body
                if isinstance(s, (ast.Import, ast.ImportFrom)) for a in s.names}
    constants = []
    for cell in cells:
        for statement in cell.tree.body:
            name = _target(statement)
            value = getattr(statement, "value", None)
            if value is not None and name and counts[name] == 1 and (
                    pl.is_literal(value) or _chosen_by_the_machine(value, imported)):
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


def _chosen_by_the_machine(value: ast.expr, imported: set[str]) -> bool:
    """``"cuda" if torch.cuda.is_available() else "cpu"``, also given to one library call
    (``torch.device(...)``): a setting chosen by what the machine offers, between literals, by a
    test that only asks imported modules. It is the same at import as where the notebook computed
    it (see :func:`_computable_at_import`), so it is a module constant like a literal."""
    if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords \
            and gr.root_name(value.func) in imported:
        value = value.args[0]
    if not isinstance(value, ast.IfExp) or not pl.is_literal(value.body) or not pl.is_literal(value.orelse):
        return False
    names = {n.id for n in walk(value.test) if isinstance(n, ast.Name)}
    return bool(names) and names <= imported and not any(
        isinstance(n, (ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)) for n in walk(value.test))


def _computable_at_import(cells: Sequence[ParsedCell], prelude: Sequence[ast.stmt],
                          constants: list[ast.stmt]) -> list[ast.stmt]:
    """The constants, less those computed from imports (:func:`_chosen_by_the_machine`) that could
    not be computed at import: an import they read is not at module level, or a set-up statement of
    the process before them stays in a stage (``os.environ["CUDA_VISIBLE_DEVICES"] = ...`` changes
    the answer; a library's own settings do not)."""
    computed = [c for c in constants if not pl.is_literal(getattr(c, "value", None))]
    if not computed:
        return constants
    at_top = {id(s) for s in prelude}
    bound = {n for s in prelude for n in bound_names(s)}
    blocked: set[int] = set()
    setup_left = False
    candidates = {id(c) for c in computed}
    for cell in cells:
        for statement in cell.tree.body:
            if id(statement) in candidates and (
                    setup_left or set(loaded_names(statement)) - BUILTINS - bound):
                blocked.add(id(statement))
            if id(statement) not in at_top and gr.is_setup(statement):
                setup_left = True
    return [c for c in constants if id(c) not in blocked]


def _target(statement: ast.stmt) -> str:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and statement.value is not None and isinstance(statement.target, ast.Name):
        return statement.target.id
    return ""


def _def_name(statement: ast.stmt) -> str:
    """The name a statement defines a function or class under (a ``def``, a ``class``, ``name =
    lambda ...``), or ""."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement.name
    if (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda)
            and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)):
        return statement.targets[0].id
    return ""


DUPLICATES = "mlpack_duplicates"  # attribute of a kept prelude statement: the same ones written later


def _dedupe(imports: list[ast.stmt]) -> list[ast.stmt]:
    """Each statement once; the ones dropped as written before are kept on the first (DUPLICATES),
    so that the comments written with them still reach the module."""
    seen: dict[str, ast.stmt] = {}
    result = []
    for statement in imports:
        key = ast.dump(statement, include_attributes=False)
        if key not in seen:
            seen[key] = statement
            result.append(statement)
        else:
            first = seen[key]
            setattr(first, DUPLICATES, [*getattr(first, DUPLICATES, []), statement])
    return result

# -- wiring the stages ----------------------------------------------------------------------------


def _wire(pipeline: Pipeline, module_names: set[str], shared: set[str], dropped: Sequence[ast.stmt]) -> None:
    """Each stage's inputs, parameters and returns, from what its statements read and bind once the
    plots nested in them (``dropped``) are gone."""
    constants = set(pipeline.constant_names) - shared  # module state is read from the module
    active = [s for s in pipeline.stages if not s.is_stub]
    analyses = {s.name: stage_names([gr.without_statements(t, dropped) for t in s.statements], pipeline.helper_globals)
                for s in active}
    bound_before: dict[str, str] = {}  # name -> the latest earlier stage that binds it
    # bound only by a function that declares it ``global`` (``def get_data(): global X; X = ...``):
    # module state that the call sets, read from the module, never a parameter run() must be given
    state = shared - {n for s in active for n in analyses[s.name].binds}
    for stage in active:
        names = analyses[stage.name]
        for name in names.reads:
            if name in constants:
                stage.constants.append(name)
            elif name in module_names or name in BUILTINS or name in state:
                continue
            elif name in bound_before:
                stage.inputs.append(name)
            elif name not in names.binds:
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
    # each result is returned by the last stage that binds it (and still holds it at its end)
    last_binder = {name: stage for stage in active for name in analyses[stage.name].binds}
    # module state (a name a helper declares ``global``) is read by run() from the module itself
    pipeline.results = [(key, name) for key, name in pipeline.results
                        if name in last_binder or name in shared and name in module_names]
    for _, name in pipeline.results:
        binder = last_binder.get(name)
        if binder is not None and name not in binder.returns:
            binder.returns.append(name)
    for name in pipeline.required:
        missing = _USUAL_IMPORTS.get(name)
        hint = f"; the notebook never imports it: add `{missing}` to its first cell" if missing else ""
        pipeline.warnings.append(f"{name!r} is read but no kept cell binds it: run() needs it as a parameter{hint}")


# The names a notebook reads that are, by convention, a module it forgot to import (it worked in
# the kernel because another notebook or a deleted cell imported it): the warning says which.
_USUAL_IMPORTS = {
    "np": "import numpy as np", "pd": "import pandas as pd", "plt": "import matplotlib.pyplot as plt",
    "sns": "import seaborn as sns", "tf": "import tensorflow as tf", "torch": "import torch",
    "joblib": "import joblib", "pickle": "import pickle", "os": "import os", "math": "import math",
}


def _display_import(pipeline: Pipeline, every: Sequence[ast.stmt]) -> set[str]:
    """``display`` is a builtin of notebooks only: kept code that calls it (``display(df.pop(c))``,
    kept for what it changes) imports it from IPython, as the notebook had it. Returns the name
    the module then defines (none when the notebook binds ``display`` itself or nothing calls it)."""
    kept = [*pipeline.helpers, *(s for stage in pipeline.stages for s in stage.statements)]
    if not any(DISPLAY in loaded_names(s) for s in kept) or any(
            DISPLAY in analyze([s]).binds for s in every if _names_somewhere(s, DISPLAY)):
        return set()
    pipeline.imports.insert(0, ast.ImportFrom(module="IPython.display", names=[ast.alias(DISPLAY)], level=0))
    return {DISPLAY}


DISPLAY = "display"


def _names_somewhere(statement: ast.stmt, name: str) -> bool:
    """Whether ``name`` is a name anywhere in the statement's tree (a name read or bound, an import,
    a definition, an ``except ... as``, a match capture): true of every statement binding it."""
    return any(name in (getattr(n, "id", None), getattr(n, "name", None), getattr(n, "asname", None),
                        getattr(n, "rest", None)) or isinstance(n, ast.alias) and n.name.split(".")[0] == name
               for n in walk(statement))


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


def stage_names(statements: list[ast.stmt], helper_globals: Mapping[str, Sequence[str]]) -> Names:
    """Reads and bindings of a stage's statements, with the globals its helper calls pass
    (``helper(x, g=g)`` reads ``g``) and the names given to shown metrics."""
    names = analyze(statements)
    for index, statement in enumerate(statements):
        passed = [g for node in walk(statement) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  for g in helper_globals.get(node.func.id, ())]
        if passed:
            before = set(analyze(statements[:index]).binds)
            for name in passed:
                if name not in before:
                    names.read(name)
        if isinstance(statement, ast.Expr) and getattr(statement, ASSIGN_TO, None):
            names.bind(getattr(statement, ASSIGN_TO))
    return names


def _prune_module_level(pipeline: Pipeline, dropped: Sequence[ast.stmt] = (),
                        plot_aliases: gr.Aliases | None = None) -> None:
    """Keep only the imports, constants and helpers the generated code uses (``dropped``: nested
    statements the code leaves out, such as a ``display()`` in a loop, whose names it does not use).
    With the notebook's ``plot_aliases``, a function or class the notebook defines is part of
    its library even when only dropped code calls it (``predict(text, model)`` used by a demo),
    unless it draws: a plotting helper goes with the plots."""
    skipped = _Skipped(dropped)
    used: set[str] = set()
    if plot_aliases is not None:
        used |= {_def_name(h) for h in pipeline.helpers if not _draws(h, plot_aliases)}
    for stage in pipeline.stages:
        used |= {n for s in stage.statements for n in skipped.loads(s)}
        used |= set(stage.constants)
    setup = [s for s in pipeline.imports if not isinstance(s, (ast.Import, ast.ImportFrom))]
    used |= {n for s in setup for n in loaded_names(s)}
    by_name = {_def_name(h): h for h in pipeline.helpers}
    pending = [n for n in used if n in by_name]
    while pending:
        helper = by_name[pending.pop()]
        # ``global n`` then ``n += 1``: the helper needs the module's ``n`` though no Name loads it
        kept = skipped.loads(helper) | {n for g in walk(helper) if isinstance(g, ast.Global) for n in g.names}
        for name in [n for n in free_names(helper) if n in kept]:  # type: ignore[arg-type]
            if name not in used:
                used.add(name)
                if name in by_name:
                    pending.append(name)
    pipeline.helpers = [h for h in pipeline.helpers if _def_name(h) in used]
    pipeline.constants = [c for c in pipeline.constants if _target(c) in used]
    kept_imports = []
    for statement in pipeline.imports:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            kept_imports.append(statement)  # set-up: runs whether or not anything reads what it sets
            continue
        names = statement.names
        aliases = [a for a in names if (a.asname or a.name.split(".")[0]) in used
                   or getattr(a, NEEDED_BY, None) in used or getattr(a, KEEP_IMPORT, False)]
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            aliases = list(statement.names)
        if aliases:
            narrowed = _with_names(statement, aliases)
            setattr(narrowed, DUPLICATES, getattr(statement, DUPLICATES, []))  # their comments too
            kept_imports.append(narrowed)
    pipeline.imports = kept_imports


def _draws(definition: ast.stmt, aliases: gr.Aliases) -> bool:
    """Whether a definition's body plots or shows (a figure helper, a display helper)."""
    return any(isinstance(n, ast.Call) and (gr.is_plot_call(n, aliases) or gr.call_name(n) in gr.DISPLAY_FUNCTIONS
                                            and gr.call_name(n) not in {"print", "pprint"})
               for n in walk(definition))


class _Skipped:
    """Names read outside some nested statements that code generation leaves out."""

    def __init__(self, dropped: Sequence[ast.stmt]) -> None:
        self.ids = {id(s) for s in dropped}
        self.names = {n for s in dropped for n in loaded_names(s)}

    def loads(self, node: ast.AST) -> set[str]:
        names = loaded_names(node)
        if not names & self.names:  # nothing it reads is read by a dropped statement: no walk needed
            return names
        found: set[str] = set()
        pending = [node]
        while pending:
            current = pending.pop()
            if id(current) in self.ids:
                continue
            if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load):
                found.add(current.id)
            pending.extend(ast.iter_child_nodes(current))
        return found


def _with_names(statement: ast.stmt, aliases: list[ast.alias]) -> ast.stmt:
    if isinstance(statement, ast.ImportFrom):
        return ast.ImportFrom(module=statement.module, names=aliases, level=statement.level)
    return ast.Import(names=aliases)
