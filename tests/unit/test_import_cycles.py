"""No import cycles in mlpack_cli: each module's imports, read from its syntax tree, form a DAG.

Every import counts, also those inside functions and under ``TYPE_CHECKING``: an import that is only
deferred is still a dependency, and a cycle means two modules that cannot be understood apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mlpack_cli

PACKAGE_DIR = Path(mlpack_cli.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The mlpack_cli modules ``path`` imports (``from package import module`` names the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in modules:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
            found.update(submodules or {node.module})
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports; a package's ``__init__`` (loaded with any of its modules) is left out."""
    modules = _modules()
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    return {name: _imports(path, modules) - packages - {name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_deferred_and_submodule_imports() -> None:
    graph = import_graph()
    assert "mlpack_cli.commands.convert" in graph["mlpack_cli.cli"]  # `from mlpack_cli.commands import convert`
    assert "mlpack_cli.output.console" in graph["mlpack_cli.output.convert"]


def test_mlpack_cli_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(("importer", "imported"), [
    ("mlpack_cli.commands.build", "mlpack_cli.commands.publish"),
    ("mlpack_cli.commands.publish", "mlpack_cli.commands.build"),
])
def test_build_and_publish_do_not_import_each_other(importer: str, imported: str) -> None:
    assert imported not in import_graph()[importer]


def test_the_library_never_imports_its_presenters() -> None:
    graph = import_graph()
    library = [name for name in graph if not name.startswith(("mlpack_cli.output", "mlpack_cli.cli"))]
    assert {name: sorted(m for m in graph[name] if m.startswith("mlpack_cli.output")) for name in library
            if any(m.startswith("mlpack_cli.output") for m in graph[name])} == {}
