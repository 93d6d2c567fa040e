"""Turn a cell's IPython syntax into plain Python, one documented rule per magic.

IPython's own ``TransformerManager`` rewrites magics, shell escapes, help syntax and continuation
lines into ``get_ipython()`` calls; this module then replaces each such call following the rules
in docs/convert.md, so no ``get_ipython`` ever reaches a generated module:

- dropped silently: ``%matplotlib``, ``%config``, ``%load_ext``, ``%autoreload``, ``obj?`` help;
- unwrapped to their body: ``%time``, ``%%time``, ``%timeit``, ``%%timeit``, ``%%capture``;
- harvested as dependencies: ``!pip install``, ``%pip install``;
- ``%env A=B`` becomes ``os.environ["A"] = "B"``; ``%cd dir`` becomes ``os.chdir("dir")``;
- every other magic, shell escape or cell magic is dropped with a warning.
"""

from __future__ import annotations

import ast
import functools
import re
import shlex
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.inputtransformer2 import TransformerManager

    from mlpack_cli.notebook.pipargs import PipInstall

SILENT_DROPS = {"matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport"}
HELP_MAGICS = {"pinfo", "pinfo2", "psearch", "pdef", "pdoc", "psource", "pfile"}
UNWRAP_LINE = {"time", "timeit"}
UNWRAP_CELL = {"time", "timeit", "capture"}
CELL_ALIASES = {"file": "writefile"}  # IPython's own aliases of cell magics that mlpack handles
# Line magics written without "%" (automagic); only tried when the cell is not valid Python as is.
AUTOMAGIC = {
    "matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport", "pip", "conda", "env",
    "time", "timeit", "cd", "pwd", "ls", "run", "who", "whos", "store", "load", "pylab", "precision",
}
_TIMEIT_OPTIONS_WITH_VALUE = {"-n", "-r", "-p"}


class CellSyntaxError(Exception):
    """A cell that is not valid Python 3 once magics are handled."""

    def __init__(self, message: str, line: int, text: str) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.text = text


@dataclass
class CellCode:
    tree: ast.Module
    handled: list[str] = field(default_factory=list)  # "%matplotlib: dropped", ...
    warnings: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    code: str = ""  # the Python text ``tree`` was parsed from
    modules: dict[str, str] = field(default_factory=dict)  # %%writefile name.py -> its text
    runs: list[str] = field(default_factory=list)  # %run lines (dropped): scripts run in the namespace
    # names only a dropped IPython construct binds: (name, line in the cell, the construct as written);
    # the name "*" for one that binds names the source does not show (``%store -r`` with no names)
    ipython_binds: list[tuple[str, int, str]] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def _manager() -> TransformerManager:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()  # type: ignore[no-untyped-call]  # IPython has no annotations here


def to_python(source: str) -> str:
    """IPython's own transformation of a cell (magics -> ``get_ipython()`` calls)."""
    try:
        return str(_manager().transform_cell(source))
    except Exception:  # IPython gives up on some malformed input; the parser will say why
        return source


def parse_cell(source: str, *, fix_legacy: bool = True, shells: set[str] | None = None) -> CellCode:
    """Plain-Python AST of one cell, with every IPython construct handled by its rule.

    ``shells``: the names earlier cells bound to ``get_ipython()`` (``ip = get_ipython()``); the
    cell adds its own, and calls on them follow the same rules as calls on ``get_ipython()``.

    A cell that does not parse gets the fixes of :mod:`~mlpack_cli.notebook.legacy` (Python 2
    prints, ``except X, e``, leading indentation), each reported as a warning; when it still does not
    parse, the error is the one of the cell as written.
    """
    try:
        return _parse_cell(source, shells)
    except CellSyntaxError:
        if not fix_legacy:
            raise
        from mlpack_cli.notebook.legacy import fix_cell

        fixed = fix_cell(source)
        if not fixed.fixes or fixed.source == source:
            raise
        try:
            result = _parse_cell(fixed.source, shells)
        except CellSyntaxError:
            pass
        else:
            result.warnings[:0] = fixed.fixes
            return result
        raise


