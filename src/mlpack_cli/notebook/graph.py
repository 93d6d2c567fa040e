"""The statement graph: what each top-level statement reads, binds, may mutate, calls and does.

Placement and dropping are decided on this graph, not on cells. A statement depends on an earlier
one when it reads what that one bound or mutated (flow), binds or mutates what that one read
(anti), or binds or mutates what that one bound or mutated (output). Any order of statements that
keeps every such pair in order computes the same thing, so stages may be chosen freely as long as
each dependency points from an earlier or the same stage.

Mutation is judged conservatively: subscript and attribute assignment, augmented assignment,
``del``, ``inplace=True``, and a method call on a name unless the method is known to be pure.
Side effects that are not names (files, global random state, figures) are pseudo-names, so the
same rules order them: ``<fs>`` for files, ``<rng>`` for global random state, ``<figure>``.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mlpack_cli.notebook import scopes
from mlpack_cli.notebook.columns import Columns, column_access, disjoint
from mlpack_cli.notebook.scopes import (
    BUILTINS, analyze, bound_names, calls_in, child_fields, free_names, loaded_names, parents, walk,
)
from mlpack_cli.notebook.statements import drop_nested
from mlpack_cli.notebook.versions import RENAMED

FS = "<fs>"  # kept for callers; files are tracked one by one as "<file:PATH>"
RNG = "<rng>"
CONFIG = "<config>"  # a library's global configuration (sklearn.set_config(transform_output=...))
FIGURE = "<figure>"

# Plotting and display libraries: a call on any alias of these (or on what they return) only draws.
PLOT_MODULES = frozenset({
    "matplotlib", "seaborn", "plotly", "bokeh", "altair", "pylab", "mpl_toolkits", "pandas.plotting",
    "missingno", "scikitplot", "yellowbrick", "graphviz", "wordcloud", "folium", "pydot", "dtreeviz",
    "IPython.display", "IPython.core", "ipywidgets", "plotnine", "holoviews", "hvplot", "mplot3d",
    # what Kaggle Learn's exercises call (``binder.bind(globals())``, ``q1.check()``, ``q1.hint()``)
    # only tells the person at the notebook how the exercise went, as a plot shows a result
    "learntools",
})
DEFAULT_PLOT_ALIASES = frozenset({"plt", "sns", "px", "mpl", "pylab"})
DISPLAY_FUNCTIONS = frozenset({"print", "display", "pprint", "HTML", "Markdown", "Image", "clear_output"})
PLOT_METHODS = frozenset({"plot", "hist", "boxplot", "scatter_matrix", "imshow", "plot_tree", "bar", "barh",
                          "kde", "heatmap", "show", "savefig", "pairplot", "scatter", "matshow"})
# Method calls that return a new value and change nothing (unless inplace=True).
PURE_METHODS = frozenset({
    "head", "tail", "describe", "info", "sample", "value_counts", "nunique", "unique", "isnull", "isna",
    "notnull", "notna", "sum", "mean", "median", "std", "var", "min", "max", "count", "corr", "cov", "copy",
    "to_numpy", "tolist", "items", "keys", "values", "get", "groupby", "agg", "aggregate", "round",
    "abs", "astype", "drop", "dropna", "fillna", "sort_values", "sort_index", "reset_index", "set_index",
    "rename", "query", "filter", "select_dtypes", "memory_usage", "nlargest", "nsmallest", "idxmax",
    "idxmin", "argmax", "argmin", "reshape", "flatten", "ravel", "transpose", "any", "all", "cumsum",
    "diff", "pct_change", "rolling", "resample", "merge", "join", "pivot", "pivot_table", "melt", "stack",
    "unstack", "get_params", "get_feature_names_out", "get_depth", "get_n_leaves", "get_support",
    "predict", "predict_proba", "predict_log_proba",
    "decision_function", "transform", "inverse_transform", "score", "format", "split", "strip", "lower",
    "upper", "startswith", "endswith", "replace", "isin", "between", "where", "mask", "clip",
    "summary", "to_string", "to_frame", "map", "applymap", "dot", "mode", "quantile", "prod", "nonzero",
    "duplicated", "drop_duplicates", "explode", "squeeze", "to_dict", "to_list", "item", "numpy", "detach",
    "t", "size", "dim", "view", "argsort",
    "cumprod", "shift", "interpolate", "assign", "loc", "iloc", "equals", "combine_first", "nsmallest",
    "get_dummies", "count_params", "get_weights", "get_config", "index", "find", "rfind", "rstrip",
    "lstrip", "title", "capitalize", "encode", "decode", "zfill", "partition", "splitlines", "isdigit",
    "isalpha", "union", "intersection", "difference", "issubset", "issuperset", "conjugate", "all_close",
    "allclose", "conf_int", "cov_params", "summary2", "f_test", "t_test", "wald_test",
    # pandas' and NumPy's other statistics and comparisons: they return a value, change nothing
    "skew", "kurt", "kurtosis", "sem", "mad", "rank", "cummax", "cummin", "ptp", "corrwith", "autocorr",
    "lt", "le", "gt", "ge", "eq", "ne", "first_valid_index", "last_valid_index",
    "mul", "multiply", "div", "divide", "truediv", "floordiv", "sub", "subtract", "pow", "mod",
    # what a fitted statsmodels model answers, leaving it as it is
    "forecast", "get_forecast", "get_prediction", "summary_frame", "test_serial_correlation",
    "test_normality", "test_heteroskedasticity", "impulse_responses", "get_influence", "compare_f_test",
    "compare_lr_test", "get_margeff",
})
PLOT_NAME = re.compile(r"^(plot_\w+|\w*Display)$")
SETUP_CALLS = {  # (receiver, method) of calls that set the process up for what follows
    ("environ", "setdefault"), ("environ", "update"), ("os", "putenv"), ("path", "insert"),
    ("path", "append"), ("path", "extend"), ("warnings", "filterwarnings"), ("warnings", "simplefilter"),
    ("site", "addsitedir"), ("sys", "setrecursionlimit"),
}  # (not os.chdir: it moves the working directory, a statement of a stage, never run at import time)
SEED_CALLS = frozenset({"seed", "manual_seed", "set_seed", "set_random_seed", "manual_seed_all"})
RANDOM_USERS = frozenset({"fit", "fit_transform", "train_test_split", "shuffle", "fit_generator", "train",
                          "cross_val_score", "cross_validate", "sample", "permutation", "choice", "rand",
                          "randn", "randint", "normal", "uniform", "random", "KFold", "StratifiedKFold",
                          # more draws of numpy's and Python's global generators, and scikit-learn's
                          # splitters that use numpy's when given no random_state
                          "random_sample", "standard_normal", "binomial", "exponential", "lognormal",
                          "multivariate_normal", "randrange", "gauss", "ShuffleSplit", "StratifiedShuffleSplit",
                          "GroupShuffleSplit", "RepeatedKFold", "RepeatedStratifiedKFold",
                          "arma_generate_sample", "generate_sample"})  # (statsmodels' simulated series)
# scikit-learn functions that draw from numpy's global generator when given no random_state, called
# by their own name (``from sklearn.utils import resample``): ``df.resample('D')`` is pandas', no draw
FUNCTION_DRAWS = frozenset({"resample", "permutation_importance", "permutation_test_score"})
# make_* that build objects rather than draw data (sklearn.datasets' make_classification etc. draw)
_MAKE_NOT_RANDOM = frozenset({"make_pipeline", "make_union", "make_column_transformer", "make_column_selector",
                              "make_scorer", "make_dataclass", "make_archive", "make_grid"})
READ_CALLS = frozenset({
    "read_csv", "read_excel", "read_parquet", "read_json", "read_table", "read_sql", "read_feather",
    "read_pickle", "read_hdf", "read_fwf", "read_html", "loadtxt", "genfromtxt", "load_data", "load_dataset",
    "imread", "DictReader", "urlretrieve", "fetch_openml", "read_text", "read_bytes", "load", "load_model",
    "load_weights", "load_img", "load_state_dict", "read_sql_query", "read_stata", "read_sas", "get_file",
    "image_dataset_from_directory", "text_dataset_from_directory", "flow_from_directory", "ImageFolder",
    "glob", "listdir", "urlopen", "extractall",
})
FIGURE_FILES = frozenset({"savefig", "export_graphviz", "write_png", "write_image", "write_html"})  # like plots
WRITE_CALLS = frozenset({
    "to_csv", "to_parquet", "to_pickle", "to_json", "to_excel", "to_feather", "to_hdf", "to_sql", "dump",
    "save", "save_model", "save_weights", "write_text", "write_bytes", "savez", "savez_compressed", "savetxt",
    "savefig", "mkdir", "makedirs", "to_file", "write", "writerow", "writerows", "save_pretrained", "imsave",
    "imwrite", "export_graphviz", "rmtree", "remove", "unlink", "write_png", "write_image", "write_html",
})


@dataclass
class Statement:
    """One top-level statement of a kept cell, with what the graph knows about it."""

    index: int  # position in notebook order
    cell: int  # the notebook cell number
    node: ast.stmt
    reads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)
    mutates: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)  # called names (function or method), in order
    effects: set[str] = field(default_factory=set)  # read, write, setup, plot, display, savefig
    inert: bool = False  # only shows something (display, print, plot): droppable unless needed
    flow: set[int] = field(default_factory=set)  # statements whose bindings or mutations it reads
    deps: set[int] = field(default_factory=set)  # flow, anti and output dependencies
    columns: Columns | None = None  # the columns it reads and writes of each name (see columns.py)
    cloned: frozenset[str] = frozenset()  # names it reads only as an estimator it copies (cross_val_score(m, ...))
    refitted: frozenset[str] = frozenset()  # names it changes only by fitting them (m.fit(X, y)): their settings stay
    # What placement works out from the statement's tree once and reuses: shared by every record of
    # the same statement under the same renaming in one conversion (see _described), so what is
    # kept here depends on nothing else of the record, or is stored with what it depends on.
    facts: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def writes(self) -> set[str]:
        return self.binds | self.mutates


@dataclass
class Aliases:
    """What the notebook's imports call plotting modules and functions, and which names hold
    figures and axes (bound from plotting calls)."""

    modules: set[str] = field(default_factory=lambda: set(DEFAULT_PLOT_ALIASES))
    functions: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    imported: set[str] = field(default_factory=set)  # every name an import binds (modules and functions)
    origins: dict[str, str] = field(default_factory=dict)  # bound name -> the top-level module it comes from
    # names bound from a call into a library not known to only compute (a hub client, a tracking
    # run, a database connection): a method called on them may act outside the notebook
    foreign: set[str] = field(default_factory=set)
    dotted: dict[str, str] = field(default_factory=dict)  # bound name -> the module it is (``matplotlib.style``)

    def is_plot_root(self, name: str | None) -> bool:
        return name is not None and (name in self.modules or name in self.objects)


def _is_plot_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in PLOT_MODULES)


def collect_aliases(statements: Iterable[ast.stmt]) -> Aliases:
    statements_list = list(statements)
    aliases = Aliases()
    for statement in statements_list:
        for node in walk(statement):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    aliases.imported.add(bound)
                    aliases.origins[bound] = alias.name.split(".")[0]
                    aliases.dotted[bound] = alias.name if alias.asname else bound
                    if _is_plot_module(alias.name) or (alias.asname is None and _is_plot_module(bound)):
                        aliases.modules.add(bound)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    bound = alias.asname or alias.name
                    aliases.imported.add(bound)
                    aliases.origins[bound] = node.module.split(".")[0]
                    aliases.dotted[bound] = f"{node.module}.{alias.name}"
                    if _is_plot_module(node.module):
                        aliases.modules.add(bound)  # from matplotlib import pyplot / from seaborn import heatmap
                        aliases.functions.add(bound)
                    elif PLOT_NAME.match(alias.name):
                        aliases.functions.add(bound)
    _collect_plot_objects(statements_list, aliases)
    for statement in statements_list:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            root = root_name(statement.value.func)
            origin = aliases.origins.get(root or "")
            if origin is not None and origin not in PURE_LIBRARIES and not _is_plot_module(origin):
                aliases.foreign.update(n.id for t in statement.targets for n in walk(t) if isinstance(n, ast.Name))
    return aliases


def _collect_plot_objects(statements: list[ast.stmt], aliases: Aliases) -> None:
    """Names bound from plotting calls (``fig, ax = plt.subplots()``), from them (``ax = axes[0]``),
    or by looping over them (``for ax in axes.flat``), anywhere in the notebook."""
    bindings: list[tuple[ast.expr, list[ast.expr]]] = []
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.Assign):
                bindings.append((node.value, node.targets))
            elif isinstance(node, (ast.For, ast.comprehension)):
                bindings.append((node.iter, [node.target]))
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                bindings.append((node.context_expr, [node.optional_vars]))
    while True:
        before = len(aliases.objects)
        for value, targets in bindings:
            draws = isinstance(value, ast.Call) and is_plot_call(value, aliases)
            derived = not isinstance(value, ast.Call) and aliases.is_plot_root(root_name(value)) or (
                isinstance(value, ast.Call) and call_name(value) in {"enumerate", "zip"} and bool(value.args)
                and all(aliases.is_plot_root(root_name(a)) for a in value.args[-1:]))
            if draws or derived:
                for target in targets:
                    aliases.objects.update(n.id for n in walk(target) if isinstance(n, ast.Name))
        if len(aliases.objects) == before:
            return


# The field of each node of a chain (``a.b[c].d(...)``) that leads to its root: the rules ask for
# roots tens of thousands of times, and a look-up by class is cheaper than a chain of isinstance
_TOWARDS_ROOT = {ast.Attribute: "value", ast.Subscript: "value", ast.Starred: "value", ast.Call: "func"}


def root_name(node: ast.AST) -> str | None:
    """``a`` of ``a.b[c].d(...)``."""
    step = _TOWARDS_ROOT.get(node.__class__)
    while step is not None:
        node = getattr(node, step)
        step = _TOWARDS_ROOT.get(node.__class__)
    return node.id if node.__class__ is ast.Name else None


def call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def is_plot_call(call: ast.Call, aliases: Aliases) -> bool:
    func = call.func
    if call_name(call) in FIGURE_FILES:
        return True  # savefig, export_graphviz: a figure's file
    if isinstance(func, ast.Name):
        return func.id in aliases.functions or func.id in aliases.modules or bool(PLOT_NAME.match(func.id))
    if isinstance(func, ast.Attribute):
        if func.attr == "use" and isinstance(func.value, ast.Name) and func.value.id in aliases.modules \
                and aliases.dotted.get(func.value.id, func.value.id) in {"matplotlib", "mpl"}:
            return False  # matplotlib.use(...): chooses the backend, set-up rather than drawing (not style.use)
        if aliases.is_plot_root(root_name(func)):
            return True
        if func.attr in PLOT_METHODS or PLOT_NAME.match(func.attr):
            return True
        # df.plot.scatter(...), df.plot(...).legend()
        inner = func.value
        while isinstance(inner, (ast.Attribute, ast.Call, ast.Subscript)):
            if isinstance(inner, ast.Attribute) and inner.attr in {"plot", "style"}:
                return True
            if isinstance(inner, ast.Call) and is_plot_call(inner, aliases):
                return True
            inner = inner.func if isinstance(inner, ast.Call) else inner.value
    return False


_MUTATING_NAMES = frozenset({
    "fit", "partial_fit", "fit_transform", "fit_generator", "compile", "train", "append", "extend", "insert",
    "pop", "remove", "clear", "update", "setdefault", "add", "discard", "sort", "reverse", "shuffle", "step",
    "backward", "zero_grad", "seed", "manual_seed", "set_params", "add_module", "write", "close", "send",
})


# Library functions that change their first argument in place and return nothing useful: numpy's
# fill_diagonal, copyto, put, place, putmask, put_along_axis, a ufunc's ``.at`` (np.add.at(a, i, 1)),
# heapq's heap functions, bisect.insort and random.shuffle. Torch's functions named with a trailing
# underscore (``torch.nn.init.xavier_uniform_(w)``, ``clip_grad_norm_(model.parameters(), 1)``) do too.
IN_PLACE_FUNCTIONS = frozenset({
    "fill_diagonal", "copyto", "put", "place", "putmask", "put_along_axis", "at", "shuffle", "heappush",
    "heappop", "heapify", "heapreplace", "heappushpop", "insort", "insort_left", "insort_right",
})


def changed_arguments(call: ast.Call, aliases: Aliases) -> set[str]:
    """The names whose objects a library call changes through its arguments: the first argument of
    an in-place function (a function of an imported module, or imported by name; ``shuffle`` of any
    generator: ``rng.shuffle(idx)``), and whatever ``out=`` names (``np.clip(x, 0, 1, out=x)``)."""
    changed: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg == "out":
            targets = keyword.value.elts if isinstance(keyword.value, ast.Tuple) else [keyword.value]
            changed.update(r for r in map(root_name, targets) if r)
    name = call_name(call)
    func = call.func
    from_library = root_name(func) in aliases.imported if isinstance(func, (ast.Attribute, ast.Name)) else False
    in_place = name in IN_PLACE_FUNCTIONS or (name.endswith("_") and not name.startswith("_"))
    if call.args and in_place and (from_library or name == "shuffle"):
        root = root_name(call.args[0])
        if root:
            changed.add(root)
    return changed


def _is_pure_call(call: ast.Call, aliases: Aliases, user_functions: set[str]) -> bool:
    """A call known to change nothing: pure methods, display, plotting, library functions of
    modules (except random state and files), metrics, pure builtins, pure functions of the notebook."""
    purity = _purity(call, aliases, user_functions)
    return purity if isinstance(purity, bool) else purity in user_functions.pure  # type: ignore[attr-defined]


# id -> (call, aliases, user functions, the names the answer was read off, the answer): the rules
# ask whether a call changes anything many times over (its statement's description, the column
# analysis, placement), under several renamings of its statement
_PURITY: dict[int, tuple[ast.Call, Aliases, set[str], tuple[str | None, str | None], bool | str]] = {}


def _purity(call: ast.Call, aliases: Aliases, user_functions: set[str]) -> bool | str:
    """Whether :func:`_is_pure_call` holds, or the notebook's function whose purity decides it.
    The answer depends on the call's shape and on two of its names only: the name it calls (a
    function by name) and the root of what it calls (``np`` of ``np.linalg.norm(...)``, also the
    root of every call the callee is made from); remembered with them."""
    func = call.func
    names = (func.id if isinstance(func, ast.Name) else None, root_name(func))
    cached = _PURITY.get(id(call))
    if cached is not None and cached[0] is call and cached[1] is aliases and cached[2] is user_functions \
            and cached[3] == names:
        return cached[4]
    found = _purity_of(call, aliases, user_functions)
    _PURITY[id(call)] = (call, aliases, user_functions, names, found)
    return found


def _purity_of(call: ast.Call, aliases: Aliases, user_functions: set[str]) -> bool | str:
    if any(k.arg == "inplace" for k in call.keywords) or changed_arguments(call, aliases):
        return False
    name = call_name(call)
    if is_plot_call(call, aliases) or name in DISPLAY_FUNCTIONS:
        return True
    if name in _MUTATING_NAMES or name in WRITE_CALLS or name in SEED_CALLS:
        return False
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in user_functions:
            return func.id if isinstance(user_functions, Functions) else False
        return (func.id in BUILTINS and func.id not in _IMPURE_BUILTINS) or _is_metric_name(func.id) \
            or _is_library_function(func.id, func.id, aliases)
    if isinstance(func, ast.Attribute):
        if func.attr in PURE_METHODS or _is_metric_name(func.attr):
            return True
        root = root_name(func)
        # a function of an imported module (np.mean, pd.concat), not of its random state
        return root is not None and _is_library_function(root, func.attr, aliases) and not any(
            isinstance(n, ast.Attribute) and n.attr == "random" for n in walk(func))
    return False


# Libraries whose functions compute and return values. A function of any other module (logging,
# mlflow, wandb, ray, nltk, os, ...) may act on the world, so a call of it is never dropped as a
# display; nor is one named like a setting or a start-up (``pd.set_option``, ``tf.config...``).
PURE_LIBRARIES = frozenset({
    "numpy", "pandas", "scipy", "sklearn", "statsmodels", "xgboost", "lightgbm", "catboost", "torch",
    "torchvision", "tensorflow", "keras", "jax", "sympy", "networkx", "math", "cmath", "statistics", "json",
    "re", "string", "textwrap", "itertools", "functools", "operator", "collections", "copy", "datetime",
    "decimal", "fractions", "typing", "dataclasses", "pathlib",
})
_EFFECT_NAME = re.compile(r"^(set_|seterr|use_|run_functions_eagerly|enable|disable|init|configure|config|register"
                          r"|login|download|use$|seed$)"
                          r"|_(init|seed)$|basicConfig|^config")


def _is_library_function(bound: str, function: str, aliases: Aliases) -> bool:
    origin = aliases.origins.get(bound)
    return origin in PURE_LIBRARIES and not _EFFECT_NAME.search(function)


_IMPURE_BUILTINS = frozenset({"exec", "eval", "open", "input", "setattr", "delattr", "next", "iter", "exit",
                              "quit", "breakpoint"})


def _is_metric_name(name: str) -> bool:
    return name.endswith(("_score", "_error", "_loss")) or name in {
        "confusion_matrix", "classification_report", "cross_val_score", "cross_validate", "evaluate", "score"}


def is_pure_expression(node: ast.AST, aliases: Aliases, user_functions: set[str]) -> bool:
    if any(isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)) for n in walk(node)):
        return False
    return all(_is_pure_call(c, aliases, user_functions) for c in calls_in(node))


def _plotting_only(node: ast.AST, aliases: Aliases, user_functions: set[str]) -> bool:
    """An expression whose outermost call draws, and whose arguments compute nothing lasting."""
    if not isinstance(node, ast.Call) or not is_plot_call(node, aliases):
        return False
    return all(_is_pure_call(c, aliases, user_functions) or c is node for c in calls_in(node))


def is_inert(statement: ast.stmt, aliases: Aliases, user_functions: set[str]) -> tuple[bool, str]:
    """Whether a statement only shows something (and what: "display" or "plot")."""
    if _sets_display_options(statement, aliases):
        return True, "display"
    if isinstance(statement, ast.Expr):
        value = statement.value
        if _plotting_only(value, aliases, user_functions):
            return True, "plot"
        if isinstance(value, ast.Call) and call_name(value) in DISPLAY_FUNCTIONS and isinstance(value.func, ast.Name):
            return is_pure_expression(value, aliases, user_functions), "display"
        if is_pure_expression(value, aliases, user_functions):
            return True, "display"
        return False, ""
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and statement.value is not None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [n for t in targets for n in walk(t) if isinstance(n, ast.Name)]
        if _plotting_only(statement.value, aliases, user_functions) and all(
                isinstance(n, ast.Name) or isinstance(n, (ast.Tuple, ast.List, ast.Starred)) for t in targets
                for n in walk(t) if isinstance(n, ast.expr) and not isinstance(n, ast.Name)
                and not isinstance(n, (ast.Tuple, ast.List, ast.Starred))) and names:
            return True, "plot"
        # plt.rcParams[...] = ..., ax.title = ...: settings of a plotting object
        if all(not isinstance(t, ast.Name) and aliases.is_plot_root(root_name(t)) for t in targets) and \
                is_pure_expression(statement.value, aliases, user_functions):
            return True, "plot"
        return False, ""
    if isinstance(statement, (ast.For, ast.With, ast.If, ast.While)):
        header: list[ast.AST] = []
        if isinstance(statement, ast.For):
            header = [statement.iter]
        elif isinstance(statement, ast.With):
            header = [item.context_expr for item in statement.items]
        else:
            header = [statement.test]
        body = statement.body + getattr(statement, "orelse", [])
        if isinstance(statement, ast.With) and all(_opens_for_a_figure(h, body, aliases) for h in header):
            return True, "plot"  # with open("tree.dot", "w") as f: export_graphviz(tree, out_file=f)
        if not all(is_pure_expression(h, aliases, user_functions) or _lists_files(h, aliases) for h in header):
            return False, ""
        results = [is_inert(s, aliases, user_functions) for s in body]
        if body and all(ok for ok, _ in results):
            return True, "plot" if any(kind == "plot" for _, kind in results) else "display"
        return False, ""
    if isinstance(statement, ast.Try):
        handlers = [h.type for h in statement.handlers if h.type is not None]
        blocks = [*statement.body, *statement.orelse, *statement.finalbody,
                  *(s for h in statement.handlers for s in h.body)]
        if all(is_pure_expression(h, aliases, user_functions) for h in handlers):
            results = [is_inert(s, aliases, user_functions) for s in blocks]
            if blocks and all(ok for ok, _ in results):  # try: show(x) except E as e: print(e)
                return True, "plot" if any(kind == "plot" for _, kind in results) else "display"
        return False, ""
    if isinstance(statement, ast.Pass):
        return True, "display"
    return False, ""


# pandas options that only change how values are shown (``pd.set_option("max_columns", None)``
# finds ``display.max_columns``)
_DISPLAY_OPTIONS = re.compile(r"(?:display\.|max_rows$|max_columns$|max_colwidth$|precision$|float_format$|width$)")


def _sets_display_options(statement: ast.stmt, aliases: Aliases) -> bool:
    """``pd.set_option("display.max_columns", None)``, ``pd.options.display.max_rows = 100``,
    ``np.set_printoptions(precision=3)``, ``sklearn.set_config(display="diagram")``, with values
    that call nothing: settings of how the notebook shows values, which change nothing computed."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        if call_name(call) not in {"set_printoptions", "set_config", "set_option"}:
            return False
        origin = aliases.origins.get(root_name(call.func) or "")
        values = [*call.args, *(k.value for k in call.keywords)]
        if origin == "numpy" and call_name(call) == "set_printoptions" or (
                origin == "sklearn" and call_name(call) == "set_config" and call.keywords and not call.args
                and all(k.arg in {"display", "print_changed_only"} for k in call.keywords)):
            keys: list[ast.expr] = []
        elif origin == "pandas" and call_name(call) == "set_option" and call.args and len(call.args) % 2 == 0:
            keys, values = call.args[::2], call.args[1::2]
        else:
            return False
    elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Attribute):
        target: ast.expr = statement.targets[0]
        chain: list[str] = []
        while isinstance(target, ast.Attribute):
            chain.append(target.attr)
            target = target.value
        if not (isinstance(target, ast.Name) and aliases.origins.get(target.id) == "pandas"
                and chain[-2:] == ["display", "options"]):
            return False
        keys, values = [], [statement.value]
    else:
        return False
    return all(isinstance(k, ast.Constant) and isinstance(k.value, str) and _DISPLAY_OPTIONS.match(k.value)
               for k in keys) and not any(isinstance(n, ast.Call) for v in values for n in walk(v))


