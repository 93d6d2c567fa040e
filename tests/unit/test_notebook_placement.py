"""Statement placement: code evidence first, headings second, the dependency graph decides the order."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.dataflow import OutOfOrder, ParsedCell, Pipeline, build_pipeline

IMPORTS = ("import pandas as pd\nimport numpy as np\nimport matplotlib.pyplot as plt\nimport joblib\n"
           "from sklearn.model_selection import train_test_split, cross_val_score\n"
           "from sklearn.preprocessing import StandardScaler\n"
           "from sklearn.ensemble import RandomForestClassifier\nfrom sklearn.metrics import accuracy_score\n")


def pipeline(*cells: str | tuple[str, str | None] | tuple[str, str | None, tuple[str, ...]]) -> Pipeline:
    parsed = []
    for number, cell in enumerate([IMPORTS, *cells], start=1):
        source, heading, tags = (cell, None, ()) if isinstance(cell, str) else (*cell, ())[:3]
        source = textwrap.dedent(source)
        tree = ast.parse(source)
        parsed.append(ParsedCell(number, tags, source, heading, tree, code=source))  # type: ignore[arg-type]
    return build_pipeline(parsed, st.DEFAULT_KEYWORDS)


def parts(result: Pipeline) -> list[tuple[int, str]]:
    return [(p.cell, p.stage) for p in result.parts if p.cell != 1]


def stage_text(result: Pipeline, name: str) -> str:
    stage = next(s for s in result.stages if s.name == name)
    return ast.unparse(ast.Module(stage.statements, []))


def test_code_evidence_places_each_statement_without_any_markdown() -> None:
    result = pipeline(
        "df = pd.read_csv('data.csv')",
        "df['ratio'] = df.a / df.b\nX_train, X_test, y_train, y_test = train_test_split(df[['ratio']], df.y)",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X_train, y_train)",
        "acc = accuracy_score(y_test, model.predict(X_test))",
        "joblib.dump(model, 'model.pkl')",
    )
    assert parts(result) == [(2, "load"), (3, "preprocess"), (4, "train"), (5, "evaluate"), (6, "export")]


def test_a_cell_that_loads_prepares_and_fits_is_split() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\ndf = df.dropna()\nmodel = RandomForestClassifier()\n"
                      "model.fit(df[['a']], df.y)")
    assert parts(result) == [(2, "load"), (2, "preprocess"), (2, "train")]
    assert [p.lines for p in result.parts if p.cell == 2] == [(1, 1), (2, 2), (3, 4)]


def test_headings_are_a_weaker_prior_than_code() -> None:
    result = pipeline(("df = pd.read_csv('d.csv')\nX_tr, X_te = train_test_split(df)", "Create a test set"),
                      ("model = RandomForestClassifier()\nmodel.fit(X_tr, X_tr.y)", "Building a tree in scikit-learn"),
                      ("columns = list(X_te.columns)", "Evaluate"))
    assert parts(result) == [(2, "load"), (2, "preprocess"), (3, "train"), (4, "evaluate")]
    assert result.parts[-1].reason == "under heading 'Evaluate'"


def test_a_statement_may_go_to_an_earlier_stage_than_the_cells_above_it() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "other = pd.read_csv('other.csv')", "score = model.score(other, other.y)")
    assert parts(result)[-2] == (4, "load")


def test_a_statement_reading_what_training_made_goes_to_train_or_after() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      ("importances = pd.Series(model.feature_importances_)", "Preprocess"))
    assert parts(result)[-1][1] == "evaluate"  # its heading names an earlier stage than its dependencies allow
    assert "which its dependencies rule out; uses what training made" in result.parts[-1].reason


def test_evidence_moves_down_when_it_depends_on_a_later_stage() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "df['pred'] = model.predict(df)", "X2 = df.dropna()")
    assert parts(result)[-1] == (5, "evaluate")
    assert "reads what evaluate makes" in result.parts[-1].reason


def test_an_artifact_written_mid_way_does_not_drag_what_follows_into_export() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "joblib.dump(model, 'm.pkl')", "model.set_params(max_depth=2)\nmodel.fit(df, df.y)")
    assert parts(result)[-2:] == [(4, "train"), (5, "train")]


def test_a_second_model_under_the_same_name_is_a_new_version_and_keeps_its_stages() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "acc = accuracy_score(df.y, model.predict(df))",
                      "model = RandomForestClassifier(max_depth=2)\nmodel.fit(df, df.y)",
                      "acc = accuracy_score(df.y, model.predict(df))", "joblib.dump(model, 'm.pkl')")
    assert parts(result) == [(2, "load"), (3, "train"), (4, "evaluate"), (5, "train"), (6, "evaluate"),
                             (7, "export")]
    train, evaluate = stage_text(result, "train"), stage_text(result, "evaluate")
    assert "model_1 = RandomForestClassifier()" in train and "model = RandomForestClassifier(max_depth=2)" in train
    # both scores sit in evaluate, in notebook order; each keeps a name of its own, so run() returns both
    assert evaluate == ("acc_1 = accuracy_score(df.y, model_1.predict(df))\n"
                        "acc = accuracy_score(df.y, model.predict(df))")
    assert [key for key, _ in result.results] == ["acc_1", "acc"]
    assert ("acc", "acc") in result.results


def test_a_rebound_name_read_by_a_function_or_rebound_in_stage_order_keeps_its_name() -> None:
    helper = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "def score():\n    return model.score(df, df.y)", "s = score()",
                      "model = RandomForestClassifier(max_depth=2)\nmodel.fit(df, df.y)")
    assert "model_1" not in stage_text(helper, "train")
    in_order = pipeline("df = pd.read_csv('d.csv')", "X = df.drop(columns='y')", "X = df[['a']]",
                        "model = RandomForestClassifier()\nmodel.fit(X, df.y)")
    assert "X_1" not in stage_text(in_order, "preprocess")


def test_a_tag_is_strongest_and_a_tagged_cell_cannot_depend_on_a_later_stage() -> None:
    result = pipeline(("df = pd.read_csv('d.csv')", None, ("mlpack:preprocess",)))
    assert parts(result) == [(2, "preprocess")]
    with pytest.raises(OutOfOrder, match="cell 3"):
        pipeline("df = pd.read_csv('d.csv')", ("model = RandomForestClassifier()\nmodel.fit(df, df.y)", None, ()),
                 ("pred = model.predict(df)", None, ("mlpack:load",)))


def test_plots_are_dropped_under_any_alias_and_mixed_cells_keep_their_computation() -> None:
    result = pipeline("import seaborn as sb\ndf = pd.read_csv('d.csv')",
                      "df['r'] = df.a / df.b\nsb.pairplot(df)\nfig, ax = plt.subplots()\nax.hist(df.r)\n"
                      "ax.legend()\nplt.savefig('hist.png')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)")
    assert parts(result)[-3:-1] == [(3, "preprocess"), (3, "dropped")]
    assert any("savefig" in w for w in result.warnings)


def test_savefig_is_kept_when_a_later_statement_reads_the_file() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "plt.plot(df.a)\nplt.savefig('plot.png')",
                      "with open('plot.png', 'rb') as f:\n    data = f.read()")
    assert "plt.savefig('plot.png')" in "".join(stage_text(result, s.name) for s in result.stages)
    assert "plt.plot(df.a)" in "".join(stage_text(result, s.name) for s in result.stages)


def test_exploration_that_changes_what_is_read_later_is_kept_with_the_reason() -> None:
    result = pipeline("df = pd.read_csv('d.csv')",
                      ("df.dropna(inplace=True)\nsummary = df.describe()\nprint(summary)", "Explore the data"),
                      "model = RandomForestClassifier()\nmodel.fit(df, df.y)")
    kept = [p for p in result.parts if p.cell == 3]
    assert kept[0].stage == "preprocess" and kept[0].reason == "prepares data: dropna()"
    assert "df.dropna(inplace=True)" in stage_text(result, kept[0].stage)


def test_a_computation_that_only_feeds_a_plot_is_dropped_with_it() -> None:
    result = pipeline("import seaborn as sns\ndf = pd.read_csv('d.csv')", "corr = df.corr()\nsns.heatmap(corr)")
    assert parts(result)[-1] == (3, "dropped")
    assert [p.reason for p in result.parts if p.cell == 3][0].startswith("computes corr only for plots")


def test_a_computation_only_printed_is_dropped_unless_evaluation_prints_it() -> None:
    fit = "model = RandomForestClassifier()\nmodel.fit(df, df.y)"
    result = pipeline("df = pd.read_csv('d.csv')", "n = len(df)\nprint(n)", "unused = len(df) * 2", fit)
    assert "n = len(df)" not in stage_text(result, "load") and "unused = len(df) * 2" not in stage_text(result, "load")
    result = pipeline("df = pd.read_csv('d.csv')", fit, ("n = len(df)\nprint(n)", "Evaluation"))
    assert "n = len(df)" in stage_text(result, "evaluate") and result.results == [("n", "n")]


def test_plotting_nested_in_a_kept_loop_is_dropped_there() -> None:
    result = pipeline("df = pd.read_csv('d.csv')",
                      "scores = []\nfor depth in [1, 2]:\n    m = RandomForestClassifier(max_depth=depth)\n"
                      "    m.fit(df, df.y)\n    scores.append(m.score(df, df.y))\n    plt.plot(scores)\n")
    assert (3, 6) in result.drop_nested
    assert (3, 5) not in result.drop_nested


def test_a_kept_loop_that_draws_into_axes_keeps_no_figure_and_needs_no_axes() -> None:
    # the loop is kept for its fits; the axes only its nested plots read are no input of it
    result = pipeline("df = pd.read_csv('d.csv')",
                      "fig, axes = plt.subplots(1, 2)\nscores = []\nfor i, depth in enumerate([1, 2]):\n"
                      "    m = RandomForestClassifier(max_depth=depth).fit(df, df.y)\n"
                      "    scores.append(m.score(df, df.y))\n    axes[i].plot(scores)\n")
    assert "subplots" not in "".join(stage_text(result, s.name) for s in result.stages)
    assert ("fig", "fig") not in result.results and ("scores", "scores") in result.results
    assert not result.required and (3, 6) in result.drop_nested


def test_data_drawn_from_random_numbers_before_any_fit_is_loaded() -> None:
    result = pipeline("rng = np.random.RandomState(1)\nx = 10 * rng.rand(50)\ny = 2 * x - 5 + rng.randn(50)",
                      "noisy = x + np.random.randn(50)",
                      "model = RandomForestClassifier()\nmodel.fit(noisy[:, None], y > 0)",
                      "x_new = np.random.rand(5)\nprint(model.predict(x_new[:, None]))")
    assert parts(result)[:2] == [(2, "load"), (3, "load")]
    assert [p.reason for p in result.parts if p.cell == 3] == ["generates data: randn()"]
    assert "x_new = np.random.rand(5)" not in stage_text(result, "load")  # drawn after the fit


def test_a_grid_random_draws_are_added_to_is_generated_data_and_a_grid_alone_a_setting() -> None:
    result = pipeline("x = np.linspace(-3, 3, 100)",
                      "rng = np.random.RandomState(42)\ny = np.sin(4 * x) + rng.rand(100)",
                      "X = x[:, np.newaxis]", "model = RandomForestClassifier()\nmodel.fit(X, y > 0)")
    assert parts(result)[:3] == [(2, "load"), (3, "load"), (4, "preprocess")]
    assert [p.reason for p in result.parts if p.cell == 2] == ["generates data: linspace()"]
    sweep = pipeline("df = pd.read_csv('d.csv')", "depths = np.arange(1, 20)",
                     "for d in depths:\n    RandomForestClassifier(max_depth=d).fit(df, df.y)")
    assert (3, "load") not in parts(sweep)


@pytest.mark.parametrize("taken", [
    "X = iris.data\ny = iris.target",
    "X, y = iris['data'], iris['target']",
    "df = pd.DataFrame(iris.data, columns=iris.feature_names)\ndf['target'] = iris.target",
])
def test_the_data_set_taken_out_of_what_its_loader_returned_is_loaded(taken: str) -> None:
    fit = "model = RandomForestClassifier()\nmodel.fit(df, iris.target)" if "df" in taken else \
        "model = RandomForestClassifier()\nmodel.fit(X, y)"
    result = pipeline("from sklearn.datasets import load_iris\niris = load_iris()", taken, fit)
    assert (3, "load") in parts(result) and (3, "preprocess") not in parts(result)
    assert all(p.reason.startswith("takes the data set out of") for p in result.parts if p.cell == 3)


def test_data_computed_from_what_a_loader_returned_is_prepared_not_loaded() -> None:
    result = pipeline("from sklearn.datasets import load_digits\ndigits = load_digits()",
                      "X = digits.images.reshape((len(digits.images), -1))",
                      "model = RandomForestClassifier()\nmodel.fit(X, digits.target)")
    assert (3, "preprocess") in parts(result)


def test_random_noise_added_to_loaded_data_is_not_generated_data() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "X = df.values * 2", "X_noisy = X + np.random.randn(3)",
                      "model = RandomForestClassifier()\nmodel.fit(X_noisy, df.y)")
    assert (4, "load") not in parts(result)


def test_a_model_loaded_back_from_the_file_it_was_saved_to_does_not_pull_the_save_early() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "joblib.dump(model, 'm.pkl')", "again = joblib.load('m.pkl')")
    assert parts(result)[-2:] == [(4, "export"), (5, "dropped")]  # nothing uses what is loaded back
    other = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                     "joblib.dump(model, 'm.pkl')", "data = joblib.load('other.pkl')\nmodel.fit(data, data.y)")
    assert (5, "load") in parts(other)  # another file: data the pipeline starts from


# What a kept statement needs is kept; the rest (demos, views, one-sample predictions) is dropped.

FIT = "model = RandomForestClassifier()\nmodel.fit(X, y)"


def reason(result: Pipeline, cell: int) -> str:
    return " | ".join(p.reason for p in result.parts if p.cell == cell)


def test_a_library_demo_that_nothing_kept_reads_is_dropped_without_markdown() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT,
                      "t = np.array([[1., 2.], [3., 4.]])", "u = t @ t.T\nu.sum()", "t.reshape(4)",
                      "acc = accuracy_score(y, model.predict(X))")
    assert parts(result)[2:5] == [(4, "dropped"), (5, "dropped"), (6, "dropped")]
    assert reason(result, 4).startswith("nothing kept depends on it")
    assert parts(result)[-1] == (7, "evaluate") and ("acc", "acc") in result.results


def test_data_steps_a_fit_reads_are_kept_and_the_others_dropped() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "df['r'] = df.a / df.b\nX, y = df[['r']], df.y",
                      "view = df[df.a > 3]\nview.head()", FIT)
    assert (3, "preprocess") in parts(result)
    assert [p.stage for p in result.parts if p.cell == 4] == ["dropped"]
    assert "view = " not in stage_text(result, "preprocess")


def test_a_notebook_that_neither_trains_scores_nor_writes_keeps_its_computations() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "clean = df.dropna()\nsummary = clean.describe()")
    assert "summary = clean.describe()" in stage_text(result, "preprocess")


def test_an_object_called_or_handed_to_a_method_before_a_kept_use_is_kept() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y",
        "model = RandomForestClassifier()\ntrainer = create_supervised_trainer(model)",
        "logger = Logger('runs')\nlogger.attach(trainer)",
        "trainer.run(X, max_epochs=2)",
    )
    assert (3, "train") in parts(result) and "trainer = create_supervised_trainer(model)" in stage_text(result, "train")
    assert "logger.attach(trainer)" in stage_text(result, "train")
    assert parts(result)[-1] == (5, "train")


def test_a_value_computed_from_the_pipeline_that_nothing_reads_is_kept_as_a_result() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT, "n_rows = len(X)",
                      "decoded = ' '.join(str(v) for v in [1, 2])")
    assert "n_rows = len(X)" in ast.unparse(ast.Module([s for st_ in result.stages for s in st_.statements], []))
    assert parts(result)[-1] == (5, "dropped")  # computed from literals only: a demo


def test_an_assert_is_kept() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nassert len(df) > 10\nX, y = df[['a']], df.y", FIT)
    assert "assert len(df) > 10" in stage_text(result, "load")


# Calls of the notebook's own functions carry the evidence of their bodies.

def test_a_call_of_a_notebook_function_takes_the_stage_of_what_its_body_does() -> None:
    loaders = "def make_loader(frame):\n    return DataLoader(frame, batch_size=4)\n"
    epochs = ("def run_epoch(net, batches):\n    for xb, yb in batches:\n        loss = net(xb) - yb\n"
              "        loss.backward()\n        optimizer.step()\n")
    result = pipeline("df = pd.read_csv('d.csv')", loaders + epochs, "loader = make_loader(df)",
                      "net = Net()\noptimizer = SGD(net.parameters())", "run_epoch(net, loader)")
    assert (4, "preprocess") in parts(result) and "calls make_loader(), which prepares data" in reason(result, 4)
    assert parts(result)[-1] == (6, "train") and "calls run_epoch(), which trains" in reason(result, 6)


def test_a_parameter_named_like_a_model_of_the_notebook_is_not_that_model() -> None:
    helper = "def show_one(model, text):\n    return model.encode(text)\n"
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", helper, FIT,
                      "show_one(model, 'a sentence')")
    assert parts(result)[-1] == (5, "dropped")  # not "changes the model model": a prediction for one sample


def test_a_plotting_helper_gives_its_calls_no_evidence() -> None:
    helper = "def draw(model):\n    plt.plot(model.predict(X))\n    plt.show()\n"
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", helper, FIT, "draw(model)")
    assert "evaluates" not in reason(result, 5)


def test_a_definition_takes_no_evidence_from_its_body() -> None:
    twice = "def f(x):\n    return np.log(x)\n"
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", twice, "X = f(X)", FIT,
                      twice.replace("log", "sqrt"), "acc = accuracy_score(y, model.predict(f(X)))")
    assert "prepares data: log()" not in reason(result, 3)


# Training loops, headings that contradict the dependencies, what a statement without evidence follows.

def test_a_training_loop_that_also_tracks_a_metric_is_train() -> None:
    loop = ("for epoch in range(3):\n    loss = loss_fn(y, net(X))\n    loss.backward()\n    optimizer.step()\n"
            "    history.append(mean_squared_error(y, net(X)))")
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y",
                      "net = Net()\noptimizer = Adam(net.parameters())\nhistory = []", loop)
    assert parts(result)[-1] == (4, "train")


def test_a_heading_its_dependencies_rule_out_is_ignored() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y",
                      ("X_val, y_val = X[:10], y[:10]", "Validating the approach"), FIT.replace("X, y", "X_val, y_val"))
    assert parts(result)[1] == (3, "preprocess")
    assert "which its dependencies rule out; derives data from what load and preprocess make" in reason(result, 3)


def test_a_statement_without_evidence_follows_the_data_it_derives_from() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "X, y = df[['a']], df.y", FIT)
    assert parts(result)[1] == (3, "preprocess")
    assert reason(result, 3) == "derives data from what load and preprocess make"


def test_the_model_picked_from_evaluation_scores_is_evaluation_even_when_export_saves_it() -> None:
    """``best_name = results_df.iloc[0]["model"]`` reads what evaluation made: it stays there, so a
    score of the picked model shown after it is a result (in export it could not be returned)."""
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y",
        "models = {'rf': RandomForestClassifier(random_state=0)}\nrows = []\nfor name, m in models.items():\n"
        "    m.fit(X, y)\n    rows.append({'model': name, 'acc': accuracy_score(y, m.predict(X))})\n"
        "scores = pd.DataFrame(rows).sort_values('acc')",
        "best_name = scores.iloc[0]['model']\nbest = models[best_name]\nprint(best.score(X, y))",
        "joblib.dump(best, 'best.pkl')",
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["evaluate"]
    assert reason(result, 4).startswith("uses what evaluation made")
    assert "score" in dict(result.results)


def test_a_statement_without_evidence_that_uses_the_trained_model_is_evaluation() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT,
                      "cost = model.get_cost(X, y)\nprint(cost)")
    assert parts(result)[-1] == (4, "evaluate") and reason(result, 4).startswith("uses what training made")
    assert ("cost", "cost") in result.results


# What is shown, and figure files.

def test_a_shown_result_is_reported_in_the_stage_that_returns_it_and_a_view_as_dropped() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT,
                      "scores = cross_val_score(model, X, y)", "scores", "scores[0]", "np.mean(scores)")
    assert parts(result)[-3:] == [(5, "evaluate"), (6, "dropped"), (7, "evaluate")]
    assert "run() returns what it shows" in reason(result, 5)


def test_a_learned_statistic_shown_after_training_is_a_result() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT, "model.feature_importances_")
    assert parts(result)[-1] == (4, "evaluate")
    assert ("feature_importances", "feature_importances") in result.results


def test_a_file_opened_only_for_a_figure_is_plotting() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT,
                      "with open('tree.dot', 'w') as f:\n    export_graphviz(model, out_file=f)")
    assert parts(result)[-1] == (4, "dropped") and "plots" in reason(result, 4)
    kept = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT,
                    "with open('tree.txt', 'w') as f:\n    f.write(str(model))")
    assert parts(kept)[-1][1] == "export"


def test_a_change_through_an_alias_is_kept_when_the_original_is_read() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\ncols = list(df.columns[:1])", "chosen = cols\nchosen.append('b')",
                      "X, y = df[cols], df.y", FIT)
    assert "chosen.append('b')" in ast.unparse(ast.Module([s for g in result.stages for s in g.statements], []))


def test_a_call_of_a_notebook_function_that_acts_outside_the_notebook_is_kept() -> None:
    notify = "def notify(text):\n    subprocess.run(['echo', text])\n"
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", notify, FIT, "notify('trained')")
    assert parts(result)[-1][1] != "dropped"


@pytest.mark.parametrize(
    "cells",
    [
        ("import huggingface_hub", "api = huggingface_hub.HfApi()\napi.upload_file(path_or_fileobj='m.pkl')"),
        ("import wandb", "run = wandb.init(project='p')\nrun.log({'accuracy': 0.9})"),
        ("import mlflow", "mlflow.log_metric('accuracy', 0.9)"),
    ],
)
def test_calls_into_a_library_that_acts_outside_the_notebook_are_kept(cells: tuple[str, str]) -> None:
    result = pipeline(cells[0], "df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT, cells[1])
    kept = ast.unparse(ast.Module([s for g in result.stages for s in g.statements], []))
    method = cells[1].splitlines()[-1].split("(")[0].split(".")[-1]  # upload_file, log, log_metric
    assert f".{method}(" in kept  # (the object may be renamed: `run` is the pipeline's own name)


@pytest.mark.parametrize("loop", [
    "for epoch in range(100):\n    gradient = X.T @ (X @ w - y) / len(y)\n    w -= 0.1 * gradient",
    "for epoch in range(100):\n    error = X @ w - y\n    gradient = X.T @ error / len(y)\n    w -= 0.1 * gradient",
])
def test_a_loop_that_steps_a_value_by_its_own_gradient_trains_without_any_markdown(loop: str) -> None:
    result = pipeline(
        "X = np.ones((4, 2))\ny = np.arange(4.0)\nw = np.zeros(2)",
        loop,
        "rmse = np.sqrt(np.mean((X @ w - y) ** 2))",
    )
    assert (3, "train") in parts(result)
    assert "rmse" in {name for _, name in result.results}


def test_a_running_sum_in_a_loop_is_no_training() -> None:
    result = pipeline(
        "values = np.arange(5.0)\nweights = np.ones(5)",
        "total = 0.0\nfor v, k in zip(values, weights):\n    total += k * v",
        "mean = total / len(values)",
    )
    assert "train" not in {stage for _, stage in parts(result)}


def test_a_notebook_that_trains_and_never_scores_returns_what_it_shows_of_the_model() -> None:
    result = pipeline(
        "X = np.arange(12.0).reshape(6, 2)\ny = np.array([0, 1, 0, 1, 0, 1])",
        "model = RandomForestClassifier(n_estimators=5, random_state=0)\nmodel.fit(X, y)",
        "ranked = pd.Series(model.feature_importances_, index=['a', 'b']).sort_values()\nranked.head(1)",
    )
    assert [name for _, name in result.results] == ["ranked"]
    assert "model.fit(X, y)" in stage_text(result, "train")  # shown, but the model is no result


# Draws with a seed of their own (``random_state=42``) do not read the global generator.

def test_draws_seeded_on_their_own_are_not_ordered_after_a_fit_by_a_global_seed() -> None:
    result = pipeline(
        "np.random.seed(42)\ndf = pd.read_csv('d.csv')",
        "forest = RandomForestClassifier(random_state=0)\nforest.fit(df[['a']], df.y)",
        "from sklearn.datasets import make_moons\nX, y = make_moons(n_samples=100, random_state=42)",
        "X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=42)",
        "other = RandomForestClassifier(random_state=0)\nother.fit(X_tr, y_tr)\nacc = other.score(X_te, y_te)",
    )
    stages = parts(result)
    assert (4, "load") in stages and (5, "preprocess") in stages


@pytest.mark.parametrize(("constructor", "stage"), [
    ("RandomForestClassifier()", "train"), ("RandomForestClassifier(random_state=0)", "load")])
def test_a_fit_drawing_from_the_global_generator_keeps_later_draws_after_it(constructor: str, stage: str) -> None:
    result = pipeline(
        "np.random.seed(42)\ndf = pd.read_csv('d.csv')",
        f"forest = {constructor}\nforest.fit(df[['a']], df.y)",
        "noise = np.random.randn(10)",
        "forest.fit(df[['a']] + noise[0], df.y)\nacc = forest.score(df[['a']], df.y)",
    )
    # unseeded, the first fit draws from the generator: moved before it, the draw would change it
    assert [s for cell, s in parts(result) if cell == 4] == [stage]


def test_generated_data_after_a_fit_seeded_on_its_own_is_loaded() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nforest = RandomForestClassifier(random_state=1)\nforest.fit(df[['a']], df.y)",
        "np.random.seed(0)\nx = np.random.rand(50)\ny = 2 * x + np.random.randn(50)",
        "model = RandomForestClassifier(random_state=1)\nmodel.fit(x.reshape(-1, 1), y > 1)\n"
        "acc = model.score(x.reshape(-1, 1), y > 1)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["load"]


# An object only built (a layer, a metric object for a demo) matters through what uses it.

def test_an_object_built_and_never_used_is_dropped_not_trained() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "layer = RandomForestClassifier(n_estimators=3)",  # built to show it; nothing uses it
        "model = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)\nacc = model.score(df[['a']], df.y)",
    )
    assert parts(result)[1] == (3, "dropped")
    assert parts(result)[2] == (4, "train")


def test_an_object_built_and_handed_to_a_function_is_kept() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "def fit_and_plot(estimator):\n    estimator.fit(df[['a']], df.y)\n    plt.plot(estimator.predict(df[['a']]))",
        "model = RandomForestClassifier()\nfit_and_plot(model)",
    )
    assert (4, "train") in parts(result)


# A helper's comprehension variable is its own, not the notebook's global of that name.

def test_a_comprehension_variable_in_a_helper_is_not_the_notebook_global() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)",
        "m = model.score(df[['a']], df.y)",  # evaluation binds m
        "def report(models):\n    print([m.describe_fit() for m in models])",
        "other = RandomForestClassifier()\nfor epoch in range(2):\n    other.fit(df[['a']], df.y)\n"
        "    report([other])",
    )
    # the training loop does not read or change the evaluation's m, so it stays in train
    assert [stage for cell, stage in parts(result) if cell == 6] == ["train"]


# A fitted model shown through another object is no result of the notebook.

def test_a_displayed_best_estimator_is_dropped_and_not_returned() -> None:
    result = pipeline(
        "from sklearn.model_selection import GridSearchCV\ndf = pd.read_csv('d.csv')",
        "grid = GridSearchCV(RandomForestClassifier(), {'max_depth': [2, 3]}, cv=3)\ngrid.fit(df[['a']], df.y)",
        "grid.best_estimator_",
        "acc = grid.score(df[['a']], df.y)",
    )
    assert parts(result)[-2] == (4, "dropped")
    assert all("best_estimator" not in key for key, _ in result.results) and ("acc", "acc") in result.results


# A loop's scratch (bound afresh in each pass, read by nothing after the loop) orders nothing before it.

LOOP = ("other = RandomForestClassifier()\nfor k in range(3):\n    pred = other.fit(df[['a']], df.y).n_features_in_\n"
        "    other.set_params(n_estimators=pred + k)")


def test_a_training_loop_reusing_a_name_of_the_evaluation_as_scratch_stays_in_train() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)",
        "pred = model.predict(df[['a']])\nacc = accuracy_score(df.y, pred)",
        LOOP,
        "pred = other.predict(df[['a']])\nfinal = accuracy_score(df.y, pred)",  # pred bound afresh
    )
    assert [stage for cell, stage in parts(result) if cell == 5] == ["train"]
    assert ("acc", "acc") in result.results


def test_a_loop_that_binds_a_name_afresh_starts_a_version_of_it() -> None:
    # the loop makes pred anew in each pass: it may train before acc reads the earlier pred
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)",
        "pred = model.predict(df[['a']])\nacc = accuracy_score(df.y, pred)",
        LOOP,
        "last = accuracy_score(df.y, [pred])",  # reads the loop's last pred
    )
    assert [stage for cell, stage in parts(result) if cell == 5] == ["train"]
    assert "acc = accuracy_score(df.y, pred_1)" in stage_text(result, "evaluate")
    assert "last = accuracy_score(df.y, [pred])" in stage_text(result, "evaluate")


# What the module leaves out is reported as dropped, not as module level.

def test_constants_and_imports_only_a_dropped_demo_reads_are_reported_dropped() -> None:
    result = pipeline(
        "import math\ntoy = [1, 2, 3]",
        "from collections import Counter",
        "Counter(toy)",  # a display: dropped
        "import json\nimport random",
        "df = pd.read_csv('d.csv')\nmodel = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)\n"
        "random.seed(0)",
    )
    assert [(p.stage, p.reason) for p in result.parts if p.cell == 2] == [
        ("dropped", "import: module level (and 1 more), but nothing kept uses it")]
    assert [(p.stage, p.reason) for p in result.parts if p.cell == 3] == [
        ("dropped", "import: dropped, nothing kept uses it")]  # not in the module: the report says so
    # an import part of which the module keeps one import stays module level
    assert [p.stage for p in result.parts if p.cell == 5] == ["helpers"]
    assert result.placements[3].stage == "dropped"


# Deriving data is a data step, whatever a heading about predictions or models says.

def test_data_derived_under_a_heading_of_a_later_step_is_preprocessing() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nnew = pd.read_csv('new.csv')",
        "model = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)",
        ("X_new = new[['a']]\ny_new = new.y", "Predicting for new data"),
        "acc = accuracy_score(y_new, model.predict(X_new))",
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["preprocess"]


def test_data_derived_in_a_cell_whose_code_does_what_its_heading_says_goes_with_that_code() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nnew = pd.read_csv('new.csv')",
        "model = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)",
        ("X_new = new[['a']]\nacc = accuracy_score(new.y, model.predict(X_new))", "Predicting for new data"),
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["evaluate"]


def test_a_fit_written_by_hand_under_a_training_heading_stays_in_train() -> None:
    """No call says it trains (`solve` is no fitting function mlpack knows); the heading does, and
    what it computes from the data is the model, not data for a later step."""
    result = pipeline(
        ("rows = [(float(i), 2.0 * i + 1) for i in range(10)]", "Load"),
        ("xs = [x for x, _ in rows]\nys = [y for _, y in rows]", "Preprocess"),
        ("slope = solve(xs, ys)", "Train"),
        ("error = sum(abs(slope * x - y) for x, y in zip(xs, ys))", "Evaluate"),
    )
    assert (4, "train") in parts(result)


# Data written out in the notebook is data the pipeline starts from, like a file it reads.

def test_data_written_as_literals_is_loaded_without_any_markdown() -> None:
    result = pipeline(
        "x = np.array([1, 2, 3, 4, 5])\ny = np.array([4, 2, 1, 3, 7])",
        "X = x.reshape(-1, 1)",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X, y)",
    )
    assert parts(result) == [(2, "load"), (3, "preprocess"), (4, "train")]
    assert [p.reason for p in result.parts if p.cell == 2] == ["data written in the notebook: array()"]


def test_a_table_written_after_a_first_model_is_loaded_when_nothing_it_reads_comes_later() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nmodel = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "from numpy import nan\nZ = np.array([[nan, 0, 3], [3, 7, 9], [3, 5, 2]])",
        "frame = pd.DataFrame({'a': [1, 2, 3], 'b': [4.0, nan, 6.0]})",
        "Z2 = pd.DataFrame(Z).fillna(0)\nmodel.fit(Z2, frame.a)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["helpers", "load"]
    assert [stage for cell, stage in parts(result) if cell == 4] == ["load"]


def test_one_sample_or_values_of_the_notebook_are_no_data_written_out() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nmodel = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a', 'b']], df.y)",
        "low = df.a.min()\nX_new = np.array([[5, 2]])\nX_low = np.array([[low, 1], [low, 2]])\n"
        "acc = accuracy_score([1, 1], model.predict(X_low))\nguess = model.predict(X_new)\nguess",
    )
    reasons = [p.reason for p in result.parts if p.cell == 3]
    assert not any("data written" in r for r in reasons)
    assert "load" not in [stage for cell, stage in parts(result) if cell == 3]


# Functions and classes the notebook defines belong to its library.

def test_a_function_no_kept_code_calls_stays_a_helper_and_a_plotting_one_is_dropped() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nmodel = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "def predict_one(model, value):\n    return model.predict([[value]])[0]",
        "class Explainer:\n    def __init__(self, model):\n        self.model = model",
        "def show(values):\n    plt.plot(values)\n    plt.show()",
    )
    assert [(cell, stage) for cell, stage in parts(result) if cell > 2] == [
        (3, "helpers"), (4, "helpers"), (5, "dropped")]
    assert [getattr(h, "name", "") for h in result.helpers] == ["predict_one", "Explainer"]


# Configuring a library through an attribute of its module is set-up, not a data step.

def test_a_library_setting_assigned_to_its_module_is_set_up_and_leaves_loading_in_load() -> None:
    result = pipeline(
        "pd.options.mode.chained_assignment = None",
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
    )
    assert parts(result) == [(2, "load"), (3, "load"), (4, "train")]
    assert [p.reason for p in result.parts if p.cell == 2] == ["set-up: runs before the rest"]


def test_a_setting_of_how_values_are_shown_is_dropped_with_the_displays() -> None:
    result = pipeline(
        "pd.options.display.max_columns = 50\npd.set_option('display.precision', 3)",
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
    )
    assert parts(result) == [(2, "dropped"), (3, "load"), (4, "train")]
    assert [p.reason for p in result.parts if p.cell == 2] == ["only displays"]


def test_a_library_setting_before_a_later_import_moves_to_the_top_with_it_in_order() -> None:
    result = pipeline(
        "np.seterr(all='ignore')\nnp.random.seed(0)\npd.options.mode.chained_assignment = None",
        "import joblib as jl\ndf = pd.read_csv('d.csv')\ndf['b'] = df.a * 2",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a', 'b']], df.y)\njl.dump(model, 'm.pkl')",
    )
    prelude = [ast.unparse(s) for s in result.imports]
    assert prelude.index("pd.options.mode.chained_assignment = None") < prelude.index("import joblib as jl")
    assert ("set-up before imports: module level, in order") in [p.reason for p in result.parts if p.cell == 2]
    assert "pd.options" not in stage_text(result, "preprocess") + stage_text(result, "load")


# A setting chosen by what the machine offers is a module constant, like a literal.

def test_a_device_chosen_by_what_the_machine_offers_is_a_module_constant() -> None:
    result = pipeline(
        "import torch\ndf = pd.read_csv('d.csv')",
        "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\ndevice",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)\n"
        "joblib.dump((model, device), 'm.pkl')",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["helpers", "dropped"]
    assert "device" in result.constant_names


def test_a_device_chosen_after_set_up_that_stays_in_a_stage_is_computed_there() -> None:
    result = pipeline(
        "import os\nimport torch\ndf = pd.read_csv('d.csv')\nos.environ['CUDA_VISIBLE_DEVICES'] = ''",
        "device = 'cuda' if torch.cuda.is_available() else 'cpu'",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)\n"
        "joblib.dump((model, device), 'm.pkl')",
    )
    assert "device" not in result.constant_names
    assert [stage for cell, stage in parts(result) if cell == 3] != ["helpers"]


# What run() returns is what the evaluation computed from the model's work: not a demo on a
# literal input, not predictions only looked at, not the data handed to a fit.

def test_a_prediction_for_a_literal_input_is_a_demo_and_dropped() -> None:
    result = pipeline(  # no markdown at all
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "acc = model.score(df[['a']], df.y)",
        "def predict_one(text, model):\n    return model.predict([[len(text)]])[0]",
        "text = 'This film is great'\npredict_one(text, model)",
        "X_new = pd.DataFrame({'a': [50]})\nmodel.predict(X_new)",
    )
    assert [name for _, name in result.results] == ["acc"]
    assert (6, "dropped") in parts(result) and (7, "dropped") in parts(result)
    assert "This film" not in stage_text(result, "evaluate") and "X_new" not in stage_text(result, "evaluate")


def test_a_demo_of_a_function_on_literals_after_training_returns_nothing() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "acc = model.score(df[['a']], df.y)",
        "def f(w1, w2):\n    return 3 * w1 ** 2 + 2 * w1 * w2",
        "w1, w2 = 5, 3\neps = 1e-6\n(f(w1 + eps, w2) - f(w1, w2)) / eps",
    )
    assert [name for _, name in result.results] == ["acc"]  # neither f nor its inputs
    assert {stage for cell, stage in parts(result) if cell == 6} == {"dropped"}


def test_predictions_only_looked_at_are_dropped_but_a_table_against_the_truth_is_a_result() -> None:
    looked_at = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "predictions = model.predict(df[['a']])\npredictions[0]\nnp.argmax(predictions)",
    )
    assert looked_at.results == [] and [s for c, s in parts(looked_at) if c == 4] == ["dropped"]
    compared = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "predictions = model.predict(df[['a']])\ntable = pd.DataFrame({'diff': df.y - predictions})\n"
        "table.head(10)",
    )
    assert "table" in {name for _, name in compared.results}
    assert "predictions = model.predict" in stage_text(compared, "evaluate")


def test_a_view_of_a_training_log_keeps_nothing() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nhistory = model.fit(df[['a']], df.y)",
        "acc = model.score(df[['a']], df.y)",
        "history_dict = history.__dict__\nhistory_dict.keys()",
    )
    assert [name for _, name in result.results] == ["acc"]
    assert "history_dict" not in stage_text(result, "train") + stage_text(result, "evaluate")


def test_data_handed_to_a_fit_and_shown_after_training_is_no_result() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "weights = np.ones(len(df))\nmodel.fit(df[['a']], df.y, sample_weight=weights)",
        "print(weights.mean() * 2)",
        "acc = model.score(df[['a']], df.y)\nprint(acc)",
    )
    assert [name for _, name in result.results] == ["acc"]
    shown = pipeline(  # shown in an evaluation cell, a value of the data is one of its results
        "df = pd.read_csv('d.csv')",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)",
        "n_rows = len(df)\nacc = model.score(df[['a']], df.y)\nprint(acc, n_rows)",
    )
    assert {name for _, name in shown.results} == {"acc", "n_rows"}


def test_an_object_built_and_called_once_whose_outputs_nothing_reads_is_dropped() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "from tensorflow.keras.layers import Layer\nclass Twice(Layer):\n    pass",
        "out1, out2 = Twice()((df.a, df.b))",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(df[['a']], df.y)\n"
        "acc = model.score(df[['a']], df.y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["dropped"]
    assert "out1" not in {name for _, name in result.results}


def test_a_demo_before_a_loop_that_binds_the_same_name_first_is_dropped() -> None:
    result = pipeline(
        "import tensorflow as tf\ndf = pd.read_csv('d.csv')\nw = tf.Variable(1.0)",
        "x = tf.Variable([1000.0])\nwith tf.GradientTape() as tape:\n    z = tf.exp(x)\n"
        "z, tape.gradient(z, [x])",
        "for step in range(3):\n    with tf.GradientTape() as tape:\n        loss = w * df.a.sum()\n"
        "    w.assign_sub(0.1 * tape.gradient(loss, w))\n    optimizer.apply_gradients([(w, w)])",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]
    assert "for step in range(3)" in stage_text(result, "train")


def test_draws_of_a_demo_before_every_generator_is_seeded_again_are_dropped() -> None:
    result = pipeline(
        "import tensorflow as tf\ndf = pd.read_csv('d.csv')",
        "np.random.seed(42)\ntf.random.set_seed(42)\nbatch = tf.random.uniform(shape=[2, 2])\nsquare = batch ** 2",
        "np.random.seed(42)\ntf.random.set_seed(42)\nmodel = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)\n"
        "acc = model.score(df[['a']], df.y)",
    )
    assert "batch" not in stage_text(result, "load") + stage_text(result, "train")
    only_numpy = pipeline(  # TensorFlow's generator is not seeded again: the later fit may draw what follows
        "import tensorflow as tf\ndf = pd.read_csv('d.csv')",
        "np.random.seed(42)\ntf.random.set_seed(42)\nbatch = tf.random.uniform(shape=[2, 2])\nsquare = batch ** 2",
        "np.random.seed(42)\nmodel = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)\n"
        "acc = model.score(df[['a']], df.y)",
    )
    assert "batch = tf.random.uniform" in "".join(stage_text(only_numpy, s.name) for s in only_numpy.stages)


def test_draws_shown_while_exploring_after_a_seed_are_kept_for_the_draws_after_them() -> None:
    result = pipeline(
        "np.random.seed(7)\ndf = pd.read_csv('d.csv')",
        ("df.sample(5)", "Explore"),
        ("np.random.rand()", "Explore"),
        "train, test = train_test_split(df)\nmodel = RandomForestClassifier(random_state=0)\n"
        "model.fit(train, train.y)\nacc = model.score(test, test.y)",
    )
    kept = "".join(stage_text(result, s.name) for s in result.stages)
    assert "df.sample(5)" in kept and "np.random.rand()" in kept  # the split draws what follows them
    reasons = {p.cell: p.reason for p in result.parts}
    assert "but binds or changes the seeded random generator, read later: kept" in reasons[3]
    unseeded = pipeline(  # without a seed no draw is fixed: the displays go
        "df = pd.read_csv('d.csv')", ("df.sample(5)", "Explore"),
        "train, test = train_test_split(df)\nmodel = RandomForestClassifier(random_state=0)\n"
        "model.fit(train, train.y)\nacc = model.score(test, test.y)",
    )
    assert "df.sample(5)" not in "".join(stage_text(unseeded, s.name) for s in unseeded.stages)


def test_a_column_list_for_the_data_step_after_it_is_preprocessing() -> None:
    result = pipeline(  # no markdown: the literal goes with the selection that reads it, not the fit
        "df = pd.read_csv('d.csv')\ndf = pd.concat([df, pd.get_dummies(df.c)], axis=1)",
        "feature_cols = ['a', 'b']\nX = df[feature_cols]\ny = df.y",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X, y)\nacc = model.score(X, y)",
        "feature_cols = ['a']\nmodel.fit(df[feature_cols], y)\nacc = model.score(df[feature_cols], y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["preprocess"]


def test_data_only_selected_under_a_model_heading_is_preprocessing() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX_train, X_test = train_test_split(df, random_state=0)",
        ("X_new = X_test[:3]", "Custom models"),
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X_train[['a']], X_train.y)\n"
        "preds = model.predict(X_new[['a']])\nacc = model.score(X_test[['a']], X_test.y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["preprocess"]


def test_a_metric_of_objects_only_built_is_a_check_not_a_result() -> None:
    # two layers built and never trained, compared on the data: a check of the layers
    result = pipeline(
        "import tensorflow as tf\nfrom tensorflow import keras\n",
        "df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ny = df.y",
        "mine = keras.layers.Dense(2)\ntheirs = keras.layers.Dense(2)\n"
        "tf.reduce_mean(keras.losses.mean_absolute_error(theirs(X), mine(X)))",
        "w = np.random.rand(2)\nmine.set_weights([w, w])\ntheirs.set_weights([w, w])\n"
        "tf.reduce_mean(keras.losses.mean_absolute_error(theirs(X), mine(X)))",
        "model = RandomForestClassifier()\nmodel.fit(X, y)\nacc = accuracy_score(y, model.predict(X))",
    )
    assert {stage for cell, stage in parts(result) if cell in (4, 5)} == {"dropped"}
    assert "accuracy_score" in stage_text(result, "evaluate")
    assert "Dense" not in stage_text(result, "train")


def test_a_metric_of_a_model_trained_is_kept() -> None:
    result = pipeline(
        "import tensorflow as tf\nfrom tensorflow import keras\n",
        "df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ny = df.y",
        "net = keras.Sequential([keras.layers.Dense(1)])\nnet.compile(loss='mse')\nnet.fit(X, y)",
        "tf.reduce_mean(keras.losses.mean_absolute_error(y, net(X)))",
    )
    assert (5, "evaluate") in parts(result)


def test_an_evaluation_the_training_after_it_reads_is_part_of_training() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX_tr, X_va, y_tr, y_va = train_test_split(df[['a']], df.y, random_state=0)",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X_tr, y_tr)",
        "score = accuracy_score(y_va, model.predict(X_va))",
        "size = 10 if score > 0.9 else 100",
        "final = RandomForestClassifier(n_estimators=size, random_state=0)\nfinal.fit(df[['a']], df.y)",
        "acc = accuracy_score(df.y, final.predict(df[['a']]))",
    )
    assert [stage for cell, stage in parts(result) if cell in (4, 5, 6, 7)] == ["train"] * 3 + ["evaluate"]


def test_weights_the_notebook_saved_put_back_go_with_their_cell() -> None:
    result = pipeline(
        "import torch\nfrom torch import nn\nclass Net(nn.Module):\n    pass\n",
        "df = pd.read_csv('d.csv')\nX, y = torch.tensor(df[['a']].values), torch.tensor(df.y.values)",
        "net = Net()\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\nfor epoch in range(3):\n"
        "    loss = ((net(X) - y) ** 2).mean()\n    opt.zero_grad()\n    loss.backward()\n    opt.step()\n"
        "    torch.save(net.state_dict(), 'best.pt')",
        "net.load_state_dict(torch.load('best.pt'))\nacc = accuracy_score(y, net(X).argmax(1))",
    )
    assert [stage for cell, stage in parts(result) if cell == 5] == ["evaluate"]


def test_a_method_called_on_what_a_model_learned_does_not_change_the_model() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT,
                      "share = model.coef_.ravel().sum()\nshare")
    assert parts(result)[-1] == (4, "evaluate")
    assert "changes the model" not in result.parts[-1].reason
    changed = pipeline("df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y", FIT, "model.layers[0].set_weights(w)")
    assert "changes the model model" in changed.parts[-1].reason  # a part of the model, changed: still the model


def test_what_a_lambda_calls_runs_when_it_is_called_not_where_it_is_defined() -> None:
    """``norm = lambda x: scaler.transform(x)`` prepares nothing where it stands (it reads the
    notebook's scaler, so it stays in a stage): the statements that call it decide."""
    result = pipeline(
        "df = pd.read_csv('d.csv')\nscaler = StandardScaler().fit(df[['a']])",
        "model = RandomForestClassifier()\nmodel.fit(scaler.transform(df[['a']]), df.y)",
        "norm = lambda x: scaler.transform(x)\nacc = accuracy_score(df.y, model.predict(norm(df[['a']])))",
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["evaluate"]


def test_exercise_checks_of_kaggle_learn_are_dropped_with_their_imports() -> None:
    result = pipeline(
        "from learntools.core import binder\nbinder.bind(globals())\nfrom learntools.ml.ex5 import step_1",
        "df = pd.read_csv('d.csv')\nmodel = RandomForestClassifier()\nmodel.fit(df[['a']], df.y)\n"
        "# Check your answer\nstep_1.check()",
        "step_1.hint()\nstep_1.solution()",
    )
    assert parts(result) == [(2, "dropped")] * 3 + [(3, "load"), (3, "train"), (3, "dropped"), (4, "dropped")]
    assert "learntools" not in ast.unparse(ast.Module([*result.imports, *result.helpers], []))


def test_a_statistic_printed_before_the_data_is_rebound_is_dropped() -> None:
    # skew() and kurtosis() change nothing: the print is no dependency of the later rebinding
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "print(f\"skew: {df['y'].skew():.3f}\")\nprint(df['y'].kurtosis())",
        "df = df[df['a'] <= 4500].reset_index(drop=True)",
        "model = RandomForestClassifier().fit(df[['a']], df.y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]


def test_an_import_of_a_module_spelled_two_ways_goes_to_module_level() -> None:
    # ``from matplotlib import pyplot as plt`` and ``import matplotlib.pyplot as plt`` bind one module
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "from matplotlib import pyplot as plt\nplt.plot(df['a'])",
        "model = RandomForestClassifier().fit(df[['a']], df.y)",
        "import matplotlib.pyplot as plt\nplt.plot(model.feature_importances_)",
    )
    assert all(stage in ("helpers", "dropped") for cell, stage in parts(result) if cell in (3, 5))


def test_a_layer_demo_is_dropped_though_a_later_model_reuses_its_names() -> None:
    # ``outputs`` of the demo is read by nothing; the model's cell binds its own ``outputs``
    result = pipeline(
        "import keras\nfrom keras import layers\nX = np.load('x.npy')\ny = np.load('y.npy')",
        "inputs = keras.Input(shape=(None, 14))\noutputs = layers.SimpleRNN(16)(inputs)",
        "inputs = keras.Input(shape=(14,))\noutputs = layers.Dense(1)(inputs)\nmodel = keras.Model(inputs, outputs)\n"
        "model.compile(optimizer='adam', loss='mse')\nmodel.fit(X, y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]


def test_a_chain_of_layers_no_model_is_built_from_is_dropped() -> None:
    result = pipeline(
        "import keras\nfrom keras import layers\nX = np.load('x.npy')\ny = np.load('y.npy')",
        "inputs = keras.Input(shape=(120, 14))\nx = layers.SimpleRNN(16, return_sequences=True)(inputs)\n"
        "x = layers.SimpleRNN(16, return_sequences=True)(x)\noutputs = layers.SimpleRNN(16)(x)",
        "inputs = keras.Input(shape=(14,))\nx = layers.Dense(8)(inputs)\noutputs = layers.Dense(1)(x)\n"
        "model = keras.Model(inputs, outputs)\nmodel.compile(optimizer='adam', loss='mse')\nmodel.fit(X, y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]
    assert "layers.Dense(8)(inputs)" in stage_text(result, "train")


def test_frame_arithmetic_changes_neither_operand() -> None:
    # ``a.mul(df.b)`` returns a new frame: the overwritten try is no dependency of what reads df later
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "X_2 = pd.get_dummies(df.kind)\nX_2 = X_2.mul(df.area, axis=0)",
        "X_2 = pd.get_dummies(df.kind)\nX_2 = X_2.mul(df.size, axis=0)",
        "model = RandomForestClassifier().fit(df.join(X_2), df.y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]


def test_a_draw_seeded_by_an_integer_constant_takes_nothing_from_the_global_generator() -> None:
    # random_state=SEED is the call's own seed: the sample only plotted is no draw the split follows
    result = pipeline(
        "SEED = 42\nnp.random.seed(SEED)\ndf = pd.read_csv('d.csv')",
        "sample = df[['a', 'y']].sample(300, random_state=SEED)\nplt.scatter(sample.a, sample.y)",
        "X_tr, X_te, y_tr, y_te = train_test_split(df[['a']], df.y, random_state=SEED)\n"
        "model = RandomForestClassifier(random_state=SEED).fit(X_tr, y_tr)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]


def test_a_draw_seeded_by_a_name_bound_to_something_else_still_follows_the_seed() -> None:
    result = pipeline(
        "np.random.seed(0)\nstate = None\ndf = pd.read_csv('d.csv')",
        "sample = df.sample(3, random_state=state)\nprint(sample)",
        "X_tr, X_te, y_tr, y_te = train_test_split(df[['a']], df.y)\n"
        "model = RandomForestClassifier(random_state=0).fit(X_tr, y_tr)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] != ["dropped"]


def test_a_search_loop_reusing_the_names_of_an_earlier_evaluation_trains_before_it() -> None:
    # the loop binds tree and scores afresh: its last tree, the grid's estimator, is no value of
    # the evaluation above, so the grid search is training
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX, y = df[['a']], df.y",
        "tree = RandomForestClassifier(max_depth=5)\nscores = cross_val_score(tree, X, y, cv=5)",
        "print(scores.mean())",
        "means = []\nfor depth in [2, 3, 4]:\n    tree = RandomForestClassifier(max_depth=depth)\n"
        "    scores = cross_val_score(tree, X, y, cv=5)\n    means.append(scores.mean())",
        "from sklearn.model_selection import GridSearchCV\ngrid = GridSearchCV(tree, {'max_depth': [2, 3, 4]})\n"
        "grid.fit(X, y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 6] == ["helpers", "train"]
    assert "scores_1 = cross_val_score(tree_1, X, y, cv=5)" in stage_text(result, "evaluate")


def test_a_class_that_calls_display_is_still_a_module_level_definition() -> None:
    # display is a notebook builtin the module imports from IPython: no reason to keep the class in a stage
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "class Trainer:\n    def __init__(self):\n        self.model = RandomForestClassifier()\n"
        "    def fit(self, X, y):\n        self.model.fit(X, y)\n        display(pd.DataFrame({'n': [len(X)]}))\n"
        "        return self",
        "trainer = Trainer().fit(df[['a']], df.y)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["helpers"]


def test_an_attribute_of_the_loaded_data_under_a_training_heading_is_a_data_step() -> None:
    result = pipeline(
        ("from sklearn.datasets import load_iris\niris = load_iris()\nX = iris.data\ny = iris.target",
         "Review of parameter tuning using cross_val_score"),
        ("model = RandomForestClassifier()\nscores = cross_val_score(model, X, y, cv=5)", "Tuning"),
    )
    assert [stage for cell, stage in parts(result) if cell == 2] == ["helpers", "load"]  # (X, y taken out of iris)


def test_windows_of_a_series_made_into_a_dataset_are_a_data_step() -> None:
    result = pipeline(
        "import keras\nraw = np.load('series.npy')\ntarget = raw[:, 1]",
        "rate = 6\nlength = 120\ndelay = rate * (length + 24 - 1)\n"
        "train_ds = keras.utils.timeseries_dataset_from_array(raw[:-delay], targets=target[delay:],\n"
        "    sampling_rate=rate, sequence_length=length)",
        "model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1)])\n"
        "model.compile(optimizer='adam', loss='mse')\nmodel.fit(train_ds, epochs=2)",
    )
    assert [stage for cell, stage in parts(result) if cell == 3] == ["helpers", "preprocess"]  # constants, then data


def test_a_function_that_reads_a_file_for_a_display_is_dropped_with_it() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nmodel = RandomForestClassifier().fit(df[['a']], df.y)",
        "from IPython.core.display import HTML\ndef css_styling():\n    styles = open('custom.css', 'r').read()\n"
        "    return HTML(styles)\ncss_styling()",
    )
    assert all(stage in ("helpers", "dropped") for cell, stage in parts(result) if cell == 3)
    assert "css_styling()" not in "".join(stage_text(result, s.name) for s in result.stages)


def test_data_prepared_from_training_results_only_for_metrics_is_evaluation() -> None:
    # out-of-fold probabilities come from training; thresholding them is for the confusion matrix
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        "from sklearn.model_selection import cross_val_predict\nmodel = RandomForestClassifier()\n"
        "model.fit(df[['a']], df.y)\noof = model.oob_decision_function_[:, 1]",
        "from sklearn.metrics import confusion_matrix\nlabels = (oof > 0.5).astype(int)\n"
        "cm = confusion_matrix(df.y, labels)",
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["helpers", "evaluate"]


def test_a_value_computed_from_the_training_and_only_shown_is_evaluation_under_any_heading() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')",
        ("from sklearn.model_selection import GridSearchCV\n"
         "grid = GridSearchCV(RandomForestClassifier(), {'max_depth': [2, 3]})\ngrid.fit(df[['a']], df.y)",
         "Hyperparameter tuning"),
        ("tuned = grid.best_score_\ngain = tuned - 0.5\nprint(f'gain: {gain:.3f}')", "Hyperparameter tuning"),
    )
    assert [stage for cell, stage in parts(result) if cell == 4] == ["evaluate"]


def test_a_metric_computed_only_to_be_drawn_goes_with_its_plot() -> None:
    trained = ("df = pd.read_csv('d.csv')\nX_train, X_test, y_train, y_test = train_test_split(df[['a']], df.y, "
               "random_state=0)",
               "model = RandomForestClassifier(random_state=0)\nmodel.fit(X_train, y_train)\n"
               "print(accuracy_score(y_test, model.predict(X_test)))")
    drawn = pipeline(*trained, "from sklearn.metrics import confusion_matrix\n"
                     "cm = confusion_matrix(y_test, model.predict(X_test))\nplt.imshow(cm)\nplt.title('Confusion')\n"
                     "plt.show()")
    assert {p.stage for p in drawn.parts if p.cell == 4} == {"dropped"}
    assert "cm = " not in stage_text(drawn, "evaluate")
    assert "cm" not in dict(drawn.results)
    shown = pipeline(*trained, "from sklearn.metrics import confusion_matrix\n"
                     "cm = confusion_matrix(y_test, model.predict(X_test))\nprint(cm)\nplt.imshow(cm)\nplt.show()")
    assert "cm = confusion_matrix(" in stage_text(shown, "evaluate")


def test_an_auc_only_in_a_legend_is_dropped_with_the_roc_plot_and_the_scores_it_shares_are_kept() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX_train, X_test, y_train, y_test = train_test_split(df[['a']], df.y, "
        "random_state=0)",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X_train, y_train)",
        "from sklearn.metrics import roc_curve, auc, roc_auc_score\nproba = model.predict_proba(X_test)[:, 1]\n"
        "fpr, tpr, _ = roc_curve(y_test, proba)\nroc_auc = auc(fpr, tpr)\n"
        "plt.plot(fpr, tpr, label=f'AUC = {roc_auc:.2f}')\nplt.show()\nprint(roc_auc_score(y_test, proba))")
    evaluate = stage_text(result, "evaluate")
    assert "roc_curve(" not in evaluate and "auc(fpr" not in evaluate
    assert "proba = model.predict_proba(" in evaluate and "roc_auc_score(y_test, proba)" in evaluate


def test_a_table_of_what_a_model_learned_is_a_result_of_the_evaluation_not_data_prepared_in_training() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ny = df.y",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X, y)\nprint(accuracy_score(y, model.predict(X)))",
        "plt.hist(df.a)\nplt.show()",
        "importances = pd.Series(model.feature_importances_, index=X.columns).sort_values(ascending=False)\n"
        "importances")
    assert [p.stage for p in result.parts if p.cell == 5] == ["evaluate"]
    assert "importances = pd.Series(" in stage_text(result, "evaluate")
    assert "importances" in dict(result.results)
    chosen = pipeline(
        "df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ny = df.y",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X, y)",
        "top = pd.Series(model.feature_importances_, index=X.columns).sort_values().index[:1]\n"
        "second = RandomForestClassifier(random_state=0)\nsecond.fit(X[top], y)")
    assert "top = pd.Series(" in stage_text(chosen, "train")  # features chosen for a fit stay with it


