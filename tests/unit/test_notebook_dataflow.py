"""Dataflow: module-level code, stage parameters and returns, and what run() returns."""

from __future__ import annotations

import ast
import contextlib
import sys
import textwrap
import types
from pathlib import Path

import pytest

from mlpack_cli.notebook import graph as gr
from mlpack_cli.notebook import placement as pl
from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.dataflow import (
    DynamicNames, HelperGlobal, ParsedCell, Pipeline, _stage_in_force, build_pipeline,
)
from mlpack_cli.notebook.scopes import analyze


def pipeline(*cells: str | tuple[str, str | None, tuple[str, ...]]) -> Pipeline:
    parsed = []
    for number, cell in enumerate(cells, start=1):
        source, heading, tags = (cell, None, ()) if isinstance(cell, str) else cell
        source = textwrap.dedent(source)
        parsed.append(ParsedCell(number, tags, source, heading, ast.parse(source)))
    result = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    _PARSED[id(result)] = parsed
    return result


_PARSED: dict[int, list[ParsedCell]] = {}  # the cells of each pipeline made by pipeline(), for run_pipeline


def stage(result: Pipeline, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in result.stages if s.name == name)


def test_names_respect_scopes_and_order() -> None:
    names = analyze(ast.parse("a = b + 1\nc = [x for x in a]\ndef f(y):\n    return y + z\nb = 2").body)
    assert names.reads == ["b", "z"]
    assert names.binds == ["a", "c", "f", "b"]


def test_stage_parameters_and_returns_follow_the_names() -> None:
    result = pipeline(
        ("rows = read_rows()", "Load", ()),
        ("clean = [r for r in rows if r]\nunused_here = 1", "Preprocess", ()),
        ("model = fit(clean)", "Train", ()),
        ("score = model(clean)\nscore", "Evaluate", ()),
    )
    assert stage(result, "preprocess").inputs == ["rows"]
    assert stage(result, "preprocess").returns == ["clean"]
    assert stage(result, "train").returns == ["model"]
    assert stage(result, "evaluate").inputs == ["model", "clean"]
    assert result.results == [("score", "score")]
    assert stage(result, "evaluate").returns == ["score"]
    assert stage(result, "export").is_stub


def test_literal_constants_become_keyword_parameters() -> None:
    result = pipeline("PATH = 'data/x.csv'\nPARAMS = {'depth': 3, 'rate': -0.1}", "rows = load_rows(PATH)",
                      ("model = fit(rows, **PARAMS)", "Train", ()))
    assert result.constant_names == ["PATH", "PARAMS"]
    assert stage(result, "load").constants == ["PATH"]
    assert stage(result, "train").constants == ["PARAMS"]


def test_a_name_bound_twice_is_not_a_constant() -> None:
    result = pipeline("n = 3", "n = n + 1\nrows = load_rows(n)")
    assert result.constant_names == []


def test_imports_are_hoisted_deduplicated_and_pruned() -> None:
    result = pipeline("import os\nimport json\nimport os", "rows = read_csv(os.sep)")
    assert [ast.unparse(i) for i in result.imports] == ["import os"]


def test_an_import_repeated_in_a_later_cell_is_the_module_level_one() -> None:
    # left in the stage, it would make the name local to the stage function: the use above it in
    # the same function would raise UnboundLocalError
    result = pipeline(("from statistics import mean\nfirst = mean([1, 2])", "Load", ()),
                      ("from statistics import mean\n\nsecond = mean([first, 5])", "Load", ()))
    assert [ast.unparse(i) for i in result.imports] == ["from statistics import mean"]
    load = stage(result, "load").statements
    assert [ast.unparse(s) for s in load] == ["first = mean([1, 2])", "second = mean([first, 5])"]


def test_an_import_rebound_later_stays_in_its_stage() -> None:
    result = pipeline("from models import tree, fit", ("tree = fit(tree)", "Train", ()))
    assert [ast.unparse(i) for i in result.imports] == []
    train = ast.unparse(ast.Module(stage(result, "train").statements, []))
    assert train == "from models import tree, fit\ntree = fit(tree)"
    assert stage(result, "train").inputs == []


def test_an_import_left_in_its_stage_that_nothing_kept_reads_is_dropped() -> None:
    # the import rebinds a result's name for a plot the module drops: kept, it would make run()
    # return the imported function instead of the value the notebook computed
    result = pipeline(
        "import numpy as np\nimport matplotlib.pyplot as plt\nfrom sklearn.cluster import KMeans\n"
        "from sklearn.datasets import load_iris\nx = load_iris().data",
        "model = KMeans(n_clusters=3, n_init=10, random_state=0)\nlabels = model.fit_predict(x)\nmean = labels.mean()",
        "from statistics import mean\nnp.random.seed(0)\npoints = np.random.rand(5, 2)\n"
        "plt.scatter(points[:, 0], points[:, 1], s=mean([1, 2]))",
    )
    kept = [ast.unparse(s) for s in result.stages for s in s.statements]
    assert "from statistics import mean" not in kept
    assert isinstance(run_pipeline(result)["mean"], float)


def test_what_a_loop_filling_a_table_binds_at_each_pass_is_no_result() -> None:
    # at the end ``res`` and ``score`` hold the last model's values (fit times among them): one row
    # of the table the loop fills, which is the result; what the loop carries or picks is kept
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.model_selection import cross_validate\n"
        "from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\nX, y = load_iris(return_X_y=True)",
        ("models = {'c1': LogisticRegression(C=1.0), 'c10': LogisticRegression(C=10.0)}\n"
         "rows = []\nbest, top = None, 0.0\nfor name, model in models.items():\n"
         "    res = cross_validate(model, X, y, cv=3)\n    score = res['test_score'].mean()\n"
         "    rows.append((name, score))\n    if score > top:\n        best, top = name, score", "Evaluate", ()),
        ("pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)", "Train", ()),
        ("step = pipe.named_steps['logisticregression']\nweights = step.coef_\nprint(weights)",
         "Evaluate", ()),  # ``step`` is the fitted model inside the pipeline, no value computed
    )
    names = [name for name, _ in result.results]
    assert {"rows", "best", "top", "weights"} <= set(names)
    assert not {"res", "score", "step"} & set(names)


def test_a_table_a_loop_fills_with_the_scores_it_computed_at_each_pass_is_a_result() -> None:
    # the scores reach ``results`` through the pass's own names, and ``results`` was made empty in
    # training: the table is what the evaluation computed, returned by run()
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True)",
        ("models = {'c1': LogisticRegression(C=1.0), 'c10': LogisticRegression(C=10.0)}\nresults = {}\n"
         "rows = []", "Train", ()),
        ("for name, model in models.items():\n    model.fit(X, y)\n    acc = model.score(X, y)\n"
         "    results[name] = {'train': acc}\n    row = (name, acc)\n    rows.append(row)", "Evaluate", ()),
    )
    names = [name for name, _ in result.results]
    assert {"results", "rows"} <= set(names)
    assert not {"acc", "row", "model"} & set(names)


def test_the_same_metric_printed_for_two_models_is_named_by_whose_predictions_it_scores() -> None:
    result = pipeline(
        "from sklearn.metrics import classification_report, accuracy_score\nX, y = load()",
        ("base = fit(X, y)\neng = fit(X * 2, y)", "Train", ()),
        ("y_pred_base = base.predict(X)\nprint(classification_report(y, y_pred_base))\n"
         "y_pred_eng = eng.predict(X)\nprint(classification_report(y, y_pred_eng))\n"
         "print(accuracy_score(y, y_pred_base))\nprint(accuracy_score(y, eng.predict(X)))\n"
         "y_pred = base.predict(X)\nprint(accuracy_score(y, y_pred))\n"
         "print(classification_report(y, y_pred, target_names=names))", "Evaluate", ()),
    )
    names = [name for name, _ in result.results]
    # (the imported function keeps its name; a prediction's name only: told apart by a number)
    assert {"classification_report_base", "classification_report_eng", "accuracy", "accuracy_eng",
            "accuracy_2", "classification_report_2"} <= set(names)  # (a setting tells no model apart)


def test_cross_validates_timings_are_reported_as_the_clock() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import cross_validate\nX, y = load_iris(return_X_y=True)",
        ("cv = cross_validate(LogisticRegression(max_iter=500), X, y, cv=3)\ncv", "Evaluate", ()),
    )
    assert ("cv", "cv") in result.results
    assert [w for w in result.warnings if "made from the clock" in w] == [
        "cell 2, line 1: run() returns cv, made from the clock (its fit and score times: "
        "cross_validate(LogisticRegression(max_iter=500), X, y, cv=3)): the notebook and run() get another "
        "value on each run"]
    scores = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import cross_validate\nX, y = load_iris(return_X_y=True)",
        "model = LogisticRegression(max_iter=500).fit(X, y)",
        ("cv = cross_validate(model, X, y, cv=3)\nmean_acc = cv['test_score'].mean()", "Evaluate", ()),
    )
    assert ("mean_acc", "mean_acc") in scores.results
    assert not [w for w in scores.warnings if "mean_acc" in w and "clock" in w]  # (the scores are no timings)