def _parse_cell(source: str, shells: set[str] | None = None) -> CellCode:
    # Plain Python needs no transformation: IPython syntax (magics, "!", "?", leading indentation)
    # is never valid Python, so only cells that fail to parse go through IPython's transformer.
    code = source
    tree = _try_parse(source)
    if tree is None:
        code = transformed = to_python(source)
        try:
            tree = _parse(code)
        except SyntaxError as first:
            fixed = _automagic(source)
            if fixed != source:
                code = to_python(fixed)
                tree = _try_parse(code)
            if tree is None:
                raise _syntax_error(first, source, transformed) from None
    result = CellCode(tree, code=code)
    if code.count("\n") == source.count("\n"):  # line numbers still match the notebook's
        attach_comments(tree, source)
    shells = set() if shells is None else shells
    if "get_ipython" in code or any(name in code for name in (*shells, *MAGIC_REGISTRARS)):
        tree.body = _rewrite_body(tree.body, result, shells)
    return result


COMMENTS = "mlpack_comments"  # attribute of a top-level statement: the comment lines above it
_DIRECTIVE = re.compile(r"^#\s*mlpack\s*:")


def attach_comments(tree: ast.Module, source: str) -> None:
    """Keep the comment lines written above each top-level statement, so the module keeps them."""
    lines = source.splitlines()
    previous_end = 0
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", None) or []
        start = min([statement.lineno, *(d.lineno for d in decorators)])
        comments = [
            line.strip() for line in lines[previous_end:start - 1]
            if line.strip().startswith("#") and not _DIRECTIVE.match(line.strip())
        ]
        if comments:
            setattr(statement, COMMENTS, comments)
        previous_end = statement.end_lineno or start


def _try_parse(code: str) -> ast.Module | None:
    try:
        return _parse(code)
    except SyntaxError:
        return None


_COMPILER_WORDS = ("return", "yield", "await", "nonlocal", "break", "continue", "async", "global")
_COMPILER_CHECKED = re.compile(rf"\b({'|'.join(_COMPILER_WORDS)})\b")


def _parse(code: str) -> ast.Module:
    tree = ast.parse(code, "<cell>")
    # What only the compiler refuses: 'return' outside function, ... (the words looked for first:
    # a substring search is several times cheaper than the pattern, which can only match where one is)
    if any(map(code.__contains__, _COMPILER_WORDS)) and _COMPILER_CHECKED.search(code):
        compile(tree, "<cell>", "exec", dont_inherit=True)
    return tree


def _syntax_error(error: SyntaxError, source: str, code: str) -> CellSyntaxError:
    line = error.lineno or 1
    original = source.splitlines()
    transformed = code.splitlines()
    lines = original if len(original) == len(transformed) else transformed
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    message = error.msg
    if re.match(r"print\s+[^\s(=]", text):
        message = "Python 2 print statement"
    return CellSyntaxError(message, line, text)


def _automagic(source: str) -> str:
    lines = source.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z_]\w*)(\s+(.*))?$", line)
        rest = match.group(4) or "=" if match else "="
        if match and match.group(2) in AUTOMAGIC and not re.match(r"^\s*(=|\(|\.|\[|,|:|\+=|-=)", rest):
            lines[index] = f"{match.group(1)}%{match.group(2)}{match.group(3) or ''}"
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


# -- rules ---------------------------------------------------------------------------------------


def _rewrite_body(body: list[ast.stmt], result: CellCode, shells: set[str]) -> list[ast.stmt]:
    new: list[ast.stmt] = []
    for statement in body:
        if _is_shell(getattr(statement, "value", None), set()) and isinstance(statement, ast.Assign) \
                and all(isinstance(t, ast.Name) for t in statement.targets):
            shells.update(t.id for t in statement.targets)  # type: ignore[attr-defined]
            result.handled.append("get_ipython(): dropped, its calls follow the magic rules")
            continue
        registered = _registered_magic(statement)
        if registered is not None:
            result.handled.append(f"the definition of the IPython magic {registered}: dropped (magics run only in "
                                  "IPython; the cells using it follow the magic rules)")
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(statement, name, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                setattr(statement, name, _rewrite_body(inner, result, shells) or [ast.Pass()])
        for handler in getattr(statement, "handlers", []) or []:
            handler.body = _rewrite_body(handler.body, result, shells) or [ast.Pass()]
        for case in getattr(statement, "cases", []) or []:
            case.body = _rewrite_body(case.body, result, shells) or [ast.Pass()]
        if not _uses_ipython(statement, shells):
            new.append(statement)
            continue
        new.extend(_apply_rule(statement, result, shells))
    return new


MAGIC_REGISTRARS = {"register_line_magic": "%", "register_cell_magic": "%%", "register_line_cell_magic": "%",
                    "magics_class": "%"}


def _registered_magic(statement: ast.stmt) -> str | None:
    """``@register_cell_magic def backend(line, cell)`` -> ``%%backend``: the decorator needs a running
    IPython (outside one it raises NameError at import), and the function is called only through the
    magic's syntax, which the conversion handles: the definition is notebook tooling."""
    if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    for decorator in statement.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in MAGIC_REGISTRARS:
            return f"{MAGIC_REGISTRARS[name]}{statement.name}"
    return None


def _uses_ipython(node: ast.AST, shells: AbstractSet[str] = frozenset()) -> bool:
    return any(isinstance(n, ast.Name) and (n.id == "get_ipython" or n.id in shells) for n in ast.walk(node))


def _is_shell(node: ast.AST | None, shells: AbstractSet[str]) -> bool:
    """``get_ipython()``, or a name an earlier statement bound to it."""
    if isinstance(node, ast.Name):
        return node.id in shells
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython"
            and not node.args and not node.keywords)