def test_labels_made_from_training_for_a_drawn_matrix_and_a_printed_report_are_evaluation() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX = df[['a']]\ny = df.y",
        "model = RandomForestClassifier(oob_score=True, random_state=0)\nmodel.fit(X, y)",
        "from sklearn.metrics import confusion_matrix, classification_report\n"
        "labels = (model.oob_decision_function_[:, 1] > 0.5).astype(int)\ncm = confusion_matrix(y, labels)\n"
        "plt.imshow(cm)\nplt.show()\nprint(classification_report(y, labels))")
    assert "labels = (" in stage_text(result, "evaluate")
    assert "labels = (" not in stage_text(result, "train")


def test_a_scaler_fitted_on_the_training_data_whose_output_is_discarded_is_dropped() -> None:
    result = pipeline(
        "df = pd.read_csv('d.csv')\nX_train, X_test, y_train, y_test = train_test_split(df[['a']].values, "
        "df.y.values, random_state=0)",
        "sc = StandardScaler()\nsc.fit_transform(X_train)\nsc.transform(X_test)",
        "model = RandomForestClassifier(random_state=0)\nmodel.fit(X_train, y_train)\n"
        "print(accuracy_score(y_test, model.predict(X_test)))")
    assert {p.stage for p in result.parts if p.cell == 3} == {"dropped"}  # fitting sc changes no X_train
    assert "StandardScaler" not in stage_text(result, "preprocess")


