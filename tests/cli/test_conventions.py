"""Conventions every command follows: workflow order, readable help, choices, --quiet/--verbose, --json."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlpack_cli.errors import ExitCode

COMMANDS = ["init", "convert", "check", "build", "publish", "release", "ci", "quickstart"]


def test_commands_are_listed_in_workflow_order(run_cli: Callable[..., Result]) -> None:
    shown = run_cli("--help").stdout
    listed = re.findall(r"^  (\w+)  ", shown.split("Commands:")[1], flags=re.MULTILINE)
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_values_not_python_types(run_cli: Callable[..., Result], command: str) -> None:
    shown = run_cli(command, "--help").stdout
    assert not re.search(r"<(str|list\[\w+\]|Path)>", shown), shown
    assert "-q, --quiet" in shown and "-v, --verbose" in shown


@pytest.mark.parametrize(
    ("command", "choices"),
    [("init", "gitlab|jenkins|both|none"), ("build", "uv|pip"), ("ci", "gitlab|jenkins|both"),
     ("release", "patch|minor|major|VERSION")],
)
def test_help_lists_the_choices(run_cli: Callable[..., Result], command: str, choices: str) -> None:
    assert choices in run_cli(command, "--help").stdout


def test_quiet_prints_nothing_but_still_works(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    result = run_cli("init", tmp_path / "demo", "--quiet")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert (tmp_path / "demo" / "pyproject.toml").is_file()


def test_quiet_still_reports_errors(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    result = run_cli("init", tmp_path / "demo", "--name", "not a name!", "-q")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr.startswith("Error: ")


def test_quiet_and_verbose_exclude_each_other(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    result = run_cli("init", tmp_path / "demo", "-q", "-v")
    assert result.exit_code == ExitCode.USAGE
    assert "--quiet and --verbose exclude each other" in result.stderr
    assert not (tmp_path / "demo").exists()


@pytest.fixture
def project(run_cli: Callable[..., Result], tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    assert run_cli("init", root, "--quiet").exit_code == 0
    return root


def test_check_json_is_the_only_thing_on_stdout(run_cli: Callable[..., Result], project: Path) -> None:
    result = run_cli("check", project, "--lint-only", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [tool["name"] for tool in report["tools"]] == ["flake8"]
    assert report["tools"][0]["returncode"] == 0


def test_check_json_reports_a_failure_and_keeps_the_exit_code(run_cli: Callable[..., Result], project: Path) -> None:
    (project / "src" / "demo" / "bad.py").write_text("import os\n")
    result = run_cli("check", project, "--lint-only", "--json")
    assert result.exit_code == ExitCode.CHECK_FAILED
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert "F401" in report["tools"][0]["output"]


def test_verbose_check_shows_output_of_tools_that_passed(run_cli: Callable[..., Result], project: Path) -> None:
    (project / "src" / "demo" / "note.py").write_text("x = 1  # noqa: E225\n")
    normal = run_cli("check", project, "--lint-only")
    verbose = run_cli("check", project, "--lint-only", "--verbose")
    assert normal.exit_code == verbose.exit_code == 0
    assert "flake8 output" not in normal.stdout
    assert "flake8 output" in verbose.stdout


def test_shell_completion_script_is_available() -> None:
    # Typer detects the user's shell unless told not to (its own switch for this); then the
    # option takes the shell's name, whatever shell runs the tests
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run([sys.executable, "-m", "mlpack_cli", "--show-completion", "bash"],
                           capture_output=True, text=True, check=False, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "complete " in shown.stdout and "_MLPACK_COMPLETE" in shown.stdout
