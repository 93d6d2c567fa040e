"""Decide which pipeline stage each code cell belongs to, and say why.

Evidence, strongest first: a cell tag (``mlpack:<stage>``, ``mlpack:skip``), a first-line comment
``# mlpack: <stage>``, exploration (a cell that only displays, plots or prints), the nearest
markdown heading above (keywords per stage, configurable in ``[tool.mlpack.convert.keywords]``),
then what the code calls. Cells with no evidence continue the stage before them. Weak evidence
never moves a cell to an earlier stage than the cells above it, so execution order is kept.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlpack_cli.notebook.names import walk

STAGES = ("load", "preprocess", "train", "evaluate", "export")
HELPERS = "helpers"
DROPPED = "dropped"
ALL_STAGES = (*STAGES, HELPERS, DROPPED)

DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "load": ("load", "read", "ingest", "download", "fetch", "get the data", "import the data", "import data"),
    "preprocess": (
        "preprocess", "pre-process", "clean", "prepar", "feature", "transform", "split", "wrangl",
        "encod", "scal", "normali", "impute",
    ),
    "train": ("train", "fit", "model", "learn", "tuning", "hyperparameter"),
    "evaluate": ("evaluat", "metric", "score", "test", "validat", "result", "performance", "predict", "accuracy"),
    "export": ("export", "save", "persist", "serializ", "deploy", "dump", "submission", "store"),
    DROPPED: ("explor", "eda", "visuali", "plot", "inspect", "look at", "summary statistic"),
}

LOAD_CALLS = {
    "read_csv", "read_excel", "read_parquet", "read_json", "read_table", "read_sql", "read_feather",
    "read_pickle", "read_hdf", "read_fwf", "loadtxt", "genfromtxt", "load_data", "load_dataset",
    "imread", "DictReader", "reader", "urlretrieve", "fetch_openml", "read_text", "read_bytes",
}
LOAD_PREFIXES = ("load_", "fetch_", "make_")
PREPROCESS_CALLS = {
    "train_test_split", "fillna", "dropna", "drop_duplicates", "get_dummies", "fit_transform", "transform",
    "astype", "merge", "concat", "StandardScaler", "MinMaxScaler", "OneHotEncoder", "LabelEncoder",
    "SimpleImputer", "reshape", "apply", "map", "replace", "to_datetime", "cut", "qcut", "pad_sequences",
    "Tokenizer", "PolynomialFeatures", "shuffle",
}
TRAIN_CALLS = {"fit", "train", "fit_generator", "compile", "backward", "step", "linear_regression", "polyfit", "lstsq"}
EVALUATE_CALLS = {
    "predict", "predict_proba", "score", "evaluate", "classification_report", "confusion_matrix",
    "cross_val_score", "cross_validate",
}
EVALUATE_SUFFIXES = ("_score", "_error", "_loss")
EXPORT_CALLS = {
    "to_csv", "to_parquet", "to_pickle", "to_json", "to_excel", "dump", "save", "save_model", "save_weights",
    "write_text", "write_bytes", "savez", "savetxt",
}
DISPLAY_CALLS = {"display", "print", "pprint"}
DISPLAY_METHODS = {
    "head", "tail", "describe", "info", "sample", "value_counts", "show", "plot", "hist", "boxplot",
    "scatter", "imshow", "nunique", "isnull", "isna", "unique", "corr", "summary", "style",
}
PURE_BUILTINS = {
    "len", "type", "sorted", "list", "dict", "set", "tuple", "str", "repr", "max", "min", "sum", "abs",
    "round", "isinstance", "dir", "vars", "id", "hash", "help", "any", "all", "range", "zip", "enumerate",
}
PLOT_MODULES = {"plt", "sns", "px", "go", "matplotlib", "seaborn", "plotly", "pylab", "alt", "altair", "bokeh"}

_DIRECTIVE = re.compile(r"^\s*#\s*mlpack\s*:\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True)
class Placement:
    stage: str
    reason: str
    strong: bool = False  # from a tag or a directive: kept even out of order


def stage_for_word(word: str) -> str | None:
    word = word.strip().lower()
    if word == "skip":
        return DROPPED
    return word if word in ALL_STAGES else None


def explicit_placement(tags: Sequence[str], source: str) -> Placement | None:
    """A ``mlpack:<stage>`` tag or a ``# mlpack: <stage>`` first-line comment."""
    for tag in tags:
        if tag.lower().startswith("mlpack:"):
            stage = stage_for_word(tag.split(":", 1)[1])
            if stage:
                return Placement(stage, f"tag {tag}", strong=True)
    first = next((line for line in source.splitlines() if line.strip()), "")
    match = _DIRECTIVE.match(first)
    if match and stage_for_word(match.group(1)):
        return Placement(stage_for_word(match.group(1)) or DROPPED, f"directive {first.strip()}", strong=True)
    return None


def directive_problem(tags: Sequence[str], source: str) -> str | None:
    """A directive or tag that names no stage (a typo deserves an error, not silence)."""
    for tag in tags:
        if tag.lower().startswith("mlpack:") and not stage_for_word(tag.split(":", 1)[1]):
            return f"tag {tag!r}"
    first = next((line for line in source.splitlines() if line.strip()), "")
    match = _DIRECTIVE.match(first)
    if match and not stage_for_word(match.group(1)):
        return f"directive {first.strip()!r}"
    return None