def test_a_pipeline_whose_steps_build_a_model_is_a_model_and_no_result() -> None:
    """``Pipeline([... ("svc", LinearSVC())])``: the model trained, passed on, never returned as
    a result (a prediction for a literal input reads it: no result either)."""
    result = pipeline(
        "from sklearn.pipeline import Pipeline\nfrom sklearn.svm import LinearSVC\n"
        "X, y = pd.read_csv('d.csv').values[:, :2], pd.read_csv('d.csv').values[:, 2]\n"
        "svm_clf = Pipeline([('scaler', StandardScaler()), ('svc', LinearSVC(C=1))])\nsvm_clf.fit(X, y)",
        "svm_clf.predict([[4.2, 2]])",
    )
    assert "svm_clf" not in [name for name, _ in result.results]
    assert "svm_clf = Pipeline(" in stage_text(result, "train")


def test_closing_a_file_opened_for_writing_is_part_of_writing_it() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "import pickle\nf = open('model.pkl', 'wb')\npickle.dump(model, f)\nf.close()")
    assert "f.close()" in stage_text(result, "export")


def test_a_model_loaded_back_to_try_it_is_no_result_of_the_notebook() -> None:
    result = pipeline("df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)",
                      "joblib.dump(model, 'm.pkl')",
                      "again = joblib.load('m.pkl')\nprint(again.predict(df[:1]))")
    assert parts(result)[-1] == (5, "dropped") and "again" not in dict(result.results)
    assert (4, "export") in parts(result)  # not pulled into train for a reader that is gone