@pytest.mark.parametrize(("shown", "timed"), [
    ("table = pd.DataFrame(gs.cv_results_)\ntable", True),
    ("pd.DataFrame(gs.cv_results_).sort_values('rank_test_score')", True),  # computed as a result, named
    ("means = gs.cv_results_['mean_test_score']\nmeans", False),
    ("table = pd.DataFrame(gs.cv_results_)[['params', 'mean_test_score']]\ntable", False),
])
def test_a_searchs_cv_results_hold_timings(shown: str, timed: bool) -> None:
    result = pipeline(
        "import pandas as pd\nfrom sklearn.datasets import load_iris\n"
        "from sklearn.model_selection import GridSearchCV\nfrom sklearn.svm import SVC\n"
        "X, y = load_iris(return_X_y=True)",
        "gs = GridSearchCV(SVC(), {'C': [1, 10]}, cv=3).fit(X, y)",
        (shown, "Evaluate", ()),
    )
    clock = [w for w in result.warnings if "made from the clock" in w]
    assert bool(clock) is timed, clock


def test_the_summary_of_a_statsmodels_fit_is_reported_as_the_clock() -> None:
    result = pipeline(
        "import numpy as np\nimport statsmodels.api as sm\nX = sm.add_constant(np.arange(10.0))\n"
        "y = 2 * np.arange(10.0) + 1",
        "res = sm.OLS(y, X).fit()\nprint(res.summary())",
        "class Net:\n    def summary(self):\n        return 'layers'\nnet = Net()\nprint(net.summary())",
    )
    clock = [w for w in result.warnings if "made from the clock" in w]
    assert len(clock) == 1 and "(the date and time it prints: res.summary())" in clock[0], result.warnings


def test_a_result_made_from_the_clock_is_reported() -> None:
    result = pipeline(
        "import time\nfrom datetime import datetime\nX, y = load()",
        ("start = time.time()\nmodel = fit(X, y)\nelapsed = time.time() - start", "Train", ()),
        ("stamp = datetime.now().strftime('%H%M')\nacc = score(model, X, y)\nname = f'run_{stamp}'\n"
         "print(name, acc, elapsed)", "Evaluate", ()),
    )
    found = [w for w in result.warnings if "made from the clock" in w]
    assert found == ["cell 2, line 3: run() returns elapsed (and stamp, name), made from the clock (time.time()): "
                     "the notebook and run() get another value on each run"]
    assert not [w for w in pipeline(("acc = score(fit(*load()))", "Evaluate", ())).warnings if "clock" in w]


def test_a_result_bound_again_in_a_plot_cell_is_returned_as_the_notebook_ends_with_it() -> None:
    # ``residuals`` is reshaped for the picture: the notebook ends with the reshaped array, so does run()
    result = pipeline(
        "import matplotlib.pyplot as plt\nfrom sklearn.metrics import accuracy_score\nX, y = load()",
        ("model = fit(X, y)", "Train", ()),
        ("residuals = y - model.predict(X)\nprint(accuracy_score(y, model.predict(X)))\nresiduals", "Evaluate", ()),
        ("residuals = residuals.reshape(12, 30)\nplt.imshow(residuals)\nplt.title('Residuals')", "Plot", ()),
    )
    assert ("residuals", "residuals") in result.results
    evaluate = "\n".join(ast.unparse(s) for s in stage(result, "evaluate").statements)
    assert "residuals = residuals.reshape(12, 30)" in evaluate
    assert evaluate.index("accuracy_score(y, model.predict(X))") < evaluate.index("residuals.reshape(12, 30)")
    assert "imshow" not in evaluate


def test_a_prediction_a_shown_metric_scores_is_no_result() -> None:
    result = pipeline(
        "from sklearn.metrics import accuracy_score\nX, y = load()",
        ("model = fit(X, y)", "Train", ()),
        ("y_pred = model.predict(X)\nprint('Accuracy:', accuracy_score(y, y_pred))", "Evaluate", ()),
        ("one = model.predict(X[0].reshape(1, -1))\nprint(one)", "Evaluate", ()),
    )
    assert result.results == [("accuracy", "accuracy")]


def test_self_contained_helpers_move_to_module_level() -> None:
    result = pipeline("import math\ndef area(r):\n    return math.pi * r ** 2", "rows = read_csv(area(2))")
    assert [h.name for h in result.helpers] == ["area"]  # type: ignore[attr-defined]


def test_names_the_module_defines_itself_are_renamed() -> None:
    result = pipeline(("train = read_csv('t.csv')", "Load", ()), ("model = fit(train)", "Train", ()))
    assert result.renamed == {"train": "train_"}
    assert stage(result, "train").inputs == ["train_"]


def test_a_name_nothing_binds_becomes_a_required_parameter() -> None:
    result = pipeline("import pandas as pd\nrows = pd.read_csv(files)")
    assert result.required == ["files"]
    assert any("files" in w for w in result.warnings)


def test_read_before_its_binding_is_required_unless_loop_carried() -> None:
    result = pipeline("import math\nscore = math.fabs(X)\nX = 2.0 * score")
    assert result.required == ["X"]
    looped = pipeline("import math\nfor i in range(3):\n    if i:\n        print(last)\n    last = math.fabs(i)")
    assert looped.required == []


def test_a_mutated_list_is_not_a_shared_constant() -> None:
    result = pipeline("SIZES = [1, 2]\nseen = []\nPARAMS = {'k': 3}",
                      "for s in SIZES:\n    seen.append(s * PARAMS.get('k'))")
    assert result.constant_names == ["SIZES", "PARAMS"]
    assert "seen = []" in ast.unparse(ast.Module(stage(result, "load").statements, []))


def test_a_name_a_function_declares_global_is_module_state_not_a_parameter() -> None:
    """``step`` rebinds ``calls``: a keyword parameter would freeze it at 0 for every later stage."""
    result = pipeline(
        "calls = 0\nseen = []",
        "def step(x):\n    global calls, seen\n    calls += 1\n    seen.append(x)\n    return x - 1",
        ("x = step(step(5))", "Train", ()),
        ("report = {'calls': calls, 'seen': seen, 'x': x}\nreport", "Evaluate", ()),
    )
    assert result.constant_names == ["calls", "seen"]  # module variables, `seen` although it is mutated
    assert [stage.constants for stage in result.stages] == [[], [], [], [], []]
    assert stage(result, "evaluate").inputs == ["x"]
    namespace: dict[str, object] = {}
    for statement in [*result.constants, *result.helpers]:
        exec(compile(ast.Module([statement], []), "<module>", "exec"), namespace)
    exec(compile(ast.Module(stage(result, "train").statements, []), "<train>", "exec"), namespace)
    exec(compile(ast.Module(stage(result, "evaluate").statements, []), "<evaluate>", "exec"), namespace)
    assert namespace["report"] == {"calls": 2, "seen": [5, 4], "x": 3}


def test_del_reads_the_name_and_unbinds_it() -> None:
    names = analyze(ast.parse("tmp = 1\ndel tmp, table[0]\ndel (raw, [cache])\nkept = 2").body)
    assert names.reads == ["table", "raw", "cache"]
    assert names.binds == ["kept"]


def test_deleting_a_name_an_earlier_stage_bound_makes_it_an_input() -> None:
    """``del raw`` to free memory, as notebooks do: the stage must receive ``raw`` to delete it,
    and what it deleted is not part of the evaluation result."""
    result = pipeline(
        ("import csv\nraw = list(csv.reader(open('x.csv')))\nrows = [r for r in raw if r]", "Load", ()),
        ("del raw\nscale = max(rows)\ntmp = [r / scale for r in rows]\nscore = sum(tmp)\ndel tmp", "Evaluate", ()),
    )
    assert stage(result, "load").returns == ["raw", "rows"]
    assert stage(result, "evaluate").inputs == ["raw", "rows"]
    assert result.required == []
    assert result.results == [("scale", "scale"), ("score", "score")]  # not what it deleted


