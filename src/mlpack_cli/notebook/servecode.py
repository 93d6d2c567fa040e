"""Write the serving part of a pipeline module from an :class:`~mlpack_cli.notebook.inference.Inference`:
``MODEL_PATH``, ``load_model`` (the inverse of the export's save), ``predict`` (the notebook's own
inference statements, with their text) and the line of ``run()`` that saves what serving needs
beside the model (``serving.capture``)."""

from __future__ import annotations

import ast

from mlpack_cli.literals import py_docstring_text, py_string
from mlpack_cli.notebook.inference import Inference
from mlpack_cli.notebook.usertext import Piece, Sources

INDENT = "    "
Line = str | tuple[Piece, str]  # a line of generated text, or a user's statement and its indent

_LOADERS = {
    "joblib": ["import joblib", "", "model = joblib.load(path)"],
    "pickle": ["import pickle", "", 'with open(path, "rb") as handle:', f"{INDENT}model = pickle.load(handle)"],
    "json": ["import json", "", 'with open(path, encoding="utf-8") as handle:', f"{INDENT}model = json.load(handle)"],
    "torch": ["import torch", "", "model = torch.load(path, weights_only=False)"],
    "torch-state": ["import torch", "", "model = torch.load(path)  # a state_dict: see predict()"],
}


def model_path_line(inference: Inference) -> str:
    return f"MODEL_PATH = {py_string(inference.model_path)}"


def functions(inference: Inference, sources: Sources, module: str) -> list[Line]:
    """``load_model`` and ``predict``, two blank lines apart."""
    return [*_load_model(inference), "", "", *_predict(inference, sources, module)]


def _load_model(inference: Inference) -> list[Line]:
    how = {"keras": f"{inference.keras_module}.models.load_model", "pretrained": "from_pretrained"}
    saved = how.get(inference.saver, inference.saver.partition("-")[0])
    doc = f'{INDENT}"""The model the export stage saved (notebook cell {inference.cell}), loaded with {saved}.'
    lines: list[Line] = ["def load_model(path=MODEL_PATH):"]
    if inference.fitted:
        lines += [doc, f"{INDENT}With the fitted objects saved beside it: {', '.join(inference.fitted)}.",
                  f'{INDENT}"""']
    else:
        lines.append(doc + '"""')

    if inference.saver == "keras":
        first = "from tensorflow import keras" if inference.keras_module == "tensorflow.keras" else "import keras"
        body = [first, "", "model = keras.models.load_model(path)"]
    elif inference.saver == "pretrained":
        body = [f"model = {inference.pretrained_class or 'NotImplemented'}.from_pretrained(path)"]
    else:
        body = list(_LOADERS[inference.saver])
    if body[0].split()[-1] in inference.imported:  # the module imports it already
        body = body[2:]
    lines.extend(f"{INDENT}{line}" if line else "" for line in body)
    if inference.fitted:
        names = ", ".join(py_string(n) for n in inference.fitted)
        lines.append(f"{INDENT}return serving.Bundle(model, serving.load_fitted(path, [{names}]))")
    else:
        lines.append(f"{INDENT}return model")
    return lines


def _predict(inference: Inference, sources: Sources, module: str) -> list[Line]:
    lines: list[Line] = [
        "def predict(records, model=None):",
        f'{INDENT}"""Predictions for ``records``: a list of dicts (or a DataFrame) with the columns the',
        f"{INDENT}model was trained on, as run() saved them beside the model; ``model`` is what",
        f"{INDENT}load_model() returns (loaded from MODEL_PATH when not given).",
    ]
    if inference.problem is not None:
        message = (f"predict() of {module} could not be derived from the notebook: {inference.problem}; "
                   "write it here (mlpack keeps the edited module), or tag the notebook's inference "
                   "cells mlpack:predict and convert again")
        lines += [
            "",
            f"{INDENT}TODO(mlpack): complete this function. {py_docstring_text(inference.problem)}.",
            f'{INDENT}"""',
            f"{INDENT}raise NotImplementedError(",
            f"{INDENT * 2}{py_string(message)}",
            f"{INDENT})",
        ]
        return lines
    lines += ["", f"{INDENT}The notebook's inference, from cell {inference.source}.", f'{INDENT}"""']
    name = inference.model
    if inference.fitted:
        loaded = "_loaded"
        lines.append(f"{INDENT}{loaded} = load_model() if model is None else model")
        targets = ", ".join([name, *inference.fitted])
        values = ", ".join([f"{loaded}.model", *(f"{loaded}.fitted[{py_string(n)}]" for n in inference.fitted)])
        lines.append(f"{INDENT}{targets} = {values}")
    else:
        lines.append(f"{INDENT}{name} = load_model() if model is None else model")
    lines += [f"{INDENT}{alias} = {name}" for alias in inference.aliases]  # (``model = classifier.fit(X, y)``)
    lines.append(f"{INDENT}{inference.records} = serving.inputs(records, {py_string(inference.form)})")
    current = None
    for cell, statement in inference.body:
        if cell != current:
            lines.append(f"{INDENT}# notebook cell {cell}")
            current = cell
        lines.append((sources.piece(statement, cell), INDENT))
    if inference.result is not None:
        lines.append(f"{INDENT}return {inference.result}")
    else:
        lines.append(f"{INDENT}return {ast.unparse(inference.call)}")  # type: ignore[arg-type]
    return lines


def capture_call(inference: Inference) -> ast.Call:
    """``serving.capture(predict, <training records>, <model path>, model=..., fitted={...})``."""
    keywords = [ast.keyword("model", ast.Name(inference.model, ast.Load()))]
    if inference.fitted:
        keywords.append(ast.keyword("fitted", ast.Dict(
            [ast.Constant(n) for n in inference.fitted], [ast.Name(n, ast.Load()) for n in inference.fitted])))
    return ast.Call(
        ast.Attribute(ast.Name("serving", ast.Load()), "capture", ast.Load()),
        [ast.Name("predict", ast.Load()), ast.Name(inference.sample or "", ast.Load()), inference.path_expression],
        keywords,
    )


def needs_capture(inference: Inference) -> bool:
    return inference.problem is None and inference.sample is not None
