"""Star imports (``from x import *``) made explicit, so every name of the module can be traced.

A star import binds names nobody can see in the notebook. Convert reads them WITHOUT running
anything: it finds the module's source where the notebook's import finds it (a local module or
``%%writefile`` module of the notebook, else on ``sys.path``, walked with
``importlib.machinery.PathFinder`` and each parent package's ``__path__``, never importing a
parent, since that would run its ``__init__.py``), parses it, and takes a literal ``__all__``, else
its public top-level bindings (definitions, assignments, imports, and its own star imports,
followed the same way). The notebook's star import then becomes ``from x import a, b`` of exactly
the names the notebook reads from it.

A module whose source cannot be read (compiled, not installed here, not valid Python, a computed
``__all__``) is unresolved: the names the notebook reads and binds nowhere are attributed to it
(to the last such import before the read, as Python's shadowing does), with a warning.
"""

from __future__ import annotations

import ast
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.machinery import ExtensionFileLoader, PathFinder, SourceFileLoader
from typing import TYPE_CHECKING, Protocol

from mlpack_cli.notebook.scopes import BUILTINS, analyze

if TYPE_CHECKING:
    from pathlib import Path


class ParsedCell(Protocol):
    """What is read of a cell (notebook/dataflow.ParsedCell, not imported: dataflow imports this module)."""

    number: int
    source: str
    code: str
    tree: ast.Module


MAX_DEPTH = 10  # star imports followed inside star-imported modules, at most this deep
STAR_NAMES = "mlpack_star_names"  # attribute of an ast.ImportFrom: the names that replaced its ``*``
KEEP_IMPORT = "mlpack_keep_import"  # attribute of an ast.alias: kept though nothing reads it (run for its effects)
STAR_TEXT = re.compile(r"\bimport\b[\s\\(]*\*")  # a cell without it has no star import
# What IPython puts in the notebook's namespace: never attributed to a star import.
IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "display", "exit", "quit", "_", "__", "___",
                           "_i", "_ii", "_iii", "_ih", "_oh", "_dh"})
_IPYTHON_NUMBERED = re.compile(r"_i?\d+")


@dataclass(frozen=True)
class Provided:
    """What ``from module import *`` binds, as far as the source says."""

    names: frozenset[str] = frozenset()
    complete: bool = False  # no other name can come in (a literal __all__, or every binding seen)
    effects: bool = True  # its top level may do more than define names: importing it matters
    reason: str = ""  # why it is not complete
    found: bool = False  # its source was read and parsed
    homes: Mapping[str, str] = field(default_factory=dict)  # name -> the module a chain of star imports took it from


@dataclass(frozen=True)
class Source:
    module: str  # dotted name
    text: str
    package: bool  # an __init__.py: its submodules are its names once imported