def test_what_a_model_learned_taken_out_is_evaluation_whatever_the_heading() -> None:
    result = pipeline(("df = pd.read_csv('d.csv')", "Model persistence"),
                      ("from sklearn.cluster import KMeans\nkmeans = KMeans(n_clusters=2)\nkmeans.fit(df)",
                       "Model persistence"),
                      ("centroids = kmeans.cluster_centers_\nprint(centroids)", "Model persistence"))
    assert parts(result)[-1] == (4, "evaluate")
    assert next(p.reason for p in result.parts if p.cell == 4).startswith("reads what the model learned")


def test_a_model_given_to_a_selector_makes_a_preprocessor() -> None:
    result = pipeline("df = pd.read_csv('d.csv')",
                      "from sklearn.feature_selection import SelectFromModel\n"
                      "select = SelectFromModel(RandomForestClassifier(n_estimators=10))\n"
                      "select.fit(df, df.y)\nX = select.transform(df)",
                      "model = RandomForestClassifier()\nmodel.fit(X, df.y)")
    assert [stage for cell, stage in parts(result) if cell == 3] == ["helpers", "preprocess"]


def test_a_plotting_style_is_dropped_and_the_backend_kept() -> None:
    result = pipeline("import matplotlib.style as mplstyle\nimport matplotlib\nmplstyle.use('ggplot')\n"
                      "matplotlib.use('Agg')",
                      "df = pd.read_csv('d.csv')", "model = RandomForestClassifier()\nmodel.fit(df, df.y)")
    text = "\n".join([*(ast.unparse(s) for s in result.imports), *(stage_text(result, s.name) for s in result.stages)])
    assert "matplotlib.use('Agg')" in text
    assert "mplstyle.use" not in text


