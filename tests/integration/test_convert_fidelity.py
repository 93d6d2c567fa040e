"""Fidelity: a converted pipeline computes what its notebook computes.

Each notebook is executed for real in a Jupyter kernel (nbclient, the engine of nbconvert's
ExecutePreprocessor), in a directory holding its data. A cell the test appends to that executed
copy prints the notebook's own metrics variable and the notebook's values of every name ``run()``
returns. The notebook is converted with ``mlpack convert`` in an ``init --example`` project and
``run()`` of the generated module is called in a fresh interpreter (``PYTHONPATH=src``): it
returns the notebook's results by the notebook's names, each equal to the notebook's value, the
metrics among them, and the files the export stage writes must be equal too.

Equality is exact: the kernel and the subprocess run the same interpreter, the same libraries and
the same code in the same order, with fixed seeds, so even floats agree to the last bit.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.commands.init import InitSettings, init_project

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
EXAMPLE = Path(__file__).resolve().parents[2] / "templates" / "example"
CELL_TIMEOUT = 60  # seconds, per cell; each notebook takes a second or two
MARKER = "@@fidelity@@"

# Defined in the kernel and in the subprocess alike: a value as plain Python literals (numpy
# scalars and arrays become floats, ints and lists), so both sides are compared the same way.
PLAIN = '''
def _fidelity_plain(value):
    if isinstance(value, dict):
        return {_fidelity_plain(k): _fidelity_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_fidelity_plain(v) for v in value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return value
'''

# Only where matplotlib is missing: `%matplotlib inline` needs it in a kernel, while the pipeline
# drops the magic. A no-op magic keeps the notebook runnable without adding anything it computes.
MATPLOTLIB_STUB = '''
import importlib.util
if importlib.util.find_spec("matplotlib") is None:
    get_ipython().register_magic_function(lambda line: None, "line", "matplotlib")
'''


@dataclass(frozen=True)
class Case:
    notebook: Path
    module: str
    metrics: str  # the expression, evaluated in the kernel once the notebook has run, that holds its metrics
    keys: frozenset[str]  # what the metrics hold: the comparison is not between two empty results
    data: tuple[tuple[Path, str], ...] = ()  # (source, destination relative to the project root)
    # files the export stage writes, relative to the project root: the notebook runs in notebooks/
    # (Jupyter's working directory is the notebook's own), run() from the project root
    exports: tuple[str, ...] = ()


CASES = [
    Case(EXAMPLE / "houses.ipynb", "houses", "metrics", frozenset({"mae", "n_test"}),
         data=((EXAMPLE / "houses.csv", "data/houses.csv"),), exports=("model.json",)),
    Case(NOTEBOOKS / "sklearn_iris.ipynb", "sklearn_iris", "metrics",
         frozenset({"accuracy", "f1_macro", "confusion", "n_test"}), exports=("notebooks/metrics.json",)),
    # cross-validated; its train stage deletes arrays the preprocess stage set (`del X_train, X_test`)
    Case(NOTEBOOKS / "sklearn_diabetes.ipynb", "sklearn_diabetes", "results",
         frozenset({"alpha", "mae", "rmse", "r2"}),
         exports=("notebooks/artifacts/results.json", "notebooks/artifacts/ridge.pkl")),
    # its metrics are the dict its last cell displays; `_` will not do, its loop rebinds `_`
    Case(NOTEBOOKS / "knn.ipynb", "knn", "Out[max(Out)]", frozenset({"accuracy", "n_test"})),
    # a helper counts its calls in a `global`: the count must reach evaluate as the notebook left it
    Case(NOTEBOOKS / "gd_line.ipynb", "gd_line", "summary",
         frozenset({"mse", "w", "b", "updates", "first_loss"})),
]


def _place_data(case: Case, directory: Path) -> None:
    for source, destination in case.data:
        (directory / destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, directory / destination)


def _marked(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(MARKER)]
    assert len(lines) == 1, output
    return lines[0][len(MARKER):]


def execute_notebook(case: Case, workdir: Path, names: list[str]) -> tuple[object, dict[str, object], str]:
    """Run the notebook in a python3 kernel with ``workdir`` as its working directory; return the
    metrics it computed and its values of ``names`` (as plain literals), and the kernel's
    ``sys.prefix``."""
    import nbclient
    import nbformat

    notebook = nbformat.read(case.notebook, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(MATPLOTLIB_STUB))
    values = f"{{_n: globals()[_n] for _n in {names!r} if _n in globals()}}"  # names the notebook binds
    probe = (f"{PLAIN}\nimport sys as _fidelity_sys\n"
             f"print({MARKER!r} + repr((_fidelity_plain({case.metrics}), _fidelity_plain({values}), "
             "_fidelity_sys.prefix)))")
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = notebook.cells[-1].outputs
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    metrics, found, prefix = ast.literal_eval(_marked(text))
    return metrics, found, prefix


def run_converted(case: Case, root: Path) -> object:
    """Convert the notebook in a fresh ``init --example`` project and call ``run()`` in a new interpreter."""
    init_project(InitSettings(path=root, name="demo", ci="none", example=True))
    if case.notebook.parent != EXAMPLE:
        shutil.copy(case.notebook, root / "notebooks")
    _place_data(case, root)
    result = convert_project(ConvertSettings(root=root, paths=[root / "notebooks" / case.notebook.name]))
    assert result.ok, result.failed
    code = (f"{PLAIN}\nfrom demo.{case.module} import run\n"
            f"print({MARKER!r} + repr(_fidelity_plain(run())))")
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(_marked(done.stdout))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.module for c in CASES])
def test_converted_run_returns_the_notebooks_metrics(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "project"
    actual = run_converted(case, root)
    assert isinstance(actual, dict)
    executed = tmp_path / "executed"  # laid out as the project: the notebook runs in its notebooks/
    (executed / "notebooks").mkdir(parents=True)
    _place_data(case, executed)
    expected, values, kernel_prefix = execute_notebook(case, executed / "notebooks", list(actual))
    assert kernel_prefix == sys.prefix  # the kernel ran this environment's python and libraries

    assert isinstance(expected, dict) and set(expected) == case.keys
    if case.metrics.isidentifier():  # the notebook's metrics variable, by its name
        assert actual[case.metrics] == expected
    else:  # a displayed dict: its keys (the notebook's variable of the same name wins)
        assert set(expected) <= set(actual)
        assert all(actual[k] == expected[k] or values.get(k) == actual[k] for k in expected)
    assert values and all(actual[k] == v for k, v in values.items())  # each value is the notebook's
    for name in case.exports:  # what the export stage wrote, byte for byte
        assert (root / name).read_bytes() == (executed / name).read_bytes(), name
    # the test's own cells went into the executed copy only, never into the converted module
    module = (root / "src" / "demo" / f"{case.module}.py").read_text()
    assert MARKER not in module and "_fidelity_plain" not in module and "register_magic_function" not in module
