"""Commented-out code: which comment-only cells are disabled code rather than prose."""

from __future__ import annotations

import pytest

from mlpack_cli.notebook.disabled import code_lines, comment_texts, is_commented_out_code


@pytest.mark.parametrize("code", [
    "# url = 'https://example.org/data'\n# !curl -O {url}/a.csv\n# !curl -O {url}/b.csv\n",
    "# step_2.hint()\n# step_2.solution()\n",
    "# The lines below show the solution.\n# step_1.hint()\n# step_1.solution()\n",
    "# model = Ridge(\n#     alpha=0.5,\n# )\n",
    "#import numpy as np\n",
    "# %timeit model.fit(X, y)\n",
])
def test_disabled_code_is_recognised(code: str) -> None:
    assert is_commented_out_code(code)


@pytest.mark.parametrize("code", [
    "# TODO: fix this cell\n",
    "# TODO\n# (it overfits)\n",
    "# (Optional) Use this code cell for any additional work.\n",
    "# Fit the model below.\n# It takes a minute on a laptop.\n# model.fit(X, y) would take longer\n",
    "# Python 3.5 is required\n",
    "# Note: this is slow\n# Warning: not a result\n",
    "",
])
def test_prose_comments_are_not_disabled_code(code: str) -> None:
    assert not is_commented_out_code(code)


def test_a_statement_spread_over_lines_counts_whole() -> None:
    texts = comment_texts("# see below\n# model = Ridge(\n#     alpha=0.5,\n# )\n\nx = 1\n")
    assert texts == [" see below", " model = Ridge(", "     alpha=0.5,", " )"]
    assert code_lines(texts) == 3