class Locator:
    """Finds a module's source where the notebook's import finds it, without importing anything.

    ``roots``: top-level names of local modules -> the directories to look for them in;
    ``texts``: modules the notebook writes itself (``%%writefile``) -> their text; ``package``:
    the project's package, which the notebook's imports of those modules now name
    (``from pkg.features import *`` is the local ``features``). Anything else: ``sys.path``.
    """

    def __init__(self, roots: Mapping[str, Sequence[Path]] | None = None,
                 texts: Mapping[str, str] | None = None, package: str = "",
                 path: Sequence[str] | None = None) -> None:
        self.roots = {name: [str(d) for d in dirs] for name, dirs in (roots or {}).items()}
        self.texts = dict(texts or {})
        self.package = package
        self.path = list(path) if path is not None else None  # None: sys.path as it is

    def as_written(self, module: str) -> str:
        """The module as the notebook named it (before its imports were made to name the package)."""
        if self.package and module.startswith(self.package + "."):
            rest = module[len(self.package) + 1:]
            if rest.split(".")[0] in self.roots or rest in self.texts:
                return rest
        return module

    def installed(self, module: str) -> bool:
        """Whether ``module`` is looked for on ``sys.path`` (not a module of the notebook's own)."""
        module = self.as_written(module)
        return module not in self.texts and module.split(".")[0] not in self.roots

    def find(self, module: str) -> Source | str:
        """The source of ``module``, or why there is none to read."""
        module = self.as_written(module)
        if module in self.texts:
            return Source(module, self.texts[module], False)
        parts = module.split(".")
        if not all(part.isidentifier() for part in parts):
            return "not a module name"
        search = self.roots.get(parts[0], self.path)
        spec = None
        for index in range(len(parts)):
            name = ".".join(parts[:index + 1])
            try:
                spec = PathFinder.find_spec(name, search)
            except (ImportError, OSError, ValueError) as exc:
                return f"cannot be looked up ({exc})"
            if spec is None:
                if index == 0 and name in sys.builtin_module_names:
                    return "built into Python, no source to read"
                return "not installed here" if index == 0 else f"{name} not found"
            if index < len(parts) - 1:
                if spec.submodule_search_locations is None:
                    return f"{name} is a module, not a package: only running it says what {module} is"
                search = list(spec.submodule_search_locations)
        assert spec is not None
        if isinstance(spec.loader, ExtensionFileLoader):
            return "compiled, no Python source to read"
        if not isinstance(spec.loader, SourceFileLoader) or not spec.origin:
            if spec.submodule_search_locations is not None:
                return "a namespace package (no __init__.py): what it binds depends on what was imported before"
            return "no Python source to read"
        try:
            with tokenize.open(spec.origin) as file:  # decoded as Python decodes it (coding cookie, BOM)
                text = file.read()
        except (OSError, SyntaxError, LookupError, UnicodeDecodeError) as exc:
            return f"cannot be read as Python source ({exc})"
        return Source(module, text, spec.submodule_search_locations is not None)


_INSTALLED: dict[str, Provided] = {}  # what installed modules bring in: the same all through one process


class Resolver:
    """What star imports bind, module by module (each module read once)."""

    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self._done: dict[str, Provided] = {}

    def provided(self, module: str, stack: tuple[str, ...] = ()) -> Provided:
        if module in self._done:
            return self._done[module]
        installed = self.locator.installed(module) and self.locator.path is None
        if installed and module in _INSTALLED:
            return _INSTALLED[module]
        if module in stack:  # a cycle: its names are counted where it was first reached
            return Provided(frozenset(), complete=True, effects=False, found=True)
        if len(stack) >= MAX_DEPTH:
            return Provided(reason="star imports nested too deeply to follow")
        found = self.locator.find(module)
        if isinstance(found, str):
            result = Provided(reason=found)
        else:
            try:
                tree = ast.parse(found.text)
            except SyntaxError as exc:
                result = Provided(reason=f"its source does not parse (line {exc.lineno}: {exc.msg})")
            except (ValueError, RecursionError) as exc:
                result = Provided(reason=f"its source does not parse ({exc})")
            else:
                result = _Scan(self, found, (*stack, module)).run(tree)
        if not stack:  # inside a cycle a result may be partial
            self._done[module] = result
            if installed:
                _INSTALLED[module] = result
        return result


