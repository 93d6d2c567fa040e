"""`mlpack check` from the command line: failures shown, exit code 3."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from mlpack_cli.errors import ExitCode


def _project(root: Path) -> Path:
    (root / "pyproject.toml").write_text('[project]\nname = "clicheck"\nversion = "0.1.0"\n')
    (root / "tests").mkdir()
    (root / "tests" / "test_a.py").write_text("import os\n\n\ndef test_a():\n    assert True\n")
    return root


def test_a_lint_failure_is_shown_and_exits_3(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", _project(tmp_path), "--lint-only")
    assert result.exit_code == ExitCode.CHECK_FAILED
    assert "tests/test_a.py:1:1: F401 'os' imported but unused" in result.stdout
    assert "✗ flake8: 1 problem" in result.stdout
    assert result.stderr.startswith("Error: checks failed: flake8 (1 problem)")


def test_tests_only_passes_and_says_so(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", _project(tmp_path), "--tests-only")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "✓ pytest: 1 passed" in result.stdout
    assert "flake8" not in result.stdout


def test_lint_only_and_tests_only_exclude_each_other(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", _project(tmp_path), "--lint-only", "--tests-only")
    assert result.exit_code == ExitCode.USAGE