def run_pipeline(result: Pipeline) -> dict[str, object]:
    """Generate the module of the pipeline as convert does, execute it and return what its run()
    returns."""
    from mlpack_cli.notebook import codegen

    generated = codegen.generate(result, package="pkg", module="nb", notebook="nb.ipynb", source_hash="0",
                                 cells=_PARSED[id(result)])
    monitoring = types.ModuleType("pkg.monitoring")  # the project's hooks: not what these tests are about
    monitoring.track = contextlib.nullcontext  # type: ignore[attr-defined]
    package = types.ModuleType("pkg")
    package.monitoring = monitoring  # type: ignore[attr-defined]
    namespace: dict[str, object] = {"__name__": "pkg.nb"}
    sys.modules.update({"pkg": package, "pkg.monitoring": monitoring})
    try:  # (modules the notebook imports stay imported: numpy cannot be imported twice)
        exec(compile(generated.module, "<nb>", "exec"), namespace)
        return namespace["run"]()  # type: ignore[operator, no-any-return]
    finally:
        del sys.modules["pkg"], sys.modules["pkg.monitoring"]


def test_results_are_the_evaluations_values_by_the_notebooks_names() -> None:
    result = pipeline(
        "from statistics import mean\ndef accuracy_score(a, b):\n    return mean(x == y for x, y in zip(a, b))",
        ("truth = [1, 0, 1, 1]\npred = [1, 0, 0, 1]", "Load", ()),
        ("acc = accuracy_score(truth, pred)\nprint('accuracy', acc)\naccuracy_score(truth, truth)\nlast = [pred]\nlast",
         "Evaluate", ()),
    )
    assert result.results == [("acc", "acc"), ("accuracy", "accuracy"), ("last", "last")]
    assert run_pipeline(result) == {"acc": 0.75, "accuracy": 1, "last": [[1, 0, 0, 1]]}


def test_a_printed_metric_expression_becomes_a_named_result() -> None:
    result = pipeline(
        "def mean_squared_error(a, b):\n    return sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)",
        ("truth = [1.0, 2.0]\npred = [1.5, 2.0]", "Load", ()),
        ("print(f'mse: {mean_squared_error(truth, pred):.3f}')", "Evaluate", ()),
    )
    assert result.results == [("mse", "mse")]  # named by the text printed before it
    assert run_pipeline(result) == {"mse": 0.125}


@pytest.mark.parametrize(("shown", "expected"), [
    ('print("Linear SVM (2D PCA) test accuracy:", model.score(X, y))', ["linear_svm_2d_pca_test_accuracy"]),
    ('print(f"R^2 on the test set = {model.score(X, y):.3f}")', ["r_2_on_the_test_set"]),
    # no words to make a name of, or a name the notebook uses: the metric's own name
    ('print("=", model.score(X, y))', ["score"]),
    ('print("1:", model.score(X, y))', ["score"]),
    ('print("model", model.score(X, y))', ["score"]),
    ('print("Score:", model.score(X, y), "Again:", model.score(y.reshape(-1, 1), y))', ["score", "again"]),
    # a title printed just before, rules aside
    ('print("Fit on the test set")\nprint("=" * 20)\nprint(model.score(X, y))', ["fit_on_the_test_set"]),
    ('print("-" * 20)\nprint(model.score(X, y))', ["score"]),
])
def test_a_printed_metric_is_named_by_its_label(shown: str, expected: list[str]) -> None:
    result = pipeline(
        "import numpy as np\nfrom sklearn.linear_model import LinearRegression\n"
        "X = np.arange(8.0).reshape(-1, 1)\ny = 2 * X[:, 0] + 1",
        "model = LinearRegression().fit(X, y)",
        shown,
    )
    assert [name for name, _ in result.results] == expected


def test_results_filled_by_a_loop_over_models_count() -> None:
    result = pipeline(
        ("models = {'double': 2, 'triple': 3}", "Train", ()),
        ("scores = {}\nfor name, k in models.items():\n    scores[name] = k * 10\nscores", "Evaluate", ()),
    )
    assert ("scores", "scores") in result.results
    assert run_pipeline(result)["scores"] == {"double": 20, "triple": 30}


def test_metrics_kept_in_a_dict_and_combined_are_scores_whatever_the_heading() -> None:
    """A display of what metrics computed is the evaluation's, even under a heading that names
    features (which alone would place it in preprocess, where displays are dropped)."""
    fit_and_score = ("model = LinearRegression().fit(X[:{n}], y[:{n}])\n"
                     "mse = mean_squared_error(y, model.predict(X))\nscores['{key}'] = mse")
    result = pipeline(
        "from sklearn.linear_model import LinearRegression\nfrom sklearn.metrics import mean_squared_error",
        ("X = [[0.0], [1.0], [2.0], [3.0]]\ny = [0.0, 1.1, 1.9, 3.2]\nscores = {}", "Load", ()),
        (fit_and_score.format(n=2, key="two"), "Two features", ()),
        (fit_and_score.format(n=4, key="all"), "All features", ()),
        ("gain = scores['two'] - scores['all']\nscores, gain", "All features", ()),
    )
    returned = run_pipeline(result)
    assert {"scores", "gain"} <= set(returned)
    assert returned["gain"] == returned["scores"]["two"] - returned["scores"]["all"] > 0  # type: ignore[index,operator]


def test_a_helper_reading_a_reassigned_global_receives_it_explicitly() -> None:
    result = pipeline(
        "def flag(x):\n    return x > threshold",
        ("threshold = 1\nfirst = flag(2)", "Load", ()),
        ("threshold = 5\nsecond = flag(2)", "Evaluate", ()),
    )
    assert result.helper_globals == {"flag": ["threshold"]}
    assert [h.name for h in result.helpers] == ["flag"]  # type: ignore[attr-defined]
    assert result.constant_names == []  # bound twice: never a constant with its first value
    assert run_pipeline(result) == {"second": False}  # flag(2) with threshold 5, as the notebook computed
    assert "threshold" in stage(result, "load").returns or "threshold" not in stage(result, "evaluate").inputs


def test_a_helper_passed_as_a_value_that_reads_a_later_global_is_refused() -> None:
    from mlpack_cli.notebook.dataflow import HelperGlobal

    with pytest.raises(HelperGlobal, match="'scale' reads the notebook global 'factor'"):
        pipeline(
            ("factor = 2\ndef scale(x):\n    return x * factor\nrows = [1, 2]", "Load", ()),
            ("model = sorted(rows, key=scale)", "Train", ()),
            ("factor = 3\nscored = sorted(rows, key=scale)\nscored", "Evaluate", ()),
        )


def test_a_global_a_function_passed_on_reads_is_kept_and_its_later_rebinding_refused() -> None:
    """No tags: ``apply(scale)`` reads ``k`` through ``scale``'s body, so ``k = 3`` is not "nothing
    kept depends on it" (run() computed with the first ``k``, silently); it cannot be passed in."""
    from mlpack_cli.notebook.dataflow import HelperGlobal

    with pytest.raises(HelperGlobal, match=r"^cell 1, line 5: the function 'scale' reads the notebook global 'k', "
                                           r"which evaluate binds again in cell \d+, line \d+"):
        pipeline(
            "import pandas as pd\nfrom sklearn.linear_model import LinearRegression\n"
            "df = pd.DataFrame({'a': [1.0, 2.0, 3.0], 'y': [2.0, 4.0, 7.0]})\nk = 2\n"
            "def scale(v):\n    return v * k",
            "df['b'] = df['a'].apply(scale)\nmodel = LinearRegression().fit(df[['a', 'b']], df['y'])",
            "k = 3\ndf['c'] = df['a'].apply(lambda v: scale(v))\nscore = model.score(df[['a', 'c']], df['y'])",
        )


def test_a_cached_helper_is_not_given_the_globals_it_reads_as_parameters() -> None:
    """``lru_cache`` keys on the arguments of each call: a global given as a keyword would have to
    be hashable (a list is not) and would change what is cached, so the function stays in its stage."""
    result = pipeline(
        ("import functools\nrows = [3, 1, 2]", "Load", ()),
        ("@functools.lru_cache(maxsize=None)\ndef top(n):\n    return sorted(rows)[-n:]", "Train", ()),
        ("best = top(2)\nbest", "Evaluate", ()),
    )
    assert "top" not in result.helper_globals
    assert run_pipeline(result)["best"] == [2, 3]


def test_a_cached_helper_reading_a_global_a_later_stage_rebinds_is_refused() -> None:
    from mlpack_cli.notebook.dataflow import HelperGlobal

    with pytest.raises(HelperGlobal, match="'fitted' reads the notebook global 'alpha'.*its decorator takes"):
        pipeline(
            ("import functools\nrows = [3, 1, 2]\nalpha = 1", "Load", ()),
            ("@functools.cache\ndef fitted(n):\n    return sum(rows[:n]) * alpha", "Train", ()),
            ("first = fitted(2)\nfirst", "Evaluate", ()),
            ("alpha = 10\nsecond = fitted(3)\nsecond", "Evaluate", ()),
        )