def test_axes_bound_again_in_each_cell_stay_plotting() -> None:
    """Each cell draws on a fresh ``ax``: the name is never versioned (``ax_1``), which would hide
    from the rules that it holds axes, and keep the drawing."""
    draw = "ax = df.plot()\nax.plot(df.x, pred)\n_ = ax.set_title(f'mse {mse:.2f}')"
    result = pipeline("df = pd.read_csv('d.csv')",
                      "model = RandomForestClassifier().fit(df, df.y)\npred = model.predict(df)\n"
                      "mse = np.mean((pred - df.y) ** 2)", draw,
                      "model = RandomForestClassifier(max_depth=2).fit(df, df.y)\npred = model.predict(df)\n"
                      "mse = np.mean((pred - df.y) ** 2)", draw)
    assert [stage for cell, stage in parts(result) if cell in (4, 6)] == ["dropped", "dropped"]


def test_data_drawn_by_a_function_of_the_notebook_from_settings_is_loaded() -> None:
    result = pipeline("def dnorm(mean, variance, size=1):\n    return mean + np.sqrt(variance) * np.random.randn(size)",
                      "N = 100", "X = np.c_[dnorm(0, 0.4, size=N), dnorm(0, 0.6, size=N)]", "y = X @ [0.1, 0.3]\nN = 5",
                      "model = RandomForestClassifier()\nmodel.fit(X, y > 0)")
    assert [p.reason for p in result.parts if p.cell == 4] == ["generates data: dnorm()"]
    assert "X = np.c_[dnorm(0, 0.4, size=N)" in stage_text(result, "load")


