"""Inference from the notebook: how the saved model is loaded again and how it predicts.

The export stage's save of a model (``joblib.dump``, ``pickle.dump``, Keras ``save``, ``torch.save``,
``save_pretrained``, ``json.dump`` of a dict) gives ``MODEL_PATH`` and ``load_model``, its inverse.
A model is what training made: the saved object is bound (or fitted) in the train stage, so a
metrics file is never taken for one. ``predict`` is the evaluation's own prediction, taken from the
statement graph: the first call in the evaluate stage (or in the cells tagged ``mlpack:predict``)
that passes the model, or calls its ``predict``, and, backwards from its arguments, the statements
that made them (scaling, encoding, a feature function) down to the records: the data the split
made (``train_test_split``, ``a, b = rows[:n], rows[n:]``) or the load stage read. Objects those
statements apply (a fitted scaler or encoder) are saved with the model. When something cannot be
derived, :attr:`Inference.problem` says what and where; codegen then writes a ``predict`` that
raises ``NotImplementedError`` for the user to complete.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from mlpack_cli.notebook.dataflow import ParsedCell, Pipeline, Stage
from mlpack_cli.notebook.scopes import bound_names, loaded_names, walk
from mlpack_cli.notebook.stages import PREDICT_TAG

NAMES = ("MODEL_PATH", "load_model", "predict", "serving")  # what a serving module defines itself
# methods of a fitted object applied to the data on the way to the model
_APPLIED = frozenset({"transform", "predict", "predict_proba", "decision_function", "encode", "tokenize",
                      "texts_to_sequences", "kneighbors", "inverse_transform", "score_samples"})
_PREDICTS = frozenset({"predict", "predict_proba", "decision_function"})
_FITS = frozenset({"fit", "fit_transform", "partial_fit", "fit_on_texts", "adapt", "train"})


@dataclass
class Inference:
    """What the serving part of the module is made of (codegen writes it)."""

    cell: int  # the export cell that saves the model
    saver: str  # joblib, pickle, json, keras, torch, pretrained
    model: str  # the notebook's name for the saved model
    model_path: str  # MODEL_PATH's value (project-relative, as the export stage's default)
    path_expression: ast.expr  # the export's path, in the names run() has
    define_path: bool  # False: the notebook's own MODEL_PATH constant is that path
    keras_module: str = "keras"
    pretrained_class: str | None = None
    records: str | None = None  # the notebook's name for the records predict receives
    form: str = "rows"  # rows (list of dicts), frame (pandas), array (numpy)
    sample: str | None = None  # the training records run() captures the columns and reference from
    body: list[tuple[int, ast.stmt]] = field(default_factory=list)  # (cell, statement), in order
    call: ast.expr | None = None  # the prediction, returned by predict()
    result: str | None = None  # the name the last body statement binds to the prediction
    fitted: list[str] = field(default_factory=list)
    imported: set[str] = field(default_factory=set)  # names the module's imports bind
    problem: str | None = None  # why predict() is left to complete (None: derived)
    source: int | None = None  # the cell of the prediction
    aliases: list[str] = field(default_factory=list)  # the name the prediction gives the model, when another


def derive(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> tuple[Inference | None, str | None]:
    """The inference of the pipeline, or None with the reason when the module cannot serve (no model
    is saved: None, None)."""
    stages = {s.name: s for s in pipeline.stages}
    export = stages.get("export")
    train = stages.get("train")
    if export is None or export.is_stub or train is None or train.is_stub:
        return None, None
    trained = _bound_in(train) | _fitted_in(train)
    found = _save(export, trained, pipeline)
    if found is None:
        return None, None
    cell, saver, model, path = found
    defined = _module_names(pipeline)
    clash = [n for n in NAMES if n in defined and n != "MODEL_PATH"]
    if clash:
        return None, (f"the notebook defines {clash[0]!r}, a name the serving part of the module needs: "
                      "rename it in the notebook to get load_model() and predict()")
    value = _path_value(path, pipeline)
    if value is None:
        return None, (f"cell {cell}: the model's path is not a literal or a constant "
                      f"({ast.unparse(path)}): no load_model() or predict() written")
    own = _constant_default(pipeline, "MODEL_PATH")
    if "MODEL_PATH" in defined and own != value:
        return None, (f"cell {cell}: the notebook's MODEL_PATH is not the path the model is saved to "
                      f"({ast.unparse(path)}): rename it to get load_model() and predict()")
    inference = Inference(cell, saver, model, value, path, define_path="MODEL_PATH" not in defined)
    inference.imported = {n for s in _imports(pipeline) for n in bound_names(s)}
    if saver == "keras":
        inference.keras_module = _keras_module(pipeline)
    if saver == "pretrained":
        inference.pretrained_class = _pretrained_class(pipeline, model)
        if inference.pretrained_class is None:
            inference.problem = (f"cell {cell}: {model} is saved with save_pretrained, but the class to load "
                                 "it with (Class.from_pretrained) is not in the notebook")
            return inference, None
    if saver == "torch-state":
        inference.problem = (f"cell {cell}: torch.save saves a state_dict: load_model() needs the network's "
                             "class (build it, then load_state_dict)")
        return inference, None
    _predict_path(inference, pipeline, cells, stages)
    return inference, None


# -- the save --------------------------------------------------------------------------------


def _save(export: Stage, trained: set[str], pipeline: Pipeline) -> tuple[int, str, str, ast.expr] | None:
    """(cell, saver, model name, path expression) of the first save of a trained object."""
    for cell, statements in export.body:
        for statement in statements:
            handles = _handles(statement)
            for node in walk(statement):
                if isinstance(node, ast.Call):
                    found = _saved(node, handles, trained, pipeline)
                    if found is not None:
                        return (cell, *found)
    return None


def _handles(statement: ast.stmt) -> dict[str, ast.expr]:
    """``with open(path, ...) as handle``: handle -> path."""
    found = {}
    for node in walk(statement):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                call = item.context_expr
                if (isinstance(call, ast.Call) and _call_name(call) == "open" and call.args
                        and isinstance(item.optional_vars, ast.Name)):
                    found[item.optional_vars.id] = call.args[0]
    return found


def _saved(call: ast.Call, handles: dict[str, ast.expr], trained: set[str],
           pipeline: Pipeline) -> tuple[str, str, ast.expr] | None:
    name = _call_name(call)
    owner = call.func.value if isinstance(call.func, ast.Attribute) else None
    owner_name = owner.id if isinstance(owner, ast.Name) else None
    args = [_opened(a) for a in call.args]
    if name == "dump" and len(args) >= 2 and _model(args[0], trained):
        opened = handles.get(args[1].id) if isinstance(args[1], ast.Name) else None
        if opened is None and args[1] is not call.args[1]:
            opened = args[1]  # pickle.dump(model, open(path, "wb"))
        if owner_name in ("pickle", "json") and opened is not None:
            return owner_name, _model(args[0], trained), opened  # type: ignore[return-value]
        if owner_name == "joblib" or (owner is None and _imported_from(pipeline, "dump") == "joblib"):
            return "joblib", _model(args[0], trained), args[1]  # type: ignore[return-value]
    if name == "write_text" and owner is not None and len(args) == 1 and isinstance(args[0], ast.Call):
        inner = args[0]
        if (_call_name(inner) == "dumps" and inner.args and _model(inner.args[0], trained)
                and isinstance(owner, ast.Call) and _call_name(owner) == "Path" and owner.args):
            return "json", _model(inner.args[0], trained), owner.args[0]  # type: ignore[return-value]
    if name == "save" and owner_name == "torch" and len(args) >= 2:
        saved = args[0]
        if (isinstance(saved, ast.Call) and isinstance(saved.func, ast.Attribute)
                and saved.func.attr == "state_dict" and _model(saved.func.value, trained)):
            return "torch-state", _model(saved.func.value, trained), args[1]  # type: ignore[return-value]
        if _model(saved, trained):
            return "torch", _model(saved, trained), args[1]  # type: ignore[return-value]
    if name == "save" and owner_name in trained and args and _imports_keras(pipeline):
        return "keras", owner_name, args[0]
    if name == "save_pretrained" and owner_name in trained and args:
        return "pretrained", owner_name, args[0]
    return None


def _opened(node: ast.expr) -> ast.expr:
    """The path of ``open(path, "wb")`` handed to a saver as its file; else the argument itself."""
    if isinstance(node, ast.Call) and _call_name(node) == "open" and isinstance(node.func, ast.Name) and node.args:
        return node.args[0]
    return node


def _model(node: ast.expr, trained: set[str]) -> str | None:
    return node.id if isinstance(node, ast.Name) and node.id in trained else None


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _imports(pipeline: Pipeline) -> list[ast.Import | ast.ImportFrom]:
    return [s for s in pipeline.imports if isinstance(s, (ast.Import, ast.ImportFrom))]


def _imported_from(pipeline: Pipeline, name: str) -> str | None:
    for statement in _imports(pipeline):
        if isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                if (alias.asname or alias.name) == name:
                    return (statement.module or "").partition(".")[0]
    return None


def _top_modules(pipeline: Pipeline) -> set[str]:
    found: set[str] = set()
    for statement in _imports(pipeline):
        if isinstance(statement, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in statement.names)
        elif statement.module:
            found.add(statement.module.partition(".")[0])
    return found


def _imports_keras(pipeline: Pipeline) -> bool:
    return bool(_top_modules(pipeline) & {"keras", "tensorflow", "tf_keras"})


def _keras_module(pipeline: Pipeline) -> str:
    modules = _top_modules(pipeline)
    return "keras" if "keras" in modules or "tensorflow" not in modules else "tensorflow.keras"


def _pretrained_class(pipeline: Pipeline, model: str) -> str | None:
    for stage in pipeline.stages:
        for statement in stage.statements:
            if isinstance(statement, ast.Assign) and model in bound_names(statement):
                value = statement.value
                if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                        and value.func.attr == "from_pretrained" and isinstance(value.func.value, ast.Name)):
                    return value.func.value.id
    return None


# -- the path ----------------------------------------------------------------------------------


def _constant_default(pipeline: Pipeline, name: str) -> str | None:
    for parameter in pipeline.path_parameters:
        if getattr(parameter, "name", None) == name:
            return str(parameter.default)
    for statement in pipeline.constants:
        if isinstance(statement, ast.Assign) and [name] == bound_names(statement):
            value = statement.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
    return None


def _path_value(node: ast.expr, pipeline: Pipeline) -> str | None:
    """The path's value with the defaults of the constants: literal, constant, Path(...),
    os.path.join, ``/``, ``+`` and f-strings of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return _constant_default(pipeline, node.id)
    if isinstance(node, ast.Call) and _call_name(node) in ("Path", "join", "PurePath") and node.args:
        parts = [_path_value(a, pipeline) for a in node.args]
        return None if None in parts else posixpath.join(*parts)  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
        left, right = _path_value(node.left, pipeline), _path_value(node.right, pipeline)
        if left is None or right is None:
            return None
        return posixpath.join(left, right) if isinstance(node.op, ast.Div) else left + right
    if isinstance(node, ast.JoinedStr):
        text = ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                text += str(value.value)
            elif isinstance(value, ast.FormattedValue) and value.format_spec is None and value.conversion == -1:
                inner = _path_value(value.value, pipeline)
                if inner is None:
                    return None
                text += inner
            else:
                return None
        return text
    return None