def test_imports_move_up_only_after_the_set_up_before_them() -> None:
    result = pipeline("import os\nos.environ['KERAS_BACKEND'] = 'jax'\nimport json\nimport sys\n"
                      "sys.path.insert(0, 'lib')\nimport math\nrows = json.dumps([math.pi, os.sep])")
    assert [ast.unparse(s) for s in result.imports] == [
        "import os", "os.environ['KERAS_BACKEND'] = 'jax'", "import json", "import sys",
        "sys.path.insert(0, 'lib')", "import math"]


def test_set_up_reading_a_computed_name_keeps_the_imports_after_it_in_place() -> None:
    result = pipeline("import os\nroot = os.getcwd()\nimport sys\nsys.path.insert(0, root)\nimport json\n"
                      "text = json.dumps(sys.path[0])\nassert text")  # (an import nothing kept reads is dropped)
    assert [ast.unparse(s) for s in result.imports] == ["import os", "import sys"]
    assert "import json" in ast.unparse(ast.Module(stage(result, "load").statements, []))


def test_stage_docstrings_come_from_the_markdown_above_their_cells() -> None:
    parsed = [ParsedCell(1, (), "rows = read_rows()", "Load", ast.parse("rows = read_rows()"),
                         markdown="# Loading\n\nWe read the rows\nfrom the export.\n\nMore text.")]
    result = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    assert stage(result, "load").doc == "Loading\n\nWe read the rows from the export."


def test_markdown_under_an_exploration_heading_is_left_out_of_the_stage_docstring() -> None:
    sources = ["import pandas as pd\ndf = pd.read_csv('d.csv')",
               "x_axis = df.columns[0]\ndf.plot(x=x_axis)",  # kept for x_axis, its plot dropped
               "X = df[[x_axis]].values"]
    markdown = ["", "## Plot the data\n\nWe plot a against b.", "## Prepare the data for training"]
    headings = [None, "Plot the data", "Prepare the data for training"]
    parsed = [ParsedCell(n, (), text, heading, ast.parse(text), markdown=md)
              for n, (text, heading, md) in enumerate(zip(sources, headings, markdown), start=1)]
    result = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    assert stage(result, "preprocess").doc == "Prepare the data for training"
    assert not any("plot" in (s.doc or "").lower() for s in result.stages)
    assert "x_axis = df.columns[0]" in ast.unparse(ast.Module(stage(result, "preprocess").statements, []))


def test_a_comment_only_cell_keeps_its_text_in_the_stage_of_the_code_after_it_and_runs_nothing() -> None:
    parsed = [ParsedCell(1, (), "# TODO: fix this cell", None, ast.parse("# TODO"), code="# TODO: fix this cell"),
              ParsedCell(2, (), "model.fit(X, y)", None, ast.parse("model.fit(X, y)"), code="model.fit(X, y)")]
    result = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    assert stage(result, "train").body[0] == (1, [])  # the text, above the code it is about
    assert (result.parts[0].stage, result.parts[0].reason) == (
        "dropped", "comments only: nothing to run; the text is kept in train")


def test_a_cell_of_commented_out_code_is_dropped_and_prose_stays() -> None:
    def cell(number: int, code: str) -> ParsedCell:
        return ParsedCell(number, (), code, None, ast.parse(code), code=code)

    parsed = [cell(1, "import pandas as pd\nrows = pd.read_csv('rows.csv')"),
              cell(2, "# url = 'https://example.org/data'\n# !curl -O {url}/rows.csv"),
              cell(3, "# the model of the rows"),
              cell(4, "model.fit(rows)")]
    result = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    assert [(p.cell, p.stage, p.reason) for p in result.parts if p.cell in (2, 3)] == [
        (2, "dropped", "commented-out code only"),
        (3, "dropped", "comments only: nothing to run; the text is kept in train")]
    assert all(number != 2 for s in result.stages for number, _ in s.body)
    assert [number for number, _ in stage(result, "train").body] == [3, 4]


def test_a_search_moved_to_train_for_the_refit_still_returns_its_scores() -> None:
    result = pipeline(
        "from sklearn.tree import DecisionTreeClassifier\nfrom sklearn.metrics import accuracy_score\n"
        "import pandas as pd",
        "df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y",
        "best_acc, best_depth = 0.0, None\nhistory = []\nfor depth in (2, 4):\n"
        "    tree = DecisionTreeClassifier(max_depth=depth, random_state=1)\n    tree.fit(X, y)\n"
        "    acc = accuracy_score(y, tree.predict(X))\n    history.append((depth, acc))\n"
        "    if acc > best_acc:\n        best_acc, best_depth = acc, depth",
        "final = DecisionTreeClassifier(max_depth=best_depth, random_state=1).fit(X, y)\n"
        "test_acc = accuracy_score(y, final.predict(X))",
    )
    assert [p.stage for p in result.parts if p.cell == 3] == ["train"]
    assert {"history", "best_depth", "test_acc"} <= {key for key, _ in result.results}
    assert "history" in stage(result, "train").returns


def test_a_notebook_that_only_shows_things_is_not_converted_silently() -> None:
    result = pipeline("import math\nprint(math.pi)")
    assert all(s.is_stub for s in result.stages)
    assert any("run() computes nothing" in w for w in result.warnings)


def test_imports_only_nested_displays_read_are_pruned_with_them() -> None:
    result = pipeline(
        "from IPython.display import clear_output, display\nimport pandas as pd",
        "rows = pd.read_csv('x.csv')",
        "def show(d):\n    display(d.head())\n    return d\nfor i in range(3):\n    clear_output(wait=True)\n"
        "    rows = show(rows)\nrows.to_csv('out.csv')",
    )
    assert [ast.unparse(i) for i in result.imports] == ["import pandas as pd"]


def test_a_default_value_from_a_global_keeps_its_first_value() -> None:
    # `k=K` is read when the def runs; a parameter given at each call would read the later K
    result = pipeline("K = 2", "def times(x, k=K):\n    return x * k", "K = 5",
                      ("a = times(3)\nb = K", "Evaluate", ()))
    assert result.helper_globals == {}
    assert run_pipeline(result) == {"a": 6, "b": 5}


def test_a_lambda_reading_a_global_a_later_stage_rebinds_is_refused() -> None:
    with pytest.raises(HelperGlobal, match=r"^cell 1, line 3: the function 'prep' reads the notebook global 'POWER', "
                                           r"which train binds again in cell 3, line 1 after it is defined"):
        pipeline(("X = read()\nPOWER = 1\nprep = lambda a: a ** POWER", "Load", ()),
                 ("m1 = fit(prep(X))", "Train", ()), "POWER = 2", ("m2 = fit(prep(X))", "Train", ()))


def test_a_library_configuration_call_is_set_up_kept_before_the_imports_after_it() -> None:
    # set_config(transform_output='pandas') changes what every later transform returns: never dropped
    result = pipeline("from sklearn import set_config\nset_config(transform_output='pandas')\n"
                      "from sklearn.preprocessing import StandardScaler",
                      ("X = read()\nXs = StandardScaler().fit_transform(X)", "Preprocess", ()))
    assert [ast.unparse(s) for s in result.imports] == [
        "from sklearn import set_config", "set_config(transform_output='pandas')",
        "from sklearn.preprocessing import StandardScaler"]
    # a notebook object's own set_... method is not set-up of the process
    other = pipeline("import numpy as np", ("model = build()\nmodel.set_params(depth=2)", "Train", ()))
    assert "model.set_params(depth=2)" in [ast.unparse(s) for s in stage(other, "train").statements]
    assert [ast.unparse(s) for s in other.imports] == []


def test_a_value_made_while_exploring_and_printed_by_the_evaluation_is_returned() -> None:
    # the print is what run() returns: the statement under the exploration heading that binds the
    # printed value is kept, and so is what it reads (the cut reassigned there)
    result = pipeline(("rows = [4.0, 5.5, 6.5, 7.0]\nCUT = 5.0", None, ()),
                      ("CUT = 6.0\nstrict = sum(r > CUT for r in rows)", "Explore the data", ()),
                      ("model = fit(rows)", "Train", ()),
                      ("score = model.score(rows)\nprint(score, strict)", "Evaluate", ()))
    assert ("strict", "strict") in result.results
    kept = [ast.unparse(s) for each in result.stages for s in each.statements]
    assert "CUT = 6.0" in kept and "strict = sum((r > CUT for r in rows))" in kept


def test_module_state_a_helper_declares_global_is_kept_and_returned() -> None:
    result = pipeline("n_calls = 0\n\ndef count_call():\n    global n_calls\n    n_calls += 1\n",
                      ("rows = load_rows()\ncount_call()", "Load", ()),
                      ("rows.extend([1])\ncount_call()", "Explore", ()),
                      ("model = fit(rows)\nscore = model.score(rows)\nscore, n_calls", "Evaluate", ()))
    # no Name loads n_calls in the helper (``n_calls += 1`` stores it): still the module needs it
    assert [ast.unparse(c) for c in result.constants] == ["n_calls = 0"]
    assert ("n_calls", "n_calls") in result.results  # run() reads it from the module
    kept = [ast.unparse(s) for stage in result.stages for s in stage.statements]
    assert kept.count("count_call()") == 2  # the call under the exploration heading counts too


