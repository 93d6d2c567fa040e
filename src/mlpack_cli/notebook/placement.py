"""Place statements in stages: evidence from the code first, headings second, then the graph.

1. A cell tag or ``# mlpack:`` directive places every statement of its cell (strongest).
2. What a statement does is its evidence: reads files or datasets (load); splits, encodes, scales,
   derives or cleans (preprocess); builds, fits or searches models (train); predicts, scores,
   cross-validates (evaluate); writes artifacts (export).
3. A statement without such evidence takes its heading's stage (whole words; weaker), else the
   stage of its neighbours in the cell, else of what it prepares, else the stage before it.
4. The order is repaired along the graph: a statement never sits in an earlier stage than one it
   depends on. Evidence moves a statement down when it reads what a later stage made; a statement
   without evidence is placed inside the range its dependencies and dependents leave.

Display, print and plotting statements (and statements under an exploration heading that have no
evidence) are dropped unless a kept statement reads what they bind or mutate.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlpack_cli.notebook import passes
from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.graph import (
    DEFAULT_PLOT_ALIASES, FIGURE, FIGURE_FILES, FS, PLOT_METHODS, RNG, WRITE_CALLS, Aliases, Statement, call_name,
    is_pure_call, is_pure_expression, opens_for, plot_only_reads, root_name,
)
from mlpack_cli.notebook.scopes import calls_in, held_by, loaded_names, walk

LOAD, PREPROCESS, TRAIN, EVALUATE, EXPORT = range(5)
MODEL_BASES = frozenset({"Module", "Model", "Layer", "LightningModule", "BaseEstimator", "Sequential"})

DATASET = re.compile(
    r"^make_(classification|regression|blobs|moons|circles|friedman\d|swiss_roll|s_curve|gaussian_quantiles|"
    r"multilabel_classification|hastie_10_2|low_rank_matrix|sparse_\w+|spd_matrix|biclusters|checkerboard)$"
    r"|^(arma_)?generate_sample$"  # statsmodels' simulated series (``arma_generate_sample(ar, ma, nobs)``)
)
PREPROCESSORS = re.compile(
    r"(Scaler|Encoder|Imputer|Vectorizer|Tokenizer|Transformer|Binarizer|Normalizer|Discretizer|"
    r"PolynomialFeatures|SplineTransformer|PCA|TruncatedSVD|SelectKBest|SelectFromModel|VarianceThreshold|"
    r"SelectPercentile|SelectFpr|SelectFdr|SelectFwe|GenericUnivariateSelect|SequentialFeatureSelector|"
    r"RFE|RFECV|Splitter|KFold|ShuffleSplit|TfidfTransformer|DictVectorizer|Featurizer|Embedding)$"
)
ESTIMATORS = re.compile(
    r"^[A-Z]\w*(Classifier|Regressor|Regression|SVC|SVR|SVM|NB|KMeans|Means|DBSCAN|Clustering|Mixture|"
    r"Forest|Tree|Boost\w*|GBM|Ensemble|Sequential|Model|Net|Network|LSTM|GRU|RNN|CNN|Perceptron|MLP|"
    r"SearchCV|Lasso|LassoCV|Ridge|RidgeCV|ElasticNet|ElasticNetCV|Pipeline|OLS|GLM|ARIMA|SARIMAX|Prophet|"
    r"Neighbors|NeighborsClassifier|Stacking\w*|Voting\w*|Bagging\w*|IsolationForest|OneClassSVM|"
    r"Booster|Trainer|Optimizer|Adam|AdamW|SGD|RMSprop|Adagrad|Estimator|Learner|Loss|Criterion)$"
    r"|^(SVC|SVR|OLS|Sequential|MLPClassifier|MLPRegressor|Lasso|Ridge|ElasticNet|Model|XGBClassifier|"
    r"XGBRegressor|LGBMClassifier|LGBMRegressor|CatBoostClassifier|CatBoostRegressor|Dense|Conv2D|Linear|"
    r"RNN|LSTM|GRU|CNN|MLP|Adam|AdamW|SGD|RMSprop|Adagrad|KMeans)$"
)
PREPROCESS_CALLS = frozenset({
    "train_test_split", "fillna", "dropna", "drop_duplicates", "get_dummies", "fit_transform", "transform",
    "astype", "merge", "concat", "reshape", "apply", "map", "replace", "to_datetime", "cut", "qcut",
    "pad_sequences", "shuffle", "drop", "rename", "interpolate", "clip", "one_hot", "to_categorical",
    "label_binarize", "normalize", "scale", "dummy_na", "factorize", "str", "split", "texts_to_sequences",
    "fit_on_texts", "make_column_transformer", "column_stack", "hstack", "vstack", "stack", "where",
    "log1p", "log", "sqrt", "select_dtypes", "set_index", "reset_index", "sort_values", "pivot_table",
    "groupby", "melt", "explode", "isin", "quantile", "DataLoader", "TensorDataset", "from_tensor_slices",
    "batch", "prefetch", "map_partitions", "to_numpy", "values", "train_test", "StratifiedShuffleSplit",
    "timeseries_dataset_from_array", "from_tensors", "TimeseriesGenerator",
})
TRAIN_CALLS = frozenset({"fit", "partial_fit", "train", "fit_generator", "compile", "backward", "step", "polyfit",
                         "lstsq", "curve_fit", "linear_regression", "linregress", "least_squares", "train_on_batch",
                         "add", "summary_dummy", "fit_predict", "minimize", "zero_grad", "build", "apply_gradients",
                         "lowess"})
# The steps of a training loop: metrics computed in the same statement track the training.
STEP_CALLS = frozenset({"backward", "step", "apply_gradients", "minimize", "zero_grad", "train_on_batch",
                        "partial_fit"})
# Evaluation calls that only predict: predictions alone are no result of the notebook.
PREDICT_CALLS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function", "eval", "test"})
EVALUATE_CALLS = frozenset({
    "predict", "predict_proba", "predict_log_proba", "decision_function", "score", "evaluate",
    "classification_report", "confusion_matrix", "cross_val_score", "cross_validate", "cross_val_predict",
    "learning_curve", "validation_curve", "permutation_importance", "roc_curve", "precision_recall_curve",
    "auc", "evaluate_generator", "test", "eval",
})
EXPORT_CALLS = frozenset({
    "to_csv", "to_parquet", "to_pickle", "to_json", "to_excel", "to_feather", "to_hdf", "to_sql", "dump",
    "save", "save_model", "save_weights", "write_text", "write_bytes", "savez", "savez_compressed", "savetxt",
    "save_pretrained", "to_file", "imsave", "imwrite",
})
LOAD_CALLS = frozenset({
    "read_csv", "read_excel", "read_parquet", "read_json", "read_table", "read_sql", "read_feather",
    "read_pickle", "read_hdf", "read_fwf", "read_html", "loadtxt", "genfromtxt", "load_data", "load_dataset",
    "imread", "DictReader", "urlretrieve", "fetch_openml", "read_text", "read_bytes", "load", "get_file",
    "image_dataset_from_directory", "text_dataset_from_directory", "flow_from_directory", "ImageFolder",
    "read_sql_query", "urlopen", "extractall", "load_img", "glob", "listdir", "MNIST", "CIFAR10",
    "FashionMNIST", "IMDB",
})
# Data steps specific enough to say what a function of the notebook does (not ``split``, ``map``).
DATA_STEPS = frozenset({
    "train_test_split", "DataLoader", "TensorDataset", "from_tensor_slices", "pad_sequences", "get_dummies",
    "fit_transform", "fit_on_texts", "texts_to_sequences", "to_categorical", "fillna", "dropna",
    "drop_duplicates", "merge", "concat", "label_binarize", "StratifiedShuffleSplit", "make_column_transformer",
})
# The estimator API: these methods change the model they are called on, never the data given to it.
KEEPS_ARGUMENTS = frozenset({"fit", "partial_fit", "fit_transform", "transform", "inverse_transform", "predict",
                             "predict_proba", "predict_log_proba", "decision_function", "score", "fit_predict"})
METRIC_CALLS = frozenset({"score", "evaluate", "cross_val_score", "cross_validate", "classification_report",
                          "confusion_matrix", "auc", "roc_auc_score"})


def builds_a_model(name: str) -> bool:
    """A call of this name makes a model: an estimator's class (``RandomForestClassifier``) or
    ``make_pipeline`` (a ``Pipeline(...)`` may hold preprocessing only: not by its name alone)."""
    return bool(name[:1].isupper() and ESTIMATORS.search(name)) or name == "make_pipeline"


def _pipeline_of_a_model(call: ast.Call) -> bool:
    """``Pipeline([("scaler", StandardScaler()), ("svc", LinearSVC())])``: a pipeline whose steps
    build a model is one (one of preprocessing steps only is not)."""
    return call_name(call) == "Pipeline" and any(
        builds_a_model(call_name(inner)) for inner in calls_in(call) if inner is not call)


# Draws of random numbers: data a notebook generates (``rng.rand(50)``, ``np.random.randn(m, 1)``).
RANDOM_DRAWS = frozenset({
    "rand", "randn", "randint", "random", "random_sample", "normal", "uniform", "choice", "permutation",
    "multivariate_normal", "standard_normal", "binomial", "poisson", "exponential", "beta", "gamma",
    "integers", "laplace", "lognormal", "gauss", "randn_like", "rand_like", "randperm",
})
GENERATORS = frozenset({"RandomState", "default_rng", "Generator", "PRNGKey"})
_FITS = frozenset({"fit", "partial_fit", "fit_generator", "compile", "train", "fit_transform", "train_on_batch"})


def generated_data(infos: Sequence[Statement], models: set[str],
                   user_functions: set[str] | frozenset[str] = frozenset()) -> dict[int, str]:
    """Statements that generate data from random draws and nothing the notebook loaded or made:
    they read only module-level names (imports, constants), settings computed from literals
    (``n = 100``), random generators and data generated before them (``x = 10 * rng.rand(n)``,
    then ``y = 2 * x + rng.randn(n)``); a draw may be made by a function of the notebook
    (``dnorm(0, 0.4, size=n)``, which calls ``np.random.randn``). Only before the first fit that
    draws from the global generator: later draws are the model's business (or a demo), and moving
    them before that fit would change what it draws. Index -> the draw."""
    bound = {name for info in infos for name in info.binds}
    generators: set[str] = set()
    generated: set[str] = set()
    settings: set[str] = set()  # names bound from literals and other settings, without a call
    grids: dict[str, tuple[int, str]] = {}  # name -> the statement binding it to a grid of literals, its call
    drawing = {name for name, definition in getattr(user_functions, "definitions", {}).items()
               if isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) and _draws(definition, set())}
    found: dict[int, str] = {}
    for info in infos:
        node = info.node
        if set(info.calls) & _FITS and RNG in info.reads:
            break  # a fit that draws from the global generator (one seeded of its own does not)
        if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or info.binds & models:
            continue
        calls = calls_in(node)
        if isinstance(node.value, ast.Call) and call_name(node.value) in GENERATORS:
            generators |= info.binds
            continue
        names = {n for n in info.reads if not n.startswith("<")} - info.mutates
        free = names - bound | settings
        if isinstance(node, ast.Assign) and not calls and not info.effects and names <= free:
            settings |= info.binds
            continue
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and call_name(node.value) in GRIDS \
                and names <= free and not info.effects:
            grids.update(dict.fromkeys(info.binds, (info.index, call_name(node.value))))  # data once drawn on
            continue
        draws = _draws(node, generators) + [call_name(c) for c in calls
                                            if isinstance(c.func, ast.Name) and c.func.id in drawing]
        if draws and names <= (generators | generated | set(grids) | free) and not info.effects:
            for name in sorted(names & set(grids) - generated):  # ``x = np.linspace(-3, 3, 100)``, then
                index, grid = grids[name]  # ``y = f(x) + noise``
                found[index] = grid
                generated.add(name)
            found[info.index] = draws[0]
            generated |= info.binds | info.mutates
    return found


def _reads_data(name: str) -> bool:
    """A call of this name reads or makes a data set: ``read_csv``, ``load_iris``, ``fetch_openml``,
    ``make_classification``, ``arma_generate_sample`` (not ``load_state_dict``)."""
    return name in LOAD_CALLS or bool(DATASET.match(name)) or name.startswith(("load_", "fetch_")) \
        and name != "load_state_dict"


def _computed_from_literals(infos: Sequence[Statement]) -> set[int]:
    """Assignments whose value is computed from literals and other such values only
    (``ar = np.array([0.75, -0.25])``, then ``ar = np.r_[1, -ar]``): settings, whatever they call.
    Indexes."""
    bound = {name for info in infos for name in info.binds}
    constant: set[str] = set()
    found: set[int] = set()
    for info in infos:
        if not isinstance(info.node, ast.Assign):
            continue
        reads = {n for n in info.reads if not n.startswith("<")}
        if not info.effects and RNG not in info.reads and not info.mutates - info.binds and reads & bound <= constant \
                and not any(_reads_data(name) for name in info.calls):
            found.add(info.index)
            constant |= info.binds
        else:
            constant -= info.binds
    return found


def _draws(node: ast.AST, generators: set[str]) -> list[str]:
    """The random draws called in ``node``: from numpy's, torch's or the random module's global
    generator, or from one of ``generators`` (``rng.rand(50)``)."""
    return [call_name(c) for c in calls_in(node) if call_name(c) in RANDOM_DRAWS and (
        root_name(c.func) in generators or root_name(c.func) == "torch"
        or any(isinstance(n, ast.Attribute) and n.attr == "random" for n in walk(c.func)))]


# Grids of values made from literals (``np.linspace(-3, 3, 100)``): generated data when random
# draws are added to them, else a setting (``depths = np.arange(1, 20)``).
GRIDS = frozenset({"linspace", "arange", "logspace", "geomspace"})

# Loaders that return a container of the data set (scikit-learn's Bunch, a dict of arrays): what
# is taken out of it whole (``X = iris.data``, ``data["target"]``, ``pd.DataFrame(iris.data,
# columns=iris.feature_names)``) is the data set itself, loaded.
_NOT_CONTAINERS = frozenset({"load_state_dict", "load_model", "load_weights", "load_img"})


def unpacked_data(infos: Sequence[Statement], models: set[str]) -> dict[int, str]:
    """Statements that take a loaded data set out of the container its loader returned, and
    nothing else: attributes of it, items of it under a literal key, a table built of those
    (``df = pd.DataFrame(iris.data, columns=iris.feature_names)``) or a column of such a table
    set from it (``df["target"] = iris.target``). Index -> what it takes out."""
    containers: set[str] = set()
    unpacked: set[str] = set()
    found: dict[int, str] = {}
    bound = {name for info in infos for name in info.binds}
    for info in infos:
        node = info.node
        if not isinstance(node, ast.Assign) or info.binds & models:
            continue
        value = node.value
        if isinstance(value, ast.Call) and _returns_a_container(value):
            containers |= info.binds
            continue
        if info.effects or not containers & info.reads:
            continue
        names = {n for n in info.reads if not n.startswith("<")}
        taken = _taken_out(value, containers)
        if taken is None or not names <= containers | unpacked | (names - bound):
            continue
        columns = [t for t in node.targets if not isinstance(t, (ast.Name, ast.Tuple))]
        if not all(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in unpacked
                   and isinstance(t.slice, ast.Constant) for t in columns):
            continue  # (a column may be set only on a table taken out before: ``df["target"] = ...``)
        found[info.index] = taken
        unpacked |= info.binds
    return found


def _returns_a_container(call: ast.Call) -> bool:
    name = call_name(call)
    returns_xy = any(k.arg == "return_X_y" for k in call.keywords)
    return (name.startswith(("load_", "fetch_")) or name == "load_dataset") and name not in _NOT_CONTAINERS \
        and not returns_xy


def _taken_out(value: ast.expr, containers: set[str]) -> str | None:
    """``iris.data`` (what is taken out of a container) for a value made only of such parts,
    literals and data constructors; None for anything else (a call computing from them)."""
    if isinstance(value, ast.Tuple):
        parts = [_taken_out(e, containers) for e in value.elts]
        return None if None in parts else ", ".join(p for p in parts if p)
    if isinstance(value, ast.Call) and call_name(value) in DATA_CONSTRUCTORS:
        parts = [_taken_out(a, containers) for a in [*value.args, *(k.value for k in value.keywords)]]
        return None if None in parts else next((p for p in parts if p), "")
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id in containers:
        return f"{value.value.id}.{value.attr}"
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in containers \
            and isinstance(value.slice, ast.Constant):
        return f"{value.value.id}[{value.slice.value!r}]"
    return "" if is_literal(value) else None


# Constructors that take the data itself: ``np.array([...])``, ``pd.DataFrame({...})``, ``torch.tensor(...)``.
DATA_CONSTRUCTORS = frozenset({"array", "asarray", "DataFrame", "Series", "tensor", "as_tensor", "constant",
                               "matrix", "from_dict", "from_records", "Tensor", "FloatTensor", "LongTensor"})
_LITERAL_PARTS = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.UnaryOp, ast.USub, ast.UAdd,
                  ast.Name, ast.Attribute, ast.Load)


def written_data(infos: Sequence[Statement], tables: frozenset[str] = frozenset()) -> dict[int, str]:
    """Statements that bind a table of values written out in the notebook (``x = np.array([1, 2,
    3, 4, 5])``, ``df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})``, or ``pd.DataFrame(data)`` of a
    module constant in ``tables``, ``data = {"a": [1, 2], "b": [3, 4]}``): data the pipeline
    starts from, like a file read. Its names must come from imports (``nan``, ``np.nan``), never
    from the notebook's own values; a single row (``np.array([[5, 2]])``, a sample to predict) is
    no data set. Index -> the constructor."""
    bound = {n for info in infos if not isinstance(info.node, (ast.Import, ast.ImportFrom)) for n in info.binds}
    found: dict[int, str] = {}
    for info in infos:
        node = info.node
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or not isinstance(node.value, ast.Call) or info.effects:
            continue
        call = node.value
        data = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "data")]
        names = {n.id for n in walk(call) if isinstance(n, ast.Name)} - {root_name(call.func)}
        if call_name(call) in DATA_CONSTRUCTORS and len(data) == 1 and not names & bound and (
                isinstance(data[0], ast.Name) and data[0].id in tables or is_literal_table(data[0])):
            found[info.index] = call_name(call)
    return found


def is_literal_table(value: ast.expr) -> bool:
    """A table of at least two rows written as literals (:func:`_literal_rows`)."""
    return _literal_rows(value) >= 2


def _literal_rows(value: ast.expr) -> int:
    """Rows of a table written as literals (a list of rows, a list of values, a dict of columns)
    holding at least three values; 0 when it is not one."""
    if not isinstance(value, (ast.List, ast.Tuple, ast.Dict)) or not all(
            isinstance(n, _LITERAL_PARTS) for n in walk(value)):
        return 0
    scalars = sum(isinstance(n, (ast.Constant, ast.Attribute)) or isinstance(n, ast.Name) and not any(
        isinstance(a, ast.Attribute) and a.value is n for a in walk(value)) for n in walk(value))
    if scalars < 3:
        return 0
    if isinstance(value, ast.Dict):
        return max((len(v.elts) for v in value.values if isinstance(v, (ast.List, ast.Tuple))), default=1)
    return len(value.elts)


def predicts(name: str) -> bool:
    """A prediction call: a model's (``predict``, ``predict_proba``, ...), or a function of the
    notebook's named for it (``predict_prices``, ``make_predictions``)."""
    return name in PREDICT_CALLS or any(word.startswith("predict") for word in name.lower().split("_"))