# -- predict ---------------------------------------------------------------------------------------


def _predict_path(inference: Inference, pipeline: Pipeline, cells: Sequence[ParsedCell],
                  stages: dict[str, Stage]) -> None:
    tagged = {c.number for c in cells if any(t.lower() == PREDICT_TAG for t in c.tags)}
    order = [(cell, s) for stage in pipeline.stages for cell, statements in stage.body for s in statements]
    stage_of = {id(s): stage.name for stage in pipeline.stages for _, st_ in stage.body for s in st_}
    model = inference.model
    helpers = {h.name for h in pipeline.helpers if isinstance(h, (ast.FunctionDef, ast.AsyncFunctionDef))}
    start = None
    if tagged:
        chosen = [(cell, s) for cell, s in order if cell in tagged]
        if not chosen:
            inference.problem = f"the cells tagged {PREDICT_TAG} have no statement the pipeline keeps"
            return
        *body, last = chosen
        start = len(order) - 1 - next(i for i, item in enumerate(reversed(order)) if item[1] is chosen[0][1])
        inference.source = last[0]
        inference.call = last[1].value if isinstance(last[1], (ast.Expr, ast.Assign)) else None
        names = bound_names(last[1])
        inference.result = names[-1] if isinstance(last[1], ast.Assign) and names else None
        if inference.call is None:
            inference.problem = f"cell {last[0]}: the last statement tagged {PREDICT_TAG} computes no prediction"
            return
        inference.body = [*body, last]
    else:
        evaluate = stages.get("evaluate")
        found = None
        names = [model, *_same_model(model, stages.get("train"))]
        for cell, statements in (evaluate.body if evaluate else []):
            for statement in statements:
                used = next(((n, c) for n in names for c in [_prediction(statement, n, helpers)]
                             if c is not None), None)
                if used is not None:
                    found = (cell, statement, used[1])
                    inference.aliases = [used[0]] if used[0] != model else []
                    break
            if found:
                break
        if found is None:
            inference.problem = (f"no prediction with {model} found in the evaluate stage: complete predict() "
                                 f"in the module, or tag the notebook's inference cells {PREDICT_TAG}")
            return
        cell, statement, call = found
        inference.source = cell
        start = next(i for i, item in enumerate(order) if item[1] is statement)
        single = (isinstance(statement, ast.Assign) and statement.value is call and len(statement.targets) == 1
                  and isinstance(statement.targets[0], ast.Name))
        inference.call = call
        if single:
            inference.body = [(cell, statement)]
            inference.result = statement.targets[0].id  # type: ignore[attr-defined]
    module_level = _module_names(pipeline)
    if inference.body:
        needed = _outside_reads([s for _, s in inference.body])
    else:
        needed = loaded_names(inference.call)
    needed -= {model, *inference.aliases} | module_level
    records: set[str] = set()
    fitted: set[str] = set()
    sample = None
    added: list[tuple[int, ast.stmt]] = []
    # (name, position): the name as the statement at that position reads it, bound before it
    # (``test = test.reindex(...)`` reads the ``test`` an earlier statement bound)
    pending = {(name, start) for name in needed}
    followed: set[tuple[str, int]] = set()
    while pending:
        name, before = pending.pop()
        if name in fitted or name in records or (name, before) in followed:
            continue
        followed.add((name, before))
        if _is_fitted(name, inference.body + added):
            fitted.add(name)
            continue
        binding = _binding_before(order, before, name)
        if binding is None:
            records.add(name)
            continue
        position, (cell, statement) = binding
        where = stage_of.get(id(statement))
        split = _split_sibling(statement, name)
        if where == "load" or split is not None:
            records.add(name)
            sample = split if split is not None else name
            continue
        if where == "train" and not _applies(statement):  # made by training: saved with the model
            fitted.add(name)
            continue
        added.append((cell, statement))
        pending |= {(n, position) for n in _outside_reads([statement]) - {model, *inference.aliases} - module_level
                    - records - fitted}
    if len(records) != 1:
        what = ", ".join(sorted(records)) or "none"
        inference.problem = (f"cell {inference.source}: the records predict() receives cannot be told apart "
                             f"(the prediction reads the data {what})")
        return
    positions = {id(s): i for i, (_, s) in enumerate(order)}
    inference.body = sorted({id(s): (c, s) for c, s in [*added, *inference.body]}.values(),
                            key=lambda item: positions[id(item[1])])
    inference.records = records.pop()
    inference.sample = sample or inference.records
    inference.fitted = sorted(fitted)
    modules = _top_modules(pipeline) | _cell_modules(cells)
    inference.form = "frame" if "pandas" in modules else ("array" if "numpy" in modules or "sklearn" in modules
                                                          else "rows")


