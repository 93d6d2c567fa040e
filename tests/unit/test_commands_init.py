from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit
from validate_pyproject import api as validate_pyproject

from mlpack_cli.errors import EnvironmentProblem, ExitCode, InvalidInput
from mlpack_cli.files import Action
from mlpack_cli.commands.init import InitSettings, default_name, init_project, plan_init
from mlpack_cli.git import identity as git_identity

EXPECTED_FILES = {
    ".flake8", ".gitignore", ".gitlab-ci.yml", "Dockerfile", ".dockerignore", "README.md", "docs/index.md",
    "noxfile.py", "pyproject.toml", "src/churn_model/__init__.py", "src/churn_model/monitoring.py",
    "tests/test_smoke.py",
}


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def init(path: Path, **options: object) -> object:
    return init_project(InitSettings(path=path, **options))  # type: ignore[arg-type]


def test_empty_directory_gets_a_complete_project(tmp_path: Path) -> None:
    root = tmp_path / "churn-model"
    result = init(root)
    assert set(snapshot(root)) == EXPECTED_FILES
    assert (root / "notebooks").is_dir()
    assert {e.action for e in result.plan.entries} == {Action.CREATED}  # type: ignore[attr-defined]


def test_generated_pyproject_is_valid_pep621(tmp_path: Path) -> None:
    init(tmp_path / "p", name="Churn-Model", author='Ada "the first" Lovelace', email="ada@example.org",
         python=">=3.11", license="apache-2.0")
    data = tomlkit.parse((tmp_path / "p/pyproject.toml").read_text()).unwrap()
    validate_pyproject.Validator()(data)
    project = data["project"]
    assert project["name"] == "Churn-Model"
    assert project["requires-python"] == ">=3.11"
    assert project["license"] == "Apache-2.0", "the SPDX expression is canonicalised"
    assert project["authors"] == [{"name": 'Ada "the first" Lovelace', "email": "ada@example.org"}]
    assert data["tool"]["setuptools"]["packages"]["find"]["where"] == ["src"]
    assert data["tool"]["mlpack"] == {"notebooks": "notebooks", "package": "churn_model"}


def test_generated_python_files_parse_and_pass_flake8(tmp_path: Path) -> None:
    root = tmp_path / "churn"
    init(root, example=True)
    python_files = [p for p in root.rglob("*.py")]
    for path in python_files:
        ast.parse(path.read_text(), filename=str(path))
    lint = subprocess.run([sys.executable, "-m", "flake8", *map(str, python_files)], cwd=root,
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "churn"
    init(root, example=True, ci="both")
    before = snapshot(root)
    again = init(root, example=True, ci="both")
    assert snapshot(root) == before
    assert not again.plan.changed  # type: ignore[attr-defined]


def test_existing_commented_pyproject_is_merged_not_replaced(tmp_path: Path) -> None:
    user = (
        "# Hand-written; keep me.\n"
        "[project]\n"
        'name = "churn"  # published name\n'
        'version = "2.3.0"\n'
        'dependencies = ["pandas>=2"]\n'
    )
    (tmp_path / "pyproject.toml").write_text(user)
    (tmp_path / "README.md").write_text("# Our README\n")
    result = init(tmp_path)
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith("# Hand-written; keep me.\n[project]\nname = \"churn\"  # published name\n")
    data = tomlkit.parse(text).unwrap()
    assert data["project"]["version"] == "2.3.0"
    assert data["project"]["dependencies"] == ["pandas>=2"]
    assert data["build-system"]["build-backend"] == "setuptools.build_meta"
    assert result.conflicts == [], "defaults nobody asked for (version, license...) never conflict"  # type: ignore
    assert (tmp_path / "README.md").read_text() == "# Our README\n"
    actions = {e.path.as_posix(): e.action for e in result.plan.entries}  # type: ignore[attr-defined]
    assert actions["README.md"] is Action.SKIPPED
    assert actions["pyproject.toml"] is Action.UPDATED
    assert (tmp_path / "src/churn/__init__.py").exists(), "the name comes from the existing pyproject"


def test_force_replaces_files_and_values_asked_for_but_never_the_version(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "churn"\nversion = "2.3.0"\ndescription = "Ours"\n')
    (tmp_path / "README.md").write_text("# Ours\n")
    init(tmp_path, force=True, description="Predicts churn.")
    project = tomlkit.parse((tmp_path / "pyproject.toml").read_text())["project"]
    assert project["version"] == "2.3.0"
    assert project["description"] == "Predicts churn."
    assert (tmp_path / "README.md").read_text().startswith("# churn\n")


def test_package_setting_from_the_environment_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPACK_PACKAGE", "churn_core")
    init(tmp_path / "churn")
    assert (tmp_path / "churn/src/churn_core/__init__.py").is_file()


def test_an_empty_name_is_rejected_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a valid project name"):
        init(tmp_path / "p", name="")


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    result = init_project(InitSettings(path=tmp_path / "p"), dry_run=True)
    assert not (tmp_path / "p").exists()
    assert any(e.action is Action.CREATED for e in result.plan.entries)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "bad name"}, "not a valid project name"),
        ({"name": "class"}, "keyword"),
        ({"name": "json"}, "standard-library"),
        ({"python": "3.10+"}, "not a version specifier"),
        ({"license": "MIT OR nonsense("}, "not an SPDX license expression"),
        ({"ci": "travis"}, "unknown CI kind"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_written(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        init(tmp_path / "p", **options)
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert caught.value.hint
    assert not (tmp_path / "p").exists()


def test_invalid_existing_pyproject_stops_everything(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n")
    with pytest.raises(InvalidInput, match=r"not valid TOML \(line 1"):
        init(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["pyproject.toml"]


def test_missing_parent_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="does not exist"):
        init(tmp_path / "no" / "such" / "parent")


def test_ci_choice_selects_the_pipeline_files(tmp_path: Path) -> None:
    def files_for(ci: str) -> set[str]:
        plan = plan_init(InitSettings(path=tmp_path / ci, ci=ci)).plan
        return {e.path.as_posix() for e in plan.entries} & {".gitlab-ci.yml", "Jenkinsfile", "Dockerfile"}

    assert files_for("gitlab") == {".gitlab-ci.yml", "Dockerfile"}
    assert files_for("jenkins") == {"Jenkinsfile", "Dockerfile"}
    assert files_for("both") == {".gitlab-ci.yml", "Jenkinsfile", "Dockerfile"}
    assert files_for("none") == set()


def test_defaults_come_from_the_directory_and_git(tmp_path: Path) -> None:
    assert default_name(tmp_path / "fraud-detector") == "fraud-detector"
    assert git_identity(tmp_path) == ("Ada Lovelace", "ada@example.org")  # from the isolated git config