class _Scan:
    """The names one module's top level binds, in order, and whether it does anything else."""

    def __init__(self, resolver: Resolver, source: Source, stack: tuple[str, ...]) -> None:
        self.resolver, self.source, self.stack = resolver, source, stack
        self.bound: dict[str, None] = {}  # an ordered set
        self.homes: dict[str, str] = {}
        self.all: list[str] | None = None
        self.dynamic_all = False
        self.complete = True
        self.effects = False
        self.reasons: list[str] = []
        self.home = source.module if source.package else source.module.rpartition(".")[0]

    def run(self, tree: ast.Module) -> Provided:
        self.literal_all = _literal_all(tree)  # then its own star imports need not be followed
        self.visit(tree.body)
        if self.all is not None and not self.dynamic_all:
            return Provided(frozenset(self.all), True, self.effects, found=True, homes=self._homes(self.all))
        public = frozenset(n for n in self.bound if not n.startswith("_"))
        if self.dynamic_all:
            return Provided(public, False, self.effects, "its __all__ is computed when it is imported", True,
                            self._homes(public))
        return Provided(public, self.complete, self.effects, "; ".join(self.reasons), True, self._homes(public))

    def _homes(self, names: Iterable[str]) -> dict[str, str]:
        """Where each name comes from, for those another module's star import gave this one."""
        module = self.source.module
        return {n: self.homes[n] for n in names if self.homes.get(n, module) != module}

    def bind(self, name: str, home: str | None = None) -> None:
        """``home``: the public module the name is the same object in (``=m``: the module ``m`` itself)."""
        own = self.source.module
        home = home if home and _public(home.lstrip("=")) else own
        if self.homes.get(name, home) != home:
            home = own  # bound twice (one branch or another, posixpath or ntpath): only the module itself is sure
        self.bound[name] = None
        self.homes[name] = home

    def visit(self, body: Sequence[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bind(node.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module = alias.name if alias.asname else alias.name.split(".")[0]
                self.bind(alias.asname or module, "=" + module)
        elif isinstance(node, ast.ImportFrom):
            self.import_from(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self.assignment(node)
        elif isinstance(node, ast.Expr):
            if not self.all_method(node.value) and not isinstance(node.value, ast.Constant):
                self.effects = True
        elif isinstance(node, ast.If):
            if _is_main_check(node.test):
                return  # never true when imported
            self.effects |= _calls(node.test)
            self.visit(node.body)
            self.visit(node.orelse)
        elif isinstance(node, ast.Try) or node.__class__.__name__ == "TryStar":
            self.visit(node.body)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                self.visit(handler.body)
            self.visit(node.orelse)  # type: ignore[attr-defined]
            self.visit(node.finalbody)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.bound.pop(target.id, None)
        elif isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)):
            pass
        else:  # loops, with blocks, match, raise, assert: they run code
            self.effects = True
            for name in analyze([node]).binds:
                self.bind(name)

    def import_from(self, node: ast.ImportFrom) -> None:
        if any(alias.name == "*" for alias in node.names):
            if self.literal_all:
                self.effects = True  # (not known: not read)
                return
            target = _absolute(node, self.home)
            if target is None:
                self.complete = False
                self.reasons.append("a relative star import beyond its package")
                return
            nested = self.resolver.provided(target, self.stack)
            for name in nested.names:
                home = nested.homes.get(name, target)
                self.bind(name, home if _public(home.lstrip("=")) else target)
            self.effects |= nested.effects
            if not nested.complete:
                self.complete = False
                self.reasons.append(f"from {target} import *: {nested.reason}")
            return
        source = _absolute(node, self.home)
        for alias in node.names:
            self.bind(alias.asname or alias.name, source if alias.asname in (None, alias.name) else None)
        if self.source.package:  # importing a submodule makes it a name of the package
            target = _absolute(node, self.home)
            if target and target.startswith(self.source.module + "."):
                self.bind(target[len(self.source.module) + 1:].split(".")[0])

    def assignment(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None:  # ``x: int`` binds nothing
            return
        if any(_is_all(t) for t in targets):
            values = _strings(node.value)
            if _public_of_dir(node.value) and not isinstance(node, ast.AugAssign):
                self.all, self.dynamic_all = None, False  # what a star import takes without __all__
            elif values is None or (isinstance(node, ast.AugAssign) and not isinstance(node.op, ast.Add)):
                self.dynamic_all = True
            elif isinstance(node, ast.AugAssign):
                self.all = [*(self.all or []), *values]
            else:
                self.all = values
            return
        self.effects |= _calls(node.value)
        for target in targets:
            for inner in ast.walk(target):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    self.bind(inner.id)
        for inner in ast.walk(node.value):  # (walrus)
            if isinstance(inner, ast.NamedExpr) and isinstance(inner.target, ast.Name):
                self.bind(inner.target.id)

    def all_method(self, value: ast.expr) -> bool:
        """``__all__.extend([...])``, ``__all__.append("x")``, ``__all__ += ...``: True when it is one."""
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and _is_all(value.func.value)):
            return False
        method, args = value.func.attr, value.args
        values = (_strings(args[0]) if method == "extend" and len(args) == 1 else
                  _strings(ast.List(elts=list(args), ctx=ast.Load())) if method == "append" and len(args) == 1 else
                  None)
        if values is None or value.keywords:
            self.dynamic_all = True
        else:
            self.all = [*(self.all or []), *values]
        return True


def _public(module: str) -> bool:
    return bool(module) and all(part and not part.startswith("_") for part in module.split("."))


def _literal_all(tree: ast.Module) -> bool:
    """Whether the module's top level sets ``__all__`` to literal strings only (and sets it)."""
    found = False
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_is_all(t) for t in targets):
                if node.value is None or _strings(node.value) is None:
                    return False
                found = found or isinstance(node, ast.Assign)
        elif not isinstance(node, (ast.Expr, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef,
                                   ast.AsyncFunctionDef)):
            if any(isinstance(n, ast.Name) and n.id == "__all__" for n in ast.walk(node)):
                return False  # set in a block: followed statement by statement
        elif isinstance(node, ast.Expr) and any(isinstance(n, ast.Name) and n.id == "__all__"
                                                for n in ast.walk(node)):
            return False  # __all__.extend(...): followed statement by statement
    return found


def _is_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "__all__"


def _strings(node: ast.expr) -> list[str] | None:
    """The strings of a literal list or tuple (or a sum of them), else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left), _strings(node.right)
        return None if left is None or right is None else left + right
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return values if len(values) == len(node.elts) else None


def _public_of_dir(node: ast.expr) -> bool:
    """``[name for name in dir() if not name.startswith("_")]``: the public names bound so far."""
    if not (isinstance(node, ast.ListComp) and len(node.generators) == 1):
        return False
    loop = node.generators[0]
    if not (isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "dir"
            and not loop.iter.args and isinstance(loop.target, ast.Name) and len(loop.ifs) == 1
            and isinstance(node.elt, ast.Name) and node.elt.id == loop.target.id):
        return False
    test = loop.ifs[0]
    return (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Call)
            and isinstance(test.operand.func, ast.Attribute) and test.operand.func.attr == "startswith"
            and ast.unparse(test.operand) in {f"{loop.target.id}.startswith('_')", f'{loop.target.id}.startswith("_")'})


def _calls(node: ast.AST) -> bool:
    """Whether evaluating ``node`` calls anything (outside the lambdas it defines)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Call):
            return True
        if not isinstance(current, ast.Lambda):
            pending.extend(ast.iter_child_nodes(current))
    return False


