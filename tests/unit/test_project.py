from __future__ import annotations

from pathlib import Path

import pytest

from mlpack_cli.project import find_project_root, load_project
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


# -- [tool.mlpack] against its schema ----------------------------------------------------------


def _project_with(tmp_path: Path, tool: str) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "churn-model"\n\n' + tool)
    return tmp_path


@pytest.mark.parametrize(
    ("tool", "message", "hint"),
    [
        ("[tool.mlpack]\npackage = 123\n",
         "tool.mlpack.package must be a string (an importable package name", 'Write package = "..."'),
        ('[tool.mlpack]\nnotebooks = ["notebooks"]\n',
         "tool.mlpack.notebooks must be a string (a directory path", 'Write notebooks = "..."'),
        ('[tool.mlpack]\nnotebooks = ""\n', "tool.mlpack.notebooks must be a non-empty string", "notebooks"),
        ('[tool.mlpack.ci]\ncontainer = "yes"\n', "tool.mlpack.ci.container must be true or false",
         "`container = true` or `container = false`"),
        ('[tool.mlpack.ci]\ndeployment-tier = "prod"\n',
         "tool.mlpack.ci.deployment-tier must be one of: production, staging", 'Use one of: "production"'),
        ('[tool.mlpack.ci]\npython-image = "python:3.11@sha256:abc"\n',
         "tool.mlpack.ci.python-image must be a string (a container image reference", "sha256:<64 hex digits>"),
        ('[tool.mlpack.ci]\naudit-ignore = ["GHSA-1234; rm -rf /"]\n',
         "tool.mlpack.ci.audit-ignore[0] must be a string (an advisory id", "Expected an advisory id"),
        ("[tool.mlpack.ci]\ndeploy-script = []\n",
         "tool.mlpack.ci.deploy-script must be a non-empty string or a non-empty list", "deploy-script"),
        ('[tool.mlpack.convert.keywords]\ntrain = "fit"\n',
         "tool.mlpack.convert.keywords.train must be a list of strings", "docs/convert.md"),
    ],
)
def test_a_value_the_schema_refuses_is_named_with_what_is_expected(
    tmp_path: Path, tool: str, message: str, hint: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_project(_project_with(tmp_path, tool))
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert message in caught.value.message and str(tmp_path / "pyproject.toml") in caught.value.message
    assert hint in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("tool", "message", "known"),
    [
        ('[tool.mlpack]\nnotebook = "nbs"\n', "[tool.mlpack] has an unknown key `notebook`: did you mean `notebooks`?",
         "ci, convert, notebooks, package"),
        ('[tool.mlpack.ci]\npython_image = "python:3.12"\n', "did you mean `python-image`?", "audit-ignore"),
        ('[tool.mlpack.convert.keywords]\ntrian = ["fit"]\n', "[tool.mlpack.convert.keywords] has an unknown key "
         "`trian`: did you mean `train`?", "evaluate, export, load, preprocess, skip, train"),
        ('[tool.mlpack]\ncolour = "blue"\n', "[tool.mlpack] has an unknown key `colour`", "package"),
    ],
)
def test_an_unknown_key_is_refused_with_the_closest_known_one(
    tmp_path: Path, tool: str, message: str, known: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_project(_project_with(tmp_path, tool))
    assert message in caught.value.message
    assert known in (caught.value.hint or "")
    if "colour" in tool:
        assert "did you mean" not in caught.value.message, "nothing close: no suggestion"


def test_every_documented_key_is_accepted(tmp_path: Path) -> None:
    tool = """\
[tool.mlpack]
package = "churn_model"
notebooks = "analysis"

[tool.mlpack.convert.keywords]
train = ["train", "fit"]
skip = ["scratch"]

[tool.mlpack.ci]
python-image = "python:3.11-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
buildkit-image = "moby/buildkit:rootless"
index = "https://nexus.example.org/repository/pypi/"
image = "registry.example.org/data/churn-model"
container = true
deploy = false
monitor = true
convert-check = false
environment = "review/$CI_COMMIT_REF_SLUG"
environment-url = "https://churn.example.org"
deployment-tier = "staging"
deploy-script = ["kubectl apply -f k8s/"]
mlpack-requirement = "mlpack-cli==1.4.0"
audit-ignore = ["GHSA-jjg7-2v4v-x38h", "PYSEC-2024-60", "CVE-2024-3651"]
jenkins-index-credentials = "nexus"
jenkins-registry-credentials = "registry"
"""
    settings = load_project(_project_with(tmp_path, tool))
    assert settings.package == "churn_model"
    assert settings.tool["ci"]["audit-ignore"][0] == "GHSA-jjg7-2v4v-x38h"
