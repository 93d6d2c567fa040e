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