def _magic_call(node: ast.AST, shells: AbstractSet[str] = frozenset()) -> tuple[str, list[str]] | None:
    """``get_ipython().<method>('a', 'b')`` (or ``ip.<method>(...)``) -> (method, ['a', 'b'])."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if not _is_shell(node.func.value, shells):
        return None
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if len(args) != len(node.args):
        return None
    return node.func.attr, args


def _apply_rule(statement: ast.stmt, result: CellCode, shells: set[str]) -> list[ast.stmt]:
    call = _magic_call(statement.value, shells) if isinstance(statement, (ast.Expr, ast.Assign)) else None
    if call is None:
        shown = ast.unparse(statement).replace("\n", " ")[:80]
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            result.ipython_binds.extend((name, statement.lineno, shown)
                                        for target in targets for name in _target_names(target))
        result.warnings.append(f"dropped a statement using IPython features that need a running kernel: {shown}")
        return []
    method, args = call
    if isinstance(statement, ast.Assign):
        return _assigned_magic(statement, method, args, result)
    if method == "run_line_magic" and len(args) == 2:
        return _line_magic(args[0], args[1], result, statement.lineno)
    if method == "magic" and len(args) == 1 and args[0].strip():  # the older spelling: magic('name line')
        name, _, line = args[0].strip().lstrip("%").partition(" ")
        return _line_magic(name, line.strip(), result, statement.lineno)
    if method == "run_cell_magic" and len(args) == 3:
        return _cell_magic(args[0], args[1], args[2], result)
    if method == "system" and args:
        return _shell(args[0], result)
    result.warnings.append(f"dropped IPython call get_ipython().{method}(...)")
    return []


def _assigned_magic(statement: ast.Assign, method: str, args: list[str], result: CellCode) -> list[ast.stmt]:
    targets = ", ".join(ast.unparse(t) for t in statement.targets)
    if method == "run_line_magic" and len(args) == 2 and args[0] == "time":
        expression = _parse_fragment(args[1], result, f"%time {args[1]}")
        if expression and len(expression) == 1 and isinstance(expression[0], ast.Expr):
            result.handled.append("%time: unwrapped")
            return [ast.Assign(targets=statement.targets, value=expression[0].value, lineno=statement.lineno)]
    what = {"getoutput": f"!{args[0]}" if args else "!command"}.get(method, f"%{args[0]}" if args else method)
    result.ipython_binds.extend((name, statement.lineno, f"{targets} = {what}")
                                for target in statement.targets for name in _target_names(target))
    result.warnings.append(f"dropped `{targets} = {what}`: its value comes from IPython; {targets} is not set")
    return []


def _target_names(target: ast.expr) -> list[str]:
    """The names an assignment target binds (``a, b = ...`` binds both; ``d[k] = ...`` none)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _stored_names(line: str) -> list[str] | None:
    """``%store -r a b`` -> ['a', 'b']; ``%store -r`` -> ['*'] (every stored name); None when the
    magic restores nothing (``%store x`` saves, ``%store -d x`` deletes)."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    if "-r" not in words:
        return None
    names = [w for w in words if not w.startswith("-")]
    return names or ["*"]


# options by which a magic mlpack drops sets names in the notebook's namespace: rpy2's %R/%%R
# -o/--output (comma-separated), %%script's (%%bash, %%sh...) --out/--err/--proc
_OUTPUT_OPTIONS = {"R": ("-o", "--output"), "script": ("--out", "--err", "--proc")}
_SCRIPT_MAGICS = {"script", "bash", "sh", "perl", "ruby", "python", "python2", "python3", "pypy"}


def _output_names(name: str, line: str) -> list[str]:
    """The names a dropped magic's options make it set (``%%R -o x,y`` -> x, y); the names after
    ``-o``/``--out``... of the magics that have such options, [] for any other."""
    options = _OUTPUT_OPTIONS.get("script" if name in _SCRIPT_MAGICS else name)
    if not options:
        return []
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    found: list[str] = []
    for word, value in zip(words, words[1:] + [""]):
        option, equals, attached = word.partition("=")
        if option in options:
            found.extend(n for n in (attached if equals else value).split(",") if n.isidentifier())
    return found


def _line_magic(name: str, line: str, result: CellCode, lineno: int = 1) -> list[ast.stmt]:
    if name in SILENT_DROPS:
        result.handled.append(f"%{name}: dropped")
        return []
    if name in HELP_MAGICS:
        result.handled.append("help (obj?): dropped")
        return []
    if name in UNWRAP_LINE:
        body = _strip_timeit_options(line) if name == "timeit" else line
        result.handled.append(f"%{name}: unwrapped")
        statements = _parse_fragment(body, result, f"%{name} {line}")
        if name == "timeit":
            _timer_bindings(statements, f"%timeit {line}", result)
        return statements
    if name == "pip":
        from mlpack_cli.notebook.pipargs import parse_pip_magic

        return _pip(parse_pip_magic(line), result, f"%pip {line}")
    if name == "env":
        return _at_line(_env(line, result), lineno)
    if name == "cd":
        return _at_line(_cd(line, result), lineno)
    if name == "run":
        result.runs.append(f"%run {line}".rstrip())
    restored = _stored_names(line) if name == "store" else None
    if restored:
        result.ipython_binds.extend((n, lineno, f"%store {line}") for n in restored)
    result.ipython_binds.extend((n, lineno, f"%{name} {line}".rstrip()) for n in _output_names(name, line))
    result.warnings.append(f"dropped line magic %{name} {line}".rstrip())
    return []


def _cell_magic(name: str, line: str, body: str, result: CellCode) -> list[ast.stmt]:
    name = CELL_ALIASES.get(name, name)
    if name in UNWRAP_CELL:
        if name == "capture" and line.strip():
            result.warnings.append(f"%%capture {line.strip()}: output no longer captured; that name is not set")
            captured = [w for w in line.split() if not w.startswith("-")]
            result.ipython_binds.extend((n, 1, f"%%capture {line.strip()}") for n in captured[-1:])
        result.handled.append(f"%%{name}: unwrapped")
        try:
            inner = parse_cell(body)
        except CellSyntaxError as exc:
            raise CellSyntaxError(exc.message, exc.line + 1, exc.text) from None
        result.handled.extend(inner.handled)
        result.warnings.extend(inner.warnings)
        result.requirements.extend(inner.requirements)
        result.modules.update(inner.modules)
        result.runs.extend(inner.runs)
        result.ipython_binds.extend((n, line_number + 1, what) for n, line_number, what in inner.ipython_binds)
        result.code = inner.code  # a cell magic is the whole cell: its body's positions are the cell's
        if name == "timeit":
            setup = _strip_timeit_options(line).strip()
            if setup:
                result.warnings.append(f"%%timeit {line.strip()}: its set-up code {setup!r} is dropped (IPython runs "
                                       "it inside its timer only); write it in the cell if the body needs it")
            _timer_bindings(inner.tree.body, f"%%timeit {line}".rstrip(), result)
        return inner.tree.body
    if name == "writefile":
        return _writefile(line, body, result)
    result.ipython_binds.extend((n, 1, f"%%{name} {line}".rstrip()) for n in _output_names(name, line))
    result.warnings.append(f"dropped cell magic %%{name} {line}".rstrip() + " and its body")
    return []


def _writefile(line: str, body: str, result: CellCode) -> list[ast.stmt]:
    """``%%writefile name.py``: the body becomes a module of the package (the caller rewrites the
    imports of it); any other file is still written, by a plain ``open(...).write``."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    append = any(w in ("-a", "--append") for w in words)
    names = [w for w in words if not w.startswith("-")]
    if len(names) != 1:
        result.warnings.append(f"dropped %%writefile {line.strip()}: expected one file name")
        return []
    name = names[0]
    module = name[:-3] if name.endswith(".py") and "/" not in name and "\\" not in name else None
    if module is not None and module.isidentifier():
        result.modules[module] = (result.modules.get(module, "") if append else "") + body
        result.handled.append("%%writefile module.py: became a module of the package")
        return []
    result.handled.append("%%writefile: became open(...).write")
    mode = "a" if append else "w"
    code = f"with open({name!r}, {mode!r}, encoding='utf-8') as _written:\n    _written.write({body!r})\n"
    return ast.parse(code).body


