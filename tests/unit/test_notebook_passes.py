"""Every pass's results of a loop that scores once per pass (mlpack_cli.notebook.passes)."""

from __future__ import annotations

import ast
import textwrap

from mlpack_cli.notebook import placement as pl
from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.dataflow import ParsedCell, Pipeline, _metric_base, build_pipeline
from mlpack_cli.notebook.passes import collect

from tests.unit.test_notebook_dataflow import _PARSED, pipeline, run_pipeline


def collected(code: str, results: set[str], taken: set[str] | None = None) -> list[tuple[str, str, str]]:
    """(name, start, record) of what the loop collects, as source text."""
    loop = ast.parse(textwrap.dedent(code)).body[0]
    found = collect(loop, results, set(taken or ()), _metric_base, pl.is_metric_call)
    return [(c.name, ast.unparse(c.start), ast.unparse(c.record)) for c in found]


def test_a_metric_bound_each_pass_is_collected_under_the_label_printed_beside_it() -> None:
    assert collected("""
        for m in models:
            m.fit(X, y)
            acc = accuracy_score(y_test, m.predict(X_test))
            print(type(m).__name__, acc)
        """, {"acc"}) == [("acc_by_name", "acc_by_name = {}", "acc_by_name[type(m).__name__] = acc")]


def test_without_a_label_the_key_is_a_setting_or_a_dicts_key_else_the_pass_order() -> None:
    assert collected("for depth in [2, 4]:\n    acc = accuracy_score(y, f(depth))", {"acc"})[0][2] == \
        "acc_by_depth[depth] = acc"
    assert collected("for name, model in models.items():\n    acc = accuracy_score(y, model.predict(X))",
                     {"acc"})[0][2] == "acc_by_name[name] = acc"
    assert collected("for i in range(3):\n    acc = accuracy_score(y, f(i))", {"acc"})[0][2] == "acc_by_i[i] = acc"
    # a model printed as its own label is no key: its repr is what a model's settings print
    assert collected("for m in models:\n    acc = accuracy_score(y, m.predict(X))\n    print(m, acc)", {"acc"}) == [
        ("acc_all", "acc_all = []", "acc_all.append(acc)")]


def test_a_printed_metric_is_scored_again_only_when_that_gives_the_same_value() -> None:
    assert collected("""
        for k in [1, 3]:
            knn = KNeighborsClassifier(n_neighbors=k).fit(X, y)
            print(k, knn.score(X_test, y_test))
            print(f"{k}: {round(f1_score(y_test, knn.predict(X_test)), 3)}")
        """, set()) == [("score_by_k", "score_by_k = {}", "score_by_k[k] = knn.score(X_test, y_test)"),
                        ("f1_by_k", "f1_by_k = {}", "f1_by_k[k] = round(f1_score(y_test, knn.predict(X_test)), 3)")]
    # cross-validation fits again (an unseeded model would score otherwise); a fit in the print too
    assert collected("for k in [1, 3]:\n    print(k, cross_val_score(KNN(k), X, y).mean())", set()) == []
    assert collected("for k in [1, 3]:\n    print(k, KNN(k).fit(X, y).score(X, y))", set()) == []


def test_nothing_is_collected_where_a_pass_may_end_early_or_the_value_runs_on() -> None:
    assert collected("for m in ms:\n    acc = accuracy_score(y, m.predict(X))\n    if acc > 0.9:\n        break",
                     {"acc"}) == []
    assert collected("for m in ms:\n    if m is None:\n        continue\n    acc = accuracy_score(y, m.predict(X))",
                     {"acc"}) == []
    # a running value (read before the pass binds it) is no value of one pass
    assert collected("for m in ms:\n    acc = acc + accuracy_score(y, m.predict(X))", {"acc"}) == []
    # a prediction is no result to collect; nor a name that is not one of run()'s results
    assert collected("for m in ms:\n    pred = m.predict(X)", {"pred"}) == []
    assert collected("for m in ms:\n    acc = accuracy_score(y, m.predict(X))", set()) == []
    # a name taken in the notebook is not reused
    assert collected("for d in [1]:\n    acc = accuracy_score(y, f(d))", {"acc"}, {"acc_by_d"})[0][0] == "acc_by_d_2"


