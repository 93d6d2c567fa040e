"""Column-level dependencies: a writer of one column of a frame does not wait for readers of others."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mlpack_cli.notebook import graph as gr
from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.columns import formula_columns
from mlpack_cli.notebook.dataflow import ParsedCell, Pipeline, build_pipeline

IMPORTS = "import pandas as pd\nimport numpy as np\nimport statsmodels.formula.api as smf\n"


def graph(source: str) -> list[gr.Statement]:
    body = ast.parse(IMPORTS + textwrap.dedent(source)).body
    aliases = gr.collect_aliases(body)
    functions = gr.Functions([s for s in body if isinstance(s, (ast.FunctionDef, ast.ClassDef))], aliases)
    return gr.build_graph([(1, s) for s in body], aliases, functions, {})[3:]


def depends(source: str) -> bool:
    """Whether the last statement depends on the one before it."""
    infos = graph(source)
    return infos[-2].index in infos[-1].deps


@pytest.mark.parametrize(
    ("formula", "columns"),
    [
        ("Sales ~ TV", {"Sales", "TV"}),
        ("Sales ~ TV + Radio - 1", {"Sales", "TV", "Radio"}),
        ("y ~ C(kind) + np.log(size) + a:b", {"y", "kind", "size", "a", "b"}),
        ("y ~ .", None),
        ("y ~ C(kind, Treatment('b'))", None),
        ("y ~ I(a ** 2)", None),
        ("no formula", None),
    ],
)
def test_formula_columns_are_its_plain_terms(formula: str, columns: set[str] | None) -> None:
    assert formula_columns(formula) == columns


@pytest.mark.parametrize(
    ("source", "ordered"),
    [
        # readers of known columns, then a writer of another column: no order between them
        ("df = pd.read_csv('d.csv')\nlm = smf.ols(formula='y ~ a', data=df).fit()\ndf['c'] = 1", False),
        ("df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ndf['c'] = df.a * 2", False),
        ("df = pd.read_csv('d.csv')\ncols = ['a', 'b']\nX = df[cols]\ndf.loc[df.a > 0, 'c'] = 1", False),
        ("df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ny = df.b\ndf['c'] = 1", False),
        ("df = pd.read_csv('d.csv')\nX = df[['a']]\ndf['n'] = np.random.rand(len(df))", False),  # reads df whole
        # the writer changes what the reader read, or the reader reads the whole frame: ordered
        ("df = pd.read_csv('d.csv')\nX = df[['a']]\ndf['n'] = df.pop('a')", True),
        ("def fit(formula, data):\n    return data.c.sum()\ndf = pd.read_csv('d.csv')\n"
         "v = fit('y ~ a', data=df)\ndf['c'] = 1", True),  # a function of the notebook may read any column
        ("def f(d):\n    d.drop(columns='a', inplace=True)\n    return 1\ndf = pd.read_csv('d.csv')\n"
         "X = df[['a']]\ndf['n'] = f(df)", True),
        ("df = pd.read_csv('d.csv')\nX = df[['a', 'b']]\ndf.loc[:, 'a'] = 0", True),
        ("df = pd.read_csv('d.csv')\nX = df.drop(columns='y')\ndf['c'] = 1", True),
        ("df = pd.read_csv('d.csv')\nn = len(df)\ndf['c'] = 1", True),
        ("df = pd.read_csv('d.csv')\nn = df.shape\ndf['c'] = 1", True),
        ("df = pd.read_csv('d.csv')\nlm = smf.ols(formula='y ~ c', data=df).fit()\ndf['c'] = 1", True),
        ("df = pd.read_csv('d.csv')\ncols = list(df.columns[:2])\nX = df[cols]\ndf['c'] = 1", True),
        ("df = pd.read_csv('d.csv')\ncols = ['a']\ncols.append('c')\nX = df[cols]\ndf['c'] = 1", True),
        ("df = pd.read_csv('d.csv')\nX = df[['a']]\ndf['a'].fillna(0, inplace=True)", True),
        ("df = pd.read_csv('d.csv')\nX = df[['a']]\ndf.loc['new', 'c'] = 1", True),  # may add a row
        ("s = pd.read_csv('d.csv').y\nyear = s['2020']\ns['2020-05-01'] = 0", True),  # dates select rows
        ("df = pd.read_csv('d.csv')\nX = df.zzz\ndf['c'] = 1", True),  # zzz is named a column nowhere
        ("df = pd.read_csv('d.csv')\ndef show(f):\n    return f['a']\nv = show(df)\ndf['c'] = 1", True),
    ],
)
def test_a_column_writer_waits_only_for_readers_of_its_columns(source: str, ordered: bool) -> None:
    assert depends(source) is ordered


def test_a_reader_of_other_columns_does_not_need_a_column_writer_before_it() -> None:
    load, write, read = graph("df = pd.read_csv('d.csv')\ndf['c'] = 1\nX = df[['a', 'b']]")
    assert read.flow == {load.index} and write.index not in read.deps
    load, write, read = graph("df = pd.read_csv('d.csv')\ndf['c'] = 1\nX = df[['a', 'c']]")
    assert write.index in read.flow


def test_a_rebinding_after_column_writers_still_follows_every_earlier_reader() -> None:
    """A column writer leaves the readers of other columns unordered, so the whole-frame binding
    after it must be ordered after them itself."""
    load, read, write, rebind = graph(
        "df = pd.read_csv('d.csv')\nlm = smf.ols('y ~ a', data=df).fit()\ndf['c'] = 1\n"
        "df = pd.concat([df, df], axis=1)")
    assert {read.index, write.index} <= rebind.deps


def test_the_literal_list_is_the_one_bound_last_before_the_reader() -> None:
    infos = graph("df = pd.read_csv('d.csv')\ncols = ['a']\nX = df[cols]\ncols = ['a', 'c']\n"
                  "X = df[cols]\ndf['c'] = 1")
    first, second, write = infos[2], infos[4], infos[5]
    assert first.index not in write.deps and second.index in write.deps


def test_a_statsmodels_fit_draws_no_random_numbers() -> None:
    """``np.random.seed`` after ``smf.ols(...).fit()`` need not wait for the fit."""
    infos = graph("df = pd.read_csv('d.csv')\nlm = smf.ols('y ~ a', data=df).fit()\nnp.random.seed(1)")
    assert infos[1].index not in infos[2].deps and gr.RNG not in infos[1].reads


def test_statistics_of_a_fitted_model_change_nothing() -> None:
    (ci,) = graph("ci = lm.conf_int()")[-1:]
    assert ci.mutates == set()


PREFIX = ("import pandas as pd\nimport statsmodels.formula.api as smf\n"
          "from sklearn.linear_model import LinearRegression\n")


def pipeline(*cells: str) -> Pipeline:
    parsed = []
    for number, source in enumerate([PREFIX, *cells], start=1):
        source = textwrap.dedent(source)
        parsed.append(ParsedCell(number, (), source, None, ast.parse(source), code=source))  # type: ignore[arg-type]
    return build_pipeline(parsed, st.DEFAULT_KEYWORDS)


def test_features_added_after_a_first_model_go_to_preprocess() -> None:
    result = pipeline(
        "data = pd.read_csv('ads.csv')",
        "lm = smf.ols(formula='Sales ~ TV', data=data).fit()\nlm.params",
        "cols = ['TV', 'Radio']\nX = data[cols]\nmodel = LinearRegression()\nmodel.fit(X, data.Sales)",
        "data['IsLarge'] = data.Size.map({'small': 0, 'large': 1})",
        "cols = ['TV', 'Radio', 'IsLarge']\nX = data[cols]\nmodel = LinearRegression()\nmodel.fit(X, data.Sales)",
    )
    stages = [(p.cell, p.stage) for p in result.parts if p.cell > 2]
    assert stages == [(3, "train"), (3, "evaluate"), (4, "train"), (5, "preprocess"), (6, "train")]


def test_a_statsmodels_summary_shown_is_a_result() -> None:
    result = pipeline("data = pd.read_csv('ads.csv')", "lm = smf.ols(formula='Sales ~ TV', data=data).fit()",
                      "lm.conf_int()", "lm.summary()")
    assert [name for name, _ in result.results] == ["conf_int", "summary"]


def test_a_keras_summary_is_no_result() -> None:
    """``model.summary()`` of a Keras model prints the layers and returns None."""
    result = pipeline("from tensorflow import keras\ndata = pd.read_csv('ads.csv')",
                      "model = keras.Sequential([keras.layers.Dense(1)])\nmodel.compile(loss='mse')\n"
                      "model.fit(data[['TV']], data.Sales)",
                      "model.summary()", "loss = model.evaluate(data[['TV']], data.Sales)")
    assert "summary" not in [name for name, _ in result.results]
