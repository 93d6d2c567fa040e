"""Local modules a notebook imports become modules of its package, so the wheel runs on its own.

A notebook that imports ``utils`` from its own directory, or ``mylib`` from a directory it adds to
``sys.path`` (``sys.path.append('..')``), runs only where those files are. Convert looks for them as
the notebook's own import would (the notebook's directory first, then the directories its
``sys.path`` set-up names, in the order Python searches them), copies their ``.py`` files into the
package, rewrites the imports of them (in the notebook and in the copies) to name the package, and
drops the ``sys.path`` set-up that only served them.

A copy is a generated file with the usual header: ``source`` is the hash of the local file it was
copied from, so a changed original refreshes the copy and an edited copy is a conflict like any
other generated file.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import sys
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import libcst

    from mlpack_cli.notebook.dataflow import ParsedCell

SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})


class LocalModuleError(Exception):
    """A local module that cannot be copied: the message says which file and why, the hint what to do."""

    def __init__(self, path: Path, detail: str, hint: str = "Fix that file (it must be valid Python 3), "
                 "or stop importing it in the notebook.") -> None:
        super().__init__(f"{path}{detail}")
        self.path, self.detail, self.hint = path, detail, hint


@dataclass
class PathSetup:
    """One ``sys.path`` change of the notebook, and where the directories it adds go."""

    cell: int
    statement: ast.stmt | None  # the top-level statement that is the whole set-up, when there is one
    directories: list[Path] | None  # None: a value convert cannot work out
    front: bool  # True: searched before the standard library and installed packages (insert)


@dataclass
class Copied:
    """A local module or package the notebook imports, and its files."""

    name: str  # the top-level import name
    origin: Path  # the .py file, or the package directory
    files: dict[str, Path] = field(default_factory=dict)  # path in the package ("mylib/sub.py") -> source


@dataclass
class LocalModules:
    copied: dict[str, Copied] = field(default_factory=dict)
    missing: dict[str, list[Path]] = field(default_factory=dict)  # import name -> directories searched
    setups: list[PathSetup] = field(default_factory=list)
    search: list[Path] = field(default_factory=list)  # where a local import is looked for, in order
    imports: set[str] = field(default_factory=set)  # top-level absolute imports of the copied files


# -- the notebook's search path ---------------------------------------------------------------------

_JOIN = {"os.path.join", "path.join", "osp.join", "join"}
_SAME = {"os.path.abspath", "os.path.normpath", "os.path.realpath", "path.abspath", "path.normpath",
         "path.realpath", "osp.abspath", "osp.normpath", "osp.realpath", "abspath", "normpath", "realpath",
         "str", "os.fspath"}
_PATHS = {"Path", "pathlib.Path", "PurePath", "pathlib.PurePath"}
_CWD = {"os.getcwd", "Path.cwd", "pathlib.Path.cwd", "getcwd"}
_DIRNAME = {"os.path.dirname", "path.dirname", "osp.dirname", "dirname"}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def path_value(node: ast.expr, names: dict[str, str]) -> str | None:
    """The path an expression of literals names (relative to the working directory), or None.

    Understood: string literals, names bound to such a value, ``os.path.join/abspath/normpath/
    realpath/dirname``, ``os.getcwd()``, ``Path(...)`` with ``/``, ``.resolve()``, ``.parent``, ``str()``.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        if _dotted(node) in {"os.curdir", "os.path.curdir"}:
            return "."
        if _dotted(node) in {"os.pardir", "os.path.pardir"}:
            return ".."
        if node.attr == "parent":
            inner = path_value(node.value, names)
            return None if inner is None else os.path.join(inner, "..")
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = path_value(node.left, names), path_value(node.right, names)
        return None if left is None or right is None else os.path.join(left, right)
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    if isinstance(node.func, ast.Attribute) and node.func.attr in {"resolve", "absolute"} and not node.args:
        if _dotted(node.func) not in _CWD:
            return path_value(node.func.value, names)
    function = _dotted(node.func)
    args = [path_value(arg, names) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    values = [arg for arg in args if arg is not None]
    if function in _CWD and not values:
        return "."
    if function in _JOIN or function in _PATHS:
        return os.path.join(*values) if values else "."
    if function in _SAME and len(values) == 1:
        return values[0]
    if function in _DIRNAME and len(values) == 1:
        return os.path.dirname(values[0])
    return None


def _sys_path_call(node: ast.expr) -> tuple[str, ast.Call] | None:
    """``sys.path.append(...)``, ``.insert(...)``, ``.extend(...)``: (method, call)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"append", "insert", "extend"} and _dotted(node.func.value) == "sys.path"):
        return node.func.attr, node
    return None


def _setup_of(node: ast.AST, names: dict[str, str]) -> tuple[list[Path] | None, bool] | None:
    """(directories, front) of one ``sys.path`` change, or None when ``node`` is not one."""
    values: list[str | None]
    if isinstance(node, ast.AugAssign) and _dotted(node.target) == "sys.path" and isinstance(node.op, ast.Add):
        items = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else None
        values = [path_value(item, names) for item in items] if items is not None else [None]
        front = False
    elif isinstance(node, ast.Expr) and (found := _sys_path_call(node.value)):
        method, call = found
        if method == "insert" and len(call.args) == 2:
            values, front = [path_value(call.args[1], names)], True
        elif method == "append" and len(call.args) == 1:
            values, front = [path_value(call.args[0], names)], False
        elif method == "extend" and len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple)):
            values, front = [path_value(item, names) for item in call.args[0].elts], False
        else:
            values, front = [None], method == "insert"
    else:
        return None
    if any(value is None for value in values):
        return None, front
    return [Path(value) for value in values if value is not None], front


def _is_guard(statement: ast.stmt) -> bool:
    """``if p not in sys.path:`` (or any ``if`` that reads sys.path) with only set-up in it."""
    return (isinstance(statement, ast.If) and not statement.orelse
            and any(_dotted(n) == "sys.path" for n in ast.walk(statement.test) if isinstance(n, ast.Attribute))
            and all(_setup_of(s, {}) is not None for s in statement.body))


def find_setups(cells: Iterable[ParsedCell]) -> list[PathSetup]:
    """Every ``sys.path`` change in the cells, in notebook order, with the directories it adds."""
    setups: list[PathSetup] = []
    names: dict[str, str] = {}  # top-level names bound to a path value, as the cells run
    for cell in cells:
        changes = "path" in (cell.code or cell.source)  # no "sys.path" in the text: no change to look for
        for statement in cell.tree.body:
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)):
                value = path_value(statement.value, names)
                if value is None:
                    names.pop(statement.targets[0].id, None)
                else:
                    names[statement.targets[0].id] = value
            if not changes:
                continue
            whole = statement if _setup_of(statement, names) is not None or _is_guard(statement) else None
            if whole is None and not isinstance(statement, (ast.If, ast.For, ast.While, ast.With, ast.Try,
                                                            ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(statement):
                found = _setup_of(node, names) if isinstance(node, (ast.Expr, ast.AugAssign)) else None
                if found is not None:
                    directories, front = found
                    setups.append(PathSetup(cell.number, whole, directories, front))
    return setups


def search_path(notebook_dir: Path, setups: Iterable[PathSetup]) -> tuple[list[Path], int]:
    """The directories a local import is looked for in, in order, and how many of them come before
    the standard library and installed packages (``sys.path.insert``: before; ``append``: after)."""
    front: list[Path] = [notebook_dir]
    back: list[Path] = []
    for setup in setups:
        for directory in setup.directories or []:
            if setup.front:
                front.insert(0, directory)
            else:
                back.append(directory)
    ordered = list(dict.fromkeys(front))
    return ordered + [d for d in dict.fromkeys(back) if d not in ordered], len(ordered)


# -- finding the modules ----------------------------------------------------------------------------


def _find_in(directory: Path, name: str) -> tuple[Path, bool] | None:
    """(origin, is_package) of ``name`` in one directory: a regular package, a module, or a
    directory without ``__init__.py`` (a namespace package, taken when nothing regular is found)."""
    package = directory / name
    if (package / "__init__.py").is_file():
        return package, True
    module = directory / f"{name}.py"
    if module.is_file():
        return module, False
    return None


def _find(name: str, search: list[Path], front: int, external: Callable[[str], bool]) -> Copied | None:
    namespace: Path | None = None
    for index, directory in enumerate(search):
        if index == front and external(name):
            return None  # the standard library or an installed package is found before the rest
        found = _find_in(directory, name)
        if found is not None:
            return _copied(name, *found)
        if namespace is None and (directory / name).is_dir() and name.isidentifier():
            if any(_python_files(directory / name)):
                namespace = directory / name
    if namespace is not None and not external(name):
        return _copied(name, namespace, True)
    return None


def _python_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*.py")):
        relative = path.relative_to(directory)
        if SKIPPED_PARTS.intersection(relative.parts) or not all(p.isidentifier() for p in relative.parts[:-1]):
            continue
        if path.is_file() and path.stem.isidentifier():
            yield path


def _copied(name: str, origin: Path, is_package: bool) -> Copied:
    if not is_package:
        return Copied(name, origin, {f"{name}.py": origin})
    files = {f"{name}/{p.relative_to(origin).as_posix()}": p for p in _python_files(origin)}
    return Copied(name, origin, files)


def top_level_imports(tree: ast.AST) -> set[str]:
    """The top-level names of a tree's absolute imports (``import a.b`` -> ``a``)."""
    from mlpack_cli.notebook.statements import walk_statements

    names: set[str] = set()
    for node in walk_statements(tree):  # an import is a statement
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    names.discard("__future__")
    return names


def read_source(path: Path) -> str:
    """A local module's text, decoded as Python decodes it (coding cookie, BOM)."""
    try:
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (OSError, SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise LocalModuleError(path, f": cannot be read as Python source ({exc})") from exc


def _parse(path: Path, text: str) -> ast.Module:
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise LocalModuleError(path, f", line {exc.lineno}: {exc.msg}: not valid Python 3") from exc
    except (ValueError, RecursionError) as exc:
        raise LocalModuleError(path, f": cannot be parsed ({exc})") from exc


def find_local_modules(
    cells: list[ParsedCell], notebook_dir: Path, *, exclude: set[str], external: Callable[[str], bool],
) -> LocalModules:
    """The local modules the cells import, and those they import in turn, found where the notebook's
    import finds them; ``exclude`` are names that are not looked for (``%%writefile`` modules);
    ``external(name)`` says whether the standard library or an installed package provides ``name``.

    An import neither local nor external is ``missing`` when the notebook changes ``sys.path``
    (it looks for its own modules there): it is reported, not declared as a dependency.
    """
    result = LocalModules(setups=find_setups(cells))
    for setup in result.setups:  # relative to the notebook's directory, where the notebook runs
        if setup.directories is not None:
            setup.directories = [Path(os.path.normpath(notebook_dir / d)) for d in setup.directories]
    result.search, front = search_path(notebook_dir, result.setups)
    wanted = sorted(set().union(*(top_level_imports(c.tree) for c in cells if "import" in (c.code or c.source)))
                    - exclude)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop(0)
        if name in seen:
            continue
        seen.add(name)
        copied = _find(name, result.search, front, external)
        if copied is None:
            if result.setups and not external(name):
                result.missing[name] = list(result.search)
            continue
        result.copied[name] = copied
        for path in copied.files.values():
            imports = top_level_imports(_parse(path, read_source(path)))
            result.imports |= imports
            wanted.extend(sorted(imports - exclude - seen))
    result.imports -= set(result.copied)
    return result


def clashes(found: LocalModules, taken: set[str]) -> list[str]:
    """Copied modules named like a module the package already has (``taken``) or like a standard
    library module (its imports would be ambiguous)."""
    stdlib = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    return sorted(name for name in found.copied if name in taken or name in stdlib)


# -- rewriting the notebook's imports ---------------------------------------------------------------


def _package_import(name: str, asname: str | None, package: str) -> list[ast.stmt]:
    """The statements that import local module ``name`` (dotted) from ``package``, binding what
    ``import name [as asname]`` bound."""
    from mlpack_cli.notebook.dataflow import NEEDED_BY

    top, _, rest = name.partition(".")
    if asname is not None and rest:
        return [ast.Import(names=[ast.alias(f"{package}.{name}", asname)])]
    if asname is not None:
        return [ast.ImportFrom(module=package, names=[ast.alias(top, asname)], level=0)]
    statements: list[ast.stmt] = [ast.ImportFrom(module=package, names=[ast.alias(top)], level=0)]
    if rest:  # ``import mylib.sub`` binds mylib and loads mylib.sub: kept as long as mylib is used
        loads = ast.alias(f"{package}.{name}")
        setattr(loads, NEEDED_BY, top)
        statements.append(ast.Import(names=[loads]))
    return statements


class _AstImports(ast.NodeTransformer):
    def __init__(self, modules: set[str], package: str) -> None:
        self.modules, self.package = modules, package

    def visit_Import(self, node: ast.Import) -> ast.stmt | list[ast.stmt]:
        if not any(alias.name.split(".")[0] in self.modules for alias in node.names):
            return node
        statements: list[ast.stmt] = []
        for alias in node.names:
            if alias.name.split(".")[0] in self.modules:
                statements.extend(_package_import(alias.name, alias.asname, self.package))
            else:
                statements.append(ast.Import(names=[alias]))
        return [ast.copy_location(statement, node) for statement in statements]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.level == 0 and node.module and node.module.split(".")[0] in self.modules:
            node.module = f"{self.package}.{node.module}"
        return node


def rewrite_cells(cells: Iterable[ParsedCell], modules: set[str], package: str) -> None:
    """``import utils`` -> ``from <package> import utils``, ``from utils import f`` ->
    ``from <package>.utils import f``, ``import mylib.sub as s`` -> ``import <package>.mylib.sub as s``,
    wherever the import is in the cells."""
    if not modules:
        return
    for cell in cells:
        _AstImports(modules, package).visit(cell.tree)


def drop_setups(cells: Iterable[ParsedCell], found: LocalModules) -> list[int]:
    """Remove the ``sys.path`` set-up that only served the copied modules: each whole set-up statement
    whose directories are all known and hold a copied module, when no local import is missing; then
    the imports and path names that only those statements read. The cells changed."""
    if found.missing:
        return []
    served = {copied.origin.parent for copied in found.copied.values()}
    drop = [s for s in found.setups if s.statement is not None and s.directories is not None
            and s.directories and all(d in served for d in s.directories)]
    # a statement with several set-ups (a guard) goes only when all of them may
    doomed = {id(s.statement) for s in drop}
    for setup in found.setups:
        if setup.statement is not None and setup not in drop:
            doomed.discard(id(setup.statement))
    if not doomed:
        return []
    cells = list(cells)
    read_by_dropped: set[str] = set()
    changed: set[int] = set()
    for cell in cells:
        kept = []
        for statement in cell.tree.body:
            if id(statement) in doomed:
                read_by_dropped |= {n.id for n in ast.walk(statement) if isinstance(n, ast.Name)}
                changed.add(cell.number)
            else:
                kept.append(statement)
        cell.tree.body = kept
    still_read = {n.id for c in cells for n in ast.walk(c.tree) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Load)}
    unused = read_by_dropped - still_read
    for cell in cells:
        kept = []
        for statement in cell.tree.body:
            bound = _only_binds(statement)
            if bound and bound <= unused:
                changed.add(cell.number)
                continue
            kept.append(statement)
        cell.tree.body = kept
    return sorted(changed)


def _only_binds(statement: ast.stmt) -> set[str]:
    """The names a plain import or a path assignment binds (nothing else in them can matter)."""
    if isinstance(statement, ast.Import) and all(a.name in {"sys", "os", "pathlib", "os.path"}
                                                 for a in statement.names):
        return {(a.asname or a.name.split(".")[0]) for a in statement.names}
    if (isinstance(statement, ast.ImportFrom) and statement.level == 0
            and statement.module in {"os", "os.path", "pathlib", "sys"}):
        return {(a.asname or a.name) for a in statement.names}
    if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and path_value(statement.value, {}) is not None):
        return {statement.targets[0].id}
    return set()


