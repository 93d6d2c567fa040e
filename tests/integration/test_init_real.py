"""End to end, as a user gets it: mlpack's own wheel, installed (not editable) into a fresh
virtualenv, runs `mlpack init`; the generated project then builds with pypa build and its own
tests pass against its installed wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, mlpack_wheel: Path, module_caches: None) -> Path:
    """A fresh virtualenv (with pip, which a test below uses) with mlpack installed from its wheel;
    returns the venv's bin directory. uv installs it: the pip install of the same wheel is what
    test_quickstart.py tests, here it would only cost minutes."""
    import uv

    target = tmp_path_factory.mktemp("user-venv") / "venv"
    for command in (["venv", "--quiet", "--seed", "--python", sys.executable, target],
                    ["pip", "install", "--quiet", "--python", target / "bin/python", mlpack_wheel]):
        subprocess.run([uv.find_uv_bin(), *map(str, command)], check=True, capture_output=True, text=True)
    return target / "bin"


def run(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_wheel_carries_every_template(mlpack_wheel: Path) -> None:
    shipped = {
        name.removeprefix("mlpack_cli/templates/")
        for name in zipfile.ZipFile(mlpack_wheel).namelist()
        if name.startswith("mlpack_cli/templates/")
    }
    in_tree = {
        p.relative_to(TEMPLATES).as_posix()
        for p in TEMPLATES.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert in_tree <= shipped, sorted(in_tree - shipped)
    assert not any(name.startswith(("tests/", "mlpack/")) for name in zipfile.ZipFile(mlpack_wheel).namelist())


def test_templates_are_read_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    where = run(installed / "python", "-c", "import mlpack_cli.templates as t; print(t.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent)


def test_init_then_build_then_the_generated_tests_pass(installed: Path, tmp_path: Path) -> None:
    result = run(installed / "mlpack", "init", "churn-model", "--example", "--ci", "both", cwd=tmp_path)
    assert "ready in" in result.stdout
    project = tmp_path / "churn-model"
    expected = {
        ".flake8", ".gitignore", ".gitlab-ci.yml", "Jenkinsfile", "README.md", "docs/index.md",
        "noxfile.py", "pyproject.toml", "src/churn_model/__init__.py", "tests/test_smoke.py",
        "notebooks/houses.ipynb", "data/houses.csv", "Dockerfile", ".dockerignore",
        "src/churn_model/monitoring.py",
    }
    assert expected <= {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}

    again = run(installed / "mlpack", "init", "churn-model", "--example", "--ci", "both", cwd=tmp_path)
    assert "Nothing to change" in again.stdout

    run(installed / "python", "-m", "build", "--outdir", "dist", ".", cwd=project)
    wheels = list((project / "dist").glob("churn_model-0.1.0-py3-none-any.whl"))
    assert len(wheels) == 1, list((project / "dist").iterdir())
    assert "churn_model/__init__.py" in zipfile.ZipFile(wheels[0]).namelist()

    run(installed / "python", "-m", "pip", "install", "--quiet", wheels[0], cwd=project)
    tests = run(installed / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert "2 passed" in tests.stdout
    lint = subprocess.run([installed / "python", "-m", "flake8"], cwd=project, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_mlpack_runs_as_a_module_too(installed: Path, tmp_path: Path) -> None:
    done = run(installed / "python", "-m", "mlpack_cli", "--version", cwd=tmp_path)
    assert done.stdout.startswith("mlpack 0.")
