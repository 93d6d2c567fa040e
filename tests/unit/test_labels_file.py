"""The expert placement labels (tests/fixtures/labels/corpus_labels.tsv) are well-formed, and the
placement benchmark reads and scores them as its docstring says.

These tests read only the labels file: never the corpus the labels describe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "fixtures" / "labels" / "corpus_labels.tsv"
COLUMNS = ["notebook", "cell", "first_line", "stage", "other_stages", "kind", "reason"]
STAGES = {"load", "preprocess", "train", "evaluate", "export", "helpers", "dropped"}
KINDS = {"", "plot", "model"}


def _rows() -> list[list[str]]:
    lines = [line for line in LABELS.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert lines[0].split("\t") == COLUMNS, "the first non-comment line is the header row"
    return [line.split("\t") for line in lines[1:]]


@pytest.fixture
def bench(benchmark_script: Callable[[str], ModuleType]) -> ModuleType:
    return benchmark_script("placement_agreement")


def test_the_header_comment_states_the_numbering_convention() -> None:
    comments = "\n".join(line for line in LABELS.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert "0-based" in comments and "CODE cells" in comments and "empty ones included" in comments


def test_every_row_has_the_seven_columns_and_known_values() -> None:
    rows = _rows()
    assert len(rows) > 500
    for row in rows:
        assert len(row) == len(COLUMNS), row
        notebook, cell, first_line, stage, others, kind, reason = row
        where = f"{notebook} cell {cell}"
        assert notebook.endswith(".ipynb") and "/" not in notebook, where
        assert cell.isdigit(), where
        assert stage in STAGES, f"{where}: stage {stage!r}"
        assert kind in KINDS, f"{where}: kind {kind!r}"
        assert reason.strip(), f"{where}: no reason"
        assert len(first_line) <= 60 and first_line == first_line.strip(), where
        secondary = [o for o in others.split(",") if o]
        assert len(secondary) == len(set(secondary)), f"{where}: repeated other stage"
        for other in secondary:
            assert other in STAGES - {"dropped"} and other != stage, f"{where}: other stage {other!r}"


def test_kinds_agree_with_stages() -> None:
    for notebook, cell, first_line, stage, others, kind, _ in _rows():
        if kind == "plot":  # plot-only cells affect nothing kept, so they are dropped
            assert stage == "dropped" and not others, f"{notebook} cell {cell}"
        if not first_line:  # an empty cell can only be dropped
            assert stage == "dropped" and not kind, f"{notebook} cell {cell}: an empty cell placed in {stage}"


def test_no_duplicate_keys_and_every_code_cell_of_a_notebook_is_labelled() -> None:
    keys = Counter((row[0], int(row[1])) for row in _rows())
    assert [key for key, times in keys.items() if times > 1] == []
    by_notebook: dict[str, list[int]] = {}
    for notebook, cell in keys:
        by_notebook.setdefault(notebook, []).append(cell)
    for notebook, cells in by_notebook.items():
        assert sorted(cells) == list(range(len(cells))), f"{notebook}: code cells missing from the labels"


def test_each_stage_is_represented() -> None:
    """A labelled corpus that never says, e.g., export cannot measure placement into it."""
    assert {row[3] for row in _rows()} == STAGES
    assert {row[5] for row in _rows()} == KINDS


# -- the benchmark reads the file the same way ---------------------------------------------------------


def test_the_benchmark_reads_every_row(bench: ModuleType) -> None:
    labels = bench.read_labels(LABELS)
    assert sum(len(cells) for cells in labels.values()) == len(_rows())


def test_the_benchmark_refuses_a_row_with_a_missing_column(tmp_path: Path, bench: ModuleType) -> None:
    bad = tmp_path / "labels.tsv"
    bad.write_text("# comment\n" + "\t".join(COLUMNS) + "\nnb.ipynb\t0\tx = 1\tload\t\tmodel\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"labels.tsv:3: 6 columns"):
        bench.read_labels(bad)


def test_strict_takes_the_main_part_and_lenient_any_part(bench: ModuleType) -> None:
    labels = [bench.Label("nb.ipynb", 0, "df = load()", "load", (), "model", "loads and fits"),
              bench.Label("nb.ipynb", 1, "import plt", "dropped", (), "plot", "plots"),
              bench.Label("nb.ipynb", 2, "plt.plot(x)", "dropped", (), "plot", "plots")]
    outcome = bench.Outcome("nb.ipynb", parts={
        0: [bench.Part("load", "reads a file", 1), bench.Part("train", "fits", 4)],
        1: [bench.Part("helpers", "import", 1), bench.Part("dropped", "plot", 3)],
        2: [bench.Part("dropped", "plot", 3), bench.Part("evaluate", "a metric", 1)],
    }, first_lines={0: "df = load()", 1: "import plt", 2: "plt.plot(x)"})
    lines, disagreements = bench.measure({"nb.ipynb": labels}, [outcome])
    text = "\n".join(lines)
    assert "agreement, strict (main part)        33.3% (1/3)" in text  # cell 0 went to train, cell 2 to evaluate
    assert "agreement, lenient (any part)       100.0% (3/3)" in text
    assert "plot-only cells kept in a stage      50.0% (1/2)" in text  # cell 2 kept a part
    assert "model cells in train or evaluate    100.0% (1/1)" in text
    assert [d.split("\t")[1] for d in disagreements] == ["code cell 0", "code cell 2"]


def test_the_main_part_is_the_largest_in_a_pipeline_stage(bench: ModuleType) -> None:
    computed = bench.Part("evaluate", "predicts", 1)
    parts = [bench.Part("dropped", "prints", 3), computed, bench.Part("helpers", "import", 2)]
    assert bench.main_part(parts) is computed
    only_plots = bench.Part("dropped", "plots", 9)
    assert bench.main_part([bench.Part("helpers", "import", 1), only_plots]) is only_plots


def test_part_size_reads_the_line_range_of_a_part(bench: ModuleType) -> None:
    assert bench.part_size({"lines": [2, 6]}) == 5
    assert bench.part_size({"lines": [4, 4]}) == 1
    assert bench.part_size({"cell": 3, "stage": "load", "lines": None}) > bench.part_size({"lines": [1, 500]})


def test_a_plot_cell_whose_import_moved_to_the_top_is_not_kept(bench: ModuleType) -> None:
    assert not bench.plot_kept([bench.Part("helpers", "import", 1), bench.Part("dropped", "plot", 9)])
    assert bench.plot_kept([bench.Part("helpers", "constants and definitions only", bench.WHOLE_CELL)])
    assert bench.plot_kept([bench.Part("evaluate", "under heading", 2), bench.Part("dropped", "plot", 9)])


def test_no_markdown_copies_keep_the_code_cells_and_their_numbering(tmp_path: Path, bench: ModuleType) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Load"), nbformat.v4.new_code_cell("import pandas as pd"),
        nbformat.v4.new_markdown_cell("## Train"), nbformat.v4.new_code_cell(""),
        nbformat.v4.new_raw_cell("raw"), nbformat.v4.new_code_cell("model.fit(X, y)"),
    ])
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "nb.ipynb"
    nbformat.write(notebook, str(source))
    (copy,) = bench.strip_markdown([source], tmp_path / "out")
    assert copy.name == source.name and copy.parent == tmp_path / "out"
    cells = nbformat.read(str(copy), as_version=4).cells
    assert [c.cell_type for c in cells] == ["code", "code", "raw", "code"]
    # the report's 1-based numbers of all cells map to the same code-cell indices as before
    numbers, empty = bench.code_cell_indices(copy)
    assert numbers == {1: 0, 2: 1, 4: 2} and empty == {1}
    assert bench.code_cell_indices(source)[0] == {2: 0, 4: 1, 6: 2}


def test_no_markdown_copies_a_file_nbformat_cannot_read_as_it_is(tmp_path: Path, bench: ModuleType) -> None:
    source = tmp_path / "broken.ipynb"
    source.write_text("not json", encoding="utf-8")
    (copy,) = bench.strip_markdown([source], tmp_path / "out")
    assert copy.read_text(encoding="utf-8") == "not json"
