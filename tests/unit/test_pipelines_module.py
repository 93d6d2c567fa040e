"""The generated support module (templates/module/pipelines.py.j2), loaded from the text convert writes:
how ``--set`` and config values are typed, how results become JSON, and the errors a user gets."""

from __future__ import annotations

import datetime
import enum
import importlib.machinery
import inspect
import json
import types
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from mlpack_cli.entrypoint import support_module_text


@pytest.fixture(scope="module")
def support() -> types.ModuleType:
    module = types.ModuleType("demo.pipelines")
    module.__spec__ = importlib.machinery.ModuleSpec("demo.pipelines", None)
    exec(compile(support_module_text(), "pipelines.py", "exec"), module.__dict__)  # noqa: S102 - our own template
    return module


def run(*, TEST_FRACTION=0.25, N=3, SHUFFLE=True, NAME="iris", LAYERS=[8, 4], SHAPE=(2, 3),  # noqa: B006
        OPTIONS={"a": 1}, SEED=None, OUT=Path("out/model.json")):  # noqa: B006
    return locals()


def required(data_csv, *, LIMIT=1):  # a parameter the notebook never bound: the caller must pass it
    return data_csv, LIMIT


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("TEST_FRACTION", "0.5", 0.5), ("TEST_FRACTION", "1e-3", 0.001), ("TEST_FRACTION", "2", 2.0),
    ("N", "10", 10), ("N", "-1", -1),
    ("SHUFFLE", "false", False), ("SHUFFLE", "No", False), ("SHUFFLE", "0", False),
    ("SHUFFLE", "TRUE", True), ("SHUFFLE", "yes", True), ("SHUFFLE", "1", True),
    ("NAME", "wine quality", "wine quality"), ("NAME", "3", "3"), ("NAME", "", ""),
    ("LAYERS", "[16, 8, 4]", [16, 8, 4]), ("LAYERS", "(1, 2)", [1, 2]), ("LAYERS", "['a', None]", ["a", None]),
    ("SHAPE", "[4, 5]", (4, 5)), ("SHAPE", "(6,)", (6,)),
    ("OPTIONS", '{"b": [1, 2]}', {"b": [1, 2]}), ("OPTIONS", "{'c': True}", {"c": True}),
    ("SEED", "42", 42), ("SEED", "null", None), ("SEED", "abc", "abc"), ("SEED", '"42"', "42"),
    ("OUT", "elsewhere/m.json", Path("elsewhere/m.json")),
])
def test_set_values_take_the_type_of_the_default(support: Any, name: str, text: str, expected: object) -> None:
    value = support.from_text(name, text, inspect.signature(run).parameters[name].default)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("TEST_FRACTION", "abc", "TEST_FRACTION: expected a number (float), got 'abc'"),
    ("N", "1.5", "N: expected an integer (int), got '1.5'"),
    ("SHUFFLE", "maybe", "SHUFFLE: expected true or false (bool; also yes/no, 1/0), got 'maybe'"),
    ("LAYERS", "{'a': 1}", "LAYERS: expected a list (JSON array or Python literal)"),
    ("LAYERS", "[1, 2", "LAYERS: expected a list"),
    ("OPTIONS", "[1]", "OPTIONS: expected a dict (JSON object or Python literal)"),
])
def test_ill_typed_set_values_name_the_parameter_and_the_type(
    support: Any, name: str, text: str, expected: str
) -> None:
    with pytest.raises(support.ParameterError) as raised:
        support.from_text(name, text, inspect.signature(run).parameters[name].default)
    assert str(raised.value).startswith(expected)


