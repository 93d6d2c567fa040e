"""Every benchmark script is documented in docs/development.md and still imports (so it can run)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "timing")  # timing: shared helpers


def test_every_benchmark_is_listed_with_how_to_run_it() -> None:
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)\.py` \|.*\| `python benchmarks/\1\.py[^`]*` \|$", text, flags=re.MULTILINE))
    assert listed == set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_benchmark_imports_and_has_a_main(name: str, benchmark_script: Callable[[str], ModuleType]) -> None:
    module = benchmark_script(name)
    assert callable(getattr(module, "main", None)), f"benchmarks/{name}.py has no main()"


@pytest.mark.parametrize(("value", "text", "shown"), [
    (0.956140350877193, "Accuracy: 95.61%", True),  # printed as a rounded percentage
    (0.956140350877193, "acc = 0.9561", True),
    (0.956140350877193, "acc = 0.9571", False),  # another model's digits
    (3, "n_test 3\n", True),
    (3, "n_test 13\n", False),
    ("  precision  recall", "report:\n  precision  recall\n", True),
    (0.5, "no number here", False),
])
def test_the_fidelity_script_reads_a_printed_value_off_its_cell(
        value: object, text: str, shown: bool, benchmark_script: Callable[[str], ModuleType]) -> None:
    assert benchmark_script("corpus_fidelity").shows(value, text) is shown


def test_the_fidelity_script_finds_the_cell_of_a_value_convert_named(
        tmp_path: Path, benchmark_script: Callable[[str], ModuleType]) -> None:
    module = tmp_path / "m.py"
    module.write_text("def evaluate(m, X, y):\n    # notebook cell 4\n    pred = m.predict(X)\n\n"
                      "    # notebook cell 7\n    accuracy = (pred == y).mean()\n    return accuracy\n")
    assert benchmark_script("corpus_fidelity").named_cells(module, {"accuracy"}) == {"accuracy": 7}


def test_the_fidelity_script_knows_a_version_from_a_shown_value(benchmark_script: Callable[[str], ModuleType]) -> None:
    versioned = benchmark_script("corpus_fidelity").versioned
    assert versioned("df_1", "df = pd.DataFrame(rows)\ndf.set_index('C')")
    assert not versioned("accuracy_2", "print(accuracy_score(y, p))")
    assert not versioned("accuracy", "accuracy = 1")
