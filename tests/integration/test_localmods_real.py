"""A notebook's local modules end up in the wheel: convert, pypa build, a fresh virtualenv, and the
pipeline run from another directory with nothing but the wheel on ``sys.path``, computing what the
notebook computed in a real kernel."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]

UTILS = '''"""Helpers next to the notebook."""
import statistics

from mylib import scale  # found through the notebook's sys.path


def summary(values):
    return {"mean": scale.scaled(statistics.mean(values)), "spread": statistics.pstdev(values)}
'''
MYLIB_INIT = '"""Our shared library."""\nfrom .scale import FACTOR  # noqa: F401\n'
MYLIB_SCALE = "FACTOR = 3\n\n\ndef scaled(x):\n    return x * FACTOR\n"
CELLS = [
    "import os\nimport sys\n\nsys.path.insert(0, os.path.join('lib'))\n\nimport utils\nimport mylib",
    "# mlpack: load\nvalues = [2.0, 4.0, 9.0]",
    "# mlpack: evaluate\nresult = utils.summary(values)\nfactor = mylib.FACTOR",
]


def test_the_wheel_runs_a_pipeline_that_imports_local_modules(
    tmp_path: Path, make_git_project: Callable[..., Path], run_cli: Callable[..., Any],
    make_venv: Callable[[str], Path], pip_install: Callable[..., Any], chdir: Callable[[Path], None],
    execute_in_kernel: Callable[..., None], run_git: Callable[..., str],
) -> None:
    root = make_git_project(tmp_path / "localproj", "localproj")
    notebooks = root / "notebooks"
    (notebooks / "utils.py").write_text(UTILS)
    (notebooks / "lib" / "mylib").mkdir(parents=True)
    (notebooks / "lib" / "mylib" / "__init__.py").write_text(MYLIB_INIT)
    (notebooks / "lib" / "mylib" / "scale.py").write_text(MYLIB_SCALE)
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbformat.write(book, notebooks / "summarise.ipynb")

    # what the notebook computes, in a real kernel in its own directory
    probe = tmp_path / "notebook.json"
    book.cells.append(nbformat.v4.new_code_cell(
        f"import json as _j\nwith open({str(probe)!r}, 'w') as _f:\n"
        "    _j.dump({'result': result, 'factor': factor}, _f)"
    ))
    execute_in_kernel(book, notebooks)
    expected = json.loads(probe.read_text())
    assert expected == {"result": {"mean": 15.0, "spread": pytest.approx(2.943920288775949)}, "factor": 3}

    chdir(root)
    converted = run_cli("convert", "--json")
    assert converted.exit_code == 0, converted.stderr
    (report,) = json.loads(converted.stdout)["notebooks"]
    assert report["copied"] == ["notebooks/lib/mylib -> src/localproj/mylib/ (2 files)",
                                "notebooks/utils.py -> src/localproj/utils.py"]
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "-m", "Convert")

    built = run_cli("build", root, "--outdir", tmp_path / "dist")
    assert built.exit_code == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("localproj-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"localproj/utils.py", "localproj/mylib/__init__.py", "localproj/mylib/scale.py"} <= names
    assert not {n for n in names if n.split("/")[0] in {"utils.py", "mylib", "lib", "notebooks"}}

    python = make_venv("user")
    pip_install(python, "--no-index", wheel)  # the pipeline needs nothing but the standard library
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    script = (
        "import json, sys\nfrom localproj.summarise import run\n"
        "print(json.dumps({'results': run(), 'path': sys.path}))"
    )
    ran = subprocess.run([str(python), "-I", "-c", script], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout.splitlines()[-1])
    assert answer["results"] == expected
    assert not [p for p in answer["path"] if p.startswith(str(tmp_path)) and "user" not in Path(p).parts]