def test_display_kept_for_what_it_changes_is_imported_from_ipython() -> None:
    result = pipeline(("df = load_frame()", "Load", ()),
                      ("display(df.pop('target').value_counts())", "Explore", ()),
                      ("model = fit(df)\nscore = model.score(df)", "Evaluate", ()))
    assert "from IPython.display import display" in [ast.unparse(i) for i in result.imports]
    assert "display" not in result.required
    own = pipeline("from rich import print as display", ("df = load_frame()", "Load", ()),
                   ("display(df.pop('target'))", "Explore", ()), ("model = fit(df)", "Train", ()))
    assert [ast.unparse(i) for i in own.imports] == ["from rich import print as display"]


def test_names_a_function_binds_through_global_are_read_from_the_module() -> None:
    result = pipeline(("def get_data():\n    global X, y\n    X, y = load_rows()\n\nget_data()", "Load", ()),
                      ("model = fit(X, y)", "Train", ()))
    assert not {"X", "y"} & set(result.required)  # set by the call, not given to run()
    assert stage(result, "train").inputs == [] and "X" not in stage(result, "train").required


def test_names_bound_through_globals_and_read_later_refuse_the_notebook() -> None:
    cells = ("from lib import fit, load_rows\nrows = load_rows()",
             "for d in (2, 4):\n    globals()[f's_{d}'] = fit(rows, d)", "best = max(s_2, s_4)")
    with pytest.raises(DynamicNames, match=r"cell 2, line 2: globals\(\)\[\.\.\.\] = \.\.\. .* 's_2', 's_4'"):
        pipeline(*cells)
    harmless = pipeline("from lib import fit, load_rows\nrows = load_rows()", "globals().update(extra=1)",
                        ("model = fit(rows)", "Train", ()))
    assert any(w.startswith("cell 2, line 1: globals().update(...) binds names the conversion cannot see")
               for w in harmless.warnings)


def test_a_chdir_before_the_imports_is_a_statement_of_a_stage_not_of_the_module() -> None:
    """Set up at import time, ``os.chdir('data')`` would fail importing the module from the project
    root; in ``load()`` it moves run() as the notebook moved."""
    moved = pipeline("import os\nos.chdir('data')\nimport pandas as pd", "df = pd.read_csv('train.csv')")
    assert not any("chdir" in ast.unparse(s) for s in moved.imports)
    assert any("chdir" in ast.unparse(s) for s in stage(moved, "load").statements)


@pytest.mark.parametrize("read", ["accuracy = _", "accuracy = Out[3]", "accuracy = _3", "accuracy = __ + 0"])
def test_a_kept_read_of_the_output_history_is_refused_with_its_cell_and_line(read: str) -> None:
    """A module has no ``_`` or ``Out``: run() would need them as parameters nobody can give."""
    from mlpack_cli.notebook.dataflow import OutputHistory

    with pytest.raises(OutputHistory) as refused:
        pipeline(
            ("rows = [1, 2, 3]", "Load", ()),
            ("sum(rows) / len(rows)", "Evaluate", ()),
            ("import json\nprint('saving')\n" + read + "\nwith open('a.json', 'w') as f:\n"
             "    json.dump(accuracy, f)", "Export", ()),
        )
    assert (refused.value.cell, refused.value.line) == (3, 3)
    assert "output history" in str(refused.value)


def test_a_notebook_that_binds_underscore_itself_reads_its_own_value() -> None:
    result = pipeline(
        ("rows = [1, 2, 3]\nfirst, _ = rows[0], rows[1]", "Load", ()),
        ("import json\nwith open('a.json', 'w') as f:\n    json.dump(_, f)", "Export", ()),
    )
    assert result.required == []


def test_a_history_read_only_a_display_uses_is_dropped_not_refused() -> None:
    result = pipeline(
        ("rows = [1, 2, 3]", "Load", ()),
        ("sum(rows)", "Evaluate", ()),
        ("print(_)", "Evaluate", ()),
    )
    assert result.required == []


DIABETES = ("from sklearn.datasets import load_diabetes\nfrom sklearn.linear_model import LinearRegression\n"
            "from sklearn.metrics import r2_score\ndata = load_diabetes(as_frame=True)\ndf, y = data.data, data.target")


def test_a_statistic_shown_of_a_first_model_is_the_first_models_once_a_second_takes_its_names() -> None:
    first = "cols = ['bmi']\nX = df[cols]\nm = LinearRegression()\nm.fit(X, y)"
    second = "cols = ['bmi', 'bp']\nX = df[cols]\nm = LinearRegression()\nm.fit(X, y)"
    result = pipeline(DIABETES, first, "list(zip(cols, m.coef_))", second, "list(zip(cols, m.coef_))")
    values = run_pipeline(result)
    assert [[name for name, _ in values[key]] for key, _ in result.results] == [["bmi"], ["bmi", "bp"]]
    first_coef, second_coef = (values[key][0][1] for key, _ in result.results)
    assert first_coef != second_coef  # each display reads its own model


def test_a_value_run_returns_under_a_key_of_its_own_is_the_one_the_dict_showed() -> None:
    fit = "cols = {}\nX = df[cols]\nm = LinearRegression()\nm.fit(X, y)\nr2 = r2_score(y, m.predict(X))"
    result = pipeline(DIABETES, fit.format("['bmi']"), "{'first': r2}", fit.format("['bmi', 'bp']"), "{'second': r2}")
    values = run_pipeline(result)
    assert values["first"] < values["second"]  # one feature explains less than two
    assert values["second"] == values[dict(result.results)["second"]]


def test_a_statistic_shown_before_the_model_is_fitted_again_is_computed_before_the_refit() -> None:
    result = pipeline(DIABETES, "m = LinearRegression()\nm.fit(df[['bmi']], y)", "m.coef_",
                      "m.fit(df[['bp']], y)", "m.coef_")
    values = run_pipeline(result)
    first, second = (values[key] for key, _ in result.results)
    assert first[0] != second[0]  # the bmi slope, then the bp slope
    assert [part.stage for part in result.parts if part.cell == 3] == ["train"]  # computed before the refit


def test_no_stage_holds_a_shown_value_when_what_it_reads_changes_before_it_is_made() -> None:
    order = [(1, s) for s in ast.parse("m = make()\np = m.predict(X)\nshow(m.coef_, p)\nm.fit(X2)").body]
    infos = gr.build_graph(order, gr.collect_aliases([s for _, s in order]), set(), {})
    decisions = [pl.Decision(stage, "", 2) for stage in (pl.TRAIN, pl.EVALUATE, None, pl.TRAIN)]

    def never(name: str, first: int, second: int) -> bool:
        return False
    assert _stage_in_force(infos[2], {"m"}, infos, decisions, never) == (pl.TRAIN, 3)  # before the refit
    assert _stage_in_force(infos[2], {"m", "p"}, infos, decisions, never) == (None, 3)  # p is made in evaluate
    decisions[3] = pl.Decision(None, "", 0)
    assert _stage_in_force(infos[2], {"m", "p"}, infos, decisions, never) == (pl.EVALUATE, -1)
    assert _stage_in_force(infos[2], {"m"}, infos, [*decisions[:3], pl.Decision(pl.TRAIN, "", 2)],
                           lambda name, first, second: True) == (pl.EVALUATE, -1)  # another version's m


def test_a_lambda_bound_once_is_a_module_level_helper_when_its_names_are_module_level() -> None:
    result = pipeline(
        "import math",
        ("truth = [1.0, 2.0]\npred = [1.5, 2.0]", "Load", ()),
        ("rmse = lambda a, b: math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))\n"
         "err = rmse(truth, pred)", "Evaluate", ()),
    )
    assert [ast.unparse(h).split(" =")[0] for h in result.helpers] == ["rmse"]
    assert run_pipeline(result) == {"err": 0.3535533905932738}


def test_a_lambda_reading_a_notebook_global_stays_in_its_stage() -> None:
    result = pipeline(
        ("rows = [1, 2]\nscale = len(rows)", "Load", ()),
        ("double = lambda x: x * scale\nscore = sum(double(r) for r in rows)", "Evaluate", ()),
    )
    assert result.helpers == []
    assert run_pipeline(result) == {"score": 6}


def test_a_lambda_calling_a_helper_that_takes_globals_stays_in_its_stage() -> None:
    result = pipeline(
        ("rows = [1, 2]\nscale = 3", "Load", ()),
        ("def scaled(x):\n    return x * scale\n\n\nf = lambda x: scaled(x) + 1\nscore = f(rows[0])\nscale = 4",
         "Evaluate", ()),
    )
    assert "f" not in result.helper_globals
    assert [getattr(h, "name", None) for h in result.helpers] == ["scaled"]
    assert run_pipeline(result) == {"score": 4}  # (the function f is no result, nor the setting scale = 4)


