"""What check and publish print: every result once (the live step lines and the summary never repeat)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from mlpack_cli.errors import ExitCode


def _project(root: Path, test_body: str) -> Path:
    (root / "pyproject.toml").write_text('[project]\nname = "onceonly"\nversion = "0.1.0"\n')
    (root / "tests").mkdir()
    (root / "tests" / "test_a.py").write_text(f"def test_a():\n    {test_body}\n")
    return root


def _lines_about(tool: str, stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(rf"[✓✗] {tool}\b", line)]


def test_check_prints_each_summary_line_once(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", _project(tmp_path, "assert True"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _lines_about("flake8", result.stdout) == [line for line in result.stdout.splitlines()
                                                     if line.startswith("✓ flake8: no problems (")]
    assert len(_lines_about("flake8", result.stdout)) == 1
    assert len(_lines_about("pytest", result.stdout)) == 1
    assert "→ pytest ..." in result.stdout  # still shown as it starts


def test_a_failing_check_is_summed_up_once_after_its_output(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", _project(tmp_path, "assert False"), "--tests-only")
    assert result.exit_code == ExitCode.CHECK_FAILED
    (line,) = _lines_about("pytest", result.stdout)
    assert line.startswith("✗ pytest: 1 failed")
    assert result.stdout.index("assert False") < result.stdout.index(line)
