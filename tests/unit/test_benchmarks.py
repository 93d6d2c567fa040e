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