def written(*cells: tuple[str, str | None]) -> Pipeline:
    """The pipeline of cells (source, heading) whose text the module keeps, as convert has it."""
    parsed = [ParsedCell(number, (), source, heading, ast.parse(source), code=source)
              for number, (source, heading) in enumerate(cells, start=1)]
    result = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    _PARSED[id(result)] = parsed
    return result


SCORER = "def accuracy_score(a, b):\n    return sum(x == y for x, y in zip(a, b)) / len(a)"


def test_run_returns_every_pass_and_the_loop_keeps_its_comments() -> None:
    result = written(
        (SCORER, None),
        ("truth = [1, 0, 1, 1]\nguesses = {'ones': [1, 1, 1, 1], 'zeros': [0, 0, 0, 0]}", "Load"),
        ("# compare the guesses\nfor name, guess in guesses.items():  # each one\n"
         "    acc = accuracy_score(truth, guess)  # its accuracy\n    print(name, acc)\n", "Evaluate"),
    )
    returned = run_pipeline(result)
    assert returned["acc"] == 0.25  # the last pass, as the notebook ends with it
    assert returned["acc_by_name"] == {"ones": 0.75, "zeros": 0.25}
    from mlpack_cli.notebook import codegen

    module = codegen.generate(result, package="pkg", module="nb", notebook="nb.ipynb", source_hash="0",
                              cells=_PARSED[id(result)]).module
    assert "    # compare the guesses\n" in module
    assert "for name, guess in guesses.items():  # each one\n" in module
    assert "        acc = accuracy_score(truth, guess)  # its accuracy\n        acc_by_name[name] = acc\n" in module


def test_a_printed_metric_of_a_loop_is_returned_for_every_pass() -> None:
    result = pipeline(
        SCORER,
        ("truth = [1, 0, 1, 1]", "Load", ()),
        ("guesses = []\nfor k in [1, 2]:\n    guess = [1] * (4 - k) + [0] * k\n    guesses.append(guess)\n"
         "    print(k, accuracy_score(truth, guess))\nlen(guesses)", "Evaluate", ()),
    )
    assert run_pipeline(result)["accuracy_by_k"] == {1: 0.5, 2: 0.25}


def test_the_values_of_a_formatted_print_are_shown_one_by_one() -> None:
    assert collected("for i, m in enumerate(ms):\n    print('{}: {}'.format(names[i], m.score(X, y)))", set()) == [
        ("score_by_i", "score_by_i = {}", "score_by_i[i] = m.score(X, y)")]
    assert collected("for name, m in d.items():\n    print('%s %.2f' % (name, accuracy_score(y, m.predict(X))))",
                     set())[0][2] == "accuracy_by_name[name] = accuracy_score(y, m.predict(X))"


def test_a_loop_that_only_prints_a_metric_each_pass_is_evaluation() -> None:
    result = pipeline(
        SCORER,
        ("truth = [1, 0, 1, 1]\nguesses = {'ones': [1, 1, 1, 1], 'zeros': [0, 0, 0, 0]}", "Load", ()),
        "for name, guess in guesses.items():\n    print(name, accuracy_score(truth, guess))",
    )
    assert run_pipeline(result) == {"accuracy_by_name": {"ones": 0.75, "zeros": 0.25}}
    # a loop that prints what is no metric stays a display
    assert not pipeline(SCORER, ("rows = [1, 2]", "Load", ()), "for r in rows:\n    print(r, r * 2)").results


def test_the_plots_dropped_from_the_loop_around_the_added_line_stay_dropped() -> None:
    result = written(
        (SCORER + "\nimport matplotlib.pyplot as plt", None),
        ("truth = [1, 0, 1, 1]", "Load"),
        ("for k in [1, 2]:\n    plt.scatter(k, k)  # before\n    acc = accuracy_score(truth, [1] * 4)\n"
         "    plt.annotate(str(k), (k, acc))  # after\n    print(k, acc)\n", "Evaluate"),
    )
    assert run_pipeline(result) == {"acc": 0.75, "acc_by_k": {1: 0.75, 2: 0.75}}
    from mlpack_cli.notebook import codegen

    module = codegen.generate(result, package="pkg", module="nb", notebook="nb.ipynb", source_hash="0",
                              cells=_PARSED[id(result)]).module
    assert "plt." not in module
    assert "        acc = accuracy_score(truth, [1] * 4)\n        acc_by_k[k] = acc\n        print(k, acc)\n" in module
