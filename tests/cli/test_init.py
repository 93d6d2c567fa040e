from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlpack_cli import cli


def test_init_prints_a_table_of_created_files(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("init", tmp_path / "demo", "--example")
    assert result.exit_code == 0, result.output
    for name in ("pyproject.toml", "src/demo/__init__.py", "notebooks/houses.ipynb", "created"):
        assert name in result.stdout
    assert "ready in" in result.stdout


def test_second_init_says_nothing_changed(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    run_cli("init", tmp_path)
    result = run_cli("init", tmp_path)
    assert result.exit_code == 0
    assert "Nothing to change" in result.stdout
    assert "created" not in result.stdout


def test_dry_run_lists_but_writes_nothing(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("init", tmp_path / "p", "--dry-run")
    assert result.exit_code == 0
    assert "would be created" in result.stdout
    assert "dry run" in result.stdout
    assert not (tmp_path / "p").exists()


def test_conflicts_with_what_was_asked_for_are_warned_about_on_stderr(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "churn"\nversion = "2.3.0"\nlicense = "MIT"\n')
    result = run_cli("init", tmp_path, "--license", "Apache-2.0")
    assert result.exit_code == 0
    assert "project.license is 'MIT'; mlpack would set 'Apache-2.0'" in result.stderr
    assert "--force" in result.stderr
    assert "version" not in result.stderr, "the starting version is a default, never a conflict"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--name", "not valid!"], 4, "Error: 'not valid!' is not a valid project name"),
        (["--name", "import"], 4, "keyword"),
        (["--license", "Nope"], 4, "SPDX"),
    ],
)
def test_bad_input_exits_with_a_clear_error_and_no_traceback(
    tmp_path: Path, run_cli: Callable[..., Result], args: list[str], code: int, message: str
) -> None:
    result = run_cli("init", tmp_path / "p", *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Hint: " in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


def test_invalid_toml_error_names_file_and_line(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nname = "y"\n')
    result = run_cli("init", tmp_path)
    assert result.exit_code == 4
    assert f"Error: {tmp_path / 'pyproject.toml'} is not valid TOML (line 3" in result.stderr


def test_prompts_only_on_a_terminal(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    answers = "fraud-detector\nFlags odd payments.\nGrace Hopper\ngrace@example.org\n"
    result = run_cli("init", tmp_path / "p", input=answers)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "p/pyproject.toml").read_text()
    assert 'name = "fraud-detector"' in text
    assert 'description = "Flags odd payments."' in text
    assert '{ name = "Grace Hopper", email = "grace@example.org" }' in text


def test_without_a_terminal_defaults_come_from_directory_and_git(
    tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("init", tmp_path / "sales-forecast")
    assert result.exit_code == 0
    text = (tmp_path / "sales-forecast/pyproject.toml").read_text()
    assert 'name = "sales-forecast"' in text
    assert '{ name = "Ada Lovelace", email = "ada@example.org" }' in text


def test_version_and_help(run_cli: Callable[..., Result]) -> None:
    from mlpack_cli import __version__

    assert run_cli("--version").stdout == f"mlpack {__version__}\n"
    help_text = run_cli("--help").stdout
    assert "init" in help_text


def test_ctrl_c_exits_130_without_a_traceback(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlpack_cli.commands import init as scaffold

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scaffold, "init_project", interrupted)
    result = run_cli("init", tmp_path)
    assert result.exit_code == 130
    assert result.stderr == "Interrupted.\n"
    assert "Traceback" not in result.output


def test_ctrl_d_at_a_prompt_exits_130(
    tmp_path: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    result = run_cli("init", tmp_path / "p", input="")  # end of input at the first question
    assert result.exit_code == 130
    assert "Interrupted." in result.stderr
    assert not (tmp_path / "p").exists()


def test_piped_output_is_not_cut_to_80_columns(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    deep = tmp_path / "a-directory-with-a-rather-long-name"
    result = run_cli("init", deep, "--name", "a-project-name-long-enough-to-need-more-than-eighty-columns")
    assert result.exit_code == 0
    assert "src/a_project_name_long_enough_to_need_more_than_eighty_columns/__init__.py" in result.stdout


@pytest.mark.parametrize("content", ["project = 3\n", '[project]\nname = "x"\n[tool]\nmlpack = "oops"\n'])
def test_pyproject_values_of_the_wrong_type_are_an_error_not_a_crash(
    tmp_path: Path, run_cli: Callable[..., Result], content: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    result = run_cli("init", tmp_path)
    assert result.exit_code == 4
    assert "is not a table" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text() == content
    assert [p.name for p in tmp_path.iterdir()] == ["pyproject.toml"]