def test_a_default_of_another_type_is_refused_with_the_way_to_pass_it(support: Any) -> None:
    with pytest.raises(support.ParameterError, match=r"MODEL cannot be set here: its default is a .*Fraction.*"
                                                     r"call run\(MODEL=\.\.\.\) from Python"):
        from fractions import Fraction
        support.from_text("MODEL", "1", Fraction(1, 2))


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("TEST_FRACTION", 1, 1.0), ("N", 7, 7), ("SHUFFLE", False, False), ("NAME", "x", "x"),
    ("LAYERS", [1], [1]), ("SHAPE", [1, 2], (1, 2)), ("OPTIONS", {"k": "v"}, {"k": "v"}),
    ("SEED", [1, "two"], [1, "two"]), ("OUT", "a/b.json", Path("a/b.json")),
])
def test_config_values_are_checked_against_the_default(
    support: Any, name: str, value: object, expected: object
) -> None:
    default = inspect.signature(run).parameters[name].default
    converted = support.from_config(name, value, default, source="conf.toml")
    assert converted == expected and type(converted) is type(expected)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("N", "7", "conf.toml: N: expected an integer (int), got str '7'"),
    ("N", True, "conf.toml: N: expected an integer (int), got bool True"),
    ("TEST_FRACTION", "0.5", "conf.toml: TEST_FRACTION: expected a number (float), got str '0.5'"),
    ("SHUFFLE", 1, "conf.toml: SHUFFLE: expected true or false"),
    ("NAME", 3, "conf.toml: NAME: expected a str, got int 3"),
    ("OPTIONS", [1], "conf.toml: OPTIONS: expected a dict"),
])
def test_ill_typed_config_values_name_the_file_the_parameter_and_the_type(
    support: Any, name: str, value: object, message: str
) -> None:
    with pytest.raises(support.ParameterError) as raised:
        support.from_config(name, value, inspect.signature(run).parameters[name].default, source="conf.toml")
    assert str(raised.value).startswith(message)


def test_set_wins_over_the_config_file_and_both_are_typed(support: Any, tmp_path: Path) -> None:
    config = tmp_path / "conf.toml"
    config.write_text('TEST_FRACTION = 0.4\nN = 5\nLAYERS = [2]\n[OPTIONS]\nlr = 0.1\n', encoding="utf-8")
    keywords = support.overrides(run, ["TEST_FRACTION=0.5", "NAME=a=b"], config)
    assert keywords == {"TEST_FRACTION": 0.5, "N": 5, "LAYERS": [2], "OPTIONS": {"lr": 0.1}, "NAME": "a=b"}
    assert run(**keywords)["N"] == 5  # what run() then receives


def test_json_config_files_are_read_too(support: Any, tmp_path: Path) -> None:
    config = tmp_path / "conf.json"
    config.write_text('{"SHAPE": [1, 1], "SEED": 7}', encoding="utf-8")
    assert support.overrides(run, [], config) == {"SHAPE": (1, 1), "SEED": 7}


