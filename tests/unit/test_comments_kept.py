"""benchmarks/comments_kept.py finds a lost comment, and convert loses none on our fixture notebooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = [ROOT / "tests" / "fixtures" / "differential", ROOT / "tests" / "fixtures" / "notebooks"]


@pytest.fixture
def bench(benchmark_script: Callable[[str], ModuleType]) -> ModuleType:
    return benchmark_script("comments_kept")


def _notebook(tmp_path: Path, *cells: str) -> Path:
    path = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def test_a_comment_of_a_kept_statement_missing_from_the_module_is_lost(tmp_path: Path, bench: ModuleType) -> None:
    notebook = _notebook(tmp_path, "# the data\nx = 1  # one\n%time y = 2\nprint(x)  # shown")
    tally = bench.Tally()
    bench.check(notebook, "x = 1  # one\n", tally)  # `# the data` is missing above `x = 1`
    assert tally.lost == ["n.ipynb: cell 1, line 1: # the data"]
    assert tally.kept == 1  # `# one`
    assert tally.dropped == 1  # `# shown`: print(x) is not in the module


def test_a_comment_above_a_magic_goes_with_the_magic(tmp_path: Path, bench: ModuleType) -> None:
    notebook = _notebook(tmp_path, "# reload edited modules\n%autoreload 2\nimport sys")
    tally = bench.Tally()
    bench.check(notebook, "import sys\n", tally)
    assert (tally.lost, tally.dropped) == ([], 1)


def test_convert_keeps_every_comment_of_the_code_it_keeps(bench: ModuleType) -> None:
    tally = bench.measure(sorted(n for d in FIXTURES for n in d.glob("*.ipynb")))
    assert tally.kept > 10, "the fixtures have comments in code that convert keeps"
    assert tally.lost == []


def test_a_statement_the_report_dropped_is_not_kept_because_its_first_line_is_common(
        tmp_path: Path, bench: ModuleType) -> None:
    notebook = _notebook(tmp_path, "try:\n    f(x)  # rejects bad shapes\nexcept ValueError:\n    pass")
    tally = bench.Tally()
    bench.check(notebook, "try:\n    g()\nexcept OSError:\n    pass\n", tally, {1: [(1, 4)]})
    assert (tally.lost, tally.kept, tally.dropped) == ([], 0, 1)
    bench.check(notebook, "try:\n    g()\nexcept OSError:\n    pass\n", tally)  # without the report: lost
    assert tally.lost == ["n.ipynb: cell 1, line 2: # rejects bad shapes"]


def test_the_comment_of_an_import_repeated_in_a_later_cell_is_kept(tmp_path: Path, bench: ModuleType) -> None:
    # the repeat is dropped (the name is imported at module level already); its comment is not
    notebook = _notebook(
        tmp_path,
        "import json\nimport os\nos.environ['KERAS_BACKEND'] = 'jax'\nimport sys",
        "# @title\nimport os\n# about sys\nimport sys\nimport json  # again\n\n"
        "def f(x):\n    return os.path.join(x, sys.argv[0], json.dumps(1))",
        "print(f('a'))",
    )
    tally = bench.measure([notebook])
    assert tally.lost == [] and tally.kept == 3