def test_a_fitted_model_taken_from_another_in_evaluation_is_no_result() -> None:
    result = pipeline(
        DIABETES + "\nfrom sklearn.model_selection import GridSearchCV",
        ("grid = GridSearchCV(LinearRegression(), {'fit_intercept': [True, False]}, cv=3)\ngrid.fit(df, y)",
         "Train", ()),
        ("best = grid.best_estimator_\nr2 = r2_score(y, best.predict(df))", "Evaluate", ()),
    )
    assert [key for key, _ in result.results] == ["r2"]


def test_a_setting_and_a_loop_key_of_the_evaluation_are_no_results() -> None:
    """``cutoff = 0.5`` is a setting, ``name`` of ``scores[name] = ...`` the key of a result."""
    result = pipeline(
        ("truth = [1, 0, 1, 1]\npred = {'a': [1, 0, 0, 1], 'b': [1, 1, 1, 1]}", "Load", ()),
        ("cutoff = 0.5\nscores, hits = {}, {}\nfor name in pred:\n"
         "    scores[name], hits[name] = sum(p == t for p, t in zip(pred[name], truth)) / 4, cutoff", "Evaluate", ()),
    )
    assert [key for key, _ in result.results] == ["scores", "hits"]
    assert run_pipeline(result) == {"scores": {"a": 0.75, "b": 0.75}, "hits": {"a": 0.5, "b": 0.5}}


@pytest.mark.parametrize(("first", "warned"), [
    ("", True), ("import numpy as np\nnp.random.seed(0)", False),
])
def test_a_kept_draw_with_no_seed_before_it_is_reported_where_it_is(first: str, warned: bool) -> None:
    result = pipeline(
        first or "import math",
        DIABETES + "\nfrom sklearn.model_selection import train_test_split",
        "df.sample(3)",  # dropped (a display): no warning of its own
        "X_tr, X_te, y_tr, y_te = train_test_split(df, y)\nm = LinearRegression().fit(X_tr, y_tr)",
        "score = m.score(X_te, y_te)",
    )
    found = [w for w in result.warnings if "draws random numbers with no seed" in w]
    assert found == ([
        "cell 4, line 1: train_test_split() draws random numbers with no seed: the notebook and run() compute "
        "other values on each run; give it random_state=0, or seed the generators at the top "
        "(np.random.seed(0)), to get the same ones"] if warned else [])


@pytest.mark.parametrize(("body", "warned"), [
    ("w = np.random.rand(2)", True), ("w = start(2)", True),  # (through another function of the notebook)
    ("np.random.seed(0)\n    w = np.random.rand(2)", False), ("w = np.zeros(2)", False),
])
def test_a_function_of_the_notebook_that_draws_with_no_seed_is_reported(body: str, warned: bool) -> None:
    result = pipeline(
        "import numpy as np\nX = np.arange(8.0).reshape(4, 2)\ny = X @ [1.0, 2.0]",
        "def start(n):\n    return np.random.rand(n)",
        f"def fit(X, y, steps):\n    {body}\n    for _ in range(steps):\n"
        "        w -= 0.01 * X.T @ (X @ w - y)\n    return w",
        "w = fit(X, y, 50)\nerror = float(np.mean((X @ w - y) ** 2))\nerror",
    )
    found = [w for w in result.warnings if "draws random numbers with no seed" in w]
    assert bool(found) is warned, result.warnings
    if warned and "rand(2)" in body:
        assert found[0].startswith("cell 4, line 1: fit() draws random numbers with no seed "
                                   "(np.random.rand(2) in its body)")


def test_a_value_shown_again_unchanged_is_one_result() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.model_selection import GridSearchCV, train_test_split\n"
        "from sklearn.linear_model import LogisticRegression\nX, y = load_iris(return_X_y=True)\n"
        "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)",
        "grid = GridSearchCV(LogisticRegression(max_iter=500), {'C': [0.1, 1.0]}, cv=3)\ngrid.fit(X_train, y_train)",
        "print('Best C:', grid.best_params_['C'])",
        "best = grid.best_estimator_\npred = best.predict(X_test)\nprint(pred[:3])",
        "print(f\"Best C again: {grid.best_params_['C']}\")",  # the same value: computed once
    )
    assert result.results == [("best_c", "best_c")]  # named by the label printed with it the first time
    evaluate = [ast.unparse(s) for s in stage(result, "evaluate").statements]
    assert evaluate == ["best_c = grid.best_params_['C']"]


def test_a_model_taken_out_of_a_dict_of_fitted_models_is_no_result() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.pipeline import Pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from sklearn.metrics import accuracy_score, confusion_matrix\nfrom sklearn.svm import SVC\n"
        "from sklearn.tree import DecisionTreeClassifier\nX, y = load_iris(return_X_y=True)",
        "models = {'svm': SVC(random_state=0), 'tree': DecisionTreeClassifier(random_state=0)}\nfitted = {}\n"
        "rows = []\nfor name, clf in models.items():\n"
        "    pipe = Pipeline([('scaler', StandardScaler()), ('clf', clf)])\n"
        "    pipe.fit(X, y)\n    fitted[name] = pipe\n    rows.append((name, accuracy_score(y, pipe.predict(X))))",
        "best_clf = fitted['svm']\ny_pred = best_clf.predict(X)\ncm = confusion_matrix(y, y_pred)",
    )
    assert [name for name, _ in result.results] == ["rows", "cm"]  # not best_clf, a fitted model (nor y_pred: scored)


@pytest.mark.parametrize("heading", [None, "Results", "Feature engineering", "Data cleaning"])
def test_a_table_of_what_the_model_learned_shown_is_a_result_whatever_its_heading(heading: str | None) -> None:
    """What it shows is made once the model is trained: a heading of an earlier step does not make
    it a view of the data."""
    result = pipeline(
        "import pandas as pd\nfrom sklearn.datasets import load_diabetes\n"
        "from sklearn.linear_model import LinearRegression\nX, y = load_diabetes(return_X_y=True, as_frame=True)",
        "lr = LinearRegression().fit(X, y)\nr2 = lr.score(X, y)",
        ("coef = pd.Series(lr.coef_, index=X.columns).sort_values()\ncoef", heading, ()),
    )
    assert [name for name, _ in result.results] == ["r2", "coef"]


@pytest.mark.parametrize(("cell", "expected"), [
    # predictions the evaluation goes on to score are a step towards its metrics
    ("pred = np.expm1(model.predict(X))\nrmse = np.sqrt(((pred - y) ** 2).mean())", ["rmse"]),
    ("proba = model.predict_proba(X)[:, 1]\nauc = roc_auc_score(y, proba)", ["auc"]),
    # the notebook's own prediction function, and what is worked out from the predictions on the way
    ("def predict_all(m, rows):\n    return m.predict(rows)\n\n\npredictions = predict_all(model, X)\n"
     "errors = [abs(p - t) for p, t in zip(predictions, y)]\nmae = float(np.mean(errors))", ["mae"]),
    ("residuals = y - model.predict(X)\nspread = residuals.std()", ["spread"]),  # computed, never shown: kept
    # a value for each setting, not for each sample, is one of the evaluation's results
    ("pred = model.predict(X)\ncosts = [float(np.sum(pred > c)) for c in (100.0, 200.0)]\nbest = min(costs)",
     ["costs", "best"]),
    # ... but not when nothing reads them afterwards, or when a later statement adds to them
    ("pred = model.predict(X)", ["pred"]),
    ("preds = list(model.predict(X))\npreds.append(0)\nn = len(preds)", ["preds", "n"]),
])
def test_predictions_the_evaluation_scores_are_no_result(cell: str, expected: list[str]) -> None:
    result = pipeline(
        "import numpy as np\nfrom sklearn.datasets import load_diabetes\n"
        "from sklearn.linear_model import LinearRegression\n"
        "from sklearn.metrics import roc_auc_score\nX, y = load_diabetes(return_X_y=True)",
        "model = LinearRegression().fit(X, y)",
        cell,
    )
    assert [name for name, _ in result.results] == expected


def test_a_learned_value_read_under_a_key_is_named_by_the_key() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.model_selection import GridSearchCV\n"
        "from sklearn.neighbors import KNeighborsClassifier\nX, y = load_iris(return_X_y=True)",
        "grid = GridSearchCV(KNeighborsClassifier(), {'n_neighbors': [3, 5]}, cv=3).fit(X, y)",
        "print(grid.best_params_['n_neighbors'])\nprint(grid.cv_results_['mean_test_score'])",
    )
    assert [name for name, _ in result.results] == ["n_neighbors", "mean_test_score"]  # not best_params, cv_results