def _same_model(model: str, train: Stage | None) -> list[str]:
    """Other names training gives the saved model's object: ``classifier`` of ``model =
    classifier.fit(X, y)`` (a fit returns the estimator itself) or of ``model = classifier``; the
    notebook may predict with either."""
    found: list[str] = []
    for statement in train.statements if train is not None else []:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == model):
            continue
        value = statement.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "fit":
            value = value.func.value
        if isinstance(value, ast.Name) and value.id != model and value.id not in found:
            found.append(value.id)
    return found


def _prediction(statement: ast.stmt, model: str, helpers: set[str]) -> ast.Call | None:
    """The first call in ``statement`` that predicts with ``model``."""
    for node in walk(statement):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in _PREDICTS and isinstance(func.value, ast.Name)
                and func.value.id == model):
            return node
        if isinstance(func, ast.Name) and func.id == model:
            return node
        if (isinstance(func, ast.Name) and func.id in helpers
                and any(isinstance(a, ast.Name) and a.id == model
                        for a in [*node.args, *(k.value for k in node.keywords)])):
            return node
    return None


def _reads(statement: ast.stmt) -> set[str]:
    return _outside_reads([statement])


def _outside_reads(statements: list[ast.stmt]) -> set[str]:
    from mlpack_cli.notebook.scopes import analyze

    return set(analyze(list(statements)).reads)


