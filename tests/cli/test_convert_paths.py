"""A notebook in notebooks/ that reads ../data/x.csv and writes ../models/model.pkl, converted: its
module runs from the project root (and from anywhere with the paths passed), and the generated
smoke test runs it for real (not skipped), with the outputs under its tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

CELLS = [
    "import os\n\nimport joblib\nimport pandas as pd",
    "## Load the data",
    "df = pd.read_csv('../data/x.csv')",
    "## Train",
    "model = {'mean': float(df['value'].mean()), 'n': int(len(df))}",
    "## Evaluate",
    "metrics = {'mean': round(model['mean'], 3)}\nmetrics",
    "## Export",
    "os.makedirs('../models', exist_ok=True)\njoblib.dump(model, '../models/model.pkl')",
]


@pytest.fixture
def project(tmp_path: Path, run_cli: Callable[..., Any], chdir: Callable[[Path], None]) -> Path:
    root = tmp_path / "demo"
    done = run_cli("init", root, "--name", "demo", "--ci", "none")
    assert done.exit_code == 0, done.stderr
    (root / "data").mkdir()
    (root / "data" / "x.csv").write_text("value\n1\n2\n4\n", encoding="utf-8")
    cells = [nbformat.v4.new_markdown_cell(c) if c.startswith("#") else nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(root / "notebooks" / "paths.ipynb"))
    chdir(root)
    converted = run_cli("convert", "--json")
    assert converted.exit_code == 0, converted.stderr
    (report,) = json.loads(converted.stdout)["notebooks"]
    assert report["paths"] == [
        "cell 3, line 1: path read: run(x_csv='data/x.csv'), '../data/x.csv' in the notebook",
        "cell 9, line 1: directory written: run(models_dir='models'), '../models' in the notebook",
        "cell 9, line 2: path written: run(model_pkl='models/model.pkl'), '../models/model.pkl' in the notebook",
    ]
    assert report["network"] == []
    return root


def _python(code: str, cwd: Path, root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=120)


def test_run_from_the_project_root_reads_and_writes_where_the_notebook_did(project: Path) -> None:
    done = _python("from demo.paths import run; print(run())", project, project)
    assert done.returncode == 0, done.stderr
    import joblib

    assert joblib.load(project / "models" / "model.pkl") == {"mean": 7 / 3, "n": 3}
    assert not (project / "notebooks" / "models").exists()


def test_run_from_elsewhere_with_the_paths_passed(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "new" / "dir" / "m.pkl"  # a directory that does not exist yet: created
    code = (f"from demo.paths import run; run(x_csv={str(project / 'data' / 'x.csv')!r}, "
            f"model_pkl={str(target)!r}, models_dir={str(tmp_path / 'new')!r})")
    done = _python(code, elsewhere, project)
    assert done.returncode == 0, done.stderr
    assert target.is_file() and not (project / "models").exists() and not any(elsewhere.iterdir())


def test_the_generated_tests_run_the_pipeline_and_pass(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "tests/test_paths.py"], cwd=project, env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout
    assert not (project / "models").exists()  # the smoke test wrote under its tmp_path
    lint = subprocess.run([sys.executable, "-m", "flake8", "src", "tests"], cwd=project, capture_output=True,
                          text=True, check=False)
    assert lint.returncode == 0, lint.stdout


def test_the_smoke_test_is_skipped_naming_the_missing_input(project: Path) -> None:
    (project / "data" / "x.csv").unlink()
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "tests/test_paths.py"], cwd=project, env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stdout
    assert "input data not found: data/x.csv" in done.stdout