def per_sample(value: ast.expr, steps: set[str]) -> bool:
    """Whether ``value`` works out something for each of the predictions in ``steps``: arithmetic
    or comparisons on them (``y - pred``, ``pred == y``), a part of them (``proba[:, 1]``), or a
    comprehension over them, the predictions of a model called in place (``knn.predict(X) == y``);
    not another call of them, which may sum them up (``np.mean(errors)``), nor a comprehension
    over something else (a cost for each cut-off)."""
    if isinstance(value, ast.Name):
        return value.id in steps
    if isinstance(value, ast.Call):
        return predicts(call_name(value))
    if isinstance(value, ast.Subscript):
        return per_sample(value.value, steps)
    if isinstance(value, ast.BinOp):
        return per_sample(value.left, steps) or per_sample(value.right, steps)
    if isinstance(value, ast.UnaryOp):
        return per_sample(value.operand, steps)
    if isinstance(value, ast.Compare):
        return any(per_sample(part, steps) for part in [value.left, *value.comparators])
    if isinstance(value, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return any(isinstance(n, ast.Name) and n.id in steps for g in value.generators for n in walk(g.iter))
    return False


def sums_up(part: ast.AST, predicted: set[str]) -> bool:
    """Whether ``part`` holds a call summing up a comparison or difference of ``predicted``, or of
    predictions made in place, sample by sample (``np.mean(pred == y)``, ``sum(knn.predict(X) ==
    y)``), and is not itself worked out sample by sample."""
    if not (predicted & loaded_names(part) or any(predicts(call_name(c)) for c in calls_in(part))) \
            or isinstance(part, ast.expr) and per_sample(part, predicted):
        return False
    return any(isinstance(inner, (ast.Compare, ast.BinOp)) and per_sample(inner, predicted)
               for call in calls_in(part) for piece in [*call.args, call.func] for inner in walk(piece))


def _function_scores_by_hand(definition: ast.AST) -> bool:
    """A function whose body works a metric out from its predictions without a metric function
    (``predictions = predict(X_test, ...)``, then ``accuracy = np.mean(predictions == y_test)``)."""
    predicted = {n.id for statement in walk(definition) if isinstance(statement, ast.Assign)
                 and any(predicts(call_name(c)) for c in calls_in(statement.value))
                 for target in statement.targets for n in walk(target) if isinstance(n, ast.Name)}
    return bool(predicted) and sums_up(definition, predicted)


def is_metric_call(call: ast.Call) -> bool:
    name = call_name(call)
    return name in METRIC_CALLS or name.endswith(("_score", "_error", "_loss")) and name != "make_scorer"


def has_metric(node: ast.AST) -> bool:
    return any(is_metric_call(n) for n in calls_in(node))


@dataclass
class Decision:
    stage: int | None  # index into STAGES; None: dropped
    reason: str
    level: int  # 3 tag or directive, 2 code, 1 heading, 0 none
    shown_in: int | None = None  # dropped, but what it shows is returned from this stage
    evaluates: bool = False  # an evaluation moved to train for the training after it: its values are results
    scores: bool = False  # a block that fits kept models and scores them (_fits_kept_models): what reads it evaluates
    prepares: bool = False  # data prepared for the evaluation, moved to evaluate: its values are no results


def function_evidence(name: str, models: set[str], preprocessors: set[str], user_functions: set[str],
                      model_classes: frozenset[str] | set[str] = frozenset(),
                      seen: frozenset[str] = frozenset()) -> tuple[int, str] | None:
    """What a function of the notebook does when called, from its body: a call of
    ``get_loader(...)`` that builds a ``DataLoader`` prepares data, one of ``run_epoch(...)``
    that steps an optimizer trains. None for classes, unknown names and recursion."""
    definition = getattr(user_functions, "definitions", {}).get(name)
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) or name in seen:
        return None
    known = getattr(user_functions, "evidence", None)  # (the notebook's functions keep what their calls do)
    key = (name, frozenset(models), frozenset(preprocessors), frozenset(model_classes), seen)
    if known is not None and key in known:
        return known[key]  # type: ignore[no-any-return]
    found = _function_evidence(definition, models, preprocessors, user_functions, model_classes, seen | {name})
    if known is not None:
        known[key] = found
    return found