def test_a_table_of_literals_bound_to_a_name_first_is_data_written_in_the_notebook() -> None:
    result = pipeline(("data = {'x': [2, 3, 4, 10, 12, 20]}\ndf = pd.DataFrame(data)\ndf", "Model persistence"),
                      ("from sklearn.cluster import KMeans\nkmeans = KMeans(n_clusters=2)\nkmeans.fit(df)",
                       "Model persistence"))
    assert [p.reason for p in result.parts if p.cell == 2 and p.stage == "load"] == [
        "data written in the notebook: DataFrame()"]


def test_a_function_that_moves_its_parameters_step_by_step_trains() -> None:
    result = pipeline("X = np.random.RandomState(0).rand(20, 2)\ny = (X[:, 0] > 0.5) * 1",
                      "def fit_logistic(X, y, steps, rate):\n    w = np.zeros(X.shape[1])\n"
                      "    for _ in range(steps):\n        p = 1 / (1 + np.exp(-X @ w))\n"
                      "        gradient = X.T @ (y - p)\n        w += rate * gradient\n    return w",
                      "w = fit_logistic(X, y, 100, 0.1)", "print(w)")
    assert (4, "train") in parts(result)
    assert next(p.reason for p in result.parts if p.cell == 4) == "calls fit_logistic(), which trains"