# What lists a directory and changes nothing: a loop over it that only prints is a display
# (Kaggle's first cell: ``for dirname, _, filenames in os.walk('/kaggle/input'): print(...)``).
_LISTINGS = frozenset({("os", "walk"), ("os", "listdir"), ("os", "scandir"), ("glob", "glob"), ("glob", "iglob")})


def _lists_files(header: ast.AST, aliases: Aliases) -> bool:
    """``os.walk(path)``, ``os.listdir(path)``, ``glob.glob(pattern)`` (maybe sorted) of a path
    that calls nothing else."""
    if isinstance(header, ast.Call) and call_name(header) == "sorted" and len(header.args) == 1:
        header = header.args[0]
    if not (isinstance(header, ast.Call) and isinstance(header.func, ast.Attribute)
            and isinstance(header.func.value, ast.Name)):
        return False
    module = aliases.origins.get(header.func.value.id)
    calls = [n for a in [*header.args, *(k.value for k in header.keywords)] for n in walk(a) if isinstance(n, ast.Call)]
    return (module, header.func.attr) in _LISTINGS and all(call_name(c) == "join" for c in calls)


def _opens_for_a_figure(header: ast.AST, body: list[ast.stmt], aliases: Aliases) -> bool:
    """``open(path, "w")`` whose file only a figure is written to: every statement of the body is
    a call of a figure file writer (``export_graphviz(tree, out_file=f)``), maybe assigned."""
    if not (isinstance(header, ast.Call) and call_name(header) == "open" and _opens_for(header) == "write"):
        return False
    values = [s.value for s in body if isinstance(s, (ast.Expr, ast.Assign))]
    return bool(body) and len(values) == len(body) and all(
        isinstance(v, ast.Call) and call_name(v) in FIGURE_FILES and is_plot_call(v, aliases) for v in values)


