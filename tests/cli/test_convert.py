"""``mlpack convert`` from the command line: exit codes, output modes, and the whole example project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlpack_cli.errors import ExitCode

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"


@pytest.fixture
def project(tmp_path: Path, run_cli: Callable[..., object], chdir: Callable[[Path], None]) -> Path:
    root = tmp_path / "demo"
    result = run_cli("init", root, "--name", "demo", "--ci", "none", "--example")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    chdir(root)
    return root


def test_convert_writes_module_tests_and_monitoring(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("convert")
    assert result.exit_code == 0, result.stderr
    assert "houses" in result.stdout
    for path in ("src/demo/houses.py", "tests/test_houses.py", "src/demo/monitoring.py"):
        assert (project / path).is_file()


def test_failed_notebooks_exit_6_after_the_good_ones_are_written(project: Path, run_cli) -> None:  # type: ignore
    shutil.copy(NOTEBOOKS / "unfinished.ipynb", project / "notebooks")
    shutil.copy(NOTEBOOKS / "picture.ipynb", project / "notebooks")
    result = run_cli("convert")
    assert result.exit_code == ExitCode.NOTEBOOK
    assert "Error: notebooks/picture.ipynb: not a notebook" in result.stderr
    assert "Error: notebooks/unfinished.ipynb: cell 2, line 2: invalid syntax: 'x = # TODO'" in result.stderr
    assert "Hint: Fix that line in the notebook" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[-1] == "Error: 2 notebooks failed, 1 converted"
    assert "notebooks failed" not in "".join(result.stderr.splitlines()[:-1])
    assert (project / "src/demo/houses.py").is_file()
    assert not (project / "src/demo/unfinished.py").exists()


def test_explain_shows_cell_stage_and_reason(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("convert", "--explain", "--dry-run")
    assert result.exit_code == 0
    assert "where each cell went" in result.stdout
    assert "under heading 'Evaluate'" in result.stdout
    assert not (project / "src/demo/houses.py").exists()


def test_json_report_for_tools(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("convert", "--json")
    report = json.loads(result.stdout)
    (notebook,) = report["notebooks"]
    assert notebook["module"] == "houses"
    assert notebook["stages"]["evaluate"] == [14]
    assert notebook["magics"] == {"%%time: unwrapped": 1, "%matplotlib: dropped": 1}
    assert {"path": "src/demo/houses.py", "action": "created", "note": ""} in report["files"]


def test_check_exits_1_listing_stale_notebooks_then_0(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    stale = run_cli("convert", "--check")
    assert stale.exit_code == ExitCode.STALE
    assert "notebooks/houses.ipynb" in stale.stdout + stale.stderr
    assert not (project / "src/demo/houses.py").exists()
    assert run_cli("convert").exit_code == 0
    fresh = run_cli("convert", "--check")
    assert fresh.exit_code == 0, fresh.stderr


def test_edited_module_exits_5_naming_the_file_and_the_way_out(project: Path, run_cli) -> None:  # type: ignore
    shutil.copy(NOTEBOOKS / "knn.ipynb", project / "notebooks")
    assert run_cli("convert").exit_code == 0
    module = project / "src/demo/houses.py"
    module.write_text(module.read_text() + "\nMINE = {'mine': 1}\n")
    notebook = project / "notebooks/houses.ipynb"
    notebook.write_text(notebook.read_text().replace("0.25", "0.2"))
    (project / "src/demo/knn.py").unlink()
    result = run_cli("convert")
    assert result.exit_code == ExitCode.CONFLICT
    assert ("Error: notebooks/houses.ipynb: not written, because src/demo/houses.py was edited since mlpack "
            "wrote it\nHint: Move your edits into the notebook, or run `mlpack convert --force "
            "notebooks/houses.ipynb` to overwrite src/demo/houses.py.\n") in result.stderr
    assert result.stderr.splitlines()[-1] == "Error: 1 notebook not written, 1 converted"
    assert "{'mine': 1}" in module.read_text()
    assert (project / "src/demo/knn.py").is_file()  # the other notebook was written
    check = run_cli("convert", "--check")
    assert check.exit_code == ExitCode.STALE
    assert "stale: notebooks/houses.ipynb (the notebook changed since src/demo/houses.py was generated, and the module was edited)" in check.stdout
    assert "Hint: Move your edits into the notebook, or run `mlpack convert --force notebooks/houses.ipynb`" in (
        check.stderr)
    assert "Run `mlpack convert` and" not in check.stderr
    assert run_cli("convert", "--force", "notebooks/houses.ipynb").exit_code == 0
    assert "{'mine': 1}" not in module.read_text()
    assert run_cli("convert", "--check").exit_code == 0


def test_check_reports_files_that_are_not_notebooks_with_exit_6(project: Path, run_cli) -> None:  # type: ignore
    assert run_cli("convert").exit_code == 0
    shutil.copy(NOTEBOOKS / "picture.ipynb", project / "notebooks")
    shutil.copy(NOTEBOOKS / "markdown_only.ipynb", project / "notebooks")
    result = run_cli("convert", "--check")
    assert result.exit_code == ExitCode.NOTEBOOK
    assert "Error: notebooks/picture.ipynb: not a notebook (the file is binary" in result.stderr
    assert "Error: notebooks/markdown_only.ipynb: the notebook has no code" in result.stderr
    assert "changed since" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[-1] == "Error: 2 notebooks cannot be converted"


def test_explain_writes_nothing(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = sorted(p.relative_to(project) for p in project.rglob("*") if ".git" not in p.parts)
    pyproject = (project / "pyproject.toml").read_bytes()
    result = run_cli("convert", "--explain")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(project) for p in project.rglob("*") if ".git" not in p.parts) == before
    assert (project / "pyproject.toml").read_bytes() == pyproject


def test_check_reports_a_rejected_notebook_as_not_convertible_never_stale(
    project: Path, run_cli  # type: ignore[no-untyped-def]
) -> None:
    assert run_cli("convert").exit_code == 0
    shutil.copy(NOTEBOOKS / "unfinished.ipynb", project / "notebooks")
    result = run_cli("convert", "--check")
    assert result.exit_code == ExitCode.NOTEBOOK
    assert "Error: notebooks/unfinished.ipynb: cell 2, line 2: invalid syntax" in result.stderr
    assert "changed since" not in result.stderr and "stale" not in result.stdout + result.stderr


def test_star_imports_become_explicit_imports_and_the_module_computes_the_same(
    project: Path, run_cli  # type: ignore[no-untyped-def]
) -> None:
    import nbformat

    (project / "notebooks/shapes.py").write_text('"""Helpers of the circle notebooks."""\nimport math\n\n'
                                                 'SIDES = 4\n\n\ndef area(r):\n    return math.pi * r ** 2\n')
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from math import *\nfrom shapes import *  # our helpers"),
        nbformat.v4.new_code_cell("radius = sqrt(SIDES)\nsurface = area(radius)\nprint(surface)"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, project / "notebooks/circles.ipynb")
    result = run_cli("convert", "notebooks/circles.ipynb")
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert ("Warning: notebooks/circles.ipynb: cell 1, line 1: from math import *: cannot read what it brings in "
            "without running it (compiled, no Python source to read); the names the notebook reads and sets "
            "nowhere are taken from it: sqrt; check them") in said or "built into Python" in said
    assert ("cell 1, line 2: from shapes import * became an explicit import of what the notebook uses of it: "
            "area, SIDES") in said
    module = (project / "src/demo/circles.py").read_text()
    assert "\nfrom math import sqrt\n" in module
    assert "\n# our helpers\nfrom demo.shapes import area, SIDES\n" in module
    assert "import *" not in module
    lint = subprocess.run([sys.executable, "-m", "flake8", "src/demo/circles.py"], cwd=project,
                          capture_output=True, text=True, check=False)
    assert (lint.returncode, lint.stdout) == (0, "")
    done = subprocess.run([sys.executable, "-c", "from demo import circles; print(circles.run())"], cwd=project,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(project / "src")})
    assert done.stdout.strip() == "{'surface': 12.566370614359172}", done.stderr


def test_deleted_notebook_is_reported_and_its_files_pruned_on_request(project: Path, run_cli) -> None:  # type: ignore
    shutil.copy(NOTEBOOKS / "knn.ipynb", project / "notebooks")
    assert run_cli("convert").exit_code == 0
    (project / "notebooks/knn.ipynb").unlink()
    check = run_cli("convert", "--check")
    assert check.exit_code == ExitCode.STALE
    assert "orphaned: src/demo/knn.py (its notebook notebooks/knn.ipynb no longer exists)" in check.stdout
    assert "Hint: Run `mlpack convert --prune` to remove them." in check.stderr
    kept = run_cli("convert")
    assert kept.exit_code == 0
    assert "src/demo/knn.py, tests/test_knn.py" in kept.stderr and "--prune" in kept.stderr
    assert (project / "src/demo/knn.py").is_file()
    pruned = run_cli("convert", "--prune")
    assert pruned.exit_code == 0, pruned.stderr
    assert "removed src/demo/knn.py" in pruned.stdout
    assert not (project / "src/demo/knn.py").exists() and not (project / "tests/test_knn.py").exists()
    assert run_cli("convert", "--check").exit_code == 0


def test_missing_path_is_invalid_input(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("convert", "nowhere.ipynb")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "Error: nowhere.ipynb does not exist" in result.stderr


def test_cli_start_up_does_not_import_heavy_modules() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mlpack_cli.cli"],
                          capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert not imported & {"nbformat", "IPython", "nbconvert", "jinja2", "pyflakes", "pycodestyle"}


def test_example_project_end_to_end(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """init --example, convert, then flake8, the generated tests and ``python -m`` in subprocesses."""
    assert run_cli("convert").exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    lint = subprocess.run([sys.executable, "-m", "flake8", "src", "tests"], cwd=project,
                          capture_output=True, text=True, check=False)
    assert (lint.returncode, lint.stdout) == (0, "")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_houses.py"],
                           cwd=project, env=env, capture_output=True, text=True, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "skipped" not in tests.stdout
    assert not (project / "model.json").exists()  # the smoke test ran in a temporary directory
    run = subprocess.run([sys.executable, "-m", "demo.houses"], cwd=project, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)  # run()'s results as JSON (see tests/unit/test_pipelines_module.py)
    assert "metrics" in results and "slope" in results  # run() returns the results by the notebook's names
    assert set(results["metrics"]) == {"mae", "n_test"} and results["metrics"]["n_test"] == 15
    assert json.loads((project / "model.json").read_text()).keys() == {"slope", "intercept"}


def test_generated_smoke_test_skips_naming_the_missing_file(project: Path, run_cli) -> None:  # type: ignore
    run_cli("convert")
    (project / "data/houses.csv").unlink()
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                            "tests/test_houses.py"], cwd=project, env=env, capture_output=True, text=True, check=False)
    assert tests.returncode == 0, tests.stdout
    assert "input data not found: data/houses.csv" in tests.stdout