# -- the copies -------------------------------------------------------------------------------------

COPY_NOTE = "# Edit that file and run `mlpack convert` again; edits here are kept."


def _identifiers(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _import_code(name: str, asname: str | None, package: str) -> list[str]:
    return [ast.unparse(statement) for statement in _package_import(name, asname, package)]


def _small_statement(code: str) -> libcst.BaseSmallStatement:
    import libcst

    line = libcst.parse_statement(code)
    assert isinstance(line, libcst.SimpleStatementLine)
    return line.body[0]


def _rewrite_source(text: str, modules: set[str], package: str) -> str:
    """The imports of ``modules`` in one copied file made to name ``package``; everything else of
    the file (comments, layout, relative imports) as it was."""
    import libcst
    from libcst.helpers import get_full_name_for_node

    class Imports(libcst.CSTTransformer):
        def leave_SimpleStatementLine(
            self, original: libcst.SimpleStatementLine, updated: libcst.SimpleStatementLine
        ) -> libcst.BaseStatement | libcst.FlattenSentinel[libcst.BaseStatement]:
            body: list[libcst.BaseSmallStatement] = []
            changed = False
            for small in updated.body:
                codes = self._rewritten(small)
                if codes is None:
                    body.append(small)
                    continue
                changed = True
                body.extend(_small_statement(code) for code in codes)
            if not changed:
                return updated
            if len(updated.body) == 1 and len(body) > 1:  # one import becomes one line per statement
                lines = [libcst.SimpleStatementLine(body=[small]) for small in body]
                lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
                lines[-1] = lines[-1].with_changes(trailing_whitespace=updated.trailing_whitespace)
                return libcst.FlattenSentinel(lines)
            body = [small.with_changes(semicolon=libcst.MaybeSentinel.DEFAULT) for small in body]
            return updated.with_changes(body=body)

        def _rewritten(self, small: libcst.BaseSmallStatement) -> list[str] | None:
            if isinstance(small, libcst.ImportFrom):
                if small.relative or small.module is None:
                    return None
                module = get_full_name_for_node(small.module) or ""
                if module.split(".")[0] not in modules:
                    return None
                code = libcst.Module([]).code_for_node(small.with_changes(
                    module=libcst.parse_expression(f"{package}.{module}"), semicolon=libcst.MaybeSentinel.DEFAULT))
                return [code]
            if not isinstance(small, libcst.Import):
                return None
            aliases = [(get_full_name_for_node(a.name) or "",
                        get_full_name_for_node(a.asname.name) if a.asname else None) for a in small.names]
            if not any(name.split(".")[0] in modules for name, _ in aliases):
                return None
            codes: list[str] = []
            for name, asname in aliases:
                if name.split(".")[0] in modules:
                    codes.extend(_import_code(name, asname, package))
                else:
                    codes.append(f"import {name}" + (f" as {asname}" if asname else ""))
            return codes

    if not modules:
        return text
    tree = libcst.parse_module(text)
    return tree.visit(Imports()).code


def copied_files(
    found: LocalModules, package: str, display: Callable[[Path], str], max_line: int
) -> dict[str, str]:
    """Every copied file: path in the package -> its text, with the generated-file header (the
    local file it comes from and the hash of that file) and the imports of the copies rewritten.
    Where flake8 would complain about the user's lines, they get ``# noqa`` as generated modules do."""
    if not found.copied:
        return {}  # libcst is imported only for a notebook that has copies
    import libcst

    from mlpack_cli.notebook.pysource import users_module_with_noqa
    from mlpack_cli.notebook.secrets import scanner

    assert package.isidentifier() and all(_identifiers(n) for n in found.copied)
    names = set(found.copied)
    files: dict[str, str] = {}
    with scanner() as scan:
        texts = {source: _checked(source, scan) for c in found.copied.values() for source in c.files.values()}
    for copied in found.copied.values():
        for relpath, source in sorted(copied.files.items()):
            text = texts[source]
            try:
                body = _rewrite_source(text, names, package)
            except libcst.ParserSyntaxError as exc:
                raise LocalModuleError(source, f", line {exc.raw_line}: not valid Python 3") from exc
            body = users_module_with_noqa(body, max_line)
            files[relpath] = header(body, display(source), hashlib.sha256(source.read_bytes()).hexdigest(), max_line)
    return files


def _checked(source: Path, scan: Callable[[str, str], list[Any]]) -> str:
    """A local module's text (LF line ends, as mlpack reads generated files back), refused when it
    holds a secret: a secret never reaches a generated file."""
    text = read_source(source).replace("\r\n", "\n").replace("\r", "\n")
    found = scan(text, ".py")
    if found:
        first = min(found, key=lambda item: item.line)
        raise LocalModuleError(
            source, f", line {first.line}: {first.kind} {first.masked}: a secret is never copied into the package",
            hint="Read the secret from an environment variable in that file, or mark a value that is no "
                 "secret with `# pragma: allowlist secret`.",
        )
    return text


def header(body: str, origin: str, source_hash: str, max_line: int = 79) -> str:
    """The generated-file header of a copy: where it was copied from, the hash of that file, the
    hash of ``body`` (so an edit of the copy is noticed)."""
    from mlpack_cli.literals import py_comment

    content = hashlib.sha256(body.encode("utf-8")).hexdigest()
    first = f"# Generated by mlpack convert from {py_comment(origin)}."
    if len(first) > max_line:
        first += "  # noqa: E501"
    return f"{first}\n{COPY_NOTE}\n# source: {source_hash}\n# content: {content}\n{body}"