def _mutated_roots(statement: ast.stmt, aliases: Aliases, user_functions: set[str]) -> set[str]:
    mutated: set[str] = set()
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        targets = [statement.target]
    elif isinstance(statement, ast.Delete):
        targets = list(statement.targets)
    for target in targets:
        for node in walk(target):
            if isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load):
                root = root_name(node)
                if root:
                    mutated.add(root)
    for node in _walk_own_scope(statement):
        if isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(getattr(node, "ctx", None), ast.Load):
            root = root_name(node)
            if root:
                mutated.add(root)
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        mutated |= changed_arguments(node, aliases)
        if isinstance(node.func, ast.Attribute):
            root = root_name(node.func)
            receiver_is_module = root in aliases.imported
            inplace = any(k.arg == "inplace" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                          for k in node.keywords)
            writes_out = name in WRITE_CALLS and name not in {"write", "writerow", "writerows"}
            if root and (inplace or (not receiver_is_module and not writes_out
                                     and not _is_pure_call(node, aliases, user_functions))):
                mutated.add(root)  # model.save(...), df.to_csv(...) write a file, not their receiver
        elif isinstance(node.func, ast.Name) and node.func.id in {"setattr", "delattr"} and node.args:
            root = root_name(node.args[0])  # setattr(model, "max_depth", 3) changes the model
            if root:
                mutated.add(root)
        elif isinstance(node.func, ast.Name) and node.func.id == "next" and node.args:
            root = root_name(node.args[0])  # next(batches) takes an item: the iterator moves on
            if root and not any(isinstance(n, ast.Call) for n in walk(node.args[0])):  # not next(iter(x))
                mutated.add(root)
        elif isinstance(node.func, ast.Name) and node.func.id in user_functions:
            # a function of the notebook changes the arguments its body changes (unknown: all)
            changed = user_functions.changed(node.func.id) if isinstance(user_functions, Functions) else None
            for position, argument in enumerate(node.args):
                if isinstance(argument, ast.Name) and (changed is None or position in changed):
                    mutated.add(argument.id)
            for keyword in node.keywords:
                if isinstance(keyword.value, ast.Name) and (changed is None or keyword.arg in changed):
                    mutated.add(keyword.value.id)
    return mutated


