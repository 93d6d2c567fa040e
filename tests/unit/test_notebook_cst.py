"""Edits of a statement's text: renames on name tokens agree with the libcst edit."""

from __future__ import annotations

import pytest

from mlpack_cli.notebook.cst import edit, rename_tokens


@pytest.mark.parametrize("code", [
    "model = fit(model, X)  # the model, again",
    "scores = [model.score(X, y) for model in models]",
    "result = f(\n    model,  # first\n    other=model.model,\n)",
    "text = 'model' + \"\"\"model\nmodel\"\"\" + model",
    "for model in (a, b):\n    model.fit(X)\n    print(model)",
    "x = {'model': model, model: 1}[model]",
    "clf = lambda v: model(v)",
])
def test_renames_on_tokens_are_what_libcst_writes(code: str) -> None:
    renamed = {"model": "model_1"}
    quick = rename_tokens(code, renamed)
    assert quick is not None and quick != code
    assert quick == edit(code, renamed, {})


def test_attributes_and_keyword_arguments_keep_their_names() -> None:
    assert rename_tokens("a = b.a(a=a)", {"a": "c"}) == "c = b.a(a=c)"


def test_a_name_to_avoid_leaves_the_edit_to_libcst() -> None:
    assert rename_tokens("y = helper(x)", {"x": "x_1"}, avoid={"helper"}) is None
    assert rename_tokens("y = helper(x", {"x": "x_1"}) is None  # cannot be tokenized


@pytest.mark.parametrize(("code", "literals"), [
    ("df = pd.read_csv('data/train.csv')", {"data/train.csv": "train_csv"}),
    ("df = pd.read_csv(r'data/train.csv', sep=';')  # the data", {"data/train.csv": "train_csv"}),
    ("DATA = 'data/'", {"data/": "'../data/'"}),  # a string for a string: its quotes and prefix kept
    ('DATA = u"data/"', {"data/": "'../data/'"}),
    ("DATA = 'data/'", {"data/": "'it\\'s/'"}),  # a quote inside: the literal written as given
    ("DATA = '''data/'''", {"data/": "'../data/'"}),  # triple quotes: the literal written as given
    ("a, b = open('x.txt'), open('x.txt', 'rb')", {"x.txt": "x_txt"}),
    ("model = load(model, 'm.pkl')", {"m.pkl": "m_pkl"}),  # with a rename
    ("x = b'data.csv' + 'other'", {"data.csv": "data_csv"}),  # bytes are left alone
])
def test_literals_on_tokens_are_what_libcst_writes(code: str, literals: dict[str, str]) -> None:
    renamed = {"model": "model_1"}
    quick = rename_tokens(code, renamed, (), literals)
    assert quick is not None
    assert quick == edit(code, renamed, {}, literals=literals)


@pytest.mark.parametrize("code", [
    "df = read(('data.csv'))",  # parentheses libcst drops with the string
    "df = read(f'{root}' + 'data.csv')",  # libcst reaches the strings inside an f-string
    "df = read('data\\\n.csv')",  # a literal over two lines
])
def test_literals_libcst_may_write_otherwise_are_left_to_it(code: str) -> None:
    assert rename_tokens(code, {}, (), {"data.csv": "data_csv"}) is None
