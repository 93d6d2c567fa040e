from __future__ import annotations

from pathlib import Path

import pytest

from mlpack_cli.config import find_project_root, load_project
from mlpack_cli.errors import EnvironmentProblem, ExitCode, InvalidInput

PYPROJECT = """\
[project]
name = "Churn-Model"
version = "1.2.0"

[tool.mlpack]
notebooks = "analysis"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "src" / "deep").mkdir(parents=True)
    return tmp_path


def test_values_come_from_pyproject_with_defaults_filled_in(project: Path) -> None:
    settings = load_project(project)
    assert (settings.name, settings.version, settings.package) == ("Churn-Model", "1.2.0", "churn_model")
    assert settings.notebooks == project / "analysis"
    assert settings.package_dir == project / "src" / "churn_model"


def test_the_project_is_found_from_a_subdirectory(project: Path) -> None:
    assert find_project_root(project / "src" / "deep") == project.resolve()


def test_precedence_cli_over_environment_over_pyproject(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPACK_NOTEBOOKS", "from-env")
    assert load_project(project).notebooks == project / "from-env"
    assert load_project(project, {"notebooks": "from-cli"}).notebooks == project / "from-cli"
    assert load_project(project, {"notebooks": None}).notebooks == project / "from-env"


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = 1.2.3.4\n')
    with pytest.raises(InvalidInput) as caught:
        load_project(tmp_path)
    assert "pyproject.toml is not valid TOML (line 3" in caught.value.message
    assert caught.value.hint


def test_no_pyproject_anywhere(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem) as caught:
        load_project(tmp_path)
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert "mlpack init" in (caught.value.hint or "")


def test_bad_package_setting_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.mlpack]\npackage = "json"\n')
    with pytest.raises(InvalidInput, match="standard-library"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("project = 3\n", "[project] = 3 is not a table"),
        ('[project]\nname = "x"\n[tool]\nmlpack = "oops"\n', "[tool.mlpack] = 'oops' is not a table"),
        ('[project]\nname = "x"\nversion = "banana"\n', "project.version = 'banana' is not a PEP 440 version"),
        ('[project]\nname = "x"\ndependencies = "numpy"\n', "project.dependencies = 'numpy' is not a list"),
        ('[project]\nname = "x"\ndependencies = ["numpy>>1"]\n', "'numpy>>1' is not a valid requirement"),
        ('[project]\nname = "x"\n[project.optional-dependencies]\ntest = ["py test"]\n',
         "project.optional-dependencies.test = 'py test' is not a valid requirement"),
        ('[project]\nname = "x"\nrequires-python = "3.10+"\n', "is not a version specifier"),
        ("[project]\nname = 7\n", "project.name = 7 is not a string"),
    ],
)
def test_values_of_the_wrong_shape_are_named_by_key(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    with pytest.raises(InvalidInput) as caught:
        load_project(tmp_path)
    assert message in caught.value.message
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert "pyproject.toml" in (caught.value.hint or "")