def _function_evidence(definition: ast.FunctionDef | ast.AsyncFunctionDef, models: set[str], preprocessors: set[str],
                       user_functions: set[str], model_classes: frozenset[str] | set[str],
                       seen: frozenset[str]) -> tuple[int, str] | None:
    body = ast.If(test=ast.Constant(True), body=list(definition.body), orelse=[])
    if any(isinstance(c, ast.Call) and (root_name(c.func) in DEFAULT_PLOT_ALIASES or call_name(c) in PLOT_METHODS)
           for c in walk(body)):
        return None  # a plotting helper: what it computes is drawn
    effects = {opens_for(c) for c in walk(body) if isinstance(c, ast.Call) and call_name(c) == "open"
               and isinstance(c.func, ast.Name)}
    effects |= {"write" for c in walk(body) if isinstance(c, ast.Call) and call_name(c) in WRITE_CALLS
                and call_name(c) not in FIGURE_FILES}
    inner = Statement(-1, -1, body, effects=effects)
    arguments = definition.args
    params = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    # a parameter named like a model of the notebook is whatever the caller passes
    return code_evidence(inner, models - params, preprocessors - params, user_functions, model_classes, seen)


def _on_learned(func: ast.Attribute) -> bool:
    """A method called on what a model learned (``pca.explained_variance_ratio_.sum()``,
    ``model.coef_.ravel()``, ``pd.Series(lr.coef_, index=X.columns).sort_values()``): it acts on
    that array, or on a table made of it, not on the model or the data."""
    node: ast.AST = func.value
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        if isinstance(node, ast.Attribute) and _is_learned(node):
            return True
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Attribute) \
                and _is_learned(node.args[0]):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


# What a fitted model holds that is a model itself: taking it out builds on the training.
_MODELS_INSIDE = frozenset({"best_estimator_", "estimator_", "estimators_", "base_estimator_", "final_estimator_"})


def _given(argument: ast.expr) -> list[ast.Name]:
    """The names an argument hands to the call; not those a lambda in it reads when called
    (``df.a.apply(lambda x: iris.target_names[x])`` hands over no ``iris``: what the lambda
    changes, the graph records as the statement's own changes)."""
    inside = {id(n) for lam in walk(argument) if isinstance(lam, ast.Lambda) for n in walk(lam.body)}
    return [n for n in walk(argument) if isinstance(n, ast.Name) and id(n) not in inside]


def _makes_a_preprocessor(call: ast.Call) -> bool:
    name = call_name(call)
    return name[:1].isupper() and bool(PREPROCESSORS.search(name))


def _learned_by(node: ast.stmt, models: set[str]) -> str | None:
    """``centroids = kmeans.cluster_centers_`` (``kmeans.cluster_centers_``): an assignment to names
    of what a model of the notebook learned, maybe a part of it; None for anything else."""
    if not isinstance(node, ast.Assign) or not all(isinstance(t, ast.Name) for t in node.targets):
        return None
    value: ast.expr = node.value
    while isinstance(value, ast.Subscript):
        value = value.value
    if isinstance(value, ast.Attribute) and _is_learned(value) and value.attr not in _MODELS_INSIDE \
            and isinstance(value.value, ast.Name) and value.value.id in models:
        return f"{value.value.id}.{value.attr}"
    return None


def _model_taken_out(node: ast.AST, models: set[str]) -> str | None:
    """``best = grid.best_estimator_``: the model a search or an ensemble fitted, bound to a name
    of its own (the notebook's final model); the text of where it came from, else None."""
    if not isinstance(node, ast.Assign) or not all(isinstance(t, ast.Name) for t in node.targets):
        return None
    value = node.value
    if isinstance(value, ast.Attribute) and value.attr in _MODELS_INSIDE and isinstance(value.value, ast.Name) \
            and value.value.id in models:
        return f"{value.value.id}.{value.attr}"
    return None


def _is_learned(node: ast.Attribute) -> bool:
    """``model.coef_``, ``grid.cv_results_``: scikit-learn's spelling of what fitting learned."""
    return node.attr.endswith("_") and not node.attr.startswith("_")


def code_evidence(info: Statement, models: set[str], preprocessors: set[str], user_functions: set[str],
                  model_classes: frozenset[str] | set[str] = frozenset(),
                  seen: frozenset[str] = frozenset()) -> tuple[int, str] | None:
    """The stage what the statement does points to, with the reason."""
    node = info.node
    found: dict[int, str] = {}

    def note(stage: int, why: str) -> None:
        found.setdefault(stage, why)

    if isinstance(node, ast.ClassDef):
        bases = {getattr(b, "attr", getattr(b, "id", "")) for b in node.bases}
        if bases & MODEL_BASES:
            note(TRAIN, f"defines a model class {node.name}")
    # a definition runs only its decorators (and a class its bases, a lambda its defaults): its
    # body is the business of the statements that call it
    runs: list[ast.AST] = [node]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        runs = [*node.decorator_list, *getattr(node, "bases", []), *getattr(node, "keywords", [])]
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
        runs = [*node.targets, *node.value.args.defaults, *(d for d in node.value.args.kw_defaults if d)]
    # a model given to a preprocessor (``SelectFromModel(RandomForestClassifier())``, ``RFE(...)``)
    # is how that preprocessor selects: building the preprocessor prepares data
    wrapped = {id(inner) for part in runs for call in calls_in(part) if _makes_a_preprocessor(call)
               for argument in [*call.args, *(k.value for k in call.keywords)] for inner in walk(argument)}
    for call in (n for part in runs for n in calls_in(part)):
        name = call_name(call)
        receiver = root_name(call.func) if isinstance(call.func, ast.Attribute) and not _on_learned(call.func) else None
        if _reads_data(name):
            note(LOAD, f"reads data: {name}()")
        elif name == "open" and isinstance(call.func, ast.Name):
            if "write" in info.effects:
                note(EXPORT, "writes a file: open()")
            else:
                note(LOAD, "reads a file: open()")
        elif is_metric_call(call) or name in EVALUATE_CALLS and receiver not in preprocessors:
            note(EVALUATE, f"evaluates: {name}()")
        elif name in {"fit", "partial_fit"} and receiver in preprocessors:
            note(PREPROCESS, f"fits a preprocessor: {receiver}.{name}()")
        elif name in TRAIN_CALLS and (name not in {"add", "step", "build", "summary_dummy"} or receiver in models):
            note(TRAIN, f"trains: {name}()")
        elif _makes_a_preprocessor(call):
            note(PREPROCESS, f"makes a preprocessor: {name}()")
        elif (builds_a_model(name) or name in model_classes) and id(call) not in wrapped:
            note(TRAIN, f"builds a model: {name}()")
        elif name.lower().endswith("trainer"):
            note(TRAIN, f"builds a trainer: {name}()")
        elif name.lower().endswith("evaluator"):
            note(EVALUATE, f"builds an evaluator: {name}()")
        elif name in EXPORT_CALLS or name == "savefig" and "savefig" in info.effects and not info.inert:
            note(EXPORT, f"writes an artifact: {name}()")
        elif name in PREPROCESS_CALLS and not (isinstance(call.func, ast.Attribute) and _on_learned(call.func)):
            note(PREPROCESS, f"prepares data: {name}()")  # (sorting what a model learned prepares no data)
        elif receiver in models and name not in {"summary", "get_params", "count_params"} \
                and not name.startswith("get_"):
            note(TRAIN, f"changes the model {receiver}")
        elif isinstance(call.func, ast.Name) and name in user_functions:
            called = function_evidence(name, models, preprocessors, user_functions, model_classes, seen)
            if called is not None and (called[0] != PREPROCESS or not called[1].startswith("prepares data") or
                                       called[1].split(": ")[-1].rstrip("()") in DATA_STEPS):
                note(called[0], f"calls {name}(), which {called[1].split(': ')[0]}")
            for method in _model_methods_passed(call, models):  # ``print_accuracy(knn.predict)``
                note(EVALUATE, f"{PASSES_MODEL}{method} to {name}()")
    if any(isinstance(loop, (ast.For, ast.While)) and _steps_parameters(loop) for part in runs for loop in walk(part)):
        note(TRAIN, "trains: updates its parameters step by step")  # (in a function's body too)
    inside = _model_taken_out(node, models) if not found else None
    if inside is not None:
        note(TRAIN, f"takes the trained model out of {inside}")
    learned = _learned_by(node, models) if not found else None
    if learned is not None:
        note(EVALUATE, f"reads what the model learned: {learned}")
    if not found and "setup" not in info.effects:  # configuring a library prepares no data
        targets = _target_roots(node)
        if targets and isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            changed = sorted(targets)
            if set(changed) & models:
                note(TRAIN, f"changes the model {changed[0]}")
            else:
                note(PREPROCESS, f"changes {changed[0]} in place")
        elif isinstance(node, (ast.Assign, ast.AugAssign)) and info.binds & info.reads - user_functions and \
                not isinstance(node.value, ast.Constant):
            name = sorted(info.binds & info.reads)[0]
            note(TRAIN if name in models else PREPROCESS, f"transforms {name}")
    if not found:
        return None
    if LOAD in found and set(found) <= {LOAD, PREPROCESS}:
        return LOAD, found[LOAD]
    if EXPORT in found and TRAIN not in found and EVALUATE not in found:
        return EXPORT, found[EXPORT]
    if TRAIN in found and EVALUATE in found and set(_own_calls(node)) & STEP_CALLS:
        return TRAIN, found[TRAIN]  # a training loop: its metrics follow the training
    if TRAIN in found and EVALUATE in found and _fits_kept_models(node):
        return TRAIN, found[TRAIN] + SCORES_TOO
    stage = max(s for s in found if s != EXPORT) if set(found) - {EXPORT} else EXPORT
    return stage, found[stage]