def test_a_method_reading_a_name_nothing_binds_is_reported() -> None:
    # a class's scope is not its methods': euc_dist() here is a NameError, as in the notebook
    result = pipeline(
        "import math\nclass Nearest:\n    def euc_dist(self, a, b):\n        return math.dist(a, b)\n"
        "    def closest(self, row, rows):\n        return min(rows, key=lambda r: euc_dist(row, r))",
        "rows = [(0, 0), (3, 4)]\nbest = Nearest().closest((1, 1), rows)",
    )
    unbound = [w for w in result.warnings if "nothing in the notebook binds" in w]
    assert unbound == ["cell 1, line 6: closest() reads euc_dist, which nothing in the notebook binds: "
                       "calling it raises NameError (in the notebook too)"]
    fixed = pipeline("import math\ndef euc_dist(a, b):\n    return math.dist(a, b)\n"
                     "def closest(row, rows):\n    return min(rows, key=lambda r: euc_dist(row, r))",
                     "best = closest((1, 1), [(0, 0), (3, 4)])")
    assert not [w for w in fixed.warnings if "nothing in the notebook binds" in w]


def test_a_metric_bound_again_for_a_second_model_is_returned_for_each() -> None:
    """``acc`` of a first model, then ``acc`` of a second: run() returns both, not only the last."""
    result = pipeline(
        DIABETES + "\nfrom sklearn.linear_model import Ridge",
        "model = LinearRegression()\nmodel.fit(df, y)\nscore = r2_score(y, model.predict(df))\nprint(score)",
        "model = Ridge(alpha=10.0)\nmodel.fit(df, y)\nscore = r2_score(y, model.predict(df))\nprint(score)",
    )
    assert [key for key, _ in result.results] == ["score_1", "score"]
    values = run_pipeline(result)
    assert values["score_1"] > values["score"]  # the unregularised fit scores higher on its own data


def test_a_table_of_a_first_sweep_made_again_for_a_second_is_returned_for_each() -> None:
    """``scores`` and ``table`` of a sweep over alpha, then of a sweep over fit_intercept, under
    the same names: run() returns both tables, not only the last."""
    sweep = ("scores = []\nfor {p} in {values}:\n    m = Ridge({p}={p}).fit(df, y)\n"
             "    scores.append(r2_score(y, m.predict(df)))\ntable = pd.DataFrame({{'{p}': {values}, 'r2': scores}})")
    result = pipeline(
        DIABETES + "\nimport pandas as pd\nfrom sklearn.linear_model import Ridge",
        sweep.format(p="alpha", values="[0.1, 10.0]"), "table",
        sweep.format(p="fit_intercept", values="[True, False]"), "table",
    )
    assert [key for key, _ in result.results] == ["scores_1", "table_1", "scores", "table"]
    values = run_pipeline(result)
    assert list(values["table_1"].columns) == ["alpha", "r2"]  # type: ignore[attr-defined]
    assert list(values["table"].columns) == ["fit_intercept", "r2"]  # type: ignore[attr-defined]


IRIS_FIT = ("from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
            "from sklearn.metrics import accuracy_score, auc, f1_score, roc_curve\nimport matplotlib.pyplot as plt\n"
            "X, y = load_iris(return_X_y=True)", "m = LogisticRegression(max_iter=500).fit(X, y)")


def test_a_displayed_dict_of_computed_metrics_gives_one_result_per_key() -> None:
    result = pipeline(*IRIS_FIT, '{"acc": m.score(X, y), "n": len(y)}')
    assert result.results == [("acc", "acc"), ("n", "n")]  # not one "score" holding the dict
    values = run_pipeline(result)
    assert set(values) == {"acc", "n"} and values["n"] == 150 and 0.9 < values["acc"] <= 1


def test_a_displayed_dict_of_metrics_of_predictions_gives_the_metrics_by_key() -> None:
    result = pipeline(*IRIS_FIT, "p = m.predict(X)",
                      '{"acc": accuracy_score(y, p), "f1": f1_score(y, p, average="macro")}')
    assert [key for key, _ in result.results][-2:] == ["acc", "f1"]
    assert "accuracy" not in dict(result.results)


def test_what_a_loop_that_only_draws_binds_from_each_model_is_no_result() -> None:
    result = pipeline(
        IRIS_FIT[0] + "\ny = y == 1",
        "models = {'lr': LogisticRegression(), 'strong': LogisticRegression(C=10)}\n"
        "for n, m in models.items():\n    m.fit(X, y)",
        "for name, m in models.items():\n    fpr, tpr, _ = roc_curve(y, m.predict_proba(X)[:, 1])\n"
        "    roc_auc = auc(fpr, tpr)\n    plt.plot(fpr, tpr, label=f'{name} {roc_auc:.2f}')\nplt.legend()",
        "for name, m in models.items():\n    acc = m.score(X, y)\n    print(name, acc)")
    # printed each pass (the last pass's, and every pass's); not the last model's fpr, tpr, roc_auc
    assert result.results == [("acc", "acc"), ("acc_by_name", "acc_by_name")]


def test_a_part_of_a_dataset_shown_does_not_return_the_dataset() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import accuracy_score\niris = load_iris()\nX, y = iris.data, iris.target",
        "m = LogisticRegression(max_iter=500).fit(X, y)",
        "acc = accuracy_score(y, m.predict(X))\nprint(acc)\nprint(iris.target_names)")
    assert result.results == [("acc", "acc")]  # not iris, a whole dataset object


def test_a_file_written_through_open_is_read_back_after_it_is_written() -> None:
    result = pipeline(
        "import joblib\nfrom sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True)",
        "m = LogisticRegression(max_iter=500).fit(X, y)",
        "joblib.dump(m, open('model.p', 'wb'))",
        "again = joblib.load(open('model.p', 'rb'))\nprint(again.score(X, y))")
    load = [ast.unparse(s) for s in stage(result, "load").statements]
    assert not any("joblib.load" in line for line in load)  # not read before export writes it
    export = [ast.unparse(s) for s in stage(result, "export").statements]
    assert export.index("joblib.dump(m, open('model.p', 'wb'))") < next(
        i for i, line in enumerate(export) if "joblib.load" in line)


def test_a_models_method_passed_to_a_notebook_function_is_its_evaluation() -> None:
    """``print_accuracy(knn.predict)`` scores the model inside the function: kept in evaluate,
    and run(), which then has nothing to return, says so."""
    result = pipeline(
        "import numpy as np\nfrom sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)\n"
        "def print_accuracy(f):\n    print('Accuracy =', np.mean(f(X) == y))",
        "from sklearn.neighbors import KNeighborsClassifier\nknn = KNeighborsClassifier()\nknn.fit(X, y)\n"
        "print_accuracy(knn.predict)",
    )
    assert [ast.unparse(s) for s in stage(result, "evaluate").statements] == ["print_accuracy(knn.predict)"]
    assert result.results == []
    assert any(w.startswith("run() returns None") for w in result.warnings)


def test_run_returning_results_gives_no_warning_about_them() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.neighbors import KNeighborsClassifier\n"
        "X, y = load_iris(return_X_y=True)",
        "knn = KNeighborsClassifier().fit(X, y)\nacc = knn.score(X, y)",
    )
    assert [name for name, _ in result.results] == ["acc"]
    assert not any("run() returns None" in w for w in result.warnings)


@pytest.mark.parametrize(("loop", "expected"), [
    ("for i, v in enumerate(importance):\n    print('Feature: %0d, Score: %.5f' % (i, v))", ["importance"]),
    ("for v in importance:\n    print(v)", ["importance"]),
    # a loop that prints more than its elements, or a literal list of things to print, shows no one value
    ("for i, v in enumerate(importance):\n    print(i, v, len(X))", []),
    ("for name, v in [('first', importance[0])]:\n    print(name, v)", []),
])
def test_a_loop_printing_each_element_shows_the_value_it_iterates_over(loop: str, expected: list[str]) -> None:
    result = pipeline(
        "from sklearn.datasets import make_classification\nfrom sklearn.linear_model import LogisticRegression\n"
        "X, y = make_classification(n_samples=60, n_features=4, random_state=1)",
        "model = LogisticRegression().fit(X, y)\nimportance = model.coef_[0]",
        loop,
    )
    assert [name for name, _ in result.results] == expected


def test_a_loop_printing_a_datasets_names_beside_a_result_does_not_return_the_dataset() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.tree import DecisionTreeClassifier\n"
        "iris = load_iris()\nX, y = iris.data, iris.target",
        "tree = DecisionTreeClassifier(random_state=0).fit(X, y)",
        ("importances = tree.feature_importances_\n"
         "for feature, importance in zip(iris.feature_names, importances):\n    print(f'{feature}: {importance:.3f}')",
         "Feature importance", ()),
    )
    assert [name for name, _ in result.results] == ["importances"]


