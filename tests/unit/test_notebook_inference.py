"""Inference from the notebook (notebook/inference.py, notebook/servecode.py): notebooks converted
for real into a project, the module imported, ``run()`` run, and ``load_model``/``predict`` checked
against what the notebook's own code predicts."""

from __future__ import annotations

import importlib
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.commands.init import InitSettings, init_project

_numbers = itertools.count()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    package = f"infer{next(_numbers)}"
    root = tmp_path / package
    init_project(InitSettings(path=root, name=package, ci="none"))
    monkeypatch.syspath_prepend(str(root / "src"))
    monkeypatch.chdir(root)
    yield root, package
    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        del sys.modules[name]


def _convert(project: tuple[Path, str], *cells: str | tuple[str, list[str]]) -> tuple[ModuleType | None, Any]:
    root, package = project
    notebook = nbformat.v4.new_notebook()
    for cell in cells:
        source, tags = (cell, []) if isinstance(cell, str) else cell
        if source.startswith("## "):
            notebook.cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {}))
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    (root / "notebooks").mkdir(exist_ok=True)
    nbformat.write(notebook, root / "notebooks" / "fit.ipynb")
    result = convert_project(ConvertSettings(root=root))
    assert result.ok, result.failed
    (report,) = result.reports
    importlib.invalidate_caches()
    return importlib.import_module(f"{package}.fit"), report


IMPORTS_PANDAS = """import joblib
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler"""
FEATURES = 'MODEL_PATH = "../models/ridge.joblib"\nFEATURES = ["bmi", "bp", "s5"]'
LOAD = 'df = load_diabetes(as_frame=True).frame\nX, y = df[FEATURES], df["target"]'
SPLIT = "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)"
SCALE = "scaler = StandardScaler().fit(X_train)\nX_train_s = scaler.transform(X_train)"
FIT = "model = LinearRegression().fit(X_train_s, y_train)"
EVALUATE = "X_test_s = scaler.transform(X_test)\npred = model.predict(X_test_s)\nerror = abs(pred - y_test).mean()"
EXPORT = "joblib.dump(model, MODEL_PATH)"


def test_a_scaled_frame_model_predicts_as_the_notebook_did(project: tuple[Path, str]) -> None:
    module, report = _convert(project, IMPORTS_PANDAS, FEATURES, LOAD, SPLIT, SCALE, FIT, EVALUATE, EXPORT)
    assert report.serves == {"model": "models/ridge.joblib", "saved_with": "joblib", "cell": 8,
                             "predict": "derived", "inference_cell": 7, "fitted": ["scaler"]}
    assert module.MODEL_PATH == "models/ridge.joblib"
    module.run()
    root = project[0]
    assert sorted(p.name for p in (root / "models").iterdir()) == [
        "ridge.joblib", "ridge.joblib.mlpack.json", "ridge.joblib.reference.json", "ridge.joblib.scaler.pkl"]
    schema = json.loads((root / "models" / "ridge.joblib.mlpack.json").read_text())
    assert schema["columns"] == {"bmi": "number", "bp": "number", "s5": "number"} and schema["form"] == "frame"

    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    rows = frame[["bmi", "bp", "s5"]].head(5)
    loaded = module.load_model()
    expected = loaded.model.predict(loaded.fitted["scaler"].transform(rows))
    got = module.predict(rows.to_dict(orient="records"))  # records in, as a service receives them
    assert list(got) == pytest.approx(list(expected), rel=1e-12)
    assert list(module.predict(rows)) == pytest.approx(list(got), rel=1e-12)  # a DataFrame too