PASSES_MODEL = "evaluates: passes "  # the reason code_evidence gives a model's method passed to a function
SCORES_TOO = ", and scores what it fits"  # its reason for a block that fits kept models and scores them


def _model_methods_passed(call: ast.Call, models: set[str]) -> list[str]:
    """A model's evaluation methods a call is given as values (``print_accuracy(knn.predict)``):
    the function it calls evaluates the model with them."""
    return [f"{part.value.id}.{part.attr}" for part in [*call.args, *(k.value for k in call.keywords)]
            if isinstance(part, ast.Attribute) and part.attr in EVALUATE_CALLS and isinstance(part.value, ast.Name)
            and part.value.id in models]


def _steps_parameters(loop: ast.For | ast.While) -> bool:
    """A loop that trains by hand: it moves a value by a step computed, in the same loop, from that
    value itself (``gradient = X.T @ (X @ w - y)``, then ``w -= rate * gradient``), maybe through
    other values of the loop (``error = X @ w - y``, ``gradient = X.T @ error``)."""
    made: dict[str, set[str]] = {}  # name assigned in the loop -> names its value reads
    updates: list[tuple[str, ast.expr]] = []  # (name moved, the step)
    for part in walk(loop):
        if isinstance(part, ast.Assign) and len(part.targets) == 1 and isinstance(part.targets[0], ast.Name):
            target, value = part.targets[0].id, part.value
            made.setdefault(target, set()).update(n.id for n in walk(value) if isinstance(n, ast.Name))
            if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Sub, ast.Add)) and \
                    isinstance(value.left, ast.Name) and value.left.id == target:
                updates.append((target, value.right))  # w = w - rate * gradient
        elif isinstance(part, ast.Assign) and len(part.targets) == 1 and isinstance(part.targets[0], ast.Subscript) \
                and isinstance(part.value, ast.BinOp) and isinstance(part.value.op, (ast.Sub, ast.Add)) \
                and isinstance(part.value.left, ast.Name):
            store = root_name(part.targets[0])  # history[:, i + 1] = w - rate * gradient, w = history[:, i]
            if store is not None and (part.value.left.id == store or store in made.get(part.value.left.id, ())):
                updates.append((store, part.value.right))
        elif isinstance(part, ast.AugAssign) and isinstance(part.target, ast.Name):
            made.setdefault(part.target.id, set()).update(n.id for n in walk(part.value) if isinstance(n, ast.Name))
            if isinstance(part.op, (ast.Sub, ast.Add)):  # (gradient += (y_hat - y) * x: summed from y_hat)
                updates.append((part.target.id, part.value))  # w -= rate * gradient
    changed = True
    while changed:  # what each value of the loop reads, through the others it reads
        changed = False
        for name, reads in made.items():
            more = set().union(*(made.get(n, set()) for n in reads)) - reads
            if more:
                reads |= more
                changed = True
    for target, step in updates:
        if not isinstance(step, ast.BinOp) or not isinstance(step.op, ast.Mult):
            continue  # total += s, count += 1: sums, not steps
        if any(target in made.get(n.id, ()) for n in walk(step) if isinstance(n, ast.Name)):
            return True
    return False


# Cross-validation, and a splitter's folds (``kf.split(X)``): a loop with them evaluates, it trains nothing kept.
CROSS_VALIDATION = frozenset({"cross_val_score", "cross_validate", "cross_val_predict", "learning_curve",
                              "validation_curve", "split"})