class Functions(set):  # type: ignore[type-arg]
    """The notebook's function and class names, with which parameters each function changes."""

    def __init__(self, definitions: Iterable[ast.stmt], aliases: Aliases,
                 lambdas: Mapping[str, ast.Lambda] | None = None) -> None:
        definitions = list(definitions)
        super().__init__(d.name for d in definitions)  # type: ignore[attr-defined]
        # the last definition of each name: what a call to it does decides where the call goes
        self.definitions: dict[str, ast.stmt] = {d.name: d for d in definitions}  # type: ignore[attr-defined]
        self._changed: dict[str, set[int | str] | None] = {}
        self._outside: dict[str, tuple[set[str], set[str]]] = {}
        for definition in definitions:
            if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._changed[definition.name] = None  # type: ignore[attr-defined]
                continue
            params = [a.arg for a in [*definition.args.posonlyargs, *definition.args.args]]
            keywords = [a.arg for a in definition.args.kwonlyargs]
            roots: set[str] = set()
            for inner in definition.body:
                for node in walk(inner):
                    if isinstance(node, ast.stmt):
                        roots |= _mutated_roots(node, aliases, self)
            changed: set[int | str] = {i for i, p in enumerate(params) if p in roots}
            changed |= {p for p in params + keywords if p in roots}
            if definition.args.vararg or definition.args.kwarg:
                self._changed[definition.name] = None
            else:
                self._changed[definition.name] = changed
            declared = {n for node in walk(definition) if isinstance(node, (ast.Global, ast.Nonlocal))
                        for n in node.names}
            local = (set(analyze(list(definition.body)).binds) | set(params) | set(keywords)
                     | {a.arg for a in (definition.args.vararg, definition.args.kwarg) if a}
                     | _comprehension_locals(definition)) - declared
            draws = {RNG} if any(_draws(node) for inner in definition.body for node in walk(inner)) else set()
            self._outside[definition.name] = ((set(free_names(definition)) - BUILTINS - local) | draws,
                                              (roots - local - {"<none>"}) | declared)
        for name, function in (lambdas or {}).items():  # `prep = lambda a: a ** POWER`: a call reads POWER
            if name not in self._outside:
                arguments = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
                self._outside[name] = (set(free_names(function)) - BUILTINS - arguments, set())
        self._outside_through_calls(definitions)
        self.pure: set[str] = set()
        self._find_pure(definitions, aliases)
        # what a call of each function does, as placement works it out (placement.function_evidence):
        # their bodies are never renamed, so the answer holds for the whole conversion
        self.evidence: dict[tuple[object, ...], tuple[int, str] | None] = {}

    def _outside_through_calls(self, definitions: list[ast.stmt]) -> None:
        """A function that calls another of the notebook's functions reads and changes what that
        one does (a fixpoint: they may call each other)."""
        named = [(getattr(d, "name", ""), d) for d in definitions]
        calls = {name: {call_name(n) for n in walk(d) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
                 & set(self._outside) for name, d in named if name in self._outside}
        changed = True
        while changed:
            changed = False
            for name, callees in calls.items():
                reads, changes = self._outside[name]
                for callee in callees - {name}:
                    more_reads, more_changes = self._outside[callee]
                    if not (more_reads <= reads and more_changes <= changes):
                        reads |= more_reads
                        changes |= more_changes
                        changed = True

    def names_involved(self) -> set[str]:
        """The functions and lambdas of the notebook, and every global they read or change."""
        return {name for function, (reads, changes) in self._outside.items() for name in (function, *reads, *changes)}

    def outside(self, name: str) -> tuple[set[str], set[str]]:
        """(notebook globals it reads, notebook globals it changes: in place, or declared
        ``global``) when the function ``name`` is called: a call of it reads and changes them."""
        return self._outside.get(name, (set(), set()))

    def _find_pure(self, definitions: list[ast.stmt], aliases: Aliases) -> None:
        """Functions that change nothing outside themselves and call only pure code: a greatest
        fixpoint, so that functions calling each other can be pure together."""
        candidates = {}
        for definition in definitions:
            if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) or definition.decorator_list:
                continue
            if any(isinstance(n, (ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await))
                   for n in walk(definition)):
                continue
            local = set(analyze(list(definition.body)).binds)  # parameters are excluded on purpose
            candidates[definition.name] = (definition, local)
        self.pure = set(candidates)
        # what a body changes, and its calls but those of the notebook's functions, do not depend
        # on which functions are pure: judged once; a call of a function of the notebook is pure
        # when that function is
        callees: dict[str, set[str]] = {}
        for name, (definition, local) in candidates.items():
            ok = True
            needed: set[str] = set()
            for inner in definition.body:
                for node in walk(inner):
                    if isinstance(node, ast.stmt) and not _mutated_roots(node, aliases, self) <= local:
                        ok = False
                    elif isinstance(node, ast.Call):
                        purity = _purity(node, aliases, self)
                        if isinstance(purity, str):
                            needed.add(purity)
                        elif not purity:
                            ok = False
            if ok:
                callees[name] = needed
        while True:
            still = {name for name, needed in callees.items() if needed <= self.pure}
            if still == self.pure:
                return
            self.pure = still

    def changed(self, name: str) -> set[int | str] | None:
        return self._changed.get(name)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _comprehension_locals(definition: ast.AST) -> set[str]:
    """Names a comprehension binds that occur only inside comprehensions binding them
    (``[m.result() for m in metrics]``): local to those, never the notebook's."""
    if not any(isinstance(n, _COMPREHENSIONS) for n in walk(definition)):
        return set()  # (only a comprehension binds such a name)
    targets: set[str] = set()
    uncovered: set[str] = set()

    def visit(node: ast.AST, bound: frozenset[str]) -> None:
        if isinstance(node, _COMPREHENSIONS):
            inner = bound
            for number, generator in enumerate(node.generators):
                names = {n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name)}
                targets.update(names)
                visit(generator.iter, bound if number == 0 else inner)  # the first runs outside
                inner = inner | names
                for condition in generator.ifs:
                    visit(condition, inner)
            for part in (getattr(node, "elt", None), getattr(node, "key", None), getattr(node, "value", None)):
                if part is not None:
                    visit(part, inner)
            return
        if isinstance(node, ast.Name) and node.id not in bound:
            uncovered.add(node.id)
        for name in child_fields(node):  # (ast.iter_child_nodes, without the expression contexts)
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item, bound)
            elif isinstance(value, ast.AST):
                visit(value, bound)

    visit(definition, frozenset())
    return targets - uncovered


_OWN_SCOPE: dict[int, tuple[ast.stmt, list[ast.AST]]] = {}  # id -> (statement, nodes): walked once


def forget_walks() -> None:
    """Drop the walks cached for an earlier notebook: they keep its whole trees alive, and a heap
    that grows with every notebook converted makes each garbage collection slower."""
    _OWN_SCOPE.clear()
    _DESCRIBED.clear()
    _PURITY.clear()
    _GENERATOR.clear()


def is_print(node: ast.stmt) -> bool:
    """A statement that only prints or displays what its arguments are (``print(...)``, ``display(...)``)."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
        and node.value.func.id in DISPLAY_FUNCTIONS


def shown_values(argument: ast.expr) -> list[ast.expr]:
    """The values a print argument shows: an f-string's fields, or the argument itself."""
    if isinstance(argument, ast.JoinedStr):
        return [v.value for v in argument.values if isinstance(v, ast.FormattedValue)]
    if isinstance(argument, ast.Constant):
        return []
    if isinstance(argument, ast.Call) and isinstance(argument.func, ast.Attribute) and \
            argument.func.attr == "format" and isinstance(argument.func.value, ast.Constant):
        return [*argument.args, *[k.value for k in argument.keywords]]
    if isinstance(argument, ast.BinOp) and isinstance(argument.op, ast.Mod) and isinstance(argument.left, ast.Constant):
        right = argument.right
        return list(right.elts) if isinstance(right, ast.Tuple) else [right]
    return [argument]


def reshaped(*nodes: ast.AST) -> None:
    """:func:`~mlpack_cli.notebook.scopes.reshaped`, and what is remembered here of the statements."""
    scopes.reshaped(*nodes)
    for node in nodes:
        _OWN_SCOPE.pop(id(node), None)
        _DESCRIBED.pop(id(node), None)


# Functions that fit copies of the estimator they are given (``sklearn.base.clone``), never the
# estimator itself; and the methods that change only what an estimator learned, not its settings.
CLONING_CALLS = frozenset({"cross_val_score", "cross_validate", "cross_val_predict", "learning_curve",
                           "validation_curve", "permutation_test_score", "clone"})
FIT_METHODS = frozenset({"fit", "partial_fit"})


def _estimator_uses(statement: ast.stmt) -> tuple[frozenset[str], frozenset[str]]:
    """The names a statement reads only as the estimator a cloning call copies, and those it
    changes only by fitting them: a fit after a cross-validation of the same model changes nothing
    the cross-validation read (its copies start from the settings, which fitting leaves alone)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return frozenset(), frozenset()
    above = parents(statement)
    cloned: dict[str, bool] = {}
    refitted: dict[str, bool] = {}
    for node in walk(statement):
        if not isinstance(node, ast.Name):
            continue
        parent = above.get(id(node))
        copied = isinstance(parent, ast.Call) and call_name(parent) in CLONING_CALLS and (
            parent.args[:1] == [node] or any(k.arg == "estimator" and k.value is node for k in parent.keywords))
        call = above.get(id(parent)) if isinstance(parent, ast.Attribute) else None
        fitted = isinstance(parent, ast.Attribute) and parent.attr in FIT_METHODS and isinstance(call, ast.Call) \
            and call.func is parent
        cloned[node.id] = cloned.get(node.id, True) and copied
        refitted[node.id] = refitted.get(node.id, True) and fitted
    return (frozenset(n for n, only in cloned.items() if only),
            frozenset(n for n, only in refitted.items() if only))


def _walk_own_scope(statement: ast.stmt) -> list[ast.AST]:
    """The nodes of a statement that run when it runs (not the bodies of functions it defines)."""
    cached = _OWN_SCOPE.get(id(statement))
    if cached is not None and cached[0] is statement:
        return cached[1]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        found: list[ast.AST] = [*statement.decorator_list]
    else:
        found = [statement]
        for node in found:  # grows as it is read
            for name in child_fields(node):
                value = getattr(node, name, None)
                if value.__class__ is list:
                    found += [item for item in value if isinstance(item, ast.AST) and not isinstance(item, _SCOPES)]
                elif isinstance(value, ast.AST) and not isinstance(value, _SCOPES):
                    found.append(value)
    _OWN_SCOPE[id(statement)] = (statement, found)
    return found


def _functions_passed_on(statement: ast.stmt, user_functions: set[str]) -> set[str]:
    """The notebook's functions a statement hands on without calling them itself (``df.a.apply(scale)``,
    ``sorted(xs, key=rank)``, ``lambda v: scale(v)``): whatever gets them may call them there, so
    the statement reads what their bodies read. A definition's body is its own business."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return set()
    called = {id(node.func) for node in _walk_own_scope(statement) if isinstance(node, ast.Call)}
    return {node.id for node in walk(statement) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            and node.id in user_functions and id(node) not in called}


def _opens_for(call: ast.Call) -> str:
    modes = list(call.args[1:2]) + [k.value for k in call.keywords if k.arg == "mode"]
    for mode in modes:
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+"):
            return "write"
    return "read"


opens_for = _opens_for  # "read" or "write": what open(...) does with its file
is_pure_call = _is_pure_call  # this call alone (not the calls in its arguments) changes nothing