def test_arrays_saved_with_pickle_under_a_joined_path(project: tuple[Path, str]) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "notebooks" / "sklearn_diabetes.ipynb"
    root, package = project
    notebook = nbformat.read(fixture, as_version=4)
    (root / "notebooks").mkdir(exist_ok=True)
    nbformat.write(notebook, root / "notebooks" / "fit.ipynb")
    result = convert_project(ConvertSettings(root=root))
    (report,) = result.reports
    assert report.serves["saved_with"] == "pickle" and report.serves["model"] == "notebooks/artifacts/ridge.pkl"
    assert report.serves["fitted"] == ["scaler"] and report.serves["predict"] == "derived"
    module = importlib.import_module(f"{package}.fit")
    module.run()
    schema = json.loads((root / "notebooks" / "artifacts" / "ridge.pkl.mlpack.json").read_text())
    assert list(schema["columns"]) == [str(i) for i in range(10)] and schema["form"] == "array"
    from sklearn.datasets import load_diabetes

    X = load_diabetes().data[:3]
    loaded = module.load_model()
    expected = loaded.model.predict(loaded.fitted["scaler"].transform(X))
    records = [{str(i): float(v) for i, v in enumerate(row)} for row in X]
    assert list(module.predict(records, model=loaded)) == pytest.approx(list(expected), rel=1e-12)


def test_a_metrics_file_is_not_a_model(project: tuple[Path, str]) -> None:
    module, report = _convert(
        project, "import json\nimport statistics", "## Load", "xs = [1.0, 2.0, 3.0, 4.0]\nys = [2.0, 4.1, 5.9, 8.2]",
        "## Train", "slope, intercept = statistics.linear_regression(xs, ys)",
        "## Evaluate", "metrics = {'slope': slope}",
        "## Export", "with open('metrics.json', 'w') as handle:\n    json.dump(metrics, handle)")
    assert report.serves is None and not hasattr(module, "predict") and not hasattr(module, "load_model")


def test_a_prediction_that_cannot_be_found_is_left_to_complete(project: tuple[Path, str]) -> None:
    module, report = _convert(
        project, "import json\nimport statistics", 'MODEL_PATH = "../line.json"',
        "## Load", "xs = [1.0, 2.0, 3.0, 4.0]\nys = [2.0, 4.1, 5.9, 8.2]",
        "## Train",
        "slope, intercept = statistics.linear_regression(xs, ys)\nmodel = {'slope': slope, 'intercept': intercept}",
        "## Evaluate",
        "fitted = [model['slope'] * x + model['intercept'] for x in xs]\n"
        "mae = sum(abs(f - y) for f, y in zip(fitted, ys))\nmae",
        "## Export", "with open(MODEL_PATH, 'w') as handle:\n    json.dump(model, handle)")
    assert report.serves["predict"] == "to complete"
    assert any("predict() could not be derived (no prediction with model found in the evaluate stage" in w
               for w in report.warnings)
    module.run()
    assert module.load_model() == json.loads(Path("line.json").read_text())  # load_model is complete
    with pytest.raises(NotImplementedError, match="tag the notebook's inference cells mlpack:predict"):
        module.predict([{"x": 1.0}])
    assert not Path("line.json.mlpack.json").exists()  # nothing captured for a predict() to write


def test_the_predict_tag_marks_the_inference_cells(project: tuple[Path, str]) -> None:
    module, report = _convert(
        project, "import json\nimport statistics", 'MODEL_PATH = "../line.json"',
        "## Load", 'rows = [{"x": float(i), "y": 2.0 * i + 1} for i in range(20)]',
        "## Preprocess", "train_rows, test_rows = rows[:15], rows[15:]",
        "## Train",
        "slope, intercept = statistics.linear_regression([r['x'] for r in train_rows], [r['y'] for r in train_rows])\n"
        "model = {'slope': slope, 'intercept': intercept}",
        "## Evaluate",
        ("fitted = [model['slope'] * r['x'] + model['intercept'] for r in test_rows]", ["mlpack:predict"]),
        "mae = sum(abs(f - r['y']) for f, r in zip(fitted, test_rows)) / len(test_rows)\nmae",
        "## Export", "with open(MODEL_PATH, 'w') as handle:\n    json.dump(model, handle)")
    assert report.serves["predict"] == "derived" and report.serves["inference_cell"] == 10  # the tagged cell
    module.run()
    assert [round(v, 6) for v in module.predict([{"x": 100.0}, {"x": 0.0, "y": 5}])] == [201.0, 1.0]
    schema = json.loads(Path("line.json.mlpack.json").read_text())
    assert schema["columns"] == {"x": "number"}  # y is the label: predict never reads it


