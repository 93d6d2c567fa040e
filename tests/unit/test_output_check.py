"""What ``mlpack check`` prints: every result once (the live step lines and the summary never repeat)."""

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


# -- the presenter itself, given a result -----------------------------------------------------------

def _runs() -> list:
    from mlpack_cli.commands.check import ToolRun

    return [ToolRun("flake8", ("flake8", "src"), 0, "", 0.4),
            ToolRun("pytest", ("python", "-m", "pytest"), 1,
                    "def test_a():\n>   assert False\n== 1 failed in 0.1s ==\n", 1.25)]


def test_a_failure_is_shown_in_full_then_each_tool_in_one_line(printed: Callable[[], tuple[str, str]]) -> None:
    from mlpack_cli.commands.check import CheckResult
    from mlpack_cli.output import check as output

    output.show(CheckResult(_runs(), notes=["tested demo-1.0-py3-none-any.whl"]))
    out, _ = printed()
    assert ">   assert False" in out  # the failing tool's output, for the user to read
    lines = out.splitlines()
    assert lines[-2:] == ["✓ flake8: no problems (0.4s)", "✗ pytest: 1 failed in 0.1s (1.2s)"]
    assert "tested demo-1.0-py3-none-any.whl" in lines


def test_verbose_shows_a_passing_tool_too_and_quiet_nothing(printed: Callable[[], tuple[str, str]]) -> None:
    from mlpack_cli.commands.check import CheckResult, ToolRun
    from mlpack_cli.output import check as output
    from mlpack_cli.output.console import Verbosity, set_verbosity

    passing = CheckResult([ToolRun("pytest", ("pytest",), 0, "collected 3 items\n== 3 passed ==\n", 1.0)])
    output.show(passing)
    assert "collected 3 items" not in printed()[0]
    set_verbosity(Verbosity.VERBOSE)
    output.show(passing)
    assert "collected 3 items" in printed()[0]
    set_verbosity(Verbosity.QUIET)
    output.show(passing)
    assert printed()[0] == ""


def test_the_json_report_has_the_documented_keys(
    printed: Callable[[], tuple[str, str]], json_schema: Callable[[str, object], tuple[set[str], set[str]]],
) -> None:
    import json

    from mlpack_cli.commands.check import CheckResult
    from mlpack_cli.output import check as output

    output.show(CheckResult(_runs()), as_json=True)
    report = json.loads(printed()[0])
    documented, present = json_schema("check.md", report)
    assert documented and documented <= present, documented - present
    assert [(tool["name"], tool["ok"]) for tool in report["tools"]] == [("flake8", True), ("pytest", False)]