def _binding_before(order: list[tuple[int, ast.stmt]], index: int, name: str
                    ) -> tuple[int, tuple[int, ast.stmt]] | None:
    for position in range(index - 1, -1, -1):
        cell, statement = order[position]
        if isinstance(statement, ast.Delete):
            continue
        if name in bound_names(statement):
            return position, (cell, statement)
    return None


def _is_fitted(name: str, body: list[tuple[int, ast.stmt]]) -> bool:
    """An object the prediction applies (``scaler.transform(X)``): fitted before it, saved with the model."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _APPLIED
               and isinstance(n.func.value, ast.Name) and n.func.value.id == name
               for _, s in body for n in walk(s))


def _applies(statement: ast.stmt) -> bool:
    """``X_s = scaler.transform(X)``: a step of the data, wherever placement put it."""
    value = getattr(statement, "value", None)
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr in _APPLIED and value.func.attr not in _PREDICTS)


def _split_sibling(statement: ast.stmt, name: str) -> str | None:
    """For a split that binds ``name`` (``X_train, X_test = ...``), the training part (else ``name``)."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return None
    target = statement.targets[0]
    if not isinstance(target, (ast.Tuple, ast.List)) or len(target.elts) < 2:
        return None
    value = statement.value
    is_split = ((isinstance(value, ast.Call) and "split" in (_call_name(value) or "").lower())
                or (isinstance(value, (ast.Tuple, ast.List))
                    and all(isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Slice) for e in value.elts)))
    if not is_split:
        return None
    names = [e.id for e in target.elts if isinstance(e, ast.Name)]
    for old in ("test", "val", "valid", "eval"):
        if old in name:
            for new in ("train", "training"):
                if name.replace(old, new) in names:
                    return name.replace(old, new)
    return name