def test_a_notebook_that_defines_predict_is_not_served_and_says_why(project: tuple[Path, str]) -> None:
    module, report = _convert(
        project, "import json\nimport statistics", "## Load", "xs = [1.0, 2.0, 3.0]\nys = [2.0, 4.0, 6.1]",
        "## Train",
        "slope, intercept = statistics.linear_regression(xs, ys)\nmodel = {'slope': slope, 'intercept': intercept}",
        "## Evaluate",
        "def predict(m, x):\n    return m['slope'] * x + m['intercept']",
        "err = [predict(model, x) - y for x, y in zip(xs, ys)]\nerr",
        "## Export", "with open('line.json', 'w') as handle:\n    json.dump(model, handle)")
    assert report.serves is None and not hasattr(module, "load_model")
    assert any(w.startswith("not served: the notebook defines 'predict'") for w in report.warnings)


def test_a_prediction_on_data_rebound_from_itself_is_derived_through_each_binding(project: tuple[Path, str]) -> None:
    """``X_new = X_new.fillna(0)`` reads the X_new bound before it: followed back binding by binding
    (it once looped forever on the same one)."""
    evaluate = ("X_test = X_test.fillna(0)\nX_test = X_test.clip(-1, 1)\nX_test_s = scaler.transform(X_test)\n"
                "pred = model.predict(X_test_s)\nerror = abs(pred - y_test).mean()")
    module, report = _convert(project, IMPORTS_PANDAS, FEATURES, LOAD, SPLIT, SCALE, FIT, evaluate, EXPORT)
    assert report.serves["predict"] == "derived" and report.serves["fitted"] == ["scaler"]
    module.run()
    import pandas as pd

    rows = [{"bmi": 5.0, "bp": 0.01, "s5": float("nan")}]  # clipped and filled as the notebook's test rows were
    loaded = module.load_model()
    expected = loaded.model.predict(loaded.fitted["scaler"].transform(
        pd.DataFrame([{"bmi": 1.0, "bp": 0.01, "s5": 0.0}])))
    assert list(module.predict(rows)) == pytest.approx(list(expected), rel=1e-12)


def test_a_prediction_with_the_estimator_a_fit_returned_as_the_saved_model_is_derived(
        project: tuple[Path, str]) -> None:
    fit = "classifier = LinearRegression()\nmodel = classifier.fit(X_train, y_train)"
    evaluate = "pred = classifier.predict(X_test)\nerror = abs(pred - y_test).mean()"
    module, report = _convert(project, IMPORTS_PANDAS, FEATURES, LOAD, SPLIT, fit, evaluate, EXPORT)
    assert report.serves["predict"] == "derived"  # the same estimator: model is classifier
    module.run()

    from sklearn.datasets import load_diabetes

    rows = load_diabetes(as_frame=True).frame[["bmi", "bp", "s5"]].head(5)
    expected = module.load_model().predict(rows)
    assert list(module.predict(rows.to_dict(orient="records"))) == pytest.approx(list(expected), rel=1e-12)


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_model_pickled_to_a_file_opened_in_the_call_is_served(project: tuple[Path, str]) -> None:
    imports = IMPORTS_PANDAS + "\nimport pickle"
    save = "pickle.dump(model, open(MODEL_PATH, 'wb'))"
    module, report = _convert(project, imports, FEATURES, LOAD, SPLIT, FIT.replace("_s", ""),
                              "pred = model.predict(X_test)\nerror = abs(pred - y_test).mean()", save)
    assert report.serves["saved_with"] == "pickle" and report.serves["model"] == "models/ridge.joblib"
    assert report.serves["predict"] == "derived"
    module.run()
    from sklearn.datasets import load_diabetes

    rows = load_diabetes(as_frame=True).frame[["bmi", "bp", "s5"]].head(5)
    assert list(module.predict(rows)) == pytest.approx(list(module.load_model().predict(rows)), rel=1e-12)