def is_setup(statement: ast.stmt, aliases: Aliases | None = None) -> bool:
    """Environment, sys.path, matplotlib.use and warnings set-up: must run before the imports after it.
    With the notebook's ``aliases``, also a library's configuration call (``set_config(...)``,
    ``pd.set_option(...)``, ``np.seterr(...)``): it changes what the library's later calls return;
    not one that only changes how values are shown (:func:`_sets_display_options`)."""
    if aliases is not None and _sets_display_options(statement, aliases):
        return False
    if isinstance(statement, (ast.Assign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if any(isinstance(t, ast.Subscript) and _dotted(t.value).endswith("environ") for t in targets):
            return True
        return aliases is not None and _configures_module(targets, aliases)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute):
            receiver = _dotted(func.value).split(".")[-1]
            if (receiver, func.attr) in SETUP_CALLS:
                return True
            if func.attr == "use" and _dotted(func.value) in {"matplotlib", "mpl"}:
                return True
        if aliases is not None and _configures_library(statement.value, aliases):
            return True
    return False


_CONFIG_CALL = re.compile(r"^(set_|enable_|disable_|use_)|^(seterr|setLevel|basicConfig)$")


def _configures_module(targets: Sequence[ast.expr], aliases: Aliases) -> bool:
    """An assignment to an attribute of an imported module (``torch.backends.cudnn.deterministic =
    True``, ``pd.options.display.max_columns = 50``): it configures the library for what follows,
    it prepares no data. Plotting modules' settings are plotting."""
    roots = [root_name(t) for t in targets]
    return bool(targets) and all(
        isinstance(t, ast.Attribute) and isinstance(t.value, (ast.Attribute, ast.Name)) and root in aliases.imported
        and not aliases.is_plot_root(root) and not _is_plot_module(aliases.origins.get(root or "", ""))
        for t, root in zip(targets, roots))


def _configures_library(call: ast.Call, aliases: Aliases) -> bool:
    """A call of an imported library's configuration function, plotting and seeds left out."""
    name = call_name(call)
    root = root_name(call.func)
    return (bool(_CONFIG_CALL.search(name)) and name not in SEED_CALLS and root in aliases.imported
            and not aliases.is_plot_root(root) and not is_plot_call(call, aliases)
            and "random" not in _dotted(call.func).split("."))


# Settings of how values are shown or logged, or how many threads compute them: not what they are.
_NEUTRAL_SETTINGS = frozenset({"set_printoptions", "setLevel", "basicConfig", "set_num_threads",
                               "set_num_interop_threads"})


def _configures_results(statement: ast.stmt, aliases: Aliases) -> bool:
    """A configuration of a library that changes what its later calls return
    (``sklearn.set_config(transform_output="pandas")``, ``pd.set_option("mode.copy_on_write", True)``,
    ``np.seterr(...)``, ``torch.set_default_dtype(...)``): a statement before it computes with the
    old setting and one after it with the new one, so neither may move across it. Settings of how
    values are shown (``display.*`` options, ``set_config(display=...)``, print options, logging)
    and of the process (environment, ``sys.path``, warnings) order nothing."""
    if isinstance(statement, (ast.Assign, ast.AugAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return _configures_module(targets, aliases) and not any(
            "display" in _dotted(t).split(".") for t in targets)
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    call = statement.value
    name = call_name(call)
    if not _configures_library(call, aliases) or name in _NEUTRAL_SETTINGS:
        return False
    options = [a.value for a in call.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if name == "set_option" and options and options[0].startswith("display."):
        return False
    return not (name == "set_config" and call.keywords and not call.args
                and all(k.arg in {"display", "print_changed_only"} for k in call.keywords))


def _computes(statement: ast.stmt, aliases: Aliases) -> bool:
    """Whether a statement calls anything but displays and plots (a function definition: its
    decorators only)."""
    return any(isinstance(n, ast.Call) and not is_plot_call(n, aliases) and call_name(n) not in DISPLAY_FUNCTIONS
               for n in _walk_own_scope(statement))


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def describe(statement: ast.stmt, index: int, cell: int, aliases: Aliases, user_functions: set[str],
             helper_reads: Mapping[str, Sequence[str]]) -> Statement:
    names = analyze([statement])
    info = Statement(index, cell, statement, reads=set(names.reads), binds=set(names.binds))
    info.mutates = _mutated_roots(statement, aliases, user_functions) - {"<none>"}
    info.reads |= info.mutates  # changing something needs it
    info.cloned, info.refitted = _estimator_uses(statement)
    columns = column_access(statement, lambda call: _is_pure_call(call, aliases, user_functions))
    for node in _walk_own_scope(statement):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        info.calls.append(name)
        if isinstance(node.func, ast.Name) and name in helper_reads:
            info.reads.update(helper_reads[name])
            columns.used_whole(helper_reads[name])
        if isinstance(node.func, ast.Name) and isinstance(user_functions, Functions):
            reads, changes = user_functions.outside(name)  # the globals its body reads and changes
            info.reads |= reads | changes
            info.mutates |= changes
            columns.used_whole(reads | changes)
        if isinstance(node.func, ast.Name) and node.func.id in user_functions:  # it may read any column
            columns.used_whole({a.id for a in [*node.args, *(k.value for k in node.keywords)]
                                if isinstance(a, ast.Name)})
        if name == "open" and isinstance(node.func, ast.Name):
            opened = _opens_for(node)
            info.effects.add(opened)
            if opened == "write":  # (``joblib.dump(model, open("model.p", "wb"))``: that file)
                info.mutates.update(f"<file:{path}>" for path in _paths(ast.Call(node.func, node.args[:1], [])))
        elif name in READ_CALLS or name.startswith("fetch_") or (
                name.startswith("load_") and name != "load_state_dict"):
            info.effects.add("read")
        elif name in WRITE_CALLS and not (name == "write" and not _writes_a_file(node)):
            info.effects.add("savefig" if name in FIGURE_FILES else "write")
            info.mutates.update(f"<file:{path}>" for path in _paths(node))
        if name in SEED_CALLS:
            info.mutates.add(RNG)
        elif draws_globally(node) and not own_seed(node):
            info.reads.add(RNG)  # a draw: it depends on the seed before it (see build_graph)
        if is_plot_call(node, aliases):
            info.effects.add("plot")
            info.mutates.add(FIGURE)
            if name in {"figure", "subplots", "subplot", "FacetGrid", "PairGrid", "JointGrid"}:
                info.binds.add(FIGURE)
    if isinstance(user_functions, Functions):
        for name in _functions_passed_on(statement, user_functions):  # ``df.a.apply(scale)``: apply calls it
            reads, changes = user_functions.outside(name)
            info.reads |= reads | changes
            info.mutates |= changes
            columns.used_whole(reads | changes)
    for node in _walk_own_scope(statement):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _FILE_LIKE.match(node.value):
            info.reads.add(f"<file:{node.value}>")
        elif isinstance(node, ast.Call) and info.effects & {"read"}:
            info.reads.update(f"<file:{path}>" for path in _paths(node))
    if "plot" in info.effects:
        info.reads.add(FIGURE)
    columns.used_whole(info.mutates - set(columns.writes))  # changed some other way (inplace=True, a call)
    info.columns = columns
    if is_setup(statement, aliases):
        info.effects.add("setup")
        if _configures_results(statement, aliases):
            info.mutates.add(CONFIG)
    inert, kind = is_inert(statement, aliases, user_functions)
    if "setup" in info.effects:
        inert = False  # os.environ[...], sys.path, matplotlib.use, warnings: change what runs after
    info.inert = inert
    if inert and kind == "display" and _sets_display_options(statement, aliases):
        info.mutates.clear()  # ``pd.options.display.max_rows = 100``: how values show, not what they are
    if inert:
        info.effects.add(kind)
        if kind == "plot" and "write" in info.effects:  # a file opened only for a figure
            info.effects.discard("write")
            info.effects.add("savefig")
    return info


# class -> the fields of its statements that hold nested statements (none for most: simple
# statements, and the definitions whose bodies are their own)
_NESTING_FIELDS: dict[type, tuple[str, ...]] = {}


def nested_statements(statement: ast.stmt) -> list[ast.stmt]:
    """Statements inside a compound statement, not inside the functions or classes it defines."""
    found: list[ast.stmt] = []
    fields = _NESTING_FIELDS.get(statement.__class__)
    if fields is None:
        fields = _NESTING_FIELDS[statement.__class__] = () if isinstance(
            statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else tuple(
            name for name in ("body", "orelse", "finalbody", "handlers", "cases") if name in statement._fields)
    for name in fields:
        for child in getattr(statement, name, None) or []:
            if isinstance(child, (ast.ExceptHandler, getattr(ast, "match_case", ast.ExceptHandler))):
                for inner in child.body:  # type: ignore[union-attr]
                    found += [inner, *nested_statements(inner)]
            elif isinstance(child, ast.stmt):
                found += [child, *nested_statements(child)]
    return found


def nested_plots(nested: Sequence[ast.stmt], aliases: Aliases, user_functions: set[str]) -> list[ast.stmt]:
    """The plotting statements among the simple statements nested in a kept compound statement or
    helper that no other simple statement there reads: run() drops them."""
    plots = [s for s in nested
             if not getattr(s, "body", None) and is_inert(s, aliases, user_functions) == (True, "plot")]
    dropped = {id(s) for s in plots}
    bound = {n for s in plots for n in bound_names(s)}
    needed = {n for s in nested if not getattr(s, "body", None) and id(s) not in dropped
              for n in loaded_names(s)} & bound
    return [s for s in plots if not set(bound_names(s)) & needed]


def plot_only_reads(statement: ast.stmt, aliases: Aliases, user_functions: set[str]) -> set[str]:
    """The names a compound statement reads only in the plots nested in it that run() drops
    (:func:`nested_plots`): ``axes`` of ``for k in ks: model.fit(...); axes[k].plot(...)``. Kept
    for its fits, the statement needs no figure made for those plots."""
    if not getattr(statement, "body", None) or isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                      ast.ClassDef)):
        return set()
    plots = nested_plots(nested_statements(statement), aliases, user_functions)
    inside = {id(n) for p in plots for n in walk(p)}
    elsewhere = {n.id for n in walk(statement) if isinstance(n, ast.Name) and id(n) not in inside}
    return {n.id for p in plots for n in walk(p) if isinstance(n, ast.Name)} - elsewhere


def without_statements(statement: ast.stmt, dropped: Sequence[ast.stmt]) -> ast.stmt:
    """A copy of ``statement`` without the statements of ``dropped`` nested in it
    (:func:`~mlpack_cli.notebook.statements.drop_nested`); the statement itself when none of them is."""
    if not dropped or not getattr(statement, "body", None):
        return statement
    inside = {id(s) for s in nested_statements(statement)}
    if not inside.intersection(id(s) for s in dropped):
        return statement
    memo: dict[int, object] = {}
    pruned = copy.deepcopy(statement, memo)
    drop = {id(memo[id(s)]) for s in dropped if id(s) in inside}
    drop_nested(pruned, lambda s: id(s) in drop)
    return pruned


def _aliases_made(statement: ast.stmt) -> list[tuple[str, str]]:
    """(new name, name) pairs a plain assignment binds to one object: ``X = df``, ``a, b = c, d``,
    a slice of an array, which is a view of its data (``bmi = X[:, 2]``: ``bmi *= 10`` changes
    ``X``), and a list, tuple, set or dict of names, which holds their objects (``full = [train,
    test]``: what changes an item of ``full`` changes ``train`` or ``test``)."""
    if not isinstance(statement, ast.Assign):
        return []
    pairs: list[tuple[str, str]] = []
    for target in statement.targets:
        value = statement.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Name):
            pairs.append((target.id, value.id))
        elif isinstance(target, ast.Name) and _is_view(value):
            pairs.append((target.id, value.value.id))  # type: ignore[attr-defined]
        elif isinstance(target, ast.Name) and isinstance(value, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            items = value.values if isinstance(value, ast.Dict) else value.elts
            pairs += [(target.id, item.id) for item in items if isinstance(item, ast.Name)]
        elif (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
              and len(target.elts) == len(value.elts)):
            pairs += [(t.id, v.id) for t, v in zip(target.elts, value.elts)
                      if isinstance(t, ast.Name) and isinstance(v, ast.Name)]
    return [(t, v) for t, v in pairs if t != v]


def _columns_through(info: Statement, through: Mapping[str, set[str]]) -> None:
    """A name changed only through others, each of which only gets columns of literal keys
    (``X = df; X['ratio'] = ...``), gets those columns: a reader of its other columns owes the
    statement nothing. The record's Columns is replaced, never changed: records share it."""
    columns = info.columns
    if columns is None or not through:
        return
    written = {other: set().union(*(columns.writes[n] for n in names)) for other, names in through.items()
               if other not in info.mutates and all(n in columns.writes for n in names)}
    if written:
        info.columns = copy.copy(columns)
        info.columns.writes = {**columns.writes, **written}


def _loop_items(statement: ast.stmt, same: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The names a statement's loop variables (of ``for`` loops and comprehensions in it) may be
    bound to the objects of: every name the iterated expression reads, and the names bound to the
    same objects as those (``for name, d in frames.items()``: the frames ``frames`` holds)."""
    found: dict[str, set[str]] = {}
    for node in _walk_own_scope(statement):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            sources = {n.id for n in walk(node.iter) if isinstance(n, ast.Name)}
            sources |= {other for name in sources for other in same.get(name, ())}
            for target in walk(node.target):
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, set()).update(sources - {target.id})
    return found


def _is_view(value: ast.expr) -> bool:
    """``X[:, 2]``, ``X[10:]``, ``X[..., 0]``: basic slicing of a name, which numpy answers with a
    view (a column by its name, ``df['bmi']``, or a selection by a list or mask copies)."""
    if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
        return False
    parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
    parts = [p.operand if isinstance(p, ast.UnaryOp) and isinstance(p.op, ast.USub) else p for p in parts]
    basic = all(isinstance(p, ast.Slice) or isinstance(p, ast.Constant) and (
        isinstance(p.value, int) or p.value is Ellipsis) for p in parts)
    return basic and any(isinstance(p, ast.Slice) or len(parts) > 1 for p in parts)


_FILE_LIKE = re.compile(r"^[\w./\\~-]*\.\w{1,8}$")


def _paths(call: ast.Call) -> list[str]:
    """The files a call names: literal paths, or the names of variables holding them (``$NAME``)."""
    values = [*call.args, *[k.value for k in call.keywords if k.arg in {"fname", "path", "filename", "path_or_buf"}]]
    found = [v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)
             and _FILE_LIKE.match(v.value)]
    return found + [f"${v.id}" for v in values if isinstance(v, ast.Name)]


def _writes_a_file(call: ast.Call) -> bool:
    return root_name(call.func) not in {"sys"}


# id -> (statement, what it was described with, its description per renaming): a notebook is
# placed several times (versioned names), each statement under a few renamings, most of them
# the same from one placement to the next
_DESCRIBED: dict[int, tuple[ast.stmt, tuple[object, ...], dict[tuple[tuple[str, str], ...], Statement]]] = {}
# id(aliases) -> (aliases, user functions, helper reads, the names their answers depend on)
_SPECIAL: dict[int, tuple[Aliases, set[str], Mapping[str, Sequence[str]], frozenset[str]]] = {}


def _described(statement: ast.stmt, index: int, cell: int, aliases: Aliases, user_functions: set[str],
               helper_reads: Mapping[str, Sequence[str]]) -> Statement:
    """:func:`describe`, once per statement and renaming (:data:`~mlpack_cli.notebook.versions.RENAMED`,
    the only change a statement sees between placements); a fresh copy each time, as callers add to
    it, sharing the :attr:`Statement.facts` of that statement and renaming. Under a second renaming
    the first description is renamed instead (:func:`_translated`) where that is the same answer."""
    renamed = getattr(statement, RENAMED, None) or {}
    renaming = tuple(sorted(renamed.items()))
    context = (aliases, user_functions, helper_reads)
    cached = _DESCRIBED.get(id(statement))
    if cached is None or cached[0] is not statement or any(a is not b for a, b in zip(cached[1], context)):
        cached = _DESCRIBED[id(statement)] = (statement, context, {})
    info = cached[2].get(renaming)
    if info is None:
        earlier = next(iter(cached[2].items()), None)
        if earlier is not None:
            info = _translated(*earlier, renamed, statement, _special_names(aliases, user_functions, helper_reads))
        if info is None:
            info = describe(statement, index, cell, aliases, user_functions, helper_reads)
        cached[2][renaming] = info
    return Statement(index, cell, statement, reads=set(info.reads), binds=set(info.binds),
                     mutates=set(info.mutates), calls=list(info.calls), effects=set(info.effects),
                     inert=info.inert, columns=info.columns, facts=info.facts, cloned=info.cloned,
                     refitted=info.refitted)


def _special_names(aliases: Aliases, user_functions: set[str],
                   helper_reads: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """Every name :func:`describe` answers for by what it is (a builtin, a plotting module or
    object, an import, a function of the notebook, a helper's global), not only by where it occurs."""
    cached = _SPECIAL.get(id(aliases))
    if cached is not None and cached[0] is aliases and cached[1] is user_functions and cached[2] is helper_reads:
        return cached[3]
    names = {*BUILTINS, *aliases.modules, *aliases.functions, *aliases.objects, *aliases.imported, *aliases.origins,
             *aliases.foreign, *user_functions, *helper_reads, *(n for v in helper_reads.values() for n in v)}
    if isinstance(user_functions, Functions):
        names |= user_functions.names_involved()
    special = frozenset(names)
    _SPECIAL.clear()  # (one notebook's context at a time)
    _SPECIAL[id(aliases)] = (aliases, user_functions, helper_reads, special)
    return special


def _translated(renaming: tuple[tuple[str, str], ...], info: Statement, renamed: Mapping[str, str],
                statement: ast.stmt, special: frozenset[str]) -> Statement | None:
    """``info``, the description of ``statement`` under ``renaming``, with its names changed to
    those of ``renamed``: the description :func:`describe` gives of the statement renamed so. The
    renamings are one-to-one onto fresh names and describe treats every other name alike, so this
    holds unless a name that changes is one it treats by what it is (``special``) or is called by
    name (its calls list the name): then None, and the statement is described again."""
    before = dict(renaming)
    change = {before.get(name, name): renamed.get(name, name) for name in {*before, *renamed}}
    change = {old: new for old, new in change.items() if old != new}
    if not change:
        return info
    if any(name in special for name in (*change, *change.values())) or any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in change.values()
            for n in walk(statement)):
        return None

    def names(found: Iterable[str]) -> set[str]:
        return {_renamed_name(name, change) for name in found}

    columns = info.columns
    if columns is not None:
        columns = Columns(
            reads={change.get(k, k): set(v) for k, v in columns.reads.items()},
            refs={change.get(k, k): names(v) for k, v in columns.refs.items()},
            attributes={change.get(k, k): set(v) for k, v in columns.attributes.items()},
            writes={change.get(k, k): set(v) for k, v in columns.writes.items()},
            keys=set(columns.keys),
        )
    return Statement(info.index, info.cell, statement, reads=names(info.reads), binds=names(info.binds),
                     mutates=names(info.mutates), calls=list(info.calls), effects=set(info.effects),
                     inert=info.inert, columns=columns, cloned=frozenset(names(set(info.cloned))),
                     refitted=frozenset(names(set(info.refitted))))


def _renamed_name(name: str, change: Mapping[str, str]) -> str:
    """A name of a description renamed: a variable, or the variable a file path is held in."""
    if name.startswith("<file:$") and name.endswith(">"):
        return f"<file:${change.get(name[7:-1], name[7:-1])}>"
    return change.get(name, name)


# Objects that draw no random numbers of their own (wrappers and deterministic transformers):
# seeded when what they wrap is.
_NOT_RANDOM_OBJECTS = re.compile(
    r"^(GridSearchCV|Pipeline|make_pipeline|make_union|FeatureUnion|ColumnTransformer|make_column_transformer|"
    r"OneVsRestClassifier|OneVsOneClassifier|MultiOutputClassifier|MultiOutputRegressor|VotingClassifier|"
    r"VotingRegressor|TransformedTargetRegressor|\w*Scaler|\w*Encoder|SimpleImputer|\w*Vectorizer|"
    r"PolynomialFeatures|Binarizer|Normalizer|LinearRegression|FunctionTransformer|"
    # statsmodels' regressions fit by least squares or likelihood, with no random numbers
    r"ols|wls|gls|glm|logit|probit|poisson|quantreg|mnlogit|OLS|WLS|GLS|GLM|Logit|Probit|Poisson|QuantReg|MNLogit)$"
)


def draws_globally(call: ast.Call) -> bool:
    """Whether a call, by its name, draws from a global generator (unless it has a seed of its own)."""
    name = call_name(call)
    return (name in RANDOM_USERS or name in FUNCTION_DRAWS and isinstance(call.func, ast.Name)
            or name.startswith("make_") and name not in _MAKE_NOT_RANDOM)


def _draws(node: ast.AST) -> bool:
    """A call that draws from the global generator (``np.random.randint(n)``), inside a function of
    the notebook: a call of that function draws too, so it stays after the seed before it."""
    if not isinstance(node, ast.Call):
        return False
    return draws_globally(node) and not own_seed(node)


# Estimators whose fit draws random numbers (from numpy's global generator when given no
# random_state): a fit without a seed gives another model each run.
_RANDOM_ESTIMATORS = re.compile(
    r"^(RandomForest|ExtraTrees?|GradientBoosting|HistGradientBoosting|DecisionTree|SGD|MLP|KMeans|"
    r"MiniBatchKMeans|Bagging|AdaBoost|IsolationForest|TSNE|RandomizedSearchCV|RandomTreesEmbedding|"
    r"Perceptron|PassiveAggressive|GaussianMixture|BayesianGaussianMixture|LatentDirichletAllocation|"
    r"SpectralClustering|TruncatedSVD)\w*$")
# Estimators that draw only when a setting asks for it: SVC's probability=True fits its Platt
# scaling on shuffled folds (sklearn: random_state "ignored when probability is False").
_RANDOM_WHEN = {"SVC": "probability", "NuSVC": "probability"}
_GLOBAL_DRAWS = frozenset({
    "rand", "randn", "randint", "random", "random_sample", "choice", "permutation", "shuffle", "normal",
    "uniform", "sample", "binomial", "poisson", "exponential", "gauss", "randrange", "standard_normal",
})


def own_calls(statement: ast.stmt) -> list[ast.Call]:
    """The calls a statement makes when it runs (not those in the bodies of what it defines)."""
    return [n for n in _walk_own_scope(statement) if isinstance(n, ast.Call)]


def unseeded_draw(call: ast.Call) -> bool:
    """A call that surely draws different random numbers on each run unless a generator is seeded
    first: ``train_test_split(X, y)``, ``np.random.rand(3)``, ``random.choice(xs)``,
    ``df.sample(frac=1)``, ``RandomForestClassifier()``, ``KFold(5, shuffle=True)`` and
    ``SVC(probability=True)`` without a ``random_state``. (:func:`draws_globally` is wider: it
    orders whatever may draw.)"""
    keywords = {k.arg: k.value for k in call.keywords}
    given = [keywords[k] for k in ("random_state", "seed") if k in keywords]
    if any(not (isinstance(value, ast.Constant) and value.value is None) for value in given):
        return False  # a seed of its own (random_state=None is none)
    name = call_name(call)
    shuffled = keywords.get("shuffle")
    if name == "train_test_split":
        return not (isinstance(shuffled, ast.Constant) and shuffled.value is False)
    if name in {"KFold", "StratifiedKFold", "GroupKFold"}:
        return isinstance(shuffled, ast.Constant) and shuffled.value is True
    if name in _RANDOM_WHEN:
        setting = keywords.get(_RANDOM_WHEN[name])
        return isinstance(setting, ast.Constant) and setting.value is True
    if isinstance(call.func, ast.Name):
        return bool(_RANDOM_ESTIMATORS.match(name))
    if isinstance(call.func, ast.Attribute):
        receiver = _dotted(call.func.value)
        if receiver in {"np.random", "numpy.random", "random"}:
            return name in _GLOBAL_DRAWS
        return name == "sample" and bool(receiver) and not receiver.endswith("random") \
            or bool(_RANDOM_ESTIMATORS.match(name))
    return False


def own_seed(call: ast.Call, seeds: Container[str] = frozenset()) -> bool:
    """Whether a call draws from a generator of its own: ``random_state=42`` (an integer, or a name
    of ``seeds``, the notebook's names only ever bound to one) on the call itself, or on every object
    it wraps (``GridSearchCV(DecisionTreeClassifier(random_state=42), ...)``), never from the global
    one a ``seed()`` sets."""
    for keyword in call.keywords:
        if keyword.arg == "random_state":
            value = keyword.value
            return isinstance(value, ast.Constant) and isinstance(value.value, int) and \
                not isinstance(value.value, bool) or isinstance(value, ast.Name) and value.id in seeds
    if not _NOT_RANDOM_OBJECTS.match(call_name(call)):
        return False
    inner = [n for n in calls_in(call) if n is not call and call_name(n)[:1].isupper()]
    return all(own_seed(n, seeds) or _NOT_RANDOM_OBJECTS.match(call_name(n)) for n in inner)


class _Later:
    """A set of names worked out when first asked for: most notebooks never ask."""

    def __init__(self, compute: Callable[[], set[str]]) -> None:
        self._compute = compute
        self._names: set[str] | None = None

    def __contains__(self, name: object) -> bool:
        if self._names is None:
            self._names = self._compute()
        return name in self._names


def integer_names(statements: Iterable[ast.stmt]) -> set[str]:
    """Names every assignment of ``statements`` binds to an integer literal, and nothing else binds
    (``SEED = 42``): a ``random_state=SEED`` is a seed of the call's own."""
    ints: set[str] = set()
    other: set[str] = set()
    for statement in statements:
        for node in walk(statement):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.NamedExpr)) else []
            literal = isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                type(node.value.value) is int
            for target in targets:
                for name in walk(target):
                    if isinstance(name, ast.Name):
                        (ints if literal and isinstance(target, ast.Name) else other).add(name.id)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                other.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                other.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                other.update(n.id for item in node.items if item.optional_vars is not None
                             for n in walk(item.optional_vars) if isinstance(n, ast.Name))
    return ints - other


# Calls that return a one-pass iterator: looping over it (or over part of it) uses it up.
_ITERATOR_CALLS = frozenset({"iter", "map", "filter", "zip", "enumerate", "reversed", "reader", "DictReader",
                             "islice", "chain", "iterrows", "itertuples"})


def _consumed_iterators(infos: Sequence[Statement], user_functions: set[str]) -> None:
    """A ``for`` over a name bound to an iterator (``stream = iter(rows)``, ``batches = gen(100)``
    of a generator function of the notebook) moves it on: the loop changes that name, so a peek
    (``for x in stream: print(x); break``) is kept when a later statement reads the iterator."""
    definitions = [info.node for info in infos] + list(getattr(user_functions, "definitions", {}).values())
    generators = {d.name for d in definitions if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and _is_generator(d)}
    iterators: set[str] = set()
    for info in infos:
        node = info.node
        if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.iter, ast.Name) and node.iter.id in iterators:
            info.mutates.add(node.iter.id)
            info.reads.add(node.iter.id)
        consumed = _consumed_in(node, iterators) if iterators else set()
        info.mutates |= consumed
        info.reads |= consumed
        for name in info.binds:
            iterators.discard(name)
        value = node.value if isinstance(node, ast.Assign) else None
        made = isinstance(value, ast.Call) and (call_name(value) in _ITERATOR_CALLS or isinstance(
            value.func, ast.Name) and value.func.id in generators)
        if isinstance(value, ast.GeneratorExp) or made:
            iterators |= {t.id for t in node.targets if isinstance(t, ast.Name)}  # type: ignore[attr-defined]


# Calls that read an iterable to its end (or up to an answer): given a one-pass iterator, they use it up.
_CONSUMING_CALLS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "sum", "max", "min", "any", "all",
                              "dict", "join", "Counter", "deque", "array", "Series", "DataFrame"})