def _shell(command: str, result: CellCode) -> list[ast.stmt]:
    from mlpack_cli.notebook.pipargs import is_pip_command, parse_shell_line

    if is_pip_command(command):
        return _pip(parse_shell_line(command), result, f"!{command}")
    result.warnings.append(f"dropped shell command !{command.strip()}")
    return []


def _pip(found: PipInstall, result: CellCode, shown: str) -> list[ast.stmt]:
    """Requirements of a ``pip install`` line (see :mod:`~mlpack_cli.notebook.pipargs`) become
    dependencies; any other pip command is dropped with a warning."""
    if not found.found:
        command = shown.strip().split()[:3]
        result.warnings.append(f"dropped {' '.join(command)} ... (only `pip install` is harvested)")
        return []
    result.warnings.extend(found.warnings)
    result.requirements.extend(found.requirements)
    result.handled.append("pip install: harvested into dependencies")
    return []


def _at_line(statements: list[ast.stmt], lineno: int) -> list[ast.stmt]:
    """The statements a one-line magic became, on the magic's line: the warnings that name their
    line (``os.chdir()`` in a stage) then name the line of the cell the user wrote."""
    for statement in statements:
        for node in ast.walk(statement):
            if hasattr(node, "lineno"):
                node.lineno = node.end_lineno = lineno  # type: ignore[attr-defined]
    return statements


