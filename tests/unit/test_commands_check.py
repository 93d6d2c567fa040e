"""check: flake8 and pytest as real subprocesses, concurrently, with their failures kept."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from mlpack_cli.commands.check import CheckSettings, ToolRun, require_ok, run_checks, run_tools
from mlpack_cli.envs import project_python
from mlpack_cli.errors import CheckFailed, EnvironmentProblem

PYPROJECT = '[project]\nname = "tiny"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A project whose tests need no install: the module is imported from tests/ itself."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / ".flake8").write_text("[flake8]\nmax-line-length = 40\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_tiny.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    return tmp_path


def test_both_pass(tiny: Path) -> None:
    result = run_checks(CheckSettings(root=tiny, python=Path(sys.executable)))
    assert result.ok
    assert {run.name: run.summary for run in result.runs}["flake8"] == "no problems"
    assert "1 passed" in {run.name: run.summary for run in result.runs}["pytest"]
    require_ok(result)


def test_flake8_reads_the_projects_config(tiny: Path) -> None:
    long_line = "def test_ok():\n    assert 'a fairly long line' == 'a fairly long line'\n"
    (tiny / "tests" / "test_tiny.py").write_text(long_line)
    result = run_checks(CheckSettings(root=tiny, tests=False))
    (flake8,) = result.runs
    assert not flake8.ok
    assert "tests/test_tiny.py:2:41: E501 line too long (55 > 40 characters)" in flake8.output


def test_a_failing_test_is_shown_and_raises_check_failed(tiny: Path) -> None:
    (tiny / "tests" / "test_tiny.py").write_text("def test_bad():\n    assert 2 == 3\n")
    result = run_checks(CheckSettings(root=tiny, lint=False, python=Path(sys.executable)))
    assert not result.ok
    with pytest.raises(CheckFailed) as caught:
        require_ok(result)
    assert "pytest (1 failed" in caught.value.message
    assert "assert 2 == 3" in caught.value.message
    assert caught.value.exit_code == 3


def test_no_tests_is_a_failure_not_a_pass(tiny: Path) -> None:
    (tiny / "tests" / "test_tiny.py").write_text("")
    result = run_checks(CheckSettings(root=tiny, lint=False, python=Path(sys.executable)))
    assert not result.ok
    assert result.runs[0].summary == "no tests collected"


def test_tools_run_concurrently(tmp_path: Path) -> None:
    sleep = [sys.executable, "-c", "import time; time.sleep(1)"]
    started = time.perf_counter()
    runs = run_tools({"a": (sleep, None), "b": (sleep, None)}, tmp_path)
    assert all(run.ok for run in runs)
    assert time.perf_counter() - started < 1.8  # one after the other would take 2 s


def test_nothing_to_check_is_an_error(tiny: Path) -> None:
    with pytest.raises(EnvironmentProblem):
        run_checks(CheckSettings(root=tiny, lint=False, tests=False))


def test_project_python_prefers_the_active_virtualenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")
    monkeypatch.setenv("VIRTUAL_ENV", str(env))
    assert project_python(tmp_path) == env / "bin" / "python"
    monkeypatch.delenv("VIRTUAL_ENV")
    assert project_python(tmp_path) == Path(sys.executable)


def test_flake8_summary_counts_problems() -> None:
    run = ToolRun("flake8", ("flake8",), 1, "a.py:1:1: F401 x\nb.py:2:1: E302 y\n", 0.1)
    assert run.summary == "2 problems"
