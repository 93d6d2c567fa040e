"""Reading notebooks: upgrades and repairs are reported; what is not a Python notebook is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlpack_cli.errors import ExitCode, NotebookError
from mlpack_cli.notebook.reader import read_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"


def test_reads_cells_with_numbers_kinds_and_tags() -> None:
    notebook = read_notebook(NOTEBOOKS / "tagged.ipynb")
    assert [c.kind for c in notebook.cells][:3] == ["code", "markdown", "code"]
    assert notebook.cells[3].tags == ("mlpack:skip",)
    assert notebook.cells[0].number == 1
    assert notebook.kernel == "python3"


def test_nbformat_3_is_upgraded_and_reported() -> None:
    notebook = read_notebook(NOTEBOOKS / "v3.ipynb")
    assert notebook.repairs == ["upgraded from nbformat 3 to 4"]
    assert "area = math.pi * RADIUS ** 2" in notebook.code_cells[1].source


def test_missing_cell_ids_are_repaired_and_reported() -> None:
    notebook = read_notebook(NOTEBOOKS / "no_ids.ipynb")
    assert any("cell ids" in repair for repair in notebook.repairs)


def test_repairs_are_counted_as_nbformat_counts_them_on_the_whole_notebook(tmp_path: Path) -> None:
    import warnings

    import nbformat

    def code(source: str, **extra: object) -> dict[str, object]:
        return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None,
                **extra}

    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
           "cells": [code("a = 1", id="one"), code("b = 2"), code("c = 3", id="one"), code("d = 4", id="one")]}
    path = tmp_path / "ids.ipynb"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, _ = nbformat.validator.normalize(nbformat.reader.reads(path.read_text()))
    assert expected == 3  # one id added, two repeated ones replaced
    repaired = f"repaired by nbformat: {expected} missing or invalid field(s), e.g. cell ids"
    assert read_notebook(path).repairs == [repaired]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("picture.ipynb", "not a notebook (the file is binary, not UTF-8 JSON; it looks like a PNG image)"),
        ("rkernel.ipynb", "the kernel is 'R' (language 'R'), not Python"),
        ("markdown_only.ipynb", "the notebook has no code (its 1 cell(s) are all markdown)"),
    ],
)
def test_refusals_name_the_file_and_the_reason(name: str, expected: str) -> None:
    with pytest.raises(NotebookError) as caught:
        read_notebook(NOTEBOOKS / name, f"notebooks/{name}")
    assert caught.value.message == f"notebooks/{name}: {expected}"
    assert caught.value.hint
    assert caught.value.exit_code == ExitCode.NOTEBOOK


def test_text_that_is_not_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [\n  {"cell_type": "code",,}\n]}')
    with pytest.raises(NotebookError, match=r"not valid JSON: .* at line 2"):
        read_notebook(path)


def test_json_that_is_not_a_notebook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.ipynb"
    path.write_text(json.dumps({"rows": [1, 2, 3]}))
    with pytest.raises(NotebookError, match="not a notebook"):
        read_notebook(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "the file holds a JSON list, not an object with 'cells'"),
        ('"cells"', "the file holds a JSON string, not an object with 'cells'"),
        ("null", "the file holds a JSON null, not an object with 'cells'"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": [], "cells": []}', "'metadata' is not a JSON object"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1]}', "cell 1 is not a JSON object"),
    ],
)
def test_json_of_another_shape_is_not_a_notebook_naming_the_file(text: str, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    path.write_text(text)
    with pytest.raises(NotebookError) as caught:
        read_notebook(path, "notebooks/list.ipynb")
    assert caught.value.message == f"notebooks/list.ipynb: not a notebook ({reason})"
    assert caught.value.hint


def test_source_hash_ignores_outputs_and_execution_counts(tmp_path: Path) -> None:
    data = json.loads((NOTEBOOKS / "knn.ipynb").read_text())
    before = read_notebook(NOTEBOOKS / "knn.ipynb").source_hash
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 42
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
    rerun = tmp_path / "knn.ipynb"
    rerun.write_text(json.dumps(data))
    assert read_notebook(rerun).source_hash == before
    data["cells"][1]["source"] = "import math\n"
    rerun.write_text(json.dumps(data))
    assert read_notebook(rerun).source_hash != before


def test_cells_run_out_of_order_are_found_from_the_execution_counts(tmp_path: Path) -> None:
    from mlpack_cli.notebook.reader import execution_order_problem

    def saved(counts: list[int | None]) -> Path:
        cells = [{"cell_type": "markdown", "metadata": {}, "source": "# t"}] + [
            {"cell_type": "code", "metadata": {}, "source": f"x{i} = {i}", "outputs": [], "execution_count": n}
            for i, n in enumerate(counts)]
        path = tmp_path / "n.ipynb"
        path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
        return path

    problem = execution_order_problem(read_notebook(saved([1, 2, 4, 3, 5])).cells)
    assert problem is not None and problem.startswith(
        "cells were executed out of order: cell 5 (execution count 3) ran before cell 4 above it")
    assert execution_order_problem(read_notebook(saved([1, 2, 3, None, 7])).cells) is None  # gaps are fine
    assert execution_order_problem(read_notebook(saved([None, None])).cells) is None


@pytest.mark.parametrize("metadata", [{"kernelspec": 5}, {"language_info": "python"}, {"kernelspec": ["python3"]}])
def test_malformed_kernel_metadata_says_nothing_of_the_kernel(tmp_path: Path, metadata: dict) -> None:
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "execution_count": None, "outputs": [], "source": "x = 1"}]}))
    notebook = read_notebook(path)  # (it raised AttributeError)
    assert notebook.kernel == "python"
    assert [c.source for c in notebook.code_cells] == ["x = 1"]
