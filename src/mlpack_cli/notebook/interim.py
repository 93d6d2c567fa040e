"""Express the newer parts of a :class:`~mlpack_cli.notebook.dataflow.Pipeline` in plain nodes,
for code generation that does not read them yet (``codegen.CONTRACT`` below 2).

Such code generation writes every node with ``ast.unparse``, so rewriting nodes loses nothing it
would have kept: the results become a dict bound at the end of the evaluate stage
(``Pipeline.result``), a shown metric an assignment, helper globals parameters and keyword
arguments, dropped nested plots ``pass``, and the set-up of the prelude the start of the first stage.
"""

from __future__ import annotations

import ast

from mlpack_cli.notebook.dataflow import ASSIGN_TO, RESULT_NAME, Pipeline
from mlpack_cli.notebook.scopes import walk


def adapt(pipeline: Pipeline, used: set[str]) -> None:
    _assignments(pipeline)
    _helper_globals(pipeline)
    _drop_nested(pipeline)
    _setup(pipeline)
    _results(pipeline, used)


def _assignments(pipeline: Pipeline) -> None:
    for stage in pipeline.stages:
        for _, statements in stage.body:
            for index, statement in enumerate(statements):
                name = getattr(statement, ASSIGN_TO, None)
                if isinstance(statement, ast.Expr) and name:
                    assign = ast.Assign(targets=[ast.Name(name, ast.Store())], value=statement.value)
                    statements[index] = ast.fix_missing_locations(ast.copy_location(assign, statement))


def _helper_globals(pipeline: Pipeline) -> None:
    if not pipeline.helper_globals:
        return
    for helper in pipeline.helpers:
        names = pipeline.helper_globals.get(getattr(helper, "name", ""))
        if names and isinstance(helper, (ast.FunctionDef, ast.AsyncFunctionDef)):
            helper.args.kwonlyargs += [ast.arg(n) for n in names]
            helper.args.kw_defaults += [None] * len(names)
    roots = [*pipeline.helpers, *(s for stage in pipeline.stages for s in stage.statements)]
    for root in roots:
        for node in walk(root):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names = pipeline.helper_globals.get(node.func.id, [])
                given = {k.arg for k in node.keywords}
                node.keywords += [ast.keyword(n, ast.Name(n, ast.Load())) for n in names if n not in given]


def _drop_nested(pipeline: Pipeline) -> None:
    if not pipeline.drop_nested:
        return
    for stage in pipeline.stages:
        for number, statements in stage.body:
            for statement in statements:
                _remove(statement, {line for cell, line in pipeline.drop_nested if cell == number})
    for helper in pipeline.helpers:
        lines = {line for _, line in pipeline.drop_nested}
        _remove(helper, lines)


def _remove(node: ast.AST, lines: set[int]) -> None:
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            kept = [s for s in block if not (getattr(s, "lineno", None) in lines and not getattr(s, "body", None))]
            if not kept and name == "body":
                kept = [ast.copy_location(ast.Pass(), block[0])]
            setattr(node, name, kept)
            for child in kept:
                _remove(child, lines)
    for handler in getattr(node, "handlers", []) or []:
        _remove(handler, lines)


def _setup(pipeline: Pipeline) -> None:
    setup = [s for s in pipeline.imports if not isinstance(s, (ast.Import, ast.ImportFrom))]
    if not setup:
        return
    pipeline.imports = [s for s in pipeline.imports if isinstance(s, (ast.Import, ast.ImportFrom))]
    first = next((s for s in pipeline.stages if not s.is_stub), None)
    if first is not None:
        number = first.body[0][0]
        first.body.insert(0, (number, setup))


def _results(pipeline: Pipeline, used: set[str]) -> None:
    if not pipeline.results:
        return
    evaluate = next(s for s in pipeline.stages if s.name == "evaluate")
    name = RESULT_NAME
    while name in used:
        name += "_"
    value = ast.Dict(keys=[ast.Constant(k) for k, _ in pipeline.results],
                     values=[ast.Name(n, ast.Load()) for _, n in pipeline.results])
    assign = ast.Assign(targets=[ast.Name(name, ast.Store())], value=value, lineno=0)
    evaluate.body.append((evaluate.body[-1][0], [assign]))
    pipeline.result = name
    evaluate.returns.append(name)