def _fits_kept_models(node: ast.AST) -> bool:
    """A block that fits models which live on after it and scores them on data set aside: a loop
    over models fitting each (``for m in models: m.fit(X_train, y_train)``, ``models[name].fit``),
    or a branch refitting one made before (``models[best].fit(...)``). It trains them, and its
    scores follow. A loop that makes a model on each turn only to score it (``KMeans(n_clusters=k)
    .fit(X)`` for each ``k``) searches; one over the folds of a splitter, or one that
    cross-validates, evaluates."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        items = {n.id for n in walk(node.target) if isinstance(n, ast.Name)} | {
            n.id for n in walk(node.iter) if isinstance(n, ast.Name)}
    elif isinstance(node, (ast.If, ast.With, ast.Try)):
        items = {n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - {
            n.id for n in walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    else:
        return False
    if set(_own_calls(node)) & CROSS_VALIDATION:
        return False
    return any(call_name(call) in {"fit", "partial_fit"} and isinstance(call.func, ast.Attribute)
               and held_by(call.func.value) in items for call in calls_in(node))


def _own_calls(node: ast.AST) -> list[str]:
    return [call_name(c) for c in calls_in(node)]


def _target_roots(node: ast.stmt) -> set[str]:
    """Names changed through a subscript or attribute target: ``df['x'] = ...``, ``del df['x']``."""
    targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [getattr(node, "target", None)]
    roots = set()
    for target in targets:
        for part in walk(target) if target is not None else ():
            if isinstance(part, (ast.Subscript, ast.Attribute)) and not isinstance(part.ctx, ast.Load):
                root = root_name(part)
                if root:
                    roots.add(root)
    return roots


def model_names(infos: Sequence[Statement], model_classes: frozenset[str] | set[str] = frozenset()
                ) -> tuple[set[str], set[str]]:
    """Names bound from estimator constructors (models, the notebook's model classes included) and
    from preprocessor constructors."""
    models: set[str] = set()
    preprocessors: set[str] = set()
    for info in infos:
        node = info.node
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        name = call_name(node.value)
        targets = {n.id for t in node.targets for n in walk(t) if isinstance(n, ast.Name)}
        if _makes_a_preprocessor(node.value):
            preprocessors |= targets
        elif builds_a_model(name) or name in {"fit", "compile"} or _pipeline_of_a_model(node.value) \
                or name.lower().endswith(("trainer", "evaluator")) \
                or name in model_classes or name in {"to", "cuda"} and root_name(node.value) in models:
            models |= targets
    return models, preprocessors


@dataclass(frozen=True)
class _TreeFacts:
    """What the rules ask of a statement's tree alone (its names as renamed, the notebook's plotting
    aliases and functions): worked out once per statement and renaming, though the notebook is
    placed several times (:attr:`Statement.facts` is shared by the records of one)."""

    given: frozenset[str]  # names passed to a call as arguments
    called_objects: tuple[str, ...]  # names called as functions that are not the notebook's functions
    method_arguments: tuple[frozenset[str], ...]  # names given to each method call that may change them
    impure_roots: tuple[str | None, ...]  # the root name of each call not known to change nothing
    calls_acting: bool  # calls a function of the notebook that acts outside the graph (_acts_outside)
    calls_scoring: bool  # calls a function of the notebook that scores


def _tree_facts(info: Statement, aliases: Aliases, user_functions: set[str]) -> _TreeFacts:
    cached = info.facts.get("tree")
    if cached is not None and cached[0] is aliases and cached[1] is user_functions:  # type: ignore[index]
        return cached[2]  # type: ignore[index,no-any-return]
    node = info.node
    calls = calls_in(node)
    definitions = getattr(user_functions, "definitions", {})
    called = [d for d in (definitions.get(call_name(c)) for c in calls if isinstance(c.func, ast.Name))
              if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))]
    impure = [c for c in calls if not _pure(c, aliases, user_functions)]
    facts = _TreeFacts(
        given=frozenset(a.id for c in calls for a in [*c.args, *(k.value for k in c.keywords)]
                        if isinstance(a, ast.Name)),
        called_objects=tuple(c.func.id for c in calls if isinstance(c.func, ast.Name)
                             and c.func.id not in user_functions),
        method_arguments=tuple(
            frozenset(n.id for argument in [*c.args, *(k.value for k in c.keywords)] for n in _given(argument))
            for c in impure if isinstance(c.func, ast.Attribute) and call_name(c) not in KEEPS_ARGUMENTS),
        impure_roots=tuple(root_name(c.func) for c in impure),
        calls_acting=any(_acts_outside(d) for d in called),
        calls_scoring=any(has_metric(d) or set(_own_calls(d)) & (EVALUATE_CALLS - PREDICT_CALLS)
                          or _function_scores_by_hand(d) for d in called),
    )
    info.facts["tree"] = (aliases, user_functions, facts)
    return facts


def place(
    infos: Sequence[Statement],
    explicit: Mapping[int, st.Placement],
    heading_stage: Mapping[int, str | None],
    user_functions: set[str],
    aliases: Aliases,
    model_classes: frozenset[str] | set[str] = frozenset(),
    keep: frozenset[int] | set[int] = frozenset(),
    heading_text: Mapping[int, str | None] | None = None,
    tables: frozenset[str] = frozenset(),
) -> list[Decision]:
    """One decision per statement (same order). ``keep``: statements kept whatever they do (say,
    the binding of a value ``run()`` returns). ``tables``: module constants bound to a table of
    literal values (``data = {"x": [2, 3, 4, 10]}``)."""
    models, preprocessors = model_names(infos, model_classes)
    generated = generated_data(infos, models, user_functions)
    unpacked = unpacked_data(infos, models)
    written = written_data(infos, tables)
    constant = _computed_from_literals(infos)
    evidence_key = (frozenset(models), frozenset(preprocessors), frozenset(model_classes))
    found: dict[int, tuple[int, str] | None] = {}  # index -> evidence: records do not change while placed

    def evidence_of(info: Statement) -> tuple[int, str] | None:
        """:func:`code_evidence`, once per statement and what it depends on."""
        if info.index in found:
            return found[info.index]
        key = (evidence_key, frozenset(info.effects), info.inert, frozenset(info.binds & info.reads))
        cached = info.facts.get("evidence")
        if cached is None or cached[0] != key:  # type: ignore[index]
            cached = info.facts["evidence"] = (key, code_evidence(info, models, preprocessors, user_functions,
                                                                  model_classes))
        found[info.index] = cached[1]  # type: ignore[index]
        return cached[1]  # type: ignore[index,no-any-return]

    decisions: list[Decision] = []
    dead_candidates: set[int] = set()
    for info in infos:
        tagged = explicit.get(info.cell)
        shown_metric = info.inert and isinstance(info.node, ast.Expr) and has_metric(info.node) and not (
            isinstance(info.node.value, ast.Call) and call_name(info.node.value) in DISPLAY_FUNCTIONS)
        if tagged is not None and tagged.stage in st.STAGES:
            decisions.append(Decision(st.STAGES.index(tagged.stage), tagged.reason, 3))
        elif tagged is not None and tagged.stage == st.DROPPED:
            decisions.append(Decision(None, tagged.reason, 3))
        elif shown_metric:
            decisions.append(Decision(EVALUATE, "shows a metric: kept as a result", 2))
        elif info.inert and passes.prints_metrics(info.node, is_metric_call):
            decisions.append(Decision(EVALUATE, "shows a metric each pass: kept, run() returns every pass's", 2))
        elif info.inert:
            kind = "plots" if "plot" in info.effects else "displays"
            decisions.append(Decision(None, f"only {kind}", 0))
        else:
            evidence = evidence_of(info)
            if info.index in generated and (evidence is None or evidence[0] == PREPROCESS):
                evidence = LOAD, f"generates data: {generated[info.index]}()"
            elif info.index in unpacked and (evidence is None or evidence[0] == PREPROCESS):
                evidence = LOAD, f"takes the data set out of what its loader returned: {unpacked[info.index]}"
            elif evidence is None and info.index in written:
                evidence = LOAD, f"data written in the notebook: {written[info.index]}()"
            elif evidence is not None and evidence[0] == LOAD and _reads_back(info, infos):
                evidence = None  # a model saved, then loaded again: not the data the pipeline starts from
            elif evidence is not None and evidence[1].startswith("changes the model ") and _reads_back(info, infos):
                evidence = None  # the weights it saved put back (``load_state_dict``): restored, not learned
            elif evidence is not None and evidence[1].startswith("transforms ") and info.index in constant:
                evidence = None  # ``ar = np.r_[1, -ar]`` of ``ar = np.array([0.75, -0.25])``: still a setting
            heading = heading_stage.get(info.cell)
            if evidence is not None:  # (the scores of a loop that fits and scores each model are results)
                scores = evidence[1].endswith(SCORES_TOO)
                decisions.append(Decision(evidence[0], evidence[1], 2, evaluates=scores, scores=scores))
            elif "setup" in info.effects:
                decisions.append(Decision(LOAD, "set-up: runs before the rest", 1))
            elif heading == st.DROPPED and not info.effects & {"write", "setup", "read"} and info.index not in keep:
                text = (heading_text or {}).get(info.cell)
                decisions.append(Decision(None, f"under the exploration heading {text!r}" if text
                                          else "under an exploration heading", 0))
            elif heading in st.STAGES:
                text = (heading_text or {}).get(info.cell)
                decisions.append(Decision(st.STAGES.index(heading), f"under heading {text!r}" if text
                                          else "under its heading", 1))
            else:
                decisions.append(Decision(-1, "", 0))
            if (evidence is None or evidence[0] in (LOAD, PREPROCESS, EVALUATE)) and \
                    _computes_only(info, aliases, user_functions):
                dead_candidates.add(info.index)
    for index in keep:  # binds what run() returns (a value shown once a model is trained)
        if decisions[index].stage is None and decisions[index].level < 3:
            decisions[index] = Decision(-1, f"{decisions[index].reason}, but binds what run() returns: kept", 0)
    temporary = _temporary_columns(infos) - set(keep)  # (a column added for a plot, then removed)
    _drop_what_nothing_needs(infos, decisions, set(keep), aliases, user_functions, evidence_of, temporary)
    _keep_what_is_read(infos, decisions, dead_candidates - set(keep), aliases, user_functions, temporary)
    _order(infos, decisions)
    return decisions


_DEFINES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_UNTRACKED_MODULES = frozenset({"os", "shutil", "subprocess", "sys", "requests", "urllib", "socket", "smtplib"})


def _is_root(info: Statement, decision: Decision, evidence: tuple[int, str] | None, aliases: Aliases,
             user_functions: set[str], notebook_names: set[str],
             given: Callable[[], set[str] | frozenset[str]] = frozenset) -> bool:
    """Whether a statement matters by itself, not only through what it binds: a tagged cell, a
    model built or trained, a metric, a file written, the process set up, or an effect outside the
    notebook's names (``os.system(...)``, ``subprocess.run(...)``). An import left in a stage is
    none: it is kept for what reads it, as module-level imports are."""
    node = info.node
    if decision.level >= 3 or info.effects & {"write", "setup"}:
        return True
    if isinstance(node, (ast.Global, ast.Nonlocal, ast.Assert)):
        return True  # an assert guards the run: it stops it when the environment or data is wrong
    if evidence is not None and evidence[0] in (TRAIN, EXPORT) and not (
            _builds_only(info, evidence) and not info.binds & given()):
        return True
    if has_metric(node) or evidence is not None and evidence[0] == EVALUATE and (
            set(_own_calls(node)) - PREDICT_CALLS) & (EVALUATE_CALLS | {"evaluate"}):
        return True
    if evidence is not None and evidence[0] == EVALUATE and evidence[1].startswith(("builds an evaluator",
                                                                                    PASSES_MODEL)):
        return True
    facts = _tree_facts(info, aliases, user_functions)
    if facts.calls_acting or facts.calls_scoring and evidence is not None:
        return True  # a function of the notebook that acts outside the graph, or that scores
    for root in facts.impure_roots:
        if root in _UNTRACKED_MODULES:
            return True
        if isinstance(node, ast.Expr) and (root is None or root not in notebook_names and root not in user_functions
                                           or root in aliases.foreign):
            return True  # called for an effect the graph cannot see (api.upload_file(...), run.log(...))
    return False


def _builds_only(info: Statement, evidence: tuple[int, str]) -> bool:
    """A statement that only builds an object (``layer = Dense(8)``, ``m = MyMetric()``) and binds
    it: unless the notebook passes it to a call (``basis_plot(model)`` fits it), it matters when a
    kept statement uses the object, not by itself (a demo builds one to show it)."""
    node = info.node
    return evidence[1].startswith(("builds a model", "builds a trainer")) and isinstance(node, ast.Assign) \
        and isinstance(node.value, ast.Call) and not info.effects and not info.mutates - info.binds - {RNG} \
        and all(isinstance(t, (ast.Name, ast.Tuple)) and all(isinstance(n, ast.Name) for n in _elements(t))
                for t in node.targets) \
        and (not isinstance(node.value.func, ast.Call) or evidence[1].endswith(f" {call_name(node.value.func)}()"))


def _elements(target: ast.expr) -> list[ast.expr]:
    """The names a target binds, one level deep: ``a`` or ``a, b`` (a fresh object built and called
    once, ``out1, out2 = MyLayer()(inputs)``, binds only its outputs)."""
    return list(target.elts) if isinstance(target, ast.Tuple) else [target]


def _acts_outside(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function whose body changes something the graph cannot follow: globals, files it writes,
    the process, the network (what it changes in its arguments the graph knows; a file it only
    reads changes nothing)."""
    for node in walk(definition):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return True
        if isinstance(node, ast.Call) and (
                root_name(node.func) in _UNTRACKED_MODULES
                or call_name(node) == "open" and isinstance(node.func, ast.Name) and opens_for(node) == "write"
                or call_name(node) in WRITE_CALLS and call_name(node) not in FIGURE_FILES):
            return True
    return False