def _bound_in(stage: Stage) -> set[str]:
    return {n for s in stage.statements for n in bound_names(s)}


def _fitted_in(stage: Stage) -> set[str]:
    """Names whose fit method the stage calls (``model.fit(X, y)``)."""
    return {n.func.value.id for s in stage.statements for n in walk(s)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _FITS
            and isinstance(n.func.value, ast.Name)}


def _module_names(pipeline: Pipeline) -> set[str]:
    names = set(pipeline.constant_names)
    for statement in [*pipeline.imports, *pipeline.helpers]:
        names.update(bound_names(statement))
    names.update(getattr(p, "name", "") for p in pipeline.path_parameters)
    return names


def return_from_stages(pipeline: Pipeline, inference: Inference) -> None:
    """What run() hands to ``serving.capture`` (the model, the training records, the fitted
    objects) is returned by the last stage that binds it, when no stage returns it yet."""
    wanted = [inference.model, *inference.fitted]
    if inference.problem is None and inference.sample:
        wanted.append(inference.sample)
    for name in wanted:
        if any(name in stage.returns for stage in pipeline.stages):
            continue
        binding = [s for s in pipeline.stages if any(name in bound_names(x) for x in s.statements)]
        if binding:
            binding[-1].returns.append(name)


def _cell_modules(cells: Sequence[ParsedCell]) -> set[str]:
    """The top-level modules the notebook imports anywhere (an unused ``import pandas`` included)."""
    found: set[str] = set()
    for cell in cells:
        for node in walk(cell.tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.partition(".")[0])
    return found