def test_a_function_of_the_whole_pipeline_that_scores_by_hand_is_kept() -> None:
    result = pipeline("def predict(X, w):\n    return X @ w > 0",
                      "def run_all():\n    X = np.random.RandomState(0).rand(20, 2)\n    y = X[:, 0] > 0.5\n"
                      "    predictions = predict(X, np.ones(2))\n    print('Accuracy:', np.mean(predictions == y))",
                      "run_all()")
    assert (4, "dropped") not in parts(result)


def test_a_name_a_lambda_reads_is_not_handed_to_the_method_the_lambda_is_given_to() -> None:
    result = pipeline("from sklearn.datasets import load_iris\niris = load_iris()",
                      "df = pd.DataFrame(iris.data, columns=iris.feature_names)\n"
                      "df['flower'] = df['flower'].apply(lambda x: iris.target_names[x])\ndf.head()",
                      "model = RandomForestClassifier()\nmodel.fit(iris.data, iris.target)")
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]


def test_printing_into_a_file_opened_for_writing_writes_it() -> None:
    result = pipeline("df = pd.read_csv('d.csv')",
                      "f = open('report.txt', 'w')\nprint(len(df), file=f)\nf.close()")
    assert "print(len(df), file=f)" in stage_text(result, "export") + stage_text(result, "load")


