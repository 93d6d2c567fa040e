"""The statement graph: reads, binds, mutations, effects, plotting aliases and dependencies."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mlpack_cli.notebook import graph as gr


def graph(source: str) -> list[gr.Statement]:
    body = ast.parse(textwrap.dedent(source)).body
    aliases = gr.collect_aliases(body)
    functions = gr.Functions([s for s in body if isinstance(s, (ast.FunctionDef, ast.ClassDef))], aliases)
    return gr.build_graph([(1, s) for s in body], aliases, functions, {})


def one(source: str, imports: str = "import pandas as pd\nimport numpy as np\n") -> gr.Statement:
    return graph(imports + source)[-1]


@pytest.mark.parametrize(
    ("source", "mutated"),
    [
        ("df['ratio'] = df.a / df.b", {"df"}),
        ("df.columns = ['a', 'b']", {"df"}),
        ("df.loc[df.a < 0, 'a'] = 0", {"df"}),
        ("counts[key] += 1", {"counts"}),
        ("del df['tmp']", {"df"}),
        ("df.dropna(inplace=True)", {"df"}),
        ("df['a'].fillna(0, inplace=True)", {"df"}),
        ("model.fit(X, y)", {"model"}),
        ("history.append(loss)", {"history"}),
        ("model.set_weights(w)", {"model"}),  # unknown method: may change its receiver
        ("df.head()", set()),
        ("summary = df.describe()", set()),
        ("copy = df.copy()", set()),
        ("clean = df.dropna()", set()),
        ("m = np.mean(x)", set()),
        ("print('skipped', next(rows))", {"rows"}),  # the iterator moves on
        ("first_X, first_y = next(batches)", {"batches"}),
        ("first = next(iter(df))", set()),  # a fresh iterator: nothing of the notebook's moves
        # library functions that change an argument in place
        ("np.fill_diagonal(corr, 0)", {"corr"}),
        ("np.copyto(dst, src)", {"dst"}),
        ("np.add.at(counts, idx, 1)", {"counts"}),
        ("np.clip(x, 0, 1, out=x)", {"x"}),
        ("np.random.shuffle(idx)", {"idx"}),
        ("rng.shuffle(idx)", {"rng", "idx"}),
        ("best = np.maximum(a, b)", set()),
        ("setattr(model, 'max_depth', 3)", {"model"}),
        ("for key, value in params.items():\n    setattr(forest, key, value)", {"forest"}),
    ],
)
def test_what_a_statement_may_mutate(source: str, mutated: set[str]) -> None:
    assert {n for n in one(source).mutates if not n.startswith("<")} == mutated


@pytest.mark.parametrize(
    ("imports", "source", "mutated"),
    [
        ("import heapq", "heapq.heappush(heap, (score, name))", {"heap"}),
        ("from heapq import heapify", "heapify(rows)", {"rows"}),
        ("from random import shuffle", "shuffle(rows)", {"rows"}),
        ("import bisect", "bisect.insort(cuts, 0.5)", {"cuts"}),
        ("import torch", "torch.nn.init.xavier_uniform_(layer.weight)", {"layer"}),
        ("import torch", "torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)", {"net"}),
        ("import torch", "total = torch.add(a, b)", set()),
        ("", "shuffle_rows(rows)", set()),  # not a library function: nothing known of it
    ],
)
def test_a_library_function_that_changes_its_argument_in_place_mutates_it(
        imports: str, source: str, mutated: set[str]) -> None:
    statement = one(source, imports=imports + "\n")
    assert {n for n in statement.mutates if not n.startswith("<")} == mutated
    assert statement.inert is False or not mutated


def test_a_library_function_that_changes_its_argument_in_place_is_not_a_display() -> None:
    """``np.fill_diagonal(corr, 0)`` returns None and changes ``corr``: the statement that reads
    ``corr`` later depends on it, so it is never dropped as a display of a pure call."""
    statements = graph("import numpy as np\ncorr = np.corrcoef(x)\nnp.fill_diagonal(corr, 0)\n"
                       "keep = corr.max(axis=0) < 0.6\n")
    _, made, filled, keep = statements
    assert not filled.inert
    assert filled.index in keep.flow and made.index in filled.flow


def test_a_notebook_function_changes_only_the_arguments_its_body_changes() -> None:
    statements = graph("def add_ratio(frame, scale):\n    frame['r'] = frame.a * scale\n    return frame\n"
                       "add_ratio(df, k)\n")
    assert statements[-1].mutates == {"df"}


def test_a_seed_orders_the_random_draws_after_it_only() -> None:
    statements = graph("import numpy as np\nfrom sklearn.model_selection import train_test_split\n"
                       "a, b = train_test_split(x)\nnp.random.seed(0)\nc, d = train_test_split(x)\n")
    first, seed, second = statements[2:]
    assert seed.index in second.flow
    # the seed may not move above the earlier draw: that draw would then advance the seeded state
    assert first.index in seed.deps


@pytest.mark.parametrize("draw", [
    "err = np.std([model.fit(*resample(X, y)).coef_ for i in range(10)], 0)",  # the bootstrap of a fit
    "splits = list(ShuffleSplit(n_splits=3).split(X))",
    "noise = np.random.standard_normal(10)",
    "result = permutation_importance(model, X, y)",
])
def test_library_calls_that_draw_from_the_global_generator_stay_after_its_seed(draw: str) -> None:
    seed, drawn = graph(f"import numpy as np\nnp.random.seed(1)\n{draw}\n")[1:]
    assert gr.RNG in drawn.reads and seed.index in drawn.deps
    seeded = graph("import numpy as np\nnp.random.seed(1)\nsplits = list(ShuffleSplit(random_state=0).split(X))\n")
    assert gr.RNG not in seeded[2].reads  # a generator of its own
    daily = graph("import numpy as np\nnp.random.seed(1)\ndaily = counts.resample('d').sum()\n")
    assert gr.RNG not in daily[2].reads  # pandas' resample of a time series draws nothing


def test_seeded_draws_keep_their_order_and_unseeded_ones_are_free() -> None:
    seeded = graph("import numpy as np\nfrom sklearn.datasets import make_classification\nnp.random.seed(0)\n"
                   "X, y = make_classification()\nmodel.fit(X, y)\nX2, y2 = make_classification()\n")
    draw, fit, again = seeded[3:]
    assert fit.index in again.deps and draw.index in again.deps  # the second draw stays after both
    free = graph("from sklearn.datasets import make_classification\n"
                 "X, y = make_classification()\nX2, y2 = make_classification()\n")
    assert free[1].index not in free[2].deps
    assert not graph("from sklearn.pipeline import make_pipeline\np = make_pipeline(a)\n")[1].reads & {gr.RNG}


@pytest.mark.parametrize(
    "source",
    [
        "import seaborn as sb\nsb.pairplot(df)",
        "import matplotlib as mpl\nmpl.rc('font', size=8)",
        "from matplotlib import pyplot\npyplot.plot(x, y)",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.legend()",
        "import matplotlib.pyplot as plt\nfig, axes = plt.subplots(2)\nfor ax in axes.flat:\n    ax.imshow(x)",
        "import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 300",
        "df.plot.scatter(x='a', y='b')",
        "df['a'].hist()",
        "from sklearn.tree import plot_tree\nplot_tree(model)",
    ],
)
def test_plotting_under_any_alias_is_inert(source: str) -> None:
    last = graph(source)[-1]
    assert last.inert and "plot" in last.effects


def test_matplotlib_use_is_set_up_not_plotting() -> None:
    last = graph("import matplotlib\nmatplotlib.use('Agg')")[-1]
    assert not last.inert and "setup" in last.effects


@pytest.mark.parametrize(
    ("source", "setup"),
    [
        ("import os\nos.environ['KERAS_BACKEND'] = 'jax'", True),
        ("import sys\nsys.path.insert(0, 'lib')", True),
        ("import warnings\nwarnings.filterwarnings('ignore')", True),
        ("import os\nos.environ.setdefault('A', 'b')", True),
        ("import os\nvalue = os.environ.get('A')", False),
    ],
)
def test_set_up_statements(source: str, setup: bool) -> None:
    assert ("setup" in graph(source)[-1].effects) is setup


@pytest.mark.parametrize(
    ("source", "inert"),
    [
        ("df", True), ("df.head()", True), ("print(df.shape)", True), ("len(rows)", True),
        ("model.fit(X, y)", False), ("model.apply(init_weights)", False), ("train(model)", False),
        ("try:\n    print(x)\nexcept ValueError as e:\n    print(e)", True),
        # a fitted tree's accessors compute what they show
        ("print(f'depth: {tree.get_depth()}, leaves: {tree.get_n_leaves()}')", True),
    ],
)
def test_displays_of_pure_expressions_are_inert(source: str, inert: bool) -> None:
    assert one(source).inert is inert


def test_flow_anti_and_output_dependencies() -> None:
    a, b, c, d = graph("x = load()\ny = f(x)\nx = g()\nz = x + y\n")
    assert a.index in b.flow  # b reads what a bound
    assert b.index in c.deps and a.index in c.deps  # c rebinds what b read (anti) and a bound (output)
    assert c.index in d.flow and b.index in d.flow and a.index not in d.flow


def test_a_mutation_is_a_write_later_readers_depend_on() -> None:
    load, derive, fit = graph("df = read()\ndf['r'] = df.a / df.b\nmodel.fit(df)\n")
    assert {load.index, derive.index} <= fit.flow


def test_a_file_written_then_read_links_the_two_statements() -> None:
    statements = graph("import pandas as pd\ndf.to_csv('clean.csv')\nother = pd.read_csv('data.csv')\n"
                       "again = pd.read_csv('clean.csv')\n")
    write, other, again = statements[1:]
    assert write.index in again.flow
    assert write.index not in other.deps  # another file: no order between them


def test_calls_of_a_helper_read_the_globals_it_is_given() -> None:
    body = ast.parse("y = scale(x)").body
    aliases = gr.collect_aliases(body)
    (statement,) = gr.build_graph([(1, body[0])], aliases, gr.Functions([], aliases), {"scale": ["factor"]})
    assert "factor" in statement.reads


def test_a_statement_placed_again_is_described_afresh_after_a_rename() -> None:
    from mlpack_cli.notebook import versions

    gr.forget_walks()
    body = ast.parse("model = make()\nmodel.fit(X)\n").body
    aliases = gr.collect_aliases(body)
    functions = gr.Functions([], aliases)
    order = [(1, s) for s in body]
    first = gr.build_graph(order, aliases, functions, {})
    first[1].binds.add("added by a caller")  # a description handed out is the caller's to change
    again = gr.build_graph(order, aliases, functions, {})
    assert again[1].binds == set() and again[1].mutates == {"model"} and 0 in again[1].flow
    versions.apply(body[1], {"model": "model_1"})
    renamed = gr.build_graph(order, aliases, functions, {})
    assert renamed[1].mutates == {"model_1"} and not renamed[1].flow
    versions.revert(body[1:])
    assert gr.build_graph(order, aliases, functions, {})[1].mutates == {"model"}
    assert gr.build_graph(order, aliases, functions, {"other": ["x"]})[1].mutates == {"model"}


def test_calling_a_notebook_function_reads_and_changes_the_globals_its_body_does() -> None:
    # `best.update(...)` and `global evaluations` inside the function: the call changes both, so
    # what reads them afterwards depends on the call, and a rebinding of `cutoff` waits for it
    best, count, define, helper, cutoff, call, use, rebind = graph(
        "best = {'score': 0}\nevaluations = 0\n"
        "def track(score):\n    global evaluations\n    evaluations += 1\n"
        "    if score > best['score'] and score > cutoff:\n        best.update(score=score)\n"
        "def search(values):\n    return [track(v) for v in values]\n"
        "cutoff = 0.5\nsearch([0.2, 0.9])\nfinal = (best['score'], evaluations)\ncutoff = 0.1\n")
    assert {"best", "evaluations"} <= call.mutates and "cutoff" in call.reads  # through search()
    assert call.index in use.flow and {best.index, count.index, cutoff.index} <= call.flow
    assert call.index in rebind.deps
    assert "values" not in call.reads and "score" not in call.mutates  # its own names stay inside


def test_a_change_through_one_name_changes_the_names_bound_to_the_same_object() -> None:
    load, alias, derive, fit, rebind, later = graph(
        "df = read()\nX = df\ndf['ratio'] = df.a / df.b\nmodel.fit(X)\nX = X.dropna()\ndf['more'] = 1\n")
    assert "X" in derive.mutates and derive.index in fit.flow  # fit sees the column made through df
    assert "X" not in later.mutates  # X was rebound to another object in between


@pytest.mark.parametrize(
    ("imports", "source", "inert"),
    [
        # functions of libraries that compute values: a display of them changes nothing
        ("import numpy as np", "np.mean([1, 2])", True),
        ("from sklearn.metrics import accuracy_score", "accuracy_score(y, p)", True),
        ("import json", "json.dumps({'a': 1})", True),
        # a function of any other module may act on the world: never dropped as a display
        ("import mlflow", "mlflow.log_metric('acc', acc)", False),
        ("from mlflow import log_metric", "log_metric('acc', acc)", False),
        ("import ray", "ray.init()", False),
        ("import logging", "logging.basicConfig(level=logging.INFO)", False),
        ("import nltk", "nltk.download('punkt')", False),
        ("import huggingface_hub", "huggingface_hub.login(token)", False),
        # nor is a setting or a start-up of a computing library
        ("import tensorflow as tf", "tf.config.experimental.set_memory_growth(gpu, True)", False),
        ("import torch", "torch.set_default_dtype(torch.float64)", False),
        ("import torch", "torch.use_deterministic_algorithms(True)", False),
        ("import numpy as np", "np.seterr(all='raise')", False),
        ("import tensorflow as tf", "tf.config.run_functions_eagerly(True)", False),
        ("import numpy as np", "np.setdiff1d(a, b)", True),
    ],
)
def test_only_calls_known_to_compute_are_inert(imports: str, source: str, inert: bool) -> None:
    assert one(source, imports=imports + "\n").inert is inert


def test_seeding_every_generator_again_cuts_the_draws_before_from_those_after() -> None:
    statements = graph("import numpy as np\nimport tensorflow as tf\na = np.random.rand(3)\n"
                       "np.random.seed(0)\ntf.random.set_seed(0)\nb = np.random.rand(3)\n")
    first, seed_np, seed_tf, second = statements[2:]
    assert first.index not in second.flow and {seed_np.index, seed_tf.index} <= second.flow
    assert first.index in seed_np.deps  # the seed still may not move above the earlier draw
    partly = graph("import numpy as np\nimport tensorflow as tf\na = np.random.rand(3)\n"
                   "np.random.seed(0)\nb = np.random.rand(3)\n")  # TensorFlow's generator is not seeded
    assert partly[2].index in partly[4].flow


def test_a_loop_that_binds_a_name_before_reading_it_does_not_need_its_earlier_value() -> None:
    statements = graph("import tensorflow as tf\nwith tf.GradientTape() as tape:\n    z = f(x)\n"
                       "for batch in batches:\n    with tf.GradientTape() as tape:\n        loss = f(batch)\n"
                       "    grads = tape.gradient(loss, w)\n")
    demo, loop = statements[1:]
    assert demo.index not in loop.flow and demo.index in loop.deps  # still after it: it binds tape again
    reads_first = graph("total = 0\nfor x in xs:\n    total = total + x\n")
    assert reads_first[0].index in reads_first[1].flow


def test_a_loop_whose_condition_reads_the_name_it_binds_needs_its_earlier_value() -> None:
    statements = graph("explained = 0.0\nwhile explained < 0.8:\n    explained = f(x)\n")
    assert statements[0].index in statements[1].flow


def test_a_loop_over_an_iterator_moves_it_on_and_one_over_a_list_does_not() -> None:
    statements = graph("stream = iter(rows)\nfor x in stream:\n    print(x)\n    break\nrest = list(stream)\n"
                       "def batches():\n    yield 1\nfeed = batches()\nfor b in feed:\n    print(b)\n"
                       "columns = ['a', 'b']\nfor c in columns:\n    print(c)\nkept = columns\n")
    peek, rest = statements[1], statements[2]
    assert peek.mutates == {"stream"} and peek.index in rest.flow
    assert statements[5].mutates == {"feed"}  # a generator of the notebook's own
    assert statements[7].mutates == set() and statements[7].index not in statements[8].flow
    hoisted = gr.Functions(ast.parse("def gen():\n    yield 1\n").body, gr.Aliases())  # a helper at module level
    body = ast.parse("feed = gen()\nfor b in feed:\n    break\nrest = list(feed)\n").body
    loop, rest = gr.build_graph([(1, s) for s in body], gr.Aliases(), hoisted, {})[1:]
    assert loop.mutates == {"feed"} and loop.index in rest.flow


@pytest.mark.parametrize("peek", ["list(cols)", "sorted(cols)", "[c for c in cols]", "sum(cols)"])
def test_using_up_a_one_pass_iterator_changes_it(peek: str) -> None:
    """``list(cols)`` under an exploration heading empties a generator the next cell reads: the
    later read depends on it, so the peek is not dropped as a display."""
    statements = graph(f"cols = (j for j in range(10) if j % 2)\n{peek}\nchosen = list(cols)\n")
    made, peeked, chosen = statements
    assert "cols" in peeked.mutates and peeked.index in chosen.flow
    listed = graph("cols = [j for j in range(10) if j % 2]\nlist(cols)\nchosen = list(cols)\n")
    assert "cols" not in listed[1].mutates  # a list can be read again


def test_a_library_configuration_orders_the_computations_around_it() -> None:
    """``set_config(transform_output="pandas")`` midway: the transform before it returns an array,
    the one after it a frame, so neither may move across it."""
    statements = graph("import sklearn\nfrom sklearn.preprocessing import StandardScaler\n"
                       "first = StandardScaler().fit_transform(X)\n"
                       "sklearn.set_config(transform_output='pandas')\n"
                       "second = StandardScaler().fit_transform(X)\nshown = second\n")
    _, _, first, config, second, shown = statements
    assert first.index in config.deps and config.index in second.flow
    assert config.index not in shown.deps  # no call: nothing the configuration changes


@pytest.mark.parametrize(("setting", "shown"), [
    ("sklearn.set_config(display='diagram')", True), ("pd.set_option('display.max_columns', 50)", True),
    ("pd.options.display.max_rows = 100", True), ("np.set_printoptions(precision=3)", True),
    ("pd.set_option('mode.copy_on_write', True)", False), ("pd.set_option('display.max_rows', load_limit())", False),
    ("sklearn.set_config(transform_output='pandas')", False), ("np.seterr(all='raise')", False),
])
def test_a_setting_of_how_values_are_shown_is_a_display(setting: str, shown: bool) -> None:
    """It changes nothing computed: no set-up, nothing ordered, dropped with the displays. A
    setting of what values are (or one that calls something) is set-up."""
    statements = graph("import sklearn\nimport numpy as np\nimport pandas as pd\n"
                       f"first = pd.concat([a, b])\n{setting}\nsecond = pd.concat([a, b])\n")
    config, second = statements[4:]
    if shown:
        assert config.inert and config.effects == {"display"}
        assert gr.CONFIG not in config.mutates and gr.CONFIG not in second.reads
    else:
        assert "setup" in config.effects and not config.inert


@pytest.mark.parametrize(("view", "is_view"), [
    ("bmi = X[:, 2]", True), ("head = X[:100]", True), ("last = X[..., -1]", True),
    ("bmi = df['bmi']", False), ("rows = X[mask]", False), ("first = X[0]", False),
])
def test_a_slice_of_an_array_is_a_view_its_changes_reach(view: str, is_view: bool) -> None:
    """``bmi = X[:, 2]`` then ``bmi *= 10`` changes ``X``: the fit that reads ``X`` depends on it."""
    statements = graph(f"import numpy as np\n{view}\n{view.split()[0]} *= 10\nmodel = fit(X)\n")
    _, _, scaled, fit = statements
    assert (scaled.index in fit.flow) is is_view


def test_a_call_of_a_function_that_draws_stays_after_the_seed() -> None:
    statements = graph("import numpy as np\n"
                       "def batch(x):\n    return x[np.random.randint(len(x), size=4)]\n"
                       "def double(x):\n    return 2 * x\n"
                       "np.random.seed(42)\nb = batch(rows)\nd = double(rows)\n")
    seed, drawn, doubled = statements[3:]
    assert gr.RNG in drawn.reads and seed.index in drawn.flow
    assert gr.RNG not in doubled.reads and seed.index not in doubled.deps


def test_functions_are_pure_together_unless_one_they_call_changes_something() -> None:
    body = ast.parse(textwrap.dedent("""
        def helper(x):
            return double(x) + 1
        def double(x):
            return 2 * x
        def even(n):
            return n == 0 or odd(n - 1)
        def odd(n):
            return n != 0 and even(n - 1)
        def log(x):
            seen.append(x)
            return x
        def report(x):
            return log(x)
        """)).body
    functions = gr.Functions(body, gr.collect_aliases(body))
    assert functions.pure == {"helper", "double", "even", "odd"}
    shown = ast.parse("helper(3)\nreport(3)\n").body
    assert gr.is_inert(shown[0], gr.Aliases(), functions) == (True, "display")
    assert gr.is_inert(shown[1], gr.Aliases(), functions) == (False, "")


def test_what_placement_learns_of_a_statement_holds_for_its_renaming_only() -> None:
    from mlpack_cli.notebook import placement, versions

    gr.forget_walks()
    body = ast.parse("model = make()\ntrain(model)\n").body
    aliases = gr.collect_aliases(body)
    functions = gr.Functions([], aliases)
    order = [(1, s) for s in body]

    def given() -> frozenset[str]:
        return placement._tree_facts(gr.build_graph(order, aliases, functions, {})[1], aliases, functions).given

    assert given() == {"model"}
    versions.apply(body[1], {"model": "model_1"})
    assert given() == {"model_1"}
    versions.revert(body[1:])
    assert given() == {"model"}


TRANSLATED = """
import numpy as np
import matplotlib.pyplot as plt
df = load()
df['ratio'] = df.a / df[cols].sum(axis=1)
model = fit_one(df, path)
np.save(path, df.values)
model.fit(df[['a', 'b']], df.y)
fig, ax = plt.subplots()
ax.foo_bar(df.a)
score = model.score(df, df.y)
"""


@pytest.mark.parametrize("renaming", [
    {"df": "df_1"}, {"model": "model_1", "path": "path_1"}, {"df": "df_2", "cols": "cols_1", "score": "score_1"},
    {"ax": "ax_1"},  # a plotting object: described again (its name is in the aliases)
    {"fit_one": "fit_one_1"},  # called by name: described again
])
def test_a_statement_described_under_a_second_renaming_is_described_as_if_afresh(renaming: dict[str, str]) -> None:
    from mlpack_cli.notebook import versions as vs
    from mlpack_cli.notebook.scopes import walks_remembered

    body = ast.parse(TRANSLATED).body
    aliases = gr.collect_aliases(body)
    functions = gr.Functions([], aliases)
    statements = [(1, s) for s in body]
    helpers: dict[str, list[str]] = {}
    gr.forget_walks()
    with walks_remembered():
        gr.build_graph(statements, aliases, functions, helpers)  # described once, as written
        for statement in body:
            vs.apply(statement, {old: new for old, new in renaming.items()
                                 if any(isinstance(n, ast.Name) and n.id == old for n in ast.walk(statement))})
        second = gr.build_graph(statements, aliases, functions, helpers)  # renamed from the first, where it may
        afresh = [gr.describe(s, i, 1, aliases, functions, helpers) for i, (_, s) in enumerate(statements)]
    for got, expected in zip(second, afresh):
        assert (got.reads, got.binds, got.mutates, got.calls, got.effects, got.inert, got.columns) == (
            expected.reads, expected.binds, expected.mutates, expected.calls, expected.effects, expected.inert,
            expected.columns), ast.unparse(got.node)


def test_whether_a_call_changes_anything_is_asked_again_when_its_root_name_changes() -> None:
    body = ast.parse("import numpy as np\nnp.concatenate(x)").body
    aliases = gr.collect_aliases(body)
    functions = gr.Functions([], aliases)
    call = body[1].value  # type: ignore[attr-defined]
    assert gr.is_pure_call(call, aliases, functions)  # a numpy function computes
    call.func.value.id = "values"
    assert not gr.is_pure_call(call, aliases, functions)  # a method of an object of the notebook may change it


@pytest.mark.parametrize("loop", [
    "full = [train, test]\nfor d in full:\n    d['t'] = d.a * 2",
    "for d in (train, test):\n    d['t'] = d.a * 2",
    "frames = {'train': train, 'test': test}\nfor name, d in frames.items():\n    d['t'] = d.a * 2",
    "for d in [train, test]:\n    for column in ['t']:\n        d[column] = d.a * 2",
    "full = [train, test]\nfor d in full:\n    d.fillna(0, inplace=True)",
    "[d.fillna(0, inplace=True) for d in (train, test)]",
])
def test_changing_the_items_of_a_loop_changes_the_frames_it_goes_over(loop: str) -> None:
    """The Titanic idiom (``combine = [train, test]``, then ``for dataset in combine: dataset[...] =
    ...``): a later reader of ``train`` reads what the loop made."""
    statements = graph(f"train = read('a')\ntest = read('b')\n{loop}\nmodel = fit(train)\n")
    changer, fit = statements[-2:]
    assert {"train", "test"} <= changer.mutates
    assert changer.index in fit.flow


def test_a_loop_writing_columns_of_its_items_orders_only_the_readers_of_those_columns() -> None:
    statements = graph("train = read('a')\ntest = read('b')\nscore = fit(test[['a']])\n"
                       "for d in (train, test):\n    d['t'] = d['a'] * 2\nsecond = fit(test[['t']])\n")
    _, _, first, loop, second = statements
    assert first.index not in loop.deps  # it read column a only; the loop writes t
    assert loop.index in second.flow


def test_a_frame_rebound_after_it_went_into_a_list_is_not_changed_through_the_list() -> None:
    statements = graph("train = read('a')\nfull = [train]\ntrain = read('c')\n"
                       "for d in full:\n    d['t'] = 1\nmodel = fit(train)\n")
    assert statements[3].index not in statements[4].flow


@pytest.mark.parametrize(("loop", "inert"), [
    ("for dirname, _, filenames in os.walk('/kaggle/input'):\n    for filename in filenames:\n"
     "        print(os.path.join(dirname, filename))", True),
    ("for name in sorted(glob.glob(os.path.join('data', '*.csv'))):\n    print(name)", True),
    ("for name in os.listdir(make_folder()):\n    print(name)", False),  # the call may make the folder
    ("for name in os.listdir('data'):\n    os.remove(name)", False),
])
def test_a_loop_that_only_prints_a_directory_listing_is_a_display(loop: str, inert: bool) -> None:
    assert one(loop, "import os\nimport glob\n").inert is inert


@pytest.mark.parametrize(("call", "draws"), [
    ("train_test_split(X, y)", True), ("train_test_split(X, y, random_state=0)", False),
    ("train_test_split(X, y, shuffle=False)", False), ("np.random.rand(3)", True), ("random.choice(xs)", True),
    ("df.sample(frac=1)", True), ("df.sample(frac=1, random_state=1)", False),
    ("RandomForestClassifier(n_estimators=10)", True), ("RandomForestClassifier(random_state=0)", False),
    ("RandomForestClassifier(random_state=None)", True), ("train_test_split(X, y, random_state=rng)", False),
    ("KFold(5, shuffle=True)", True), ("KFold(5)", False), ("LogisticRegression()", False),
    ("np.random.seed(0)", False), ("np.random.default_rng(0)", False),
    ("SVC(probability=True)", True), ("svm.SVC(kernel='rbf', probability=True)", True), ("SVC()", False),
    ("SVC(probability=True, random_state=0)", False), ("Perceptron()", True), ("GaussianMixture(3)", True),
])
def test_an_unseeded_draw_is_told_by_its_call(call: str, draws: bool) -> None:
    assert gr.unseeded_draw(ast.parse(call).body[0].value) is draws  # type: ignore[attr-defined]


@pytest.mark.parametrize("use", ["df.a.apply(scale)", "sorted(rows, key=scale)", "list(map(lambda v: scale(v), rows))"])
def test_a_statement_handing_on_a_function_reads_what_its_body_reads(use: str) -> None:
    statement = one(f"def scale(v):\n    return v * k\nout = {use}")
    assert "k" in statement.reads


def test_a_fit_after_a_cross_validation_of_the_same_model_need_not_follow_it() -> None:
    # cross_val_score fits copies of the model from its settings, which fitting it leaves alone
    infos = graph("from sklearn.model_selection import cross_val_score\n"
                  "scores = cross_val_score(model, X, y, cv=5)\nmodel.fit(X, y)")
    assert infos[1].cloned == {"model"} and infos[2].refitted == {"model"}
    assert 1 not in infos[2].deps
    # what reads the fitted model, or a change of its settings, still orders them
    assert 0 in graph("m.coef_\nm.fit(X, y)")[1].deps
    assert 0 in graph("cross_val_score(m, X, y)\nm.set_params(C=10)")[1].deps
    assert 0 in graph("cross_val_score(m, X, y)\nm.C = 3")[1].deps


def test_ipythons_own_settings_only_change_what_a_notebook_shows() -> None:
    # (a module that kept them would import IPython, and need it installed, for nothing it computes)
    shell, _, size = graph("from IPython.core.interactiveshell import InteractiveShell\n"
                           "InteractiveShell.ast_node_interactivity = 'all'\n"
                           "from IPython.core.pylabtools import figsize\nfigsize(12, 4)")[1:]
    assert shell.inert and size.inert
    assert "setup" not in shell.effects