@pytest.mark.parametrize(("values", "message"), [
    (["TEST_FRACTON=0.5"], "--set: unknown parameter 'TEST_FRACTON' (did you mean TEST_FRACTION?); run() takes: "
                           "TEST_FRACTION, N, SHUFFLE, NAME, LAYERS, SHAPE, OPTIONS, SEED, OUT"),
    (["n=3"], "--set: unknown parameter 'n' (did you mean N?)"),
    (["N"], "--set expects NAME=VALUE, got 'N'"),
    (["=3"], "--set expects NAME=VALUE, got '=3'"),
    (["N=x"], "--set N: expected an integer (int), got 'x'"),
])
def test_bad_set_options_are_explained(support: Any, values: list[str], message: str) -> None:
    with pytest.raises(support.ParameterError) as raised:
        support.overrides(run, values)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("conf.toml", "N = \nM = 1\n", "--config {path}: not valid TOML: Invalid value (at line 1, column 5)"),
    ("conf.toml", "N = 1\nN = 2\n", "--config {path}: not valid TOML: Cannot overwrite a value (at line 2"),
    ("conf.json", '{"N" 1}', "--config {path}: not valid JSON (line 1, column 6): Expecting ':' delimiter"),
    ("conf.json", "[1]", "--config {path}: expected a table of parameter names, got list"),
    ("conf.yaml", "N: 1", "--config {path}: expected a .toml or .json file"),
    ("conf.toml", "OTHER = 1", "--config {path}: unknown parameter 'OTHER'"),
])
def test_bad_config_files_are_explained(support: Any, tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(support.ParameterError) as raised:
        support.overrides(run, [], path)
    assert str(raised.value).startswith(message.format(path=path))


def test_a_missing_config_file_or_required_parameter_is_explained(support: Any, tmp_path: Path) -> None:
    with pytest.raises(support.ParameterError, match=r"^--config .*absent\.toml: no such file$"):
        support.overrides(run, [], tmp_path / "absent.toml")
    with pytest.raises(support.ParameterError, match=r"^run\(\) needs a value for data_csv: pass --set"):
        support.overrides(required, ["LIMIT=2"])
    assert support.overrides(required, ["data_csv=a.csv"]) == {"data_csv": "a.csv"}


def test_help_lists_every_parameter_with_its_default(support: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        support.run_module(required, "demo.houses", ["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: python -m demo.houses" in out
    assert "  data_csv  (required: pass --set or --config)" in out
    assert "  LIMIT     = 1  (int)" in out


class Colour(enum.Enum):
    RED = "red"


def test_results_become_json_showing_what_is_not_json_honestly(support: Any) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    result = {
        "mae": np.float64(1.5), "n": np.int64(3), "ok": np.bool_(True), "plain": [1, "a", None, 2.5],
        "pair": (1, 2), "nan": float("nan"), "inf": -float("inf"), 3: "int key",
        "array": np.zeros((2, 3), dtype=np.float32), "series": pd.Series([1, 2], name="y"),
        "frame": pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0]}), "model": LinearRegression(),
        "path": PurePosixPath("out/model.json"), "when": datetime.date(2026, 1, 2), "colour": Colour.RED,
    }
    assert json.loads(json.dumps(support.to_json(result), allow_nan=False)) == {
        "mae": 1.5, "n": 3, "ok": True, "plain": [1, "a", None, 2.5], "pair": [1, 2], "nan": "nan",
        "inf": "-inf", "3": "int key",
        "array": {"__type__": "numpy.ndarray", "shape": [2, 3], "dtype": "float32"},
        "series": {"__type__": "pandas.Series", "shape": [2], "dtype": "int64"},
        "frame": {"__type__": "pandas.DataFrame", "shape": [2, 2], "columns": ["a", "b"]},
        "model": {"__type__": "sklearn.linear_model._base.LinearRegression"},
        "path": "out/model.json", "when": "2026-01-02", "colour": "red",
    }


@pytest.mark.parametrize(("source", "expected"), [
    ('MODEL_PATH = "models/m.joblib"\ndef load_model(path=MODEL_PATH): ...\ndef predict(records, model=None): ...\n',
     "models/m.joblib"),
    ('MODEL_PATH = "m.json"\ndef predict(records, model=None): ...\n', None),  # no load_model
    ('MODEL_PATH = Path("m.json")\ndef load_model(path=MODEL_PATH): ...\ndef predict(records): ...\n', None),
    ('def load_model(path): ...\ndef predict(records): ...\n', None),
    ("def broken(:\n", None),
])
def test_a_pipeline_serves_when_it_defines_model_path_load_model_and_predict(
        support: Any, source: str, expected: str | None) -> None:
    assert support.model_path(source) == expected


def test_serve_names_the_extra_to_install_when_the_stack_is_missing(
        support: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    monkeypatch.setattr(support, "servable", lambda: [{"name": "houses", "serves": True, "model": "m.json"},
                                                       {"name": "plots", "serves": False, "model": None}])
    monkeypatch.setattr(support, "_distribution", lambda: "demo-project")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "uvicorn" else real(name))
    assert support.serve("houses", prog="demo") == 2
    assert "serving needs uvicorn: pip install 'demo-project[serve]'" in capsys.readouterr().err
    assert support.serve("plots", prog="demo") == 2
    assert "the pipeline plots does not serve a model" in capsys.readouterr().err
    assert support.serve("house", prog="demo") == 2
    assert "unknown pipeline 'house' (did you mean houses?)" in capsys.readouterr().err
