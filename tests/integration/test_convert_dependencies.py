"""The dependencies ``convert`` declares install for the project's oldest Python: pip, asked by
the real PyPI, resolves them for that Python (``--python-version``, wheels only, nothing installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit
from packaging.requirements import Requirement

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.notebook.deps import oldest_python
from mlpack_cli.commands.init import InitSettings, init_project

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"


def _dry_run(requirements: list[str], python: str, target: Path, *, deps: bool) -> dict[str, object]:
    """pip's report of what it would install for ``python``; fails the test with pip's words if it cannot."""
    report = target.with_suffix(".json")
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check",
               "--python-version", python, "--only-binary=:all:", "--target", str(target), "--report", str(report),
               *([] if deps else ["--no-deps"]), *requirements]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, f"pip could not resolve {requirements} for Python {python}:\n{done.stderr[-3000:]}"
    return json.loads(report.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], str]:
    root = tmp_path_factory.mktemp("deps") / "demo"
    init_project(InitSettings(path=root, name="demo", ci="none", example=True))
    shutil.copy(NOTEBOOKS / "colab_deps.ipynb", root / "notebooks")
    assert convert_project(ConvertSettings(root=root)).ok
    project = tomlkit.parse((root / "pyproject.toml").read_text())["project"]
    oldest = oldest_python(str(project["requires-python"]))
    assert oldest is not None
    return [str(r) for r in project["dependencies"]], f"{oldest[0]}.{oldest[1]}"


def test_every_declared_requirement_has_a_release_for_the_oldest_python(
    declared: tuple[list[str], str], tmp_path: Path
) -> None:
    requirements, python = declared
    report = _dry_run(requirements, python, tmp_path / "each", deps=False)
    chosen = {item["metadata"]["name"].lower().replace("_", "-"): item for item in report["install"]}  # type: ignore
    # pip evaluates environment markers (tomli's `python_version < '3.11'`) for this interpreter
    wanted = [Requirement(r) for r in requirements]
    assert set(chosen) == {r.name for r in wanted if r.marker is None or r.marker.evaluate()}
    assert chosen["diffusers"].get("requested_extras") == ["training"]


def test_the_bounded_requirements_resolve_with_their_dependencies(
    declared: tuple[list[str], str], tmp_path: Path
) -> None:
    """numpy, pandas, scikit-learn (the ones with a lower bound) and all they need, for that Python."""
    requirements, python = declared
    bounded = [r for r in requirements if Requirement(r).specifier]
    assert {Requirement(r).name for r in bounded} >= {"numpy", "pandas", "scikit-learn"}
    report = _dry_run(bounded, python, tmp_path / "all", deps=True)
    names = {item["metadata"]["name"].lower() for item in report["install"]}  # type: ignore[index]
    assert {"numpy", "pandas", "scikit-learn", "scipy"} <= names
