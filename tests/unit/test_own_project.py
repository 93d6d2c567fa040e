"""mlpack's own project files are valid and in step with what it documents."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from validate_pyproject import api as validate_pyproject

ROOT = Path(__file__).resolve().parents[2]


def test_own_pyproject_is_valid_and_ships_no_top_level_mlpack() -> None:
    data = tomlkit.parse((ROOT / "pyproject.toml").read_text()).unwrap()
    validate_pyproject.Validator()(data)
    assert data["project"]["name"] == "mlpack-cli"
    assert data["project"]["scripts"] == {"mlpack": "mlpack_cli.cli:main"}
    packages = data["tool"]["setuptools"]["packages"]
    assert all(p == "mlpack_cli" or p.startswith("mlpack_cli.") for p in packages)
    assert data["tool"]["setuptools"]["package-dir"]["mlpack_cli.templates"] == "templates"


def test_every_source_package_is_listed_for_the_wheel() -> None:
    listed = set(tomlkit.parse((ROOT / "pyproject.toml").read_text()).unwrap()["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT / "src").parts)
        for init in (ROOT / "src").rglob("__init__.py")
    }
    assert on_disk | {"mlpack_cli.templates"} == listed


def test_readme_starts_with_the_install_and_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python -m pip install")]
    assert len(commands) >= 2 and "mlpack " in commands[0]
    assert commands[1] == 'python -m pip install -e ".[test]" && python -m pytest'
    assert "<!-- test-command" in readme.split(commands[1])[0], ".ci/run finds the test command by this marker"