def _consumed_in(statement: ast.stmt, iterators: set[str]) -> set[str]:
    """The one-pass iterators a statement uses up: ``list(cols)``, ``sum(g)``, ``[c for c in cols]``
    (a generator expression bound to a name, ``zip(...)``, ``map(...)`` is empty afterwards)."""
    found: set[str] = set()
    for node in _walk_own_scope(statement):
        if isinstance(node, ast.Call) and call_name(node) in _CONSUMING_CALLS:
            found.update(a.id for a in node.args[:1] if isinstance(a, ast.Name) and a.id in iterators)
        elif isinstance(node, ast.comprehension) and isinstance(node.iter, ast.Name) and node.iter.id in iterators:
            found.add(node.iter.id)
    return found


def _is_generator(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function's own body yields (once per definition: the notebook is placed several times)."""
    cached = _GENERATOR.get(id(definition))
    if cached is None or cached[0] is not definition:
        cached = _GENERATOR[id(definition)] = (definition, any(
            isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _walk_own_body(definition)))
    return cached[1]


_GENERATOR: dict[int, tuple[ast.stmt, bool]] = {}  # id -> (definition, whether it yields), like _OWN_SCOPE


def _walk_own_body(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, not of the functions and classes defined in it."""
    found: list[ast.AST] = list(definition.body)
    for node in found:  # grows as it is read
        found += [child for child in ast.iter_child_nodes(node) if not isinstance(child, _SCOPES)]
    return found


def _forget_seeded_draws(infos: Sequence[Statement], seeds: Container[str] = frozenset(),
                         user_functions: set[str] | frozenset[str] = frozenset()) -> None:
    """A fit of an object built with its own seed (``tree = DecisionTreeClassifier(random_state=42)``,
    then ``tree.fit(X, y)``) draws nothing from the global generator: it does not read it. Nor does
    a draw seeded by a name of ``seeds`` (``df.sample(300, random_state=SEED)``) in a statement that
    calls no function of the notebook (which may draw)."""
    seeded: set[str] = set()
    for info in infos:
        node = info.node
        if RNG in info.reads and RNG not in info.mutates:
            calls = [c for c in _walk_own_scope(node) if isinstance(c, ast.Call)]
            draws = [c for c in calls if draws_globally(c) and not own_seed(c, seeds)]
            if not draws and any(draws_globally(c) and not own_seed(c) for c in calls) and not any(
                    isinstance(c.func, ast.Name) and c.func.id in user_functions for c in calls):
                info.reads.discard(RNG)
            elif draws and all(isinstance(c.func, ast.Attribute) and (
                    isinstance(c.func.value, ast.Name) and c.func.value.id in seeded
                    or isinstance(c.func.value, ast.Call) and own_seed(c.func.value, seeds)) for c in draws):
                info.reads.discard(RNG)
        seeded -= info.binds
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and own_seed(node.value, seeds):
            seeded |= {t.id for t in node.targets if isinstance(t, ast.Name)}


def _loop_scratch(infos: Sequence[Statement], user_functions: set[str]) -> dict[int, set[str]]:
    """Names a loop binds afresh in each pass before it reads them (``y_pred = model(X_batch)``,
    ``with tf.GradientTape() as tape``) and that a later statement binds again before anything
    reads them: the loop's scratch. It changes nothing an earlier statement made or read, so it has no
    dependency on those through them (later statements still depend on it). Index -> names."""
    globals_read = {n for f in user_functions if isinstance(user_functions, Functions) for n in
                    user_functions.outside(f)[0] | user_functions.outside(f)[1]}
    found: dict[int, set[str]] = {}
    for position, info in enumerate(infos):
        node = info.node
        if not isinstance(node, (ast.For, ast.AsyncFor, ast.While)) or node.orelse:
            continue
        names = _bound_before_read(node.body, set()) & info.binds - globals_read
        names -= {n for n in names if n.startswith("<")}
        pending, safe = set(names), set()
        for later in infos[position + 1:]:
            if not pending:
                break
            pending -= later.reads  # read after the loop (or changed in place): its value matters
            safe |= pending & later.binds  # bound afresh first: the loop's value is never read
            pending -= later.binds
        names = safe  # never bound again, the loop's last value is the notebook's: a result, kept in order
        if names:
            found[info.index] = names
    return found


def _loop_fresh(infos: Sequence[Statement]) -> dict[int, set[str]]:
    """Names a loop binds afresh in each pass before it reads them (``with tf.GradientTape() as
    tape``): the loop never reads the value an earlier statement left in them, so it does not need
    that statement (it still comes after it, see :func:`_loop_scratch`). Index -> names."""
    found: dict[int, set[str]] = {}
    for info in infos:
        node = info.node
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and not node.orelse:
            head = node.test if isinstance(node, ast.While) else node.iter  # read before any pass
            names = {n for n in _bound_before_read(node.body, set()) & info.binds if not n.startswith("<")}
            names -= loaded_names_of(head)
            if names:
                found[info.index] = names
    return found


def _bound_before_read(body: Sequence[ast.stmt], bound: set[str]) -> set[str]:
    """Names each pass of ``body`` binds before any read of them: plain assignments at its top
    level, ``with ... as`` targets, and what an inner loop binds so (its pass included) when
    nothing after that loop in ``body`` reads it; a name read before its binding is not one."""
    bound, spoiled, local = _binds_first(body, set(bound))
    return (bound | local) - spoiled


def _binds_first(body: Sequence[ast.stmt], bound: set[str]) -> tuple[set[str], set[str], set[str]]:
    spoiled: set[str] = set()
    local: set[str] = set()  # bound only inside an inner loop: not bound for what follows it
    for statement in body:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            spoiled |= {n for item in statement.items for n in loaded_names_of(item.context_expr)} - bound
            bound = bound | {n.id for item in statement.items if item.optional_vars is not None
                             for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
            bound, inner, more = _binds_first(statement.body, bound)
            spoiled |= inner
            local |= more
            continue
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)) and not statement.orelse:
            head = statement.iter if isinstance(statement, (ast.For, ast.AsyncFor)) else statement.test
            spoiled |= loaded_names_of(head) - bound
            targets = {n.id for n in ast.walk(statement.target) if isinstance(n, ast.Name)} \
                if isinstance(statement, (ast.For, ast.AsyncFor)) else set()
            inner_bound, inner, more = _binds_first(statement.body, bound | targets)
            spoiled |= inner
            local |= (inner_bound | more) - bound
            continue
        spoiled |= set(analyze([statement]).reads) - bound
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets_ = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            bound = bound | {t.id for t in targets_ if isinstance(t, ast.Name)}
    return bound, spoiled, local


def loaded_names_of(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def build_graph(statements: Sequence[tuple[int, ast.stmt]], aliases: Aliases, user_functions: set[str],
                helper_reads: Mapping[str, Sequence[str]], constants: Sequence[ast.stmt] = ()) -> list[Statement]:
    """Describe every statement (cell number, node) and link it to the earlier ones it depends on.
    ``constants``: the module constants (bound once, before every statement), for the literal
    column lists they may hold."""
    infos = [_described(node, index, cell, aliases, user_functions, helper_reads)
             for index, (cell, node) in enumerate(statements)]
    known = _known_columns(infos, constants)
    literal_lists = {name: keys for statement in constants for name, keys in [_literal_list(statement)]
                     if name and keys}
    column_reads: dict[tuple[int, str], set[str]] = {}  # (index, name) -> the columns it reads of name
    _forget_seeded_draws(infos, _Later(lambda: integer_names([*constants, *(info.node for info in infos)])),
                         user_functions)
    _consumed_iterators(infos, user_functions)
    _write_handles(infos)
    if any(CONFIG in info.mutates for info in infos):
        for info in infos:  # what a library's calls return depends on its configuration at the time
            if CONFIG not in info.mutates and _computes(info.node, aliases):
                info.reads.add(CONFIG)
    scratch = _loop_scratch(infos, user_functions)
    fresh = _loop_fresh(infos)
    resets = _seed_resets(infos, aliases)
    if any(RNG in info.mutates for info in infos):
        # A seeded global generator: each draw advances it, so the draws after a seed keep their
        # order (moving one before another would change both values); unseeded, none is fixed.
        for info in infos:
            if RNG in info.reads:
                info.mutates.add(RNG)
    writers: dict[str, list[int]] = {}  # name -> the last binder and the mutators since
    readers: dict[str, list[int]] = {}  # name -> readers since the last write
    same: dict[str, set[str]] = {}  # name -> the other names bound to the same object (``X = df``)
    for info in infos:
        # ``bmi *= 10`` changes an array in place: the names bound to the same object see it too
        in_place = {info.node.target.id} if isinstance(info.node, ast.AugAssign) and isinstance(
            info.node.target, ast.Name) else set()
        # ``for d in [train, test]: d['t'] = ...`` changes train and test through its loop variable
        # (only a loop variable can be changed here: a name it binds or, in a comprehension, none bound before)
        items = _loop_items(info.node, same) if info.mutates & info.binds or info.mutates - writers.keys() else {}
        through: dict[str, set[str]] = {}  # a name changed through others bound to its object
        for name in info.mutates | in_place:
            for other in (same.get(name, set()) | items.get(name, set())) - info.binds:
                through.setdefault(other, set()).add(name)
        _columns_through(info, through)
        info.mutates |= set(through)  # changing df in place changes X
        info.reads |= set(through)
        for name in info.binds - in_place:  # rebound: no longer the same object as the others
            for other in same.pop(name, ()):
                same.get(other, set()).discard(name)
        made: dict[str, set[str]] = {}
        for target, source in _aliases_made(info.node):
            made.setdefault(target, set()).update({source, *same.get(source, ())} - {target})
        for target, group in made.items():
            for name in group:
                same.setdefault(name, set()).add(target)
            same[target] = group
        for name in info.reads:
            found = writers.get(name, ())
            mine = _columns_read(info, name, infos, writers, literal_lists, known)
            if mine is not None:  # a writer of other columns of the frame changed nothing it reads
                column_reads[(info.index, name)] = mine
                found = [w for w in found if not disjoint(_columns_written(infos[w], name), mine)]
            if name not in fresh.get(info.index, ()):
                info.flow.update(found)
            info.deps.update(found)
        for name in info.writes - scratch.get(info.index, set()):
            written = _columns_written(info, name)
            info.deps.update(r for r in readers.get(name, ()) if not disjoint(column_reads.get((r, name)), written)
                             and not (name in info.refitted and name in infos[r].cloned))
            info.deps.update(writers.get(name, ()))
        info.deps.discard(info.index)
        info.flow.discard(info.index)
        for name in info.reads - {RNG}:  # a seed orders the draws after it, not those before
            readers.setdefault(name, []).append(info.index)
        for name in info.mutates - info.binds:
            writers.setdefault(name, []).append(info.index)
            if _columns_written(info, name) is None:
                readers[name] = []  # (a writer of some columns leaves the readers of others unordered)
        for name in info.binds:
            writers[name] = [info.index]
            readers[name] = []
        if info.index in resets:  # every generator seeded again: later draws owe nothing to earlier ones
            writers[RNG] = list(resets[info.index])
    return infos


def _write_handles(infos: Sequence[Statement]) -> None:
    """``f = open("model.pkl", "wb")``, then ``pickle.dump(model, f)`` and ``f.close()``: every
    statement using a handle opened for writing writes its file (closing it is what puts the last
    bytes there), so it is kept with the file and ordered with what reads the file back."""
    handles: dict[str, set[str]] = {}  # name -> the files it was opened to write
    for info in infos:
        node = info.node
        used = info.reads & handles.keys()
        if used:
            info.effects.add("write")
            info.mutates.update(*(handles[name] for name in used))
            info.inert = False  # (``print(row, file=f)`` writes the file: no display)
        for name in info.binds:
            handles.pop(name, None)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and call_name(node.value) == "open" \
                and isinstance(node.value.func, ast.Name) and _opens_for(node.value) == "write":
            files = {name for name in info.mutates if name.startswith("<file:")}
            handles.update((target.id, files) for target in node.targets if isinstance(target, ast.Name))


def _columns_written(info: Statement, name: str) -> set[str] | None:
    """The columns of ``name`` a statement writes, when it writes only columns of a literal key."""
    columns = info.columns
    if columns is None or name in info.binds or name not in columns.writes:
        return None
    return columns.writes[name]


def _columns_read(info: Statement, name: str, infos: Sequence[Statement], writers: Mapping[str, list[int]],
                  literal_lists: Mapping[str, set[str]], known: set[str]) -> set[str] | None:
    """The columns of ``name`` a statement reads (None: the whole). ``df[cols]`` reads the literal
    list the statement bound to ``cols`` before it (and nothing changed since) holds; ``df.a``
    reads column ``a`` when the notebook names ``a`` as a column elsewhere."""
    columns = info.columns
    if columns is None or name not in columns.reads or name in info.binds:
        return None
    found = set(columns.reads[name])
    for ref in columns.refs.get(name, ()):
        sources = writers.get(ref)
        if sources is None:
            keys = literal_lists.get(ref)
        elif len(sources) == 1:
            keys = _literal_list(infos[sources[0]].node)[1] if ref in infos[sources[0]].binds else None
        else:
            keys = None
        if keys is None:
            return None
        found |= keys
    attributes = columns.attributes.get(name, set())
    if not attributes <= known:
        return None
    return found | attributes


def _literal_list(statement: ast.stmt) -> tuple[str | None, set[str] | None]:
    """(name, keys) of ``name = ['a', 'b']``: a list of column names; (None, None) otherwise."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.List)):
        return None, None
    keys = [e.value for e in statement.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if not keys or len(keys) < len(statement.value.elts) or any(not k or k[0].isdigit() for k in keys):
        return None, None
    return statement.targets[0].id, set(keys)


def _known_columns(infos: Sequence[Statement], constants: Sequence[ast.stmt]) -> set[str]:
    """Strings the notebook uses as column keys (in subscripts, formulas and the literal lists it
    selects columns with): ``df.a`` is a column when ``a`` is one of them."""
    known: set[str] = set()
    refs: set[str] = set()
    for info in infos:
        if info.columns is not None:
            known |= info.columns.keys
            refs |= {ref for names in info.columns.refs.values() for ref in names}
    for statement in [*constants, *(info.node for info in infos)]:
        name, keys = _literal_list(statement)
        if name in refs and keys:
            known |= keys
    return known


# The global random generators a notebook may draw from, by the top-level module that seeds them.
_GENERATOR_OF = {"numpy": "numpy", "tensorflow": "tensorflow", "keras": "tensorflow", "torch": "torch",
                 "random": "random"}
# Seed helpers of frameworks that seed Python's, numpy's and their backend's generators at once.
_SEEDS_ALL = frozenset({"set_random_seed", "seed_everything"})
_SEEDING_FRAMEWORKS = frozenset({"transformers", "lightning", "pytorch_lightning", "accelerate"})


def _seeded_generators(statement: ast.stmt, aliases: Aliases) -> set[str] | None:
    """The generators a seed statement (``np.random.seed(42)``, ``tf.random.set_seed(42)``)
    seeds; None for any other statement."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return None
    call = statement.value
    name = call_name(call)
    if name not in SEED_CALLS and name not in _SEEDS_ALL:
        return None
    origin = aliases.origins.get(root_name(call.func) or "", "")
    if name in _SEEDS_ALL or origin in _SEEDING_FRAMEWORKS:
        return set(_GENERATOR_OF.values())
    return {_GENERATOR_OF[origin]} if origin in _GENERATOR_OF else set()


def _seed_resets(infos: Sequence[Statement], aliases: Aliases) -> dict[int, list[int]]:
    """Seeds that together set every global generator the notebook can draw from again (numpy's
    always, since scikit-learn draws from it; TensorFlow's, torch's and Python's ``random`` when the
    notebook imports them), with no draw between them: a draw after them depends on those seeds,
    not on the draws before them. Index of the last seed of such a run -> the run's seeds."""
    wanted = {"numpy"} | {_GENERATOR_OF[o] for o in aliases.origins.values() if o in _GENERATOR_OF}
    found: dict[int, list[int]] = {}
    run: list[int] = []
    covered: set[str] = set()
    for info in infos:
        seeded = _seeded_generators(info.node, aliases)
        if seeded is None:
            if RNG in info.reads or RNG in info.mutates:
                run, covered = [], set()  # a draw between the seeds
            continue
        run.append(info.index)
        covered |= seeded
        if wanted <= covered:
            found[info.index] = list(run)
    return found