def _env(line: str, result: CellCode) -> list[ast.stmt]:
    match = re.match(r"^\s*([A-Za-z_]\w*)\s*(?:=|\s)\s*(.*?)\s*$", line)
    if not match or ("=" not in line and not match.group(2)):
        result.handled.append("%env (display): dropped")
        return []
    result.handled.append("%env: became os.environ")
    statements = ast.parse(f"import os\nos.environ[{match.group(1)!r}] = {match.group(2)!r}\n").body
    return statements


def _cd(line: str, result: CellCode) -> list[ast.stmt]:
    """``%cd data``: the relative paths of every later cell are read from there, so the change of
    directory is kept, as ``os.chdir("data")``. Forms whose target only IPython knows (no
    argument: home; ``-``: the previous one; ``-b``/bookmarks; ``$var``, ``{expr}``, ``~``) are
    dropped with a warning."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = []
    if len(words) != 1 or words[0].startswith(("-", "~")) or any(c in words[0] for c in "${}"):
        result.warnings.append(f"dropped line magic %cd {line}".rstrip() + ": the later cells' relative paths "
                               "may then mean other files (write os.chdir(...) with the folder)")
        return []
    result.handled.append("%cd: became os.chdir")
    return ast.parse(f"import os\nos.chdir({words[0]!r})\n").body


def _timer_bindings(statements: list[ast.stmt], shown: str, result: CellCode) -> None:
    """Warn about the names timed code binds: IPython runs it inside a function of its timer, so
    the notebook's later cells never see them, while the unwrapped code binds them in ``run()``
    (a later read of such a name there sees the timed value, not the notebook's)."""
    from mlpack_cli.notebook.scopes import analyze

    bound = sorted(set(analyze(statements).binds)) if statements else []
    if bound:
        names = ", ".join(bound)
        result.warnings.append(f"{shown.strip()}: binds {names} only inside IPython's timer, so the notebook's "
                               f"later cells do not see it; run() binds it (use %time to keep it, or rename it)")


def _strip_timeit_options(line: str) -> str:
    words = line.split(" ")
    index = 0
    while index < len(words) and (words[index].startswith("-") or not words[index]):
        index += 2 if words[index] in _TIMEIT_OPTIONS_WITH_VALUE else 1
    return " ".join(words[index:])


def _parse_fragment(code: str, result: CellCode, shown: str) -> list[ast.stmt]:
    try:
        inner = parse_cell(code)
    except CellSyntaxError:
        result.warnings.append(f"dropped {shown.strip()}: its body is not valid Python")
        return []
    result.handled.extend(inner.handled)
    result.warnings.extend(inner.warnings)
    result.requirements.extend(inner.requirements)
    return inner.tree.body