def _is_main_check(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _absolute(node: ast.ImportFrom, home: str) -> str | None:
    """The absolute module of an import, ``home`` being the package a relative import starts in."""
    if not node.level:
        return node.module
    parts = home.split(".") if home else []
    if node.level - 1 > len(parts) or not home:
        return None
    base = parts[:len(parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])]) or None


# -- the notebook's star imports ----------------------------------------------------------------


@dataclass
class StarImport:
    cell: int
    node: ast.ImportFrom
    module: str  # as the notebook wrote it
    provided: Provided
    names: dict[str, None] = field(default_factory=dict)  # what the notebook reads from it, in order
    guessed: dict[str, None] = field(default_factory=dict)  # attributed although another could provide it

    @property
    def written(self) -> str:
        return f"from {'.' * self.node.level}{self.module} import *"


def has_star_import(cells: Sequence[ParsedCell]) -> bool:
    return any(STAR_TEXT.search(cell.code or cell.source) for cell in cells)


def expand(cells: Sequence[ParsedCell], resolver: Resolver) -> list[str]:
    """Every star import of the cells made explicit (or dropped, or kept as ``import x`` when the
    notebook uses nothing of it), in place; the report lines that say what was done."""
    stars = _attribute(cells, resolver)
    lines: list[str] = []
    for star in stars:
        where = f"cell {star.cell}, line {star.node.lineno}: {star.written}"
        names = sorted(star.names, key=str.lower)
        if names:
            homes = _homes(star, names, resolver.locator)
            _replace(cells, star, _explicit(star.node, names, homes))
            listed = ", ".join(names)
            if homes:  # (the groups written in the module)
                listed += " (" + "; ".join(
                    f"{', '.join(n for n in names if homes.get(n) == home)} from {home.lstrip('=')}"
                    for home in dict.fromkeys(homes[n] for n in names if n in homes)) + ")"
            unknown = [n for n in names if n not in star.provided.names]
            if star.provided.complete or not unknown:
                lines.append(f"{where} became an explicit import of what the notebook uses of it: {listed}")
            elif star.provided.found:
                line = (f"{where} became an explicit import of what the notebook uses of it: {listed}; "
                        f"{', '.join(unknown)} not among what its source shows ({star.provided.reason}), "
                        "but the notebook sets it nowhere")
                if star.guessed:
                    line += f" (a guess: another star import could provide {', '.join(sorted(star.guessed))})"
                lines.append(line + "; check them")
            else:
                line = (f"{where}: {_unresolved(star)}; the names the notebook reads and sets nowhere are "
                        f"taken from it: {listed}")
                if star.guessed:
                    line += (f" (a guess for {', '.join(sorted(star.guessed, key=str.lower))}: another star "
                             "import could provide them)")
                lines.append(line + "; check them")
        elif star.provided.found and not star.provided.effects:
            _replace(cells, star, None)
            lines.append(f"{where}: the notebook uses nothing it provides: dropped")
        elif star.node.level == 0 and star.node.module:
            keep = ast.alias(star.node.module)
            setattr(keep, KEEP_IMPORT, True)
            _replace(cells, star, ast.copy_location(ast.Import(names=[keep]), star.node))
            lines.append(f"{where}: the notebook uses nothing it provides; kept as `import {star.module}`, "
                         "since importing it runs its code")
        else:
            _replace(cells, star, None)
            lines.append(f"{where}: a relative star import the notebook uses nothing of: dropped")
    return lines


