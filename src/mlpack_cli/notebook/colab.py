"""Statements that only work inside Google Colab, dropped before the notebook is analysed.

``google.colab`` is not a package a project can depend on: it exists only in Colab's runtime.
The statements whose value is one of its calls that only set up or use that runtime
(:data:`COLAB_CALLS`: ``drive.mount(...)``, ``files.upload()``, ``files.download(...)``,
``auth.authenticate_user()``, ``cv2_imshow(img)``, ...) are dropped, each with a warning naming its
cell and line. The ``google.colab`` imports go too, unless code that is kept still reads a name
they bind (``userdata.get(...)``: the module then needs Colab, and a warning says so).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Protocol

from mlpack_cli.notebook.scopes import bound_names, loaded_names

COLAB_CALLS = frozenset({
    "google.colab.drive.mount", "google.colab.drive.flush_and_unmount", "google.colab.files.upload",
    "google.colab.files.download", "google.colab.auth.authenticate_user", "google.colab.output.clear",
    "google.colab.output.enable_custom_widget_manager", "google.colab.output.disable_custom_widget_manager",
    "google.colab.data_table.enable_dataframe_formatter", "google.colab.data_table.disable_dataframe_formatter",
    "google.colab.patches.cv2_imshow",
})


class _Cell(Protocol):
    number: int
    tree: ast.Module


def _is_colab(module: str | None) -> bool:
    return module is not None and (module == "google.colab" or module.startswith("google.colab."))


def _colab_names(cells: Sequence[_Cell]) -> dict[str, str]:
    """Names bound to ``google.colab`` or its members -> what they are (``drive`` -> ``google.colab.drive``)."""
    names: dict[str, str] = {}
    for cell in cells:
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (
                    _is_colab(node.module) or node.module == "google"):
                for alias in node.names:
                    if _is_colab(f"{node.module}.{alias.name}"):
                        names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_colab(alias.name):
                        names[alias.asname or "google"] = alias.name if alias.asname else "google"
    return names


def _call_root(node: ast.expr | None) -> str | None:
    """``drive`` of ``drive.mount(...)``, ``google.colab.files`` of ``google.colab.files.upload()``."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    return ".".join([func.id, *reversed(parts)])


def _is_colab_call(statement: ast.stmt, names: dict[str, str]) -> bool:
    value = statement.value if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
    called = _call_root(value)
    if called is None:
        return False
    root, _, rest = called.partition(".")
    if root not in names:
        return False
    return ".".join(filter(None, [names[root], rest])) in COLAB_CALLS


def _is_colab_import(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.ImportFrom):
        return statement.level == 0 and (_is_colab(statement.module) or (
            statement.module == "google" and all(alias.name == "colab" for alias in statement.names)))
    return isinstance(statement, ast.Import) and all(_is_colab(alias.name) for alias in statement.names)


def drop_colab(cells: Sequence[_Cell]) -> list[str]:
    """Remove Colab-only statements from the cells' trees (in place); the report lines."""
    names = _colab_names(cells)
    if not names and not any(_is_colab_import(s) for c in cells for s in ast.walk(c.tree) if isinstance(s, ast.stmt)):
        return []
    found: list[tuple[int, int, str]] = []  # (cell, line, report line)
    for cell in cells:
        cell.tree.body = _drop_calls(cell.tree.body, names, cell.number, found)
    used = {n for c in cells for s in ast.walk(c.tree) if isinstance(s, ast.stmt) and not _is_colab_import(s)
            for n in _own_loads(s)} & set(names)
    for cell in cells:
        cell.tree.body = _drop_imports(cell.tree.body, used, cell.number, found)
    warnings = [text for _, _, text in sorted(found)]
    if used:
        warnings.append(f"kept the google.colab imports of {', '.join(sorted(used))}, which kept code reads: "
                        "the module runs only in Colab until that code is changed")
    return warnings


def _own_loads(statement: ast.stmt) -> set[str]:
    """Names a statement reads outside the statements nested in it (those are walked on their own)."""
    if not any(isinstance(getattr(statement, f, None), list) for f in ("body", "orelse", "finalbody", "handlers")):
        return loaded_names(statement)
    shallow = [v for f, v in ast.iter_fields(statement) if f not in ("body", "orelse", "finalbody", "handlers")]
    return {n for v in shallow for node in (v if isinstance(v, list) else [v]) if isinstance(node, ast.AST)
            for n in loaded_names(node)}


def _bodies(statement: ast.stmt) -> list[tuple[object, str]]:
    owners: list[tuple[object, str]] = [(statement, f) for f in ("body", "orelse", "finalbody")
                                        if isinstance(getattr(statement, f, None), list)
                                        and getattr(statement, f) and isinstance(getattr(statement, f)[0], ast.stmt)]
    owners += [(h, "body") for h in getattr(statement, "handlers", None) or []]
    owners += [(c, "body") for c in getattr(statement, "cases", None) or []]
    return owners


def _drop_calls(body: list[ast.stmt], names: dict[str, str], cell: int,
                found: list[tuple[int, int, str]]) -> list[ast.stmt]:
    kept: list[ast.stmt] = []
    for statement in body:
        if _is_colab_call(statement, names):
            text = ast.unparse(statement).replace("\n", " ")[:80]
            unset = bound_names(statement)
            then = f"; {', '.join(unset)} is then not set" if unset else ""
            found.append((cell, statement.lineno,
                          f"cell {cell}, line {statement.lineno}: dropped `{text}`: it works only in Colab{then}"))
            continue
        for owner, name in _bodies(statement):
            setattr(owner, name, _drop_calls(getattr(owner, name), names, cell, found) or [ast.Pass()])
        kept.append(statement)
    return kept


def _drop_imports(body: list[ast.stmt], used: set[str], cell: int,
                  found: list[tuple[int, int, str]]) -> list[ast.stmt]:
    kept: list[ast.stmt] = []
    for statement in body:
        if _is_colab_import(statement) and not set(bound_names(statement)) & used:
            found.append((cell, statement.lineno, f"cell {cell}, line {statement.lineno}: dropped "
                          f"`{ast.unparse(statement)}`: google.colab exists only in Colab"))
            continue
        for owner, name in _bodies(statement):
            setattr(owner, name, _drop_imports(getattr(owner, name), used, cell, found) or [ast.Pass()])
        kept.append(statement)
    return kept
