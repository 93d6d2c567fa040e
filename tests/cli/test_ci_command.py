"""`mlpack ci`: the command writes what the library renders, and refuses to drop edits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlpack_cli.commands import ci
from mlpack_cli.errors import ExitCode


@pytest.fixture
def project(tmp_path: Path, run_cli: Callable[..., Result]) -> Path:
    root = tmp_path / "churn-model"
    assert run_cli("init", root, "--ci", "none").exit_code == 0
    return root


def test_ci_both_writes_pipelines_dockerfile_and_monitoring(project: Path, run_cli: Callable[..., Result]) -> None:
    (project / "src/churn_model/monitoring.py").unlink(missing_ok=True)
    result = run_cli("ci", "both", project)
    assert result.exit_code == 0, result.output
    for name in (".gitlab-ci.yml", "Jenkinsfile", "Dockerfile", ".dockerignore", "monitoring.py"):
        assert name in result.stdout
        assert list(project.rglob(name)), name


def test_options_override_the_pyproject_table(project: Path, run_cli: Callable[..., Result]) -> None:
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.mlpack.ci]\nenvironment = "staging"\n')
    result = run_cli("ci", "gitlab", project, "--no-container", "--index", "pypi", "--deployment-tier", "staging")
    assert result.exit_code == 0, result.output
    text = (project / ".gitlab-ci.yml").read_text()
    options = ci.CiOptions.from_tool({"environment": "staging", "container": False, "index": "pypi",
                                      "deployment-tier": "staging"}, name="churn-model", package="churn_model")
    assert text == ci.render_pipeline("gitlab", options)
    assert not (project / "Dockerfile").exists()


def test_edited_file_is_refused_with_exit_5_then_shown_then_forced(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    assert run_cli("ci", "jenkins", project).exit_code == 0
    jenkinsfile = project / "Jenkinsfile"
    jenkinsfile.write_text(jenkinsfile.read_text().replace("timestamps()", "timestamps()\n        retry(2)"))
    edited = jenkinsfile.read_text()

    refused = run_cli("ci", "jenkins", project)
    assert refused.exit_code == ExitCode.CONFLICT
    assert "Error: Jenkinsfile differ(s)" in refused.stderr and "Hint:" in refused.stderr
    assert jenkinsfile.read_text() == edited

    shown = run_cli("ci", "jenkins", project, "--dry-run")
    assert shown.exit_code == refused.exit_code == ExitCode.CONFLICT  # the dry run predicts the real run
    assert "-        retry(2)" in shown.stdout and "dry run" in shown.stdout
    assert "Error: Jenkinsfile differ(s)" in shown.stderr
    assert "Hint: The diff above shows them" in shown.stderr and "Nothing would be written" in shown.stderr
    assert jenkinsfile.read_text() == edited

    shown_forced = run_cli("ci", "jenkins", project, "--dry-run", "--force")
    assert shown_forced.exit_code == 0 and "would be replaced" in shown_forced.stdout
    assert jenkinsfile.read_text() == edited

    forced = run_cli("ci", "jenkins", project, "--force")
    assert forced.exit_code == 0 and "replaced" in forced.stdout
    assert "retry(2)" not in jenkinsfile.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gitlab", "--index", "https://me:token@example.org/"), "appears to contain a credential"),
    ],
)
def test_bad_input_exits_4(project: Path, run_cli: Callable[..., Result], args: tuple[str, ...], message: str) -> None:
    result = run_cli("ci", args[0], project, *args[1:])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert message in result.stderr
    assert "\nHint: " in result.stderr
    assert not (project / ".gitlab-ci.yml").exists()


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("travis",), "'gitlab', 'jenkins', 'both'"),
        (("gitlab", "--deployment-tier", "prod"), "'production', 'staging', 'testing', 'development', 'other'"),
    ],
)
def test_an_unknown_choice_is_a_usage_error_listing_the_choices(
    project: Path, run_cli: Callable[..., Result], args: tuple[str, ...], choices: str
) -> None:
    result = run_cli("ci", args[0], project, *args[1:])
    assert result.exit_code == ExitCode.USAGE
    assert f"is not one of {choices}" in result.stderr
    assert not (project / ".gitlab-ci.yml").exists()


def test_a_wrongly_typed_setting_says_what_to_write(project: Path, run_cli: Callable[..., Result]) -> None:
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.mlpack.ci]\ncontainer = "yes"\n')
    result = run_cli("ci", "gitlab", project)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "pyproject.toml: tool.mlpack.ci.container must be true or false" in result.stderr
    assert "not 'yes'" in result.stderr and "Traceback" not in result.output
    assert "Hint: Write `container = true` or `container = false` (a TOML boolean, without quotes)" in result.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tool.mlpack]\nnotebook = "nbs"\n', "[tool.mlpack] has an unknown key `notebook`: did you mean `notebooks`?"),
        ("[tool.mlpack.ci]\ncontaner = false\n",
         "[tool.mlpack.ci] has an unknown key `contaner`: did you mean `container`?"),
        ('[tool.mlpack.ci]\npython-image = "python:3.11@sha256:abc"\n', "tool.mlpack.ci.python-image must be"),
        ('[tool.mlpack.ci]\naudit-ignore = "GHSA-1234-5678-9abc"\n', "tool.mlpack.ci.audit-ignore must be a list"),
    ],
)
def test_a_bad_pyproject_table_exits_4_naming_the_key(
    project: Path, run_cli: Callable[..., Result], table: str, message: str
) -> None:
    text = (project / "pyproject.toml").read_text()
    if table.startswith("[tool.mlpack]\n"):  # init wrote that table: add the key to it
        text = text.replace("[tool.mlpack]\n", table, 1)
    else:
        text += "\n" + table
    (project / "pyproject.toml").write_text(text)
    result = run_cli("ci", "gitlab", project)
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert message in result.stderr and "\nHint: " in result.stderr
    assert "Traceback" not in result.output
    assert not (project / ".gitlab-ci.yml").exists()


def test_outside_a_project_exits_10(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("ci", "gitlab", tmp_path)
    assert result.exit_code == ExitCode.ENVIRONMENT
    assert "no pyproject.toml found" in result.stderr


def test_ci_says_in_one_line_why_the_image_serves_nothing(project: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("ci", "gitlab", project)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("No serving module")]
    assert "defines MODEL_PATH, load_model() and predict()" in " ".join(result.stdout.split())
