"""Stored outputs count only when they provably show a value run() returns, with the precision shown."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from mlpack_cli.notebook.dataflow import ParsedCell, Pipeline, build_pipeline
from mlpack_cli.notebook.outputs import Matched, Shown, Stored, match_outputs
from mlpack_cli.notebook.reader import read_notebook
from mlpack_cli.notebook.stages import heading_keywords

SETUP = (
    "from sklearn.linear_model import LogisticRegression\nfrom sklearn.metrics import accuracy_score, r2_score",
    "X = [[0], [1], [2], [3]]\ny = [0, 0, 1, 1]",
    "model = LogisticRegression().fit(X, y)",
)


def analysed(*sources: str) -> tuple[list[ParsedCell], Pipeline]:
    cells = [ParsedCell(n, (), s, None, ast.parse(s), code=s) for n, s in enumerate(sources, start=1)]
    return cells, build_pipeline(cells, heading_keywords({}))


def stdout(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def result(text: str) -> dict[str, Any]:
    return {"output_type": "execute_result", "execution_count": 1, "data": {"text/plain": text}, "metadata": {}}


def run_all(cells: list[ParsedCell], outputs: dict[int, tuple[dict[str, Any], ...]]) -> dict[int, Stored]:
    """Every cell run once, top to bottom, with ``outputs`` by cell number."""
    return {c.number: Stored(c.number, outputs.get(c.number, ())) for c in cells}


def matched(*evaluation: str, outputs: dict[int, tuple[dict[str, Any], ...]]) -> Matched:
    cells, pipeline = analysed(*SETUP, *evaluation)
    return match_outputs(cells, run_all(cells, outputs), pipeline)


def by_key(found: Matched) -> dict[str, Shown]:
    return {s.key: s for s in found.shown}


def test_a_printed_f_string_metric_gets_the_tolerance_of_its_precision() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\nprint(f'accuracy: {acc:.3f}')",
                    outputs={4: (stdout("accuracy: 0.953\n"),)})
    shown = by_key(found)["acc"]
    assert (shown.value, shown.absolute, shown.relative, shown.cell) == (0.953, pytest.approx(0.0005), 0.0, 4)
    assert shown.statement == "print(f'accuracy: {acc:.3f}')"
    assert found.notes == []


def test_a_printed_repr_is_compared_relatively_and_a_printed_metric_call_by_its_given_name() -> None:
    found = matched("print('R2', r2_score(y, model.predict(X)))", outputs={4: (stdout("R2 0.8312345678901234\n"),)})
    shown = by_key(found)["r2"]  # analysis names the printed metric r2; run() returns it
    assert (shown.value, shown.absolute, shown.relative) == (0.8312345678901234, 0.0, 1e-9)


def test_the_displayed_value_of_the_last_expression_is_read_as_a_literal() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))", "metrics = {'acc': acc, 'n': len(y)}\nmetrics",
                    outputs={5: (result("{'acc': np.float64(0.75), 'n': 4}"),)})
    shown = by_key(found)["metrics"]
    assert (shown.value, shown.relative) == ({"acc": 0.75, "n": 4}, 1e-9)


def test_a_displayed_dict_gives_each_of_its_keys() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\n{'accuracy': round(acc, 2), 'n_test': len(y)}",
                    outputs={4: (result("{'accuracy': 0.75, 'n_test': 4}"),)})
    assert {k: s.value for k, s in by_key(found).items() if k in ("accuracy", "n_test")} == {
        "accuracy": 0.75, "n_test": 4}
    assert by_key(found)["n_test"].relative == 0.0  # an int: exactly


@pytest.mark.parametrize(("code", "text", "value", "absolute"), [
    ("print(f'{acc:.1%} accurate')", "95.3% accurate\n", 0.953, 0.0005),
    ("print('accuracy: %.2f' % acc)", "accuracy: 0.95\n", 0.95, 0.005),
    ("print('accuracy: {:.4f}'.format(acc))", "accuracy: 0.9530\n", 0.953, 0.00005),
    ("print('accuracy: {a:.2e}'.format(a=acc))", "accuracy: 9.53e-01\n", 0.953, 0.0005),
    ("print(f'{acc:,.3g}', 'and', f'{acc:>8.2f}')", "0.953 and     0.95\n", 0.95, 0.005),
    ("print('accuracy', acc, sep=': ', end='!\\n')", "accuracy: 0.953!\n", 0.953, 0.0),
])
def test_format_specs_and_print_options_are_read_from_the_code(code: str, text: str, value: float,
                                                               absolute: float) -> None:
    found = matched(f"acc = accuracy_score(y, model.predict(X))\n{code}", outputs={4: (stdout(text),)})
    shown = by_key(found)["acc"]
    assert shown.value == pytest.approx(value) and shown.absolute == pytest.approx(absolute)


def test_what_other_statements_print_in_between_is_skipped() -> None:
    code = "acc = accuracy_score(y, model.predict(X))\nmodel.score(X, y)\nprint(f'accuracy: {acc:.2f}')"
    found = matched(code.replace("model.score(X, y)", "print(model, flush=True)\nmodel.fit(X, y)"),
                    outputs={4: (stdout("LogisticRegression()\n[log] epoch 1\naccuracy: 0.75\n"),)})
    assert by_key(found)["acc"].value == 0.75


def test_an_ambiguous_reading_counts_for_nothing() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\nlabel = 'a b'\nprint(label, acc, acc)",
                    outputs={4: (stdout("a b 1 1 1\n"),)})
    assert "acc" not in by_key(found)
    assert any("more than one way" in note for note in found.notes)


def test_a_value_changed_after_it_was_printed_is_not_expected() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\nprint(f'{acc:.2f}')\nacc = acc * 2",
                    outputs={4: (stdout("0.75\n"),)})
    assert "acc" not in by_key(found)


def test_a_dict_changed_after_it_was_displayed_is_not_expected() -> None:
    found = matched("metrics = {'acc': accuracy_score(y, model.predict(X))}", "metrics",
                    "metrics.update(n=len(y))", outputs={5: (result("{'acc': 0.75}"),)})
    assert "metrics" not in by_key(found)


def test_text_that_does_not_match_the_prints_gives_nothing() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\nprint(f'accuracy: {acc:.3f}')",
                    outputs={4: (stdout("something else\n"),)})
    assert found.shown == [] and found.notes == ["no regression test: no stored output shows a value run() returns"]


def test_a_value_run_does_not_return_gives_nothing() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\nprint(f'{len(X)} rows: {acc:.2f}')",
                    outputs={4: (stdout("4 rows: 0.75\n"),)})
    assert set(by_key(found)) == {"acc"}


def test_outputs_of_a_notebook_run_out_of_order_are_stale() -> None:
    cells, pipeline = analysed(*SETUP, "acc = accuracy_score(y, model.predict(X))\nprint(f'{acc:.2f}')")
    stored = run_all(cells, {4: (stdout("0.75\n"),)})
    stored[2] = Stored(9)
    found = match_outputs(cells, stored, pipeline)
    assert found.shown == []
    assert found.notes == ["no regression test: the stored outputs are stale: cell 3 (execution count 3) "
                           "ran before cell 2 (9); run the notebook top to bottom"]


def test_a_cell_that_was_not_run_makes_the_outputs_stale() -> None:
    cells, pipeline = analysed(*SETUP, "acc = accuracy_score(y, model.predict(X))\nprint(f'{acc:.2f}')")
    stored = run_all(cells, {4: (stdout("0.75\n"),)})
    stored[3] = Stored(None)
    found = match_outputs(cells, stored, pipeline)
    assert found.shown == [] and "cell 3 was not run" in found.notes[0]


def test_a_notebook_without_outputs_says_so() -> None:
    cells, pipeline = analysed(*SETUP, "acc = accuracy_score(y, model.predict(X))\nprint(f'{acc:.2f}')")
    found = match_outputs(cells, {c.number: Stored(None) for c in cells}, pipeline)
    assert found.shown == [] and "has no stored outputs" in found.notes[0]


def test_a_displayed_value_that_is_not_a_literal_is_not_expected() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\nacc",
                    outputs={4: (result("array([0.75, 0.5])"),)})
    assert "acc" not in by_key(found)


@pytest.mark.parametrize(("code", "text", "value"), [
    ("print(f'n={n}')", "n=4\n", 4),
    ("print(f'{n:d} rows')", "4 rows\n", 4),
    ("print(f'{n!r}')", "4\n", 4),
    ("print(f'best: {label}')", "best: class 0\n", "class 0"),
    ("print(f'{ok}')", "True\n", True),
])
def test_ints_strings_and_bools_are_exact(code: str, text: str, value: object) -> None:
    found = matched("n = len(y)\nlabel = 'class ' + str(model.predict([[0]])[0])\nok = n > 0\n"
                    "score = model.score(X, y)\n" + code,
                    outputs={4: (stdout(text),)})
    shown = [s for s in found.shown if s.value == value and type(s.value) is type(value)]
    assert shown and shown[0].absolute == shown[0].relative == 0.0


def test_reading_a_dict_after_it_was_displayed_keeps_it_expected() -> None:
    found = matched("metrics = {'acc': accuracy_score(y, model.predict(X))}", "metrics",
                    "import json\nfor key, value in metrics.items():\n    print(key, value)\njson.dumps(metrics)",
                    outputs={5: (result("{'acc': 0.75}"),)})
    assert by_key(found)["metrics"].value == {"acc": 0.75}


def test_a_list_shuffled_after_it_was_displayed_is_not_expected() -> None:
    found = matched("import random\nscores = [accuracy_score(y, model.predict(X)), 0.5]", "scores",
                    "random.shuffle(scores)", outputs={5: (result("[0.75, 0.5]"),)})
    assert "scores" not in by_key(found)


def test_the_reader_keeps_counts_and_outputs_out_of_the_source_hash(tmp_path: Path) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    before = read_notebook(path)
    notebook.cells[0].execution_count = 4
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nbformat.write(notebook, path)
    after = read_notebook(path)
    assert (before.cells[0].execution_count, before.cells[0].outputs) == (None, ())
    assert after.cells[0].execution_count == 4 and after.cells[0].outputs[0]["text"] == "1\n"
    assert after.source_hash == before.source_hash and after.cells == before.cells


def test_a_magic_that_prints_around_the_prints_is_allowed_for() -> None:
    code = "acc = accuracy_score(y, model.predict(X))\nprint(f'{acc:.2f}')"
    cells, pipeline = analysed(*SETUP, code)
    cells[-1] = ParsedCell(4, (), "%%time\n" + code, None, cells[-1].tree, code=code)  # as the reader parses it
    stored = run_all(cells, {4: (stdout("0.75\nCPU times: user 1 ms\nWall time: 2 ms\n"),)})
    assert by_key(match_outputs(cells, stored, pipeline))["acc"].value == 0.75


def test_a_cell_that_stopped_with_an_error_makes_the_outputs_stale() -> None:
    cells, pipeline = analysed(*SETUP, "acc = accuracy_score(y, model.predict(X))\nprint(f'{acc:.2f}')")
    stored = run_all(cells, {3: ({"output_type": "error", "ename": "ValueError", "evalue": "", "traceback": []},),
                             4: (stdout("0.75\n"),)})
    found = match_outputs(cells, stored, pipeline)
    assert found.shown == [] and found.notes == [
        "no regression test: cell 3 stopped with an error, so the outputs after it are not the notebook's results"]


@pytest.mark.parametrize(("text", "values"), [
    ("a 1\na 1\n", [1]),
    ("[log]\na 1\n[log]\na 1\n", [1]),
    ("a 1\n" * 5, []),  # which two of the five lines are the prints'?
    ("a 1\nsomething\n", []),  # the last print ends the text
])
def test_prints_between_other_output_are_found_only_where_they_must_be(text: str, values: list[int]) -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))\n" + "model.fit(X, y)\nprint('a', acc)\n" * 2,
                    outputs={4: (stdout(text),)})
    assert [s.value for s in found.shown] == values


@pytest.mark.parametrize("later", [
    "acc = accuracy_score(y, [0, 0, 0, 1])", "acc += 0.1", "(acc := 0.5)", "for acc in [0.5]:\n    pass",
    "with open('f') as acc:\n    pass", "from math import pi as acc", "def acc():\n    return 0",
    "class acc:\n    pass",
])
def test_a_value_rebound_after_it_was_displayed_is_not_expected(later: str) -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))", "acc", later, outputs={5: (result("0.75"),)})
    assert "acc" not in by_key(found)


def test_a_value_only_read_after_it_was_displayed_stays_expected() -> None:
    found = matched("acc = accuracy_score(y, model.predict(X))", "acc", "other = acc + 1\nprint(acc)",
                    outputs={5: (result("0.75"),)})
    assert by_key(found)["acc"].value == 0.75