def heading_keywords(config: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """Defaults, with any stage's list replaced by ``[tool.mlpack.convert.keywords]``."""
    keywords = dict(DEFAULT_KEYWORDS)
    for stage, words in (config or {}).items():
        key = DROPPED if stage == "skip" else stage
        if key in keywords and isinstance(words, (list, tuple)):
            keywords[key] = tuple(str(w).lower() for w in words)
    return keywords


def headings(markdown: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", markdown, re.MULTILINE)]


def stage_from_heading(heading: str, keywords: Mapping[str, Sequence[str]]) -> str | None:
    """The stage whose keyword appears first in the heading (at the same place: the stage and
    keyword listed first)."""
    pattern, stages = _heading_pattern(tuple((stage, tuple(words)) for stage, words in keywords.items()))
    match = pattern.search(heading.lower()) if stages else None
    return stages[match.lastindex - 1] if match and match.lastindex else None


@functools.lru_cache(maxsize=8)
def _heading_pattern(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str], list[str]]:
    """One search for every keyword: at the leftmost place any matches, the first alternative
    that matches there wins, which is the order of the keywords; group N is the Nth keyword."""
    stages = [stage for stage, words in keywords for _ in words]
    alternatives = "|".join(f"({re.escape(word)})" for _, words in keywords for word in words)
    return re.compile(rf"(?<![a-z])(?:{alternatives})"), stages


def called_names(node: ast.AST) -> list[str]:
    names = []
    for call in walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute):
                names.append(func.attr)
            elif isinstance(func, ast.Name):
                names.append(func.id)
    return names


def stage_from_calls(statements: list[ast.stmt]) -> tuple[str, str] | None:
    """The stage the calls point to (the latest stage named), with the call that decided it."""
    found: dict[str, str] = {}
    module = ast.Module(body=statements, type_ignores=[])
    for name in called_names(module):
        stage = _call_stage(name, module)
        if stage and stage not in found:
            found[stage] = name
    if not found:
        return None
    stage = max(found, key=STAGES.index)
    return stage, found[stage]


def _call_stage(name: str, module: ast.Module) -> str | None:
    if name in LOAD_CALLS or name.startswith(LOAD_PREFIXES):
        return "load"
    if name == "open":
        return "export" if _opens_for_writing(module) else "load"
    if name in EVALUATE_CALLS or name.endswith(EVALUATE_SUFFIXES):
        return "evaluate"
    if name in TRAIN_CALLS:
        return "train"
    if name in EXPORT_CALLS:
        return "export"
    if name in PREPROCESS_CALLS:
        return "preprocess"
    return None


def _opens_for_writing(module: ast.Module) -> bool:
    for call in walk(module):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "open":
            modes = [a for a in call.args[1:2]] + [k.value for k in call.keywords if k.arg == "mode"]
            if any(isinstance(m, ast.Constant) and isinstance(m.value, str) and set(m.value) & set("wax")
                   for m in modes):
                return True
    return False


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def is_display(statement: ast.stmt) -> bool:
    """A statement whose only effect is showing something: a bare expression, print, a plot."""
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return True
        if isinstance(value, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        calls = [n for n in walk(value) if isinstance(n, ast.Call)]
        if not calls:
            return True
        if _root_name(value) in PLOT_MODULES:
            return True
        if isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Name) and func.id in DISPLAY_CALLS | PURE_BUILTINS:
                return all(not _has_side_effect_call(a) for a in value.args)
            if isinstance(func, ast.Attribute) and func.attr in DISPLAY_METHODS:
                return True
        return False
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        return _root_name(statement.value) in PLOT_MODULES  # fig, ax = plt.subplots()
    if isinstance(statement, (ast.For, ast.With)) and not getattr(statement, "orelse", []):
        return all(is_display(s) for s in statement.body)
    return False


def _has_side_effect_call(node: ast.AST) -> bool:
    for call in walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in PURE_BUILTINS and name not in DISPLAY_METHODS and name != "format":
                return True
    return False


@dataclass
class CellEvidence:
    number: int
    tags: tuple[str, ...]
    source: str
    heading: str | None
    statements: list[ast.stmt]  # what is left for a stage once module-level code is taken out
    had_definitions: bool  # imports, constants or helper definitions were taken out of it


def place_cells(cells: Sequence[CellEvidence], keywords: Mapping[str, Sequence[str]]) -> list[Placement]:
    """One placement per cell, in order."""
    placements: list[Placement] = []
    current = 0  # index into STAGES of the latest stage so far
    for cell in cells:
        placement = _place(cell, keywords, current)
        if placement.stage in STAGES and not placement.strong:
            index = STAGES.index(placement.stage)
            if index < current:
                stage = STAGES[current]
                placement = Placement(stage, f"{placement.reason}; kept in {stage} to keep the order")
        if placement.stage in STAGES:
            current = max(current, STAGES.index(placement.stage))
        placements.append(placement)
    return placements


def _place(cell: CellEvidence, keywords: Mapping[str, Sequence[str]], current: int) -> Placement:
    explicit = explicit_placement(cell.tags, cell.source)
    if explicit is not None and explicit.stage == HELPERS and cell.statements:
        stage = STAGES[current]
        return Placement(stage, f"{explicit.reason}, but it runs code: kept in {stage}")
    if explicit is not None:
        return explicit
    if not cell.statements:
        if cell.had_definitions:
            return Placement(HELPERS, "imports, constants and definitions only")
        return Placement(DROPPED, "no code left once magics are handled")
    if all(is_display(s) for s in cell.statements):
        return Placement(DROPPED, "exploration: only displays, prints or plots")
    if cell.heading:
        by_heading = stage_from_heading(cell.heading, keywords)
        if by_heading:
            return Placement(by_heading, f"under heading {cell.heading!r}")
    by_calls = stage_from_calls(cell.statements)
    if by_calls:
        return Placement(by_calls[0], f"calls {by_calls[1]}()")
    return Placement(STAGES[current], f"continues {STAGES[current]}")
