"""The generated tests check results: they pass on a faithful conversion and fail on one that is not.

A notebook is executed for real in a Jupyter kernel (nbclient) and saved with its outputs, then
converted with ``mlpack convert`` in an ``init`` project; the generated test module runs under
pytest in a fresh interpreter (``PYTHONPATH=src``). Its regression test compares run() with what
the executed notebook printed and displayed, so editing the generated module to compute another
metric must make it fail. A notebook whose outputs are stale gets stage contract tests instead,
which fail when a stage stops returning what a later stage reads; a notebook whose module imports
something missing skips its own test module and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.commands.init import InitSettings, init_project

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
CELL_TIMEOUT = 60


def executed_copy(name: str, destination: Path) -> Path:
    """The fixture notebook ``name`` run top to bottom in a kernel and saved with its outputs."""
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    work = destination.parent / "kernel-workdir"
    work.mkdir(exist_ok=True)
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(work)}}).execute()
    nbformat.write(notebook, destination)
    return destination


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    init_project(InitSettings(path=root, name="demo", ci="none", example=False))
    (root / "notebooks").mkdir(exist_ok=True)
    return root


def convert(root: Path) -> list[str]:
    result = convert_project(ConvertSettings(root=root, paths=[]))
    assert result.ok, result.failed
    return [w for r in result.reports for w in r.warnings]


def pytest_in(root: Path, *tests: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", *tests],
                          cwd=root, env=env, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.slow
def test_the_regression_test_passes_and_catches_a_changed_result(tmp_path: Path) -> None:
    root = project(tmp_path)
    executed_copy("sklearn_iris.ipynb", root / "notebooks" / "sklearn_iris.ipynb")
    assert not [w for w in convert(root) if "regression test" in w]
    tests = (root / "tests" / "test_sklearn_iris.py").read_text()
    assert "def test_run_returns_what_the_notebook_showed(" in tests
    assert "SHOWN = {" in tests and '"metrics": ({' in tests  # the dict the notebook displayed
    assert "inspect.signature(sklearn_iris." not in tests  # nothing restates the generated signatures

    done = pytest_in(root, "tests/test_sklearn_iris.py")
    assert done.returncode == 0 and "skipped" not in done.stdout, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout  # import, regression and smoke tests

    module = root / "src" / "demo" / "sklearn_iris.py"
    text = module.read_text()
    assert "TEST_SIZE = 0.3\n" in text
    module.write_text(text.replace("TEST_SIZE = 0.3\n", "TEST_SIZE = 0.5\n"))  # another split: other metrics
    done = pytest_in(root, "tests/test_sklearn_iris.py")
    assert done.returncode == 1, done.stdout
    assert "FAILED tests/test_sklearn_iris.py::test_run_returns_what_the_notebook_showed" in done.stdout
    assert "run() no longer computes what the notebook showed" in done.stdout
    assert "metrics: run() returns {'accuracy':" in done.stdout


@pytest.mark.slow
def test_stale_outputs_give_contract_tests_and_a_missing_module_skips_only_its_tests(tmp_path: Path) -> None:
    root = project(tmp_path)
    stale = executed_copy("knn.ipynb", root / "notebooks" / "knn.ipynb")
    data = json.loads(stale.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    code[1]["execution_count"], code[2]["execution_count"] = code[2]["execution_count"], code[1]["execution_count"]
    stale.write_text(json.dumps(data))
    helper = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                         "source": "import helpers_not_here\n\nresult = helpers_not_here.compute()\n"}],
              "metadata": {"kernelspec": {"name": "python3", "language": "python"}}, "nbformat": 4,
              "nbformat_minor": 5}
    (root / "notebooks" / "uses_helper.ipynb").write_text(json.dumps(helper))

    warnings = convert(root)
    numbers = [n for n, c in enumerate(data["cells"], start=1) if c["cell_type"] == "code"]
    stale_note = (f"no regression test: the stored outputs are stale: cell {numbers[2]} (execution count "
                  f"{code[2]['execution_count']}) ran before cell {numbers[1]}")
    assert any(w.startswith(stale_note) for w in warnings), warnings
    tests = (root / "tests" / "test_knn.py").read_text()
    assert "SHOWN" not in tests and "def test_stages_return_what_later_stages_read(" in tests

    done = pytest_in(root, "tests/test_uses_helper.py", "tests/test_knn.py")  # in one collection
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SKIPPED [1] tests/test_uses_helper.py" in done.stdout, done.stdout
    assert "uses_helper cannot be imported: module 'helpers_not_here' is missing" in done.stdout, done.stdout
    assert "5 passed, 1 skipped" in done.stdout, done.stdout  # knn: import, contract, smoke, 2 stubs

    module = root / "src" / "demo" / "knn.py"
    text = module.read_text()
    assert "    return (train_set, test_set)\n" in text, text
    module.write_text(text.replace("    return (train_set, test_set)\n", "    return (train_set, None)\n"))
    done = pytest_in(root, "tests/test_knn.py")
    assert done.returncode == 1, done.stdout
    assert "FAILED tests/test_knn.py::test_stages_return_what_later_stages_read" in done.stdout, done.stdout
    assert "returned None for test_set, which" in done.stdout, done.stdout
    shutil.rmtree(root / "notebooks" / "kernel-workdir", ignore_errors=True)