def test_a_loop_that_fits_each_model_it_goes_over_and_scores_it_trains() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX_tr, X_te, y_tr, y_te = train_test_split(df, df.y, random_state=0)",
                      "models = [RandomForestClassifier(random_state=0)]\nscores = []",
                      "for m in models:\n    m.fit(X_tr, y_tr)\n"
                      "    scores.append(accuracy_score(y_te, m.predict(X_te)))",
                      "best = max(scores)")
    assert parts(result)[-3:] == [(3, "train"), (4, "train"), (5, "evaluate")]  # what reads the scores evaluates
    assert next(p.reason for p in result.parts if p.cell == 4).endswith("and scores what it fits")
    assert {"scores", "best"} <= {key for key, _ in result.results}


@pytest.mark.parametrize("loop", [
    "for k in range(2, 5):\n    m = RandomForestClassifier(max_depth=k).fit(X_tr, y_tr)\n"
    "    scores.append(accuracy_score(y_te, m.predict(X_te)))",  # a new model each turn: a search
    "for m in models:\n    scores.append(cross_val_score(m, X_tr, y_tr).mean())",
    "for tr, te in KFold(3).split(X_tr):\n    for m in models:\n        m.fit(X_tr[tr], y_tr[tr])\n"
    "        scores.append(m.score(X_tr[te], y_tr[te]))",
])
def test_a_loop_that_searches_or_cross_validates_evaluates(loop: str) -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX_tr, X_te, y_tr, y_te = train_test_split(df, df.y, random_state=0)",
                      "from sklearn.model_selection import KFold\nmodels = [RandomForestClassifier()]\nscores = []",
                      loop)
    assert parts(result)[-1] == (4, "evaluate")


def test_refitting_a_model_picked_by_its_score_is_kept() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX_tr, X_te, y_tr, y_te = train_test_split(df, df.y, random_state=0)",
                      "models = {'rf': RandomForestClassifier(random_state=0)}\nresults = {}",
                      "for name, model in models.items():\n    model.fit(X_tr, y_tr)\n"
                      "    results[name] = accuracy_score(y_te, model.predict(X_te))",
                      "best = max(results, key=results.get)",
                      "if best == 'rf':\n    clf = models[best].fit(X_tr, y_tr)\n    pred = clf.predict(X_te)\n"
                      "cm = pd.crosstab(y_te, pred)\nplt.imshow(cm)")
    assert parts(result)[-3:] == [(5, "evaluate"), (6, "evaluate"), (6, "dropped")]


def test_the_model_a_search_fitted_taken_out_of_it_is_the_trained_model() -> None:
    result = pipeline("df = pd.read_csv('d.csv')\nX_tr, X_te, y_tr, y_te = train_test_split(df, df.y, random_state=0)",
                      "from sklearn.model_selection import GridSearchCV\n"
                      "grid = GridSearchCV(RandomForestClassifier(), {'max_depth': [2, 3]})\ngrid.fit(X_tr, y_tr)",
                      "print(grid.best_params_)", "best = grid.best_estimator_", "pred = best.predict(X_te)",
                      "acc = accuracy_score(y_te, pred)")
    assert parts(result)[-3:] == [(5, "train"), (6, "evaluate"), (7, "evaluate")]
    assert next(p.reason for p in result.parts if p.cell == 5) == "takes the trained model out of grid.best_estimator_"


def test_gradient_descent_that_keeps_each_step_in_a_history_array_trains() -> None:
    result = pipeline("x = np.arange(10.0)\ny = 3 * x + 1",
                      "def descend(x, y, w, rate, steps):\n    history = np.zeros((2, steps + 1))\n"
                      "    history[:, 0] = w\n    for i in range(steps):\n        w = history[:, i]\n"
                      "        gradient = 0\n        for xi, yi in zip(x, y):\n"
                      "            gradient += (np.dot(w, [1.0, xi]) - yi) * np.array([1.0, xi])\n"
                      "        history[:, i + 1] = w - (rate / len(x)) * gradient\n    return history",
                      "history = descend(x, y, np.zeros(2), 1e-3, 20)")
    assert (4, "train") in parts(result)


def test_a_model_fitted_only_to_be_drawn_is_kept() -> None:
    result = pipeline("import statsmodels.api as sm\nnp.random.seed(1)",
                      "x = np.random.uniform(0, 4, size=50)\ny = np.cos(x) + np.random.random(size=50)\n"
                      "smoothed = sm.nonparametric.lowess(exog=x, endog=y, frac=0.2)",
                      "fig, ax = plt.subplots()\nax.plot(smoothed[:, 0], smoothed[:, 1])")
    assert (3, "train") in parts(result) and "np.random.seed(1)" in stage_text(result, "load")


def test_a_simulated_series_is_loaded_after_its_seed() -> None:
    result = pipeline("from statsmodels.tsa.arima_process import arma_generate_sample\n"
                      "from statsmodels.tsa.arima.model import ARIMA\nnp.random.seed(3)",
                      "y = arma_generate_sample([1, -0.5], [1, 0.3], 100)",
                      "res = ARIMA(y, order=(1, 0, 1)).fit()")
    assert parts(result)[-3:] == [(2, "load"), (3, "load"), (4, "train")]
    assert stage_text(result, "load").index("seed") < stage_text(result, "load").index("arma_generate_sample")


def test_settings_computed_from_literals_stay_settings() -> None:
    result = pipeline("from statsmodels.tsa.arima_process import arma_generate_sample",
                      "ar = np.array([0.75, -0.25])\nma = np.array([0.65, 0.35])",
                      "ar = np.r_[1, -ar]\nma = np.r_[1, ma]\ny = arma_generate_sample(ar, ma, 100, random_state=0)",
                      "X = pd.DataFrame({'y': y})\nX = X / X.max()\nmodel = RandomForestClassifier().fit(X, X.y)")
    assert [stage for cell, stage in parts(result) if cell == 4] == ["load"]  # ``ar = np.r_[1, -ar]`` prepares no data
    assert (5, "preprocess") in parts(result)  # (``X = X / X.max()`` of the data does)


@pytest.mark.parametrize("remove", ["df.drop(columns=['decade'], inplace=True)", "del df['decade']",
                                    "df.drop('decade', axis=1, inplace=True)"])
def test_a_column_added_for_a_plot_and_removed_again_is_dropped(remove: str) -> None:
    result = pipeline("df = pd.read_csv('houses.csv')",
                      "df['decade'] = df.year // 10 * 10\nby_decade = df.groupby('decade').price.mean()\n"
                      f"plt.plot(by_decade)\n{remove}",
                      "model = RandomForestClassifier(random_state=0).fit(df[['year']], df.price)")
    assert [stage for cell, stage in parts(result) if cell == 3] == ["dropped"]
    assert "decade" not in stage_text(result, "load") + stage_text(result, "preprocess")


@pytest.mark.parametrize("between", [
    "model = RandomForestClassifier(random_state=0).fit(df[['decade']], df.price)",  # the column is used
    "df = df.dropna()",  # (the rows a missing decade removes)
    "df.dropna(inplace=True)",
])
def test_a_column_that_matters_before_it_is_removed_is_kept(between: str) -> None:
    result = pipeline("df = pd.read_csv('houses.csv')",
                      f"df['decade'] = df.year // 10 * 10\n{between}\ndf.drop(columns=['decade'], inplace=True)",
                      "model2 = RandomForestClassifier(random_state=0).fit(df[['year']], df.price)")
    assert "df['decade'] = df.year // 10 * 10" in stage_text(result, "load") + stage_text(result, "preprocess")


def test_a_column_of_the_data_overwritten_for_a_plot_and_removed_is_kept() -> None:
    result = pipeline("df = pd.read_csv('houses.csv')\nprint(df['price'].mean())",
                      "df['price'] = df.year * 0\nplt.plot(df.price)\ndf.drop(columns=['price'], inplace=True)",
                      "model = RandomForestClassifier(random_state=0).fit(df[['year']], df.y)")
    assert "df['price'] = df.year * 0" in stage_text(result, "preprocess")  # (the frame has lost a column)
