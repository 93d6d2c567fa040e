"""Dataflow: module-level code, stage parameters and returns, and what run() returns."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.dataflow import OutOfOrder, ParsedCell, Pipeline, build_pipeline
from mlpack_cli.notebook.names import analyze


def pipeline(*cells: str | tuple[str, str | None, tuple[str, ...]]) -> Pipeline:
    parsed = []
    for number, cell in enumerate(cells, start=1):
        source, heading, tags = (cell, None, ()) if isinstance(cell, str) else cell
        source = textwrap.dedent(source)
        parsed.append(ParsedCell(number, tags, source, heading, ast.parse(source)))
    return build_pipeline(parsed, st.DEFAULT_KEYWORDS)


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
    assert result.result == "score"
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


def test_an_import_rebound_later_stays_in_its_stage() -> None:
    result = pipeline("from models import tree, fit", ("tree = fit(tree)", "Train", ()))
    assert [ast.unparse(i) for i in result.imports] == []
    assert ast.unparse(ast.Module(stage(result, "load").statements, [])) == "from models import tree, fit"
    assert stage(result, "train").inputs == ["fit", "tree"]


def test_self_contained_helpers_move_to_module_level() -> None:
    result = pipeline("import math\ndef area(r):\n    return math.pi * r ** 2", "rows = read_csv(area(2))")
    assert [h.name for h in result.helpers] == ["area"]  # type: ignore[attr-defined]


def test_a_helper_reading_a_later_global_is_defined_in_that_stage() -> None:
    result = pipeline(
        "def describe():\n    return model.name",
        ("model = fit()", "Train", ()),
        ("text = describe()", "Evaluate", ()),
    )
    assert result.helpers == []
    train = ast.unparse(ast.Module(stage(result, "train").statements, []))
    assert train.startswith("def describe():")
    assert stage(result, "train").returns == ["describe"]


def test_names_the_module_defines_itself_are_renamed() -> None:
    result = pipeline(("train = read_csv('t.csv')", "Load", ()), ("model = fit(train)", "Train", ()))
    assert result.renamed == {"train": "train_"}
    assert stage(result, "train").inputs == ["train_"]


def test_a_name_nothing_binds_becomes_a_required_parameter() -> None:
    result = pipeline("import pandas as pd\nrows = pd.read_csv(files)")
    assert result.required == ["files"]
    assert any("files" in w for w in result.warnings)


def test_a_dropped_cell_that_binds_what_later_cells_read_is_kept() -> None:
    result = pipeline(("rows = read_csv('a')", "Load", ()), ("fig, ax = plt.subplots()", None, ()),
                      ("ax.set_title('x')\nsave(ax)", "Export", ()))
    assert result.placements[2].stage == "load"
    assert "binds ax" in result.placements[2].reason


def test_tagged_cell_reading_a_later_stage_is_an_error() -> None:
    with pytest.raises(OutOfOrder, match="reads 'model', which only the later stage 'train' binds"):
        pipeline(("model = fit()", None, ("mlpack:train",)), ("y = model.predict()", None, ("mlpack:load",)))


def test_evaluation_result_falls_back_to_a_dict_of_what_evaluate_binds() -> None:
    result = pipeline(("acc = score()\nloss = 2 * acc", "Evaluate", ()), ("print(acc)", None, ()))
    assert result.result == "evaluation"
    text = ast.unparse(ast.Module(stage(result, "evaluate").statements, []))
    assert text.endswith("evaluation = {'acc': acc, 'loss': loss}")


def test_evaluation_result_can_be_shown_by_the_display_cell_after_evaluate() -> None:
    result = pipeline(("acc = score()\nloss = 2 * acc", "Evaluate", ()), ("acc", None, ()))
    assert result.result == "acc"
    assert stage(result, "evaluate").returns == ["acc"]


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
    body = ast.unparse(ast.Module(stage(result, "evaluate").statements, []))
    assert body.endswith("evaluation = {'scale': scale, 'score': score}")