_FIT_AND_PREDICT = (
    "import numpy as np\nfrom sklearn.neighbors import KNeighborsClassifier\n"
    "X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])\ny = np.array([0, 0, 0, 1, 1, 1])",
    "classifier = KNeighborsClassifier(n_neighbors=1).fit(X, y)\npred = classifier.predict(X[::-1])",
)


@pytest.mark.parametrize(("shown", "name"), [
    ('print("Fraction correct:")\nprint(np.sum(pred == y) / float(len(y)))', "fraction_correct"),
    ("print((pred != y).mean())", "metric"),
    ("np.sqrt(np.mean((pred - y) ** 2))", "metric"),
])
def test_a_metric_worked_out_by_hand_from_predictions_is_the_result_not_the_predictions(
        shown: str, name: str) -> None:
    result = pipeline(*_FIT_AND_PREDICT, shown)
    assert [key for key, _ in result.results] == [name]
    returned = run_pipeline(result)
    expected = {"fraction_correct": 0.0, "metric": 1.0}[name]
    assert float(returned[name]) == expected  # type: ignore[arg-type]


def test_a_metric_worked_out_by_hand_from_predictions_made_in_place_is_a_result() -> None:
    result = pipeline(*_FIT_AND_PREDICT, "print(sum(classifier.predict(X) == y) / len(y))")
    assert [key for key, _ in result.results] == ["pred", "metric"]  # (``pred``: computed, read by nothing)
    assert float(run_pipeline(result)["metric"]) == 1.0  # type: ignore[arg-type]


def test_a_part_of_the_predictions_shown_is_no_metric() -> None:
    result = pipeline(*_FIT_AND_PREDICT, "print(pred[:3])")
    assert "metric" not in [key for key, _ in result.results]


def test_a_splitter_configured_in_evaluation_is_no_result() -> None:
    result = pipeline(
        "from sklearn.model_selection import KFold, cross_val_score\n"
        "from sklearn.linear_model import LinearRegression\n"
        "import numpy as np\nX = np.arange(20.0).reshape(-1, 1)\ny = 3 * X[:, 0]",
        "model = LinearRegression()",
        "folds = KFold(n_splits=4)\nscores = cross_val_score(model, X, y, cv=folds)\nscores.mean()",
    )
    names = [key for key, _ in result.results]
    assert "folds" not in names and "scores" in names


def test_a_look_at_the_data_in_a_cell_of_its_own_after_training_is_dropped() -> None:
    """Class counts worked out in a cell of their own, once a model is scored, are a look at the
    data: dropped with their display. A value worked out from what training made stays a result."""
    result = pipeline(
        "import numpy as np\nfrom sklearn.linear_model import LinearRegression\n"
        "X = np.arange(12.0).reshape(-1, 1)\ny = 2 * X[:, 0]",
        "model = LinearRegression().fit(X, y)\nscore = model.score(X, y)",
        "counts = np.bincount((y > 10).astype(int))\ncounts",
        "w = model.coef_\nrmse = np.sqrt(np.mean((X @ w - y) ** 2))\nprint(rmse)",
    )
    names = [key for key, _ in result.results]
    assert "counts" not in names and "score" in names and "rmse" in names
    kept = [ast.unparse(s) for stage_ in result.stages for _, statements in stage_.body for s in statements]
    assert not any("bincount" in text for text in kept)


def test_a_setext_heading_and_a_rule_are_no_paragraph_of_a_docstring() -> None:
    from mlpack_cli.notebook.dataflow import summarize_markdown

    assert summarize_markdown(["Training and Testing\n====================\n\nWe split the data."]) == \
        "Training and Testing\n\nWe split the data."
    assert summarize_markdown(["---"]) is None
    assert summarize_markdown(["* * *\n\nText after a rule."]) == "Text after a rule."


def test_predictions_shown_before_the_metric_that_scores_them_are_no_result() -> None:
    result = pipeline(*_FIT_AND_PREDICT, "from sklearn.metrics import accuracy_score\nacc = accuracy_score(y, pred)",
                      "pred")
    assert [key for key, _ in result.results] == ["acc"]


def test_the_summary_of_a_statsmodels_fit_of_a_model_made_before_is_a_result() -> None:
    result = pipeline("import numpy as np\nimport statsmodels.api as sm\nX = np.arange(20.0)\ny = 2 * X + np.sin(X)",
                      "model = sm.OLS(y, X)", "results = model.fit()", "print(results.summary())")
    assert [key for key, _ in result.results] == ["summary"]


def test_a_notebook_that_trains_and_saves_without_evaluating_is_told_so() -> None:
    result = pipeline(
        "import joblib\nfrom sklearn.datasets import load_iris\nfrom sklearn.neighbors import KNeighborsClassifier\n"
        "X, y = load_iris(return_X_y=True)",
        "knn = KNeighborsClassifier().fit(X, y)\njoblib.dump(knn, 'knn.pkl')",
    )
    assert result.results == []
    assert any(w.startswith("run() returns None: the notebook trains but evaluates nothing") for w in result.warnings)


def test_a_metric_worked_out_by_hand_in_training_is_a_result() -> None:
    result = pipeline(
        "import numpy as np\nfrom sklearn.cluster import KMeans\nfrom sklearn.metrics import adjusted_rand_score\n"
        "X = np.array([[0.0], [0.1], [5.0], [5.1]])\ny = np.array([0, 0, 1, 1])",
        "kmeans = KMeans(n_clusters=2, n_init=1, random_state=0)\nlabels = kmeans.fit_predict(X)",
        "np.mean(y == labels)",
        "ari = adjusted_rand_score(y, labels)",
    )
    assert "metric" in [key for key, _ in result.results]


def test_what_a_preprocessor_fitted_only_to_be_shown_learned_is_no_result() -> None:
    """A PCA fitted in a cell of its own after the evaluation, to show the variance it explains,
    is a look at the data: dropped with its display, not kept in preprocess for a result it
    would no longer be."""
    result = pipeline(
        "import numpy as np\nfrom sklearn.decomposition import PCA\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X = np.random.RandomState(0).rand(30, 3)\ny = (X[:, 0] > 0.5) * 1",
        "model = LogisticRegression().fit(X, y)\nacc = model.score(X, y)",
        "pca = PCA(n_components=None)\nX_pca = pca.fit_transform(X)",
        "print(pca.explained_variance_ratio_)",
    )
    assert [key for key, _ in result.results] == ["acc"]
    assert not stage(result, "preprocess").statements


def test_predictions_made_by_hand_and_scored_by_hand_are_steps_not_results() -> None:
    result = pipeline(
        "import numpy as np\nX = np.random.RandomState(0).rand(20, 2)\ny = (X[:, 0] > 0.5) * 1",
        "w = np.linalg.lstsq(X, y, rcond=None)[0]",
        "predictions = (X @ w > 0.5) * 1\naccuracy = np.mean(predictions == y)\nprint('Accuracy:', accuracy)",
    )
    assert [key for key, _ in result.results] == ["accuracy"]


def test_a_module_alias_the_notebook_never_imports_is_named_in_the_warning() -> None:
    result = pipeline(
        "from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True)",
        "model = LogisticRegression(max_iter=500).fit(X, y)\nacc = np.mean(model.predict(X) == y)",
    )
    assert "'np' is read but no kept cell binds it: run() needs it as a parameter; the notebook never imports " \
           "it: add `import numpy as np` to its first cell" in result.warnings


def test_a_file_handle_is_no_result_nor_is_what_a_call_returning_none_shows(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    result = pipeline(
        "import pickle\nfrom sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True)",
        "m = LogisticRegression(max_iter=500).fit(X, y)\nacc = m.score(X, y)\nprint(acc)",
        f"file = open({str(path)!r}, 'wb')\npickle.dump(m, file)\nfile.close()",
        f"file = open({str(path)!r}, 'rb')\nrestored = pickle.load(file)\nfile.close()",
    )
    assert result.results == [("acc", "acc")]  # not the handles, which are closed when run() returns
    assert set(run_pipeline(result)) == {"acc"}


def test_what_the_environment_gives_is_never_a_result() -> None:
    # a secret moved out of the notebook becomes such a lookup: run() must not hand it back
    result = pipeline(
        "import os",
        ("KEY = os.environ['OPENAI_API_KEY']\nheaders = {'Authorization': 'Bearer ' + KEY}\n"
         "token = os.getenv('HF_TOKEN', '').strip()\nprompts = ['a', 'bb']\n"
         "score = sum(len(p) for p in prompts) / 4\nauthorized = headers['Authorization'].startswith('Bearer ')\n"
         "print(score, KEY, token)", "Evaluate", ()),
    )
    assert [name for _, name in result.results] == ["score"]