def _unresolved(star: StarImport) -> str:
    if not star.provided.found:
        return f"cannot read what it brings in without running it ({star.provided.reason})"
    return f"what it brings in is known only in part ({star.provided.reason})"


def _attribute(cells: Sequence[ParsedCell], resolver: Resolver) -> list[StarImport]:
    """The star imports in notebook order, each with the names the notebook reads from it: a read
    of a name a resolved import provides (and nothing bound since) is that import's; a read of a
    name nothing binds goes to the last import before it that may provide more than it is known to."""
    stars: list[StarImport] = []
    origin: dict[str, int] = {}  # name -> the star import that bound it last
    bound: set[str] = set()  # names the notebook's own statements bound last
    everywhere = {n for cell in cells for s in cell.tree.body for n in analyze([s]).binds}
    for cell in cells:
        for statement in cell.tree.body:
            inside: set[str] = set()  # what star imports inside this statement (a try block) bind
            for node in _star_nodes(statement):
                module = node.module or ""
                if node.level:
                    provided = Provided(reason="a relative import outside a package")
                else:
                    provided = resolver.provided(module)
                stars.append(StarImport(cell.number, node, resolver.locator.as_written(module), provided))
                for name in provided.names:  # (also a builtin it shadows: from numpy import * binds sum)
                    origin[name] = len(stars) - 1
                    bound.discard(name)
                    inside.add(name)
            if isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names):
                continue
            names = analyze([statement], bound)
            deferred = isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            for name in names.reads:
                if name in origin:
                    stars[origin[name]].names[name] = None
                    continue
                if name in BUILTINS or name in IPYTHON_NAMES or _IPYTHON_NUMBERED.fullmatch(name):
                    continue
                if deferred and name in everywhere:
                    continue  # a global the notebook sets before calling the function
                open_ = [i for i, star in enumerate(stars) if not star.provided.complete]
                if open_:
                    stars[open_[-1]].names[name] = None
                    if len(open_) > 1:
                        stars[open_[-1]].guessed[name] = None
            for name in names.binds:
                if name in inside:
                    continue  # bound by the import or by the block's other branch: the import must bind it
                origin.pop(name, None)
                bound.add(name)
    return stars


