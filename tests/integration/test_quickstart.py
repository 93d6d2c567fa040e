"""`mlpack quickstart` as a new user meets it: mlpack's wheel installed with pip into a fresh
virtualenv (the README's install step, nothing else: no uv there), then one command."""

from __future__ import annotations

import json
import re
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]


def test_quickstart_from_a_fresh_install(tmp_path: Path, mlpack_wheel: Path) -> None:
    env_dir = tmp_path / "user-env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    subprocess.run([env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", mlpack_wheel],
                   check=True, capture_output=True, text=True)
    done = subprocess.run([env_dir / "bin" / "mlpack", "quickstart", "demo"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "demo"

    start = done.stdout.index("\n{") + 1
    results = json.loads(done.stdout[start:done.stdout.index("\n}", start) + 2])
    metrics = results["metrics"]  # run() returns the notebook's results by their names
    assert set(metrics) == {"mae", "n_test"} and metrics["n_test"] == 15 and 0 < metrics["mae"] < 100
    wheel = root / "dist" / "demo-0.1.0-py3-none-any.whl"
    assert f"Wheel: {wheel}" in done.stdout
    assert json.loads((root / "dist" / "model.json").read_text()).keys() == {"slope", "intercept"}
    for step in ("init", "convert", "git commit", "check", "build", "install the wheel in a fresh virtualenv",
                 "run the pipeline", "serve the model and ask it"):
        assert re.search(rf"^✓ {step} \(\d+\.\ds\)", done.stdout, flags=re.MULTILINE), step

    # The model was served from the wheel, asked for one row of the example data, and stopped.
    model = json.loads((root / "dist" / "model.json").read_text())
    served = re.search(r"^Served \(`demo serve houses --model dist/model.json --port \d+`\): POST /predict "
                       r"(\{.*\}) -> (\{.*\})$", done.stdout, flags=re.MULTILINE)
    assert served, done.stdout
    record = json.loads(served.group(1))["records"][0]
    # the features of the first row of data/houses.csv: the column the model reads, not the target
    assert record == {"size_m2": 117.0}
    assert list(json.loads((root / "dist" / "model.json.mlpack.json").read_text())["columns"]) == ["size_m2"]
    (prediction,) = json.loads(served.group(2))["predictions"]
    assert prediction == pytest.approx(model["slope"] * 117 + model["intercept"])
    assert (root / "dist" / "model.json.mlpack.json").is_file()  # captured beside the model, git-ignored

    # It ran through the console script the wheel installed, with a --set override; that script
    # runs the pipeline with other values and lists the pipelines, from the project root.
    assert "`demo run houses --set MODEL_PATH=dist/model.json`" in done.stdout
    script = root / ".venv" / "bin" / "demo"
    again = subprocess.run([script, "run", "houses", "--set", "TEST_FRACTION=0.5", "--set", "MODEL_PATH=dist/m.json"],
                           cwd=root, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["metrics"]["n_test"] == 30
    (root / "dist" / "m.json").unlink()
    listed = subprocess.run([script, "list"], cwd=root, capture_output=True, text=True)
    assert (listed.returncode, listed.stdout) == (0, "houses\n")
    # The pipeline ran from the wheel in the project's fresh virtualenv, not from src/.
    where = subprocess.run([root / ".venv" / "bin" / "python", "-c", "import demo.houses as m; print(m.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "site-packages" in where
    # The project is committed and clean, ready for `mlpack release`.
    assert subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout == ""