def reads_kept_work(index: int, infos: Sequence[Statement], decisions: Sequence[Decision],
                    data: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether what a statement reads comes, through any chain of dropped statements, from a kept
    statement that computes (not an import or a definition) or from the notebook's module-level
    ``data`` (its constants): a value shown after training is a result of the notebook only then,
    not a demo of a library on literals (``tf_cube(2)``, ``metric([0, 1], [1, 1])``)."""
    seen: set[int] = set()
    pending = [index]
    while pending:
        info = infos[pending.pop()]
        if info.reads & data:
            return True
        for dep in info.flow:
            if dep in seen or not infos[dep].writes & info.reads:
                continue
            seen.add(dep)
            node = infos[dep].node
            if decisions[dep].stage is not None and not isinstance(node, (
                    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                return True
            pending.append(dep)
    return False


def _pure(call: ast.Call, aliases: Aliases, user_functions: set[str]) -> bool:
    return is_pure_call(call, aliases, user_functions)


def _drop_what_nothing_needs(infos: Sequence[Statement], decisions: list[Decision], keep: set[int],
                             aliases: Aliases, user_functions: set[str],
                             evidence_of: Callable[[Statement], tuple[int, str] | None],
                             temporary: set[int] | frozenset[int] = frozenset()) -> None:
    """Keep what a model, a metric, a written file or the set-up needs, and drop the rest.

    The roots (:func:`_is_root`) are kept; so is every statement whose bindings or changes a kept
    statement reads (the graph's flow), and every call of an object a kept statement reads
    (``metric(y, p)`` before ``metric.result()``). What is left computed values that only
    displays, plots or other dropped statements read: a demo of a library, a view of the data,
    a prediction for one sample. A notebook without any root (it trains, scores and writes
    nothing) keeps its computations: there is nothing to measure them against."""
    notebook_names = {n for info in infos for n in info.binds}

    def builds_only(info: Statement) -> bool:
        found = evidence_of(info) if decisions[info.index].level == 2 else None
        return found is not None and _builds_only(info, found)

    onwards: list[dict[int, set[str]]] = []  # worked out for the first object only built that asks

    def given(index: int) -> Callable[[], set[str] | frozenset[str]]:
        def find() -> set[str] | frozenset[str]:
            if not onwards:
                onwards.append(_given_onwards(infos, aliases, user_functions, builds_only))
            return onwards[0].get(index, frozenset())
        return find

    roots = {i for i, (info, decision) in enumerate(zip(infos, decisions)) if decision.stage is not None and
             _is_root(info, decision, evidence_of(info) if decision.level == 2 else None, aliases, user_functions,
                      notebook_names, given(i))}
    roots -= {i for i in roots if _checks_untrained(infos[i], infos, decisions, evidence_of, aliases,
                                                    notebook_names - aliases.imported, user_functions)}
    drawn = _drawn_only(roots - keep, infos, decisions)
    roots -= drawn
    if not any(not isinstance(infos[i].node, (ast.Import, ast.ImportFrom)) for i in roots):
        return
    calls: dict[str, list[int]] = {}  # object name -> statements that call it (and so may change it)
    for info in infos:
        facts = _tree_facts(info, aliases, user_functions)
        for name in facts.called_objects:
            if name in notebook_names:
                calls.setdefault(name, []).append(info.index)
        for names in facts.method_arguments:  # handler.attach(trainer): a method may change the objects given to it
            for name in names & notebook_names:
                calls.setdefault(name, []).append(info.index)
    for info in infos:  # b = a: what changes b may change a
        node = info.node
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in notebook_names:
            alias = {t.id for t in node.targets if isinstance(t, ast.Name)}
            for later in infos[info.index + 1:]:
                if later.mutates & alias:
                    calls.setdefault(node.value.id, []).append(later.index)
    live = set(roots) | {i for i in keep if i < len(infos)}
    temporary = temporary - live

    def close(pending: list[int]) -> None:
        while pending:
            i = pending.pop()
            info = infos[i]
            reads = info.reads if "savefig" in info.effects else info.reads - {FIGURE}
            for dep in info.flow:
                if dep in temporary and i not in temporary:
                    continue  # a column added and removed again: the frame is as before it
                if dep not in live and infos[dep].writes & reads:
                    live.add(dep)
                    pending.append(dep)
            for name in reads & calls.keys():
                since = max((d for d in info.flow if name in infos[d].binds), default=-1)
                for caller in calls[name]:
                    if since < caller < i and caller not in live:
                        live.add(caller)
                        pending.append(caller)

    close(sorted(live))
    # A value computed from the pipeline's data or model that nothing reads at all (not even a
    # display) is what the notebook leaves as a result (``n_rows = len(df)`` at its end, ``mae =
    # np.mean(errors)`` of ``errors`` worked out from the predictions): kept, with its chain.
    read = {d for info in infos for d in info.flow}
    first_fit = min((i for i in roots if evidence_of(infos[i]) is not None and decisions[i].level == 2
                     and decisions[i].stage == TRAIN), default=len(infos))
    left = [i for i, (info, decision) in enumerate(zip(infos, decisions))
            if i not in live and i not in read and i > first_fit and decision.stage is not None and not info.inert
            and any(not n.startswith("<") for n in info.binds)
            and not isinstance(info.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not _untrained_output(info, decision, evidence_of)
            and not _reads_back(info, infos)  # (a model saved, then loaded again to try it)
            and _computed_from(info, live, infos, decisions)]
    live.update(left)
    close(left)
    for i, decision in enumerate(decisions):
        if i in drawn and i not in live:
            shown = ", ".join(sorted(n for n in infos[i].binds if not n.startswith("<")))
            decisions[i] = Decision(None, f"computes {shown} only for plots", 0)
        elif i in temporary and i not in live and decision.level < 3:
            decisions[i] = Decision(None, "a column added for plots or displays and removed again: "
                                          "nothing kept reads it", 0)
        elif i not in live and decision.stage is not None and decision.level < 3:
            decisions[i] = Decision(None, "nothing kept depends on it (no model, metric, file or set-up reads it)", 0)


def _temporary_columns(infos: Sequence[Statement]) -> set[int]:
    """Columns a notebook adds to a frame for a plot and removes again (``df["decade"] = ...``, a
    plot by decade, ``df.drop(columns=["decade"], inplace=True)``), with only plots and displays
    reading the frame in between: once removed, the frame is as before. The statements that add
    and remove them (indexes); what reads the frame later does not depend on them."""
    removals = {info.index: removed for info in infos for removed in [_removed_columns(info.node)] if removed}
    if not removals:
        return set()
    removable = {(frame, key) for frame, keys in removals.values() for key in keys}
    added: dict[str, dict[str, int]] = {}  # frame -> column -> the statement adding it
    found: set[int] = set()
    seen: set[str] = set()  # the literal keys used so far: a column named before may be the data's own
    for info in infos:
        columns = info.columns
        before, seen = seen, seen | (columns.keys if columns is not None else set())
        removed = removals.get(info.index)
        if removed is not None:
            frame, keys = removed
            pending = added.pop(frame, {})
            if keys and keys <= set(pending):
                found |= {pending[k] for k in keys} | {info.index}
            continue
        if columns is not None and isinstance(info.node, ast.Assign) and len(info.node.targets) == 1 \
                and len(columns.writes) == 1 and not info.effects and not info.binds \
                and info.mutates == set(columns.writes):
            frame, keys = next(iter(columns.writes.items()))
            key = next(iter(keys)) if len(keys) == 1 else ""
            if key and isinstance(info.node.targets[0], ast.Subscript) and key not in before \
                    and key not in columns.reads.get(frame, set()) and (frame, key) in removable:
                added.setdefault(frame, {})[key] = info.index  # (a new column, not one overwritten)
                continue
        touched = [frame for frame in added if frame in info.reads or frame in info.writes]
        if info.inert or not touched or _for_displays_only(info, infos):
            continue  # (a plot or a display, or what only they read: dropped, whatever it reads)
        for frame in touched:
            if frame in info.writes:
                del added[frame]  # changed some other way: the column may matter to it
            elif frame in info.reads:
                read = columns.reads.get(frame) if columns is not None else None
                if read is None or read & set(added[frame]):
                    del added[frame]  # read whole, or the column itself
    return found


def _for_displays_only(info: Statement, infos: Sequence[Statement]) -> bool:
    """A statement that only binds values which only plots and displays read (``by_decade =
    df.groupby("decade").price.mean()`` for a line plot)."""
    if not info.binds or info.effects or info.mutates - info.binds:
        return False
    readers = [later for later in infos[info.index + 1:] if info.index in later.flow and later.reads & info.binds]
    return bool(readers) and all(r.inert for r in readers)


def _removed_columns(node: ast.stmt) -> tuple[str, set[str]] | None:
    """``df.drop(columns=["a"], inplace=True)``, ``df.drop("a", axis=1, inplace=True)`` or
    ``del df["a"]``: (the frame, the literal columns it removes); None for anything else."""
    if isinstance(node, ast.Delete) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) \
            and isinstance(node.targets[0].value, ast.Name):
        keys = _literal_keys(node.targets[0].slice)
        return (node.targets[0].value.id, keys) if keys else None
    call = node.value if isinstance(node, ast.Expr) else None
    if not isinstance(call, ast.Call) or call_name(call) != "drop" or not isinstance(call.func, ast.Attribute) \
            or not isinstance(call.func.value, ast.Name):
        return None
    keywords = {k.arg: k.value for k in call.keywords}
    inplace = keywords.get("inplace")
    if not (isinstance(inplace, ast.Constant) and inplace.value is True):
        return None
    axis = keywords.get("axis")
    if "columns" in keywords and not call.args:
        labels: ast.expr | None = keywords["columns"]
    elif len(call.args) == 1 and isinstance(axis, ast.Constant) and axis.value in (1, "columns"):
        labels = call.args[0]
    else:
        return None
    keys = _literal_keys(labels) if labels is not None else None
    return (call.func.value.id, keys) if keys else None


def _literal_keys(node: ast.expr) -> set[str] | None:
    """``"a"`` or ``["a", "b"]``: the literal column names; None for anything else."""
    items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
    if items and all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
        return {i.value for i in items}  # type: ignore[attr-defined]
    return None


def _computed_from(info: Statement, live: set[int], infos: Sequence[Statement], decisions: Sequence[Decision]) -> bool:
    """Whether what ``info`` reads comes from a kept computing statement (not a definition), directly
    or through statements of its stages that nothing kept reads yet (not displays)."""
    seen: set[int] = set()
    pending = [info]
    while pending:
        current = pending.pop()
        for dep in current.flow:
            if dep in seen or not any(not n.startswith("<") for n in infos[dep].writes & current.reads):
                continue
            seen.add(dep)
            if dep in live:
                if not isinstance(infos[dep].node, _DEFINES):
                    return True
            elif decisions[dep].stage is not None and not infos[dep].inert:
                pending.append(infos[dep])
    return False


def _drawn_only(candidates: set[int], infos: Sequence[Statement], decisions: Sequence[Decision]) -> set[int]:
    """The metrics among ``candidates`` computed only to be drawn (``cm = confusion_matrix(...)``
    for a heatmap, ``roc_auc = auc(fpr, tpr)`` for a legend): an assignment whose every reader
    is a plot run() drops. A figure shows no value, so the metric belongs to the plot; a metric
    also printed, displayed, saved in a figure file or read by kept code stays a root, and so does
    a model fitted (``smoothed = lowess(y, x)`` drawn as a line): every model the notebook builds
    is kept."""
    drawn: set[int] = set()
    for index in sorted(candidates):
        info = infos[index]
        names = {n for n in info.binds if not n.startswith("<")}
        if not isinstance(info.node, ast.Assign) or info.effects or decisions[index].level >= 3 or not names \
                or decisions[index].stage == TRAIN:
            continue
        readers = [later for later in infos[index + 1:] if index in later.flow and later.reads & names]
        if readers and all(r.inert and "plot" in r.effects and "savefig" not in r.effects
                           and decisions[r.index].stage is None and decisions[r.index].level < 3 for r in readers):
            drawn.add(index)
    return drawn


def _given_onwards(infos: Sequence[Statement], aliases: Aliases, user_functions: set[str],
                   builds_only: Callable[[Statement], bool]) -> dict[int, set[str]]:
    """For each statement, what it binds that a statement reading that binding passes to a call
    (``basis_plot(model)`` may fit it): the binding read, not the name, since a notebook reuses
    names (the ``outputs`` of a layer demo is not the ``outputs`` a later model is built from).
    A reader that only builds another object from it (``x = Dense(8)(x)``) matters only when
    something reads what it builds: the graph's flow keeps the chain then."""
    given: dict[int, set[str]] = {}
    for info in infos:
        if builds_only(info):
            continue
        passed = _tree_facts(info, aliases, user_functions).given & info.reads
        for dep in info.flow:
            found = infos[dep].binds & passed
            if found:
                given.setdefault(dep, set()).update(found)
    return given


def _untrained_output(info: Statement, decision: Decision,
                      evidence_of: Callable[[Statement], tuple[int, str] | None]) -> bool:
    """An object built and used at once, never trained (``layer = Dense(8)``, ``out1, out2 =
    MyLayer()(inputs)``): what it binds is a demo of the object, no result of the notebook."""
    evidence = evidence_of(info) if decision.level == 2 else None
    return evidence is not None and _builds_only(info, evidence)


def _checks_untrained(info: Statement, infos: Sequence[Statement], decisions: Sequence[Decision],
                      evidence_of: Callable[[Statement], tuple[int, str] | None], aliases: Aliases,
                      notebook_names: set[str], user_functions: set[str]) -> bool:
    """A metric of what objects only built compute (``mean_absolute_error(keras_norm(X),
    my_norm(X))``, the loss of a network before any training), or a change of such an object that
    is no training (``layer.set_weights(w)``): a check of the objects, no result of the notebook,
    since nothing in it was trained. It matters only when a kept statement needs it. A method of
    a notebook object in a metric (``model.predict(X)``), or an object that a statement with
    training evidence changed, makes it the pipeline's work."""
    node = info.node
    if decisions[info.index].level != 2 or info.effects & {"write", "setup"}:
        return False
    evidence = evidence_of(info)
    if evidence is not None and evidence[0] == TRAIN and evidence[1].startswith("changes the model ") \
            and isinstance(node, ast.Expr) and _is_setter(node.value) and not info.binds:
        changed = {n for n in info.mutates if not n.startswith("<")}
        return bool(changed) and all(_only_built(name, info, infos, decisions, evidence_of) for name in changed)
    if not has_metric(node):
        return False
    called: set[str] = set()
    for call in calls_in(node):
        if isinstance(call.func, ast.Name) and call.func.id in notebook_names and call.func.id not in user_functions:
            called.add(call.func.id)
        elif root_name(call.func) in notebook_names or root_name(call.func) is None:
            return False  # model.predict(X), or what a call returns called again
    return bool(called) and all(_only_built(name, info, infos, decisions, evidence_of) for name in called)


def _is_setter(value: ast.expr) -> bool:
    """``layer.set_weights(w)``: a setter of a notebook object sets what it is told, it trains nothing
    (what ``trainer.run(...)`` does is not known, so it may train)."""
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
        and isinstance(value.func.value, ast.Name) and value.func.attr.startswith("set_")


def _only_built(name: str, info: Statement, infos: Sequence[Statement], decisions: Sequence[Decision],
                evidence_of: Callable[[Statement], tuple[int, str] | None]) -> bool:
    """Whether ``name``, as ``info`` reads it, is an object only built (:func:`_builds_only`) that
    no statement with training evidence (``fit``, ``compile``, a training loop) changed since."""
    made = [d for d in info.flow if name in infos[d].writes]
    if not any(name in infos[d].binds for d in made):
        return False
    for d in made:
        evidence = evidence_of(infos[d]) if decisions[d].level == 2 else None
        if name in infos[d].binds and not (_untrained_output(infos[d], decisions[d], evidence_of)
                                           and evidence is not None and evidence[1].startswith("builds a model")):
            return False
        changer = infos[d].node
        if name not in infos[d].binds and not (isinstance(changer, ast.Expr) and _is_setter(changer.value)):
            return False
    return True


DISPLAY_FUNCTIONS = frozenset({"print", "display", "pprint"})


def _reads_back(info: Statement, infos: Sequence[Statement]) -> bool:
    """Whether every file the statement reads is one the notebook wrote before it."""
    files = {n for n in info.reads if n.startswith("<file:")}
    written = {n for d in info.flow for n in infos[d].writes if n.startswith("<file:")}
    return bool(files) and files <= written


def _computes_only(info: Statement, aliases: Aliases, user_functions: set[str]) -> bool:
    """A statement whose only effect is binding or changing names with known-pure calls (a
    compound one included): dropped when nothing kept reads what it makes."""
    if not info.binds and not info.mutates or info.effects & {"write", "savefig", "setup"}:
        return False
    cached = info.facts.get("computes only")  # (its tree's part, once per statement and renaming)
    if cached is None or cached[0] is not aliases or cached[1] is not user_functions:  # type: ignore[index]
        cached = info.facts["computes only"] = (aliases, user_functions,
                                                _tree_computes_only(info.node, aliases, user_functions))
    return cached[2]  # type: ignore[index,no-any-return]


def _tree_computes_only(node: ast.stmt, aliases: Aliases, user_functions: set[str]) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                         ast.Global, ast.Nonlocal, ast.Expr, ast.Return, ast.Raise, ast.Assert)):
        return False
    if has_metric(node):
        return False
    if any(isinstance(n, (ast.Raise, ast.Break, ast.Continue, ast.Return, ast.Global, ast.Nonlocal, ast.Import,
                          ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
           for n in walk(node) if n is not node):
        return False
    return is_pure_expression(node, aliases, user_functions)


def _plot_only_reads(info: Statement, aliases: Aliases, user_functions: set[str]) -> set[str]:
    """What a statement reads only in the plots nested in it, which run() drops (``axes``): no
    reason to keep the statement that made it (cached per statement and renaming, like its other facts)."""
    cached = info.facts.get("plot only reads")
    if cached is None or cached[0] is not aliases or cached[1] is not user_functions:  # type: ignore[index]
        cached = info.facts["plot only reads"] = (aliases, user_functions,
                                                  plot_only_reads(info.node, aliases, user_functions))
    return cached[2]  # type: ignore[index,no-any-return]


def _keep_what_is_read(infos: Sequence[Statement], decisions: list[Decision], dead: set[int],
                       aliases: Aliases, user_functions: set[str],
                       temporary: set[int] | frozenset[int] = frozenset()) -> None:
    """Backwards over the notebook: a dropped statement (display, plot, exploration) or one that
    only computes (``dead`` candidates) is kept when a kept statement after it reads what it binds
    or changes. Figures count only for a kept ``savefig``. A computation only dropped statements
    read (plots, prints, displays) is dropped with them; one that nothing reads is kept."""
    needed: dict[int, set[str]] = {}
    shown: set[int] = set()  # computations whose values a print or display shows: outputs, kept
    plotted: set[int] = set()  # computations read by dropped plots
    for index in range(len(infos) - 1, -1, -1):
        decision = decisions[index]
        if decision.stage is None and decision.level >= 3:
            continue
        wanted = needed.get(index)
        if decision.stage is None and not wanted:
            feeds = {d for d in infos[index].flow if infos[d].writes & infos[index].reads}
            if "plot" in infos[index].effects:
                plotted.update(feeds)
            else:
                shown.update(feeds)
            continue
        if index in dead and not wanted and index in shown | plotted:
            names = ", ".join(sorted(n for n in infos[index].writes if not n.startswith("<"))) or "nothing"
            what = "plots" if index not in shown else "displays"
            feeds = {d for d in infos[index].flow if infos[d].writes & infos[index].reads}
            (shown if index in shown else plotted).update(feeds)  # what only it read goes with it
            decisions[index] = Decision(None, f"computes {names} only for {what}", 0)
            continue
        if decision.stage is None and wanted:
            what = ", ".join("the figure" if n == FIGURE else "the seeded random generator" if n == RNG
                             else n.strip("<>") for n in sorted(wanted))
            decisions[index] = Decision(-1, f"{decision.reason}, but binds or changes {what}, read later: kept", 0)
        # a seeded generator's draws are read by the draws after them (``df.sample(5)`` shown
        # between ``np.random.seed`` and an unseeded split moves the split): kept like a binding
        reads = infos[index].reads - {FS} - _plot_only_reads(infos[index], aliases, user_functions)
        if "savefig" not in infos[index].effects:
            reads = reads - {FIGURE}
        for dep in infos[index].flow:
            written = infos[dep].writes & reads if dep not in temporary or index in temporary else set()
            if written:
                needed.setdefault(dep, set()).update(written)


class OrderConflict(Exception):
    def __init__(self, cell: int, stage: str, needs: str, other: int) -> None:
        super().__init__(f"cell {cell} ({stage}) depends on cell {other}, which is placed in the later stage {needs!r}")
        self.cell = cell


def _order(infos: Sequence[Statement], decisions: list[Decision]) -> None:
    kept = [i for i, d in enumerate(decisions) if d.stage is not None]
    deps = {i: [d for d in infos[i].deps if decisions[d].stage is not None] for i in kept}
    evidence = {i for i in kept if decisions[i].level >= 2}
    dependents: dict[int, list[int]] = {i: [] for i in kept}
    for i in kept:
        for d in deps[i]:
            dependents[d].append(i)
    # An artifact written mid-way (a model saved, then more work that depends on it) is written as
    # early as what it saves allows, so that the work after it keeps its own stages.
    earlier_after: dict[int, bool] = {}  # some evidence of an earlier stage depends on it
    for i in reversed(kept):
        earlier_after[i] = any(
            (e in evidence and decisions[e].level < 3 and _stage(decisions, e) < EXPORT) or earlier_after[e]
            for e in dependents[i])
    _evaluations_for_training(infos, decisions, kept, deps)
    # 1. evidence: never earlier than the evidence it depends on (through any chain)
    ancestors: dict[int, int] = {}  # the latest evidence stage among a statement's ancestors
    for i in kept:
        low = max((_read_stage(decisions, d) if d in evidence else ancestors[d] for d in deps[i]), default=-1)
        ancestors[i] = low
        decision = decisions[i]
        if i not in evidence:
            continue
        stage = _stage(decisions, i)
        if stage == EXPORT and decision.level == 2 and earlier_after[i]:
            early = max(low, LOAD)
            if early < EXPORT:
                decisions[i] = Decision(early, f"{decision.reason}; written in {st.STAGES[early]}, "
                                               "where what it writes is made: later code depends on it", 2)
                continue
        if decision.level == 3:
            if low > stage:
                other = next(d for d in _closure(i, deps) if d in evidence and _stage(decisions, d) == low)
                raise OrderConflict(infos[i].cell, st.STAGES[stage], st.STAGES[low], infos[other].cell)
            continue
        if low > stage:
            if stage == PREPROCESS and low == TRAIN and _only_for_evaluation(i, dependents, evidence, decisions,
                                                                             infos):
                decisions[i] = Decision(EVALUATE, f"{decision.reason}; from what train makes, for evaluation", 2,
                                        prepares=True)
            else:
                decisions[i] = Decision(low, f"{decision.reason}; reads what {st.STAGES[low]} makes", 2)
    # 2. the rest, in notebook order, inside the range dependencies and dependents leave
    below: dict[int, int] = {}
    for i in reversed(kept):
        below[i] = min((min(below[e], _stage(decisions, e) if e in evidence else 99) for e in dependents[i]),
                       default=99)
    first_below: dict[int, tuple[int, int]] = {}
    for i in reversed(kept):  # (index, stage) of the earliest evidence dependent
        candidates = [(e, _stage(decisions, e)) for e in dependents[i] if e in evidence]
        candidates += [(first_below[e][0], first_below[e][1]) for e in dependents[i] if e in first_below]
        if candidates:
            first_below[i] = min(candidates)
    results = _results_under_a_training_heading(infos, decisions, kept, deps, dependents)
    previous_stage = LOAD
    for position, i in enumerate(kept):
        decision = decisions[i]
        if i in evidence:
            previous_stage = _stage(decisions, i)
            continue
        low = max((_read_stage(decisions, d) for d in deps[i]), default=LOAD)
        high = below[i]
        misplaced = decision.reason.startswith("under heading") and low <= high and \
            not low <= (decision.stage or 0) <= high  # its heading speaks of another step
        if not misplaced and decision.stage is not None and decision.stage > PREPROCESS and decision.reason.startswith(
                "under heading") and _derives_data(infos, decisions, i, deps[i], low, high, first_below.get(i)):
            wanted, why = PREPROCESS, f"{decision.reason}, but it derives data from what load and preprocess make"
        elif decision.stage is not None and decision.stage >= 0 and not misplaced:
            wanted, why = decision.stage, decision.reason
            if i in results and low == TRAIN and high >= EVALUATE:
                wanted, why = EVALUATE, f"{why}, but it computes from what training made for no later step: a result"
        else:
            wanted, why = _neighbour(infos, decisions, kept, position, first_below.get(i), previous_stage,
                                     deps[i], low, high)
            if misplaced:
                why = f"{decision.reason}, which its dependencies rule out; {why}"
            elif decision.reason:
                why = f"{decision.reason}; {why}"
        stage = min(max(wanted, low), high) if low <= high else low
        if stage != wanted:
            why += f"; moved to {st.STAGES[stage]} by its dependencies"
        decisions[i] = Decision(stage, why, decision.level)
        previous_stage = stage


def _results_under_a_training_heading(infos: Sequence[Statement], decisions: list[Decision], kept: list[int],
                                      deps: Mapping[int, list[int]], dependents: Mapping[int, list[int]]) -> set[int]:
    """Assignments a training heading alone places (``gain = tuned - base`` under "Hyperparameter
    tuning") that read what training made and that no later step uses but other such assignments:
    what they compute is only shown, a result of the notebook, so evaluation computes it."""
    found: set[int] = set()
    for i in reversed(kept):
        decision = decisions[i]
        if decision.level == 1 and decision.stage == TRAIN and decision.reason.startswith("under heading") \
                and isinstance(infos[i].node, (ast.Assign, ast.AugAssign)) and not infos[i].effects \
                and all(d in found for d in dependents[i]) and any(_stage(decisions, d) == TRAIN for d in deps[i]):
            found.add(i)
    return found


def _only_for_evaluation(i: int, dependents: Mapping[int, list[int]], evidence: set[int],
                         decisions: list[Decision], infos: Sequence[Statement]) -> bool:
    """Whether every statement that depends on ``i`` evaluates (``labels = (oof > 0.5).astype(int)``
    read only by ``confusion_matrix``): data prepared from what training made for the metrics is
    part of the evaluation, not of the training. A metric only shown (``print(classification_report(
    y, labels))``, computed again as a result) or a plot dropped with it reads it as an evaluation does."""
    if not all(d in evidence and decisions[d].level < 3 and _stage(decisions, d) >= EVALUATE for d in dependents[i]):
        return False
    if dependents[i]:
        return True
    readers = [r for r in infos[i + 1:] if i in r.flow and r.reads & infos[i].writes]
    return any(has_metric(r.node) for r in readers) and all(
        decisions[r.index].stage is None and (has_metric(r.node) or r.inert and "plot" in r.effects) for r in readers)


def _evaluations_for_training(infos: Sequence[Statement], decisions: list[Decision], kept: list[int],
                              deps: Mapping[int, list[int]]) -> None:
    """An evaluation whose values a later training step reads (the scores a model size is chosen
    by, then ``DecisionTreeRegressor(max_leaf_nodes=best).fit(X, y)``; an evaluator the trainer runs
    after each epoch) is part of that training: it goes to ``train``, through the chain of values
    between them, rather than dragging the training into ``evaluate``. Tags are never overruled."""
    pending = [i for i in kept if decisions[i].level == 2 and decisions[i].stage == TRAIN]
    seen: set[int] = set()
    while pending:
        i = pending.pop()
        for d in deps[i]:
            if d in seen or d not in infos[i].flow or not infos[d].writes & infos[i].reads:
                continue
            seen.add(d)
            decision = decisions[d]
            if decision.level == 2 and decision.stage == EVALUATE:
                decisions[d] = Decision(TRAIN, f"{decision.reason}; the training after it reads it", 2, evaluates=True)
                pending.append(d)
            elif decision.level < 2:
                pending.append(d)


def _derives_data(infos: Sequence[Statement], decisions: list[Decision], i: int, deps: Sequence[int], low: int,
                  high: int, first_below: tuple[int, int] | None) -> bool:
    """Whether a statement without evidence only derives data from what load and preprocess made
    (``X = test[cols]``) for later steps that use it: a data step whatever a heading about
    predictions or models says, unless code of its cell does what the heading says (then it goes
    with that code). A value nothing uses later is a result, left where its heading puts it. Under a
    training heading it stays: a fit written by hand (``slope = ...(xs, ys)``) has no call to know it by."""
    info = infos[i]
    if decisions[i].stage == TRAIN and not (isinstance(info.node, ast.Assign) and _selects(info.node.value)):
        return False
    data = [d for d in deps if infos[d].writes & info.reads and _stage(decisions, d) in (LOAD, PREPROCESS)
            and not isinstance(infos[d].node, _DEFINES)]
    later = [d for d in deps if infos[d].writes & info.reads and _stage(decisions, d) > PREPROCESS
             and not isinstance(infos[d].node, _DEFINES)]
    return bool(data) and not later and low <= PREPROCESS <= high and isinstance(info.node, ast.Assign) \
        and not info.effects and any(not n.startswith("<") for n in info.binds) \
        and first_below is not None and first_below[1] > PREPROCESS \
        and not any(o.cell == info.cell and decisions[o.index].level == 2 and decisions[o.index].stage ==
                    decisions[i].stage for o in infos)  # the code of its cell does what the heading says


def _literal_for_a_data_step(infos: Sequence[Statement], decisions: list[Decision], kept: list[int], position: int,
                             deps: Sequence[int]) -> bool:
    """A literal bound on its own (``feature_cols = ['a', 'b']``) whose first reader derives data
    from what load and preprocess made, without evidence of its own (``X = df[feature_cols]``):
    it is part of that data step, not of the fit the step feeds."""
    i = kept[position]
    node = infos[i].node
    if deps or not isinstance(node, ast.Assign) or not is_literal(node.value):
        return False
    for j in kept[position + 1:]:
        if i not in infos[j].flow or not infos[i].writes & infos[j].reads:
            continue
        return decisions[j].level == 0 and isinstance(infos[j].node, ast.Assign) and not infos[j].effects and any(
            d != i and infos[d].writes & infos[j].reads and _stage(decisions, d) in (LOAD, PREPROCESS)
            and not isinstance(infos[d].node, _DEFINES) for d in infos[j].flow)
    return False


def is_literal(node: ast.expr | None) -> bool:
    """A constant, or a list, tuple, set or dict of constants (``['pclass', 'age']``); not ``...``
    (a placeholder for a value still to write)."""
    if node is None or isinstance(node, ast.Constant) and node.value is Ellipsis:
        return False
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _selects(node: ast.expr) -> bool:
    """A value that only names or selects data (``X_test_scaled``, ``X_test[:3]``, ``df[cols]``,
    ``iris.data``, a tuple of those), computing nothing a hand-written fit could be."""
    if isinstance(node, ast.Tuple):
        return all(_selects(e) for e in node.elts)
    while isinstance(node, ast.Attribute) or isinstance(node, ast.Subscript) and not any(
            isinstance(n, ast.Call) for n in walk(node.slice)):
        node = node.value
    return isinstance(node, ast.Name)


def _closure(i: int, deps: Mapping[int, list[int]]) -> list[int]:
    seen: list[int] = []
    pending = list(deps[i])
    while pending:
        d = pending.pop()
        if d not in seen:
            seen.append(d)
            pending.extend(deps.get(d, ()))
    return seen


def _stage(decisions: list[Decision], index: int) -> int:
    stage = decisions[index].stage
    return stage if stage is not None and stage >= 0 else LOAD


def _read_stage(decisions: list[Decision], index: int) -> int:
    """The earliest stage a statement reading what ``index`` makes may go to: the stage of
    ``index``, but evaluate after a loop that trains and scores models (what reads the scores, or
    the models picked by them, evaluates)."""
    stage = _stage(decisions, index)
    return EVALUATE if decisions[index].scores and stage == TRAIN else stage


def _neighbour(infos: Sequence[Statement], decisions: list[Decision], kept: list[int], position: int,
               first_below: tuple[int, int] | None, previous_stage: int, deps: Sequence[int] = (),
               low: int = LOAD, high: int = 99) -> tuple[int, str]:
    """For a statement without evidence: the statement before it in its cell, the nearest with
    evidence after it in the cell, the data it derives from, what it prepares, or the stage
    before it."""
    i = kept[position]
    cell = infos[i].cell
    if position > 0 and infos[kept[position - 1]].cell == cell:
        before = kept[position - 1]
        return _stage(decisions, before), f"continues {st.STAGES[_stage(decisions, before)]} in its cell"
    for j in kept[position + 1:]:
        if infos[j].cell != cell:
            break
        if decisions[j].level >= 1 and decisions[j].stage is not None and decisions[j].stage >= 0:  # type: ignore
            if not decisions[j].reason.startswith("under heading") or \
                    low <= decisions[j].stage <= max(high, low):  # type: ignore[operator]
                return _stage(decisions, j), f"with the {st.STAGES[_stage(decisions, j)]} code of its cell"
    data = [d for d in deps if infos[d].writes & infos[i].reads and _stage(decisions, d) in (LOAD, PREPROCESS)
            and not isinstance(infos[d].node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.ClassDef))]
    if data and low <= PREPROCESS <= high and any(not n.startswith("<") for n in infos[i].binds) and (
            first_below is None or first_below[1] > PREPROCESS):
        return PREPROCESS, "derives data from what load and preprocess make"
    if low in (TRAIN, EVALUATE) and high >= EVALUATE and (first_below is None or first_below[1] >= EVALUATE):
        # (what evaluation made, read again: the best model picked from a table of scores)
        return EVALUATE, "uses what training made" if low == TRAIN else "uses what evaluation made"
    if _literal_for_a_data_step(infos, decisions, kept, position, deps) and low <= PREPROCESS <= high:
        return PREPROCESS, "a literal the data step after it uses"
    if first_below is not None:
        return first_below[1], f"needed by the {st.STAGES[first_below[1]]} code after it"
    return previous_stage, f"continues {st.STAGES[previous_stage]}"