def _star_nodes(statement: ast.stmt) -> Iterator[ast.ImportFrom]:
    """The star imports in a statement (at module level: also in its if/try/with/for blocks)."""
    if isinstance(statement, ast.ImportFrom):
        if any(a.name == "*" for a in statement.names):
            yield statement
        return
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    for name in ("body", "handlers", "orelse", "finalbody", "cases"):
        for inner in getattr(statement, name, None) or []:
            if isinstance(inner, ast.stmt):
                yield from _star_nodes(inner)
            elif hasattr(inner, "body"):
                for nested in inner.body:
                    yield from _star_nodes(nested)


def _homes(star: StarImport, names: list[str], locator: Locator) -> dict[str, str]:
    """The names better imported from the public installed module the star-imported one took them
    from (``from pylab import *``: ``linspace`` from numpy, ``plot`` from matplotlib.pyplot), so that
    what the name is (a plotting function, or not) shows in the import."""
    found = {}
    for name in names:
        home = star.provided.homes.get(name)
        if home and locator.installed(home.lstrip("=")):
            found[name] = home
    return found


def _explicit(node: ast.ImportFrom, names: list[str], homes: Mapping[str, str]) -> list[ast.stmt]:
    """The imports that replace the star import: of the names from it, and from their homes."""
    star = node.names[0]
    statements: list[ast.stmt] = []
    own = [n for n in names if n not in homes]
    if own:
        node.names = [ast.copy_location(ast.alias(name), star) for name in own]
        setattr(node, STAR_NAMES, tuple(own))
        statements.append(node)
    for home in dict.fromkeys(homes[n] for n in names if n in homes):
        inner = [n for n in names if homes.get(n) == home]
        made: ast.stmt
        if home.startswith("="):
            for name in inner:
                module = home[1:]
                alias = ast.alias(module, None if name == module.split(".")[0] and "." not in module else name)
                statements.append(ast.copy_location(ast.Import(names=[ast.copy_location(alias, star)]), node))
            continue
        made = ast.ImportFrom(module=home, names=[ast.copy_location(ast.alias(n), star) for n in inner], level=0)
        statements.append(ast.copy_location(made, node))
    return statements


def _replace(cells: Sequence[ParsedCell], star: StarImport, new: ast.stmt | list[ast.stmt] | None) -> None:
    """The star import's statement replaced by ``new`` (None: removed; in a block: ``pass``)."""
    if isinstance(new, list) and len(new) == 1 and new[0] is star.node:
        return  # made explicit in place
    for cell in cells:
        if cell.number != star.cell:
            continue
        for block in _blocks(cell.tree):
            for index, statement in enumerate(block):
                if statement is star.node:
                    if isinstance(new, list):
                        block[index:index + 1] = new
                    elif new is not None:
                        block[index] = new
                    elif block is cell.tree.body:
                        del block[index]
                    else:
                        block[index] = ast.copy_location(ast.Pass(), star.node)
                    return


def _blocks(tree: ast.Module) -> Iterator[list[ast.stmt]]:
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
                pending.extend(s for s in block if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                      ast.ClassDef)))
        pending.extend(getattr(node, "handlers", None) or [])
        pending.extend(getattr(node, "cases", None) or [])
