"""pypa build for real on scaffolded projects: reproducible wheels, verification, --isolated checks."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlpack_cli.commands.build import BuildSettings, build_project
from mlpack_cli.commands.check import CheckSettings, run_checks
from mlpack_cli.errors import BuildFailed, ExitCode

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]


def test_one_commit_built_twice_gives_byte_identical_wheels_and_the_cli_shows_their_sha256(
    tmp_path: Path, make_git_project: Callable[..., Path], run_cli: Callable[..., Result],
) -> None:
    root = make_git_project(tmp_path / "twice", "twice", example=True)
    first = build_project(BuildSettings(root=root, outdir=tmp_path / "first"))
    result = run_cli("build", root, "--outdir", tmp_path / "second")
    assert result.exit_code == 0, result.stdout + result.stderr
    second = (tmp_path / "second" / first.wheel.path.name).read_bytes()
    assert second == first.wheel.path.read_bytes()
    assert first.source_date_epoch is not None
    sha = hashlib.sha256(second).hexdigest()
    assert re.search(rf"wheel .*{re.escape(first.wheel.path.name)}\s+\S+ KiB\s+sha256:{sha}", result.stdout)
    assert "twine check --strict passed" in result.stdout
    names = zipfile.ZipFile(first.wheel.path).namelist()
    assert "twice/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "data/")) or n.endswith((".ipynb", ".csv"))]


def test_a_backend_error_is_reported_with_its_output_and_exit_code_7(
    tmp_path: Path, make_git_project: Callable[..., Path], run_cli: Callable[..., Result],
) -> None:
    root = make_git_project(tmp_path / "broken", "broken")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        "[tool.setuptools.packages.find]\nwhere = [\"src\"]", "[tool.setuptools]\npackages = [\"nowhere\"]"))
    result = run_cli("build", root)
    assert result.exit_code == ExitCode.BUILD_FAILED
    assert result.stderr.startswith("Error: asking the backend what the sdist needs failed")
    assert "package directory 'nowhere' does not exist" in result.stderr  # setuptools' own words


def test_isolated_check_catches_a_data_file_missing_from_the_wheel(
    tmp_path: Path, make_git_project: Callable[..., Path],
) -> None:
    root = make_git_project(tmp_path / "datapkg", "datapkg")
    (root / "src" / "datapkg" / "prices.csv").write_text("size,price\n50,120\n")
    (root / "src" / "datapkg" / "table.py").write_text(
        "from importlib.resources import files\n\n\n"
        "def rows():\n    return files(__package__).joinpath('prices.csv').read_text().splitlines()\n"
    )
    (root / "tests" / "test_table.py").write_text(
        "from datapkg.table import rows\n\n\ndef test_rows():\n    assert rows()[1] == '50,120'\n"
    )
    missing = run_checks(CheckSettings(root=root, isolated=True, lint=False))
    assert not missing.ok
    assert "FileNotFoundError" in missing.runs[0].output and "prices.csv" in missing.runs[0].output

    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.setuptools.package-data]\ndatapkg = ["*.csv"]\n')
    declared = run_checks(CheckSettings(root=root, isolated=True))
    assert declared.ok, [run.output for run in declared.runs]
    assert "3 passed" in declared.runs[-1].summary


def test_verification_refuses_a_wheel_that_ships_tests(
    tmp_path: Path, make_git_project: Callable[..., Path],
) -> None:
    root = make_git_project(tmp_path / "leaky", "leaky")
    (root / "src" / "leaky" / "tests").mkdir()
    (root / "src" / "leaky" / "tests" / "__init__.py").write_text("")
    (root / "src" / "leaky" / "tests" / "test_inner.py").write_text("def test_x():\n    pass\n")
    with pytest.raises(BuildFailed) as caught:
        build_project(BuildSettings(root=root))
    assert "does not belong in a wheel (tests, notebooks or caches): leaky/tests/test_inner.py" in caught.value.message
