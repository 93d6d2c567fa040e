"""The files a notebook reads and writes become keyword parameters of its stages and of ``run()``.

A notebook opens files relative to its own directory (Jupyter's working directory); the generated
module runs from the project root (``<project> run``, CI, the generated tests). So every path the
notebook hands to a known reader or writer (``pd.read_csv``, ``open``, ``joblib.dump``,
``df.to_csv``, ``np.load``, ``Path(...)``, ``os.makedirs`` ...), as a string literal or through a
constant holding one, becomes a parameter whose default is that path re-based from the notebook's
directory to the project root (``../data/iris.csv`` in ``notebooks/`` -> ``data/iris.csv``).
Directories the code writes into are created before the write. URLs and dataset downloads are
left as they are, and recorded as needing the network.

What is a path is decided on the syntax tree only: where a string (or a name bound to one) reaches
a reader or writer, through ``Path``, ``os.path.join``, ``/``, ``+`` and f-strings. Whether it is
read or written follows from the first call that uses it (``open``'s mode, the method's name).

``os.chdir("data")`` at the top of a cell moves the notebook into ``data``: its target is re-based
like any other path (the first one runs from the project root), and the paths used after it keep
the value the notebook wrote, read from that folder as in the notebook (``run()`` returns to the
directory it started in). A ``chdir`` this cannot follow (in a loop, a condition, to a computed
folder) is reported, naming the cell and line.
"""

from __future__ import annotations

import ast
import keyword
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mlpack_cli.notebook.dataflow import RESERVED, ParsedCell, Pipeline
from mlpack_cli.notebook.scopes import calls_in, loaded_names, walk, walks_remembered
from mlpack_cli.notebook.usertext import FSTRING_HEADS, PATH_LITERALS

Role = Literal["input", "output", "updated", "unknown"]

# How a path expression relates to the path it was built from.
_EXACT, _BELOW, _BESIDE = "exact", "below", "beside"  # the path itself; a path under it; next to it

_URL = re.compile(r"^(?:https?|ftp|s3|gs|hf)://", re.IGNORECASE)
_NOT_A_PATH = re.compile(r"[\n\r\t*?{}\[\]<>|\"]|^\s|\s$|^[a-z+]+:(?!\\|/)", re.IGNORECASE)

# call name -> (index of the path among the positional arguments, role); the keyword names below
# are looked at when it is passed by keyword.
_READERS = {
    name: 0 for name in (
        "read_csv", "read_table", "read_excel", "read_parquet", "read_json", "read_pickle", "read_feather",
        "read_hdf", "read_orc", "read_stata", "read_sas", "read_spss", "read_fwf", "read_xml", "read_file",
        "scan_csv", "scan_parquet", "read_ndjson", "loadtxt", "genfromtxt", "fromfile", "load_model", "load_img",
        "imread", "loadmat", "load_from_disk", "load_workbook", "load_weights", "ExcelFile", "read_image",
        "load_npz",
    )
}
_WRITERS = {
    name: 0 for name in (
        "to_csv", "to_parquet", "to_json", "to_excel", "to_pickle", "to_feather", "to_hdf", "to_stata",
        "to_xml", "to_orc", "to_netcdf", "write_csv", "write_parquet", "write_json", "savefig", "save", "savez",
        "savez_compressed", "savetxt", "imwrite", "imsave", "save_weights", "save_pretrained", "write_image",
        "write_html", "to_file", "save_npz",
    )
}
_PATH_KEYWORDS = frozenset({
    "path", "filepath", "filepath_or_buffer", "path_or_buf", "path_or_buffer", "fname", "filename", "file",
    "f", "io", "excel_writer", "source", "uri", "file_path", "save_directory", "pretrained_model_name_or_path",
})
_NOT_FILES = frozenset({"json", "yaml", "pickle", "toml", "tomllib", "marshal", "ast", "importlib"})
_OPENERS = frozenset({"open", "File", "ZipFile"})  # open(path, mode), gzip.open, h5py.File, zipfile.ZipFile
_OPEN_MODULES = frozenset({"", "io", "gzip", "bz2", "lzma", "codecs", "h5py", "zipfile", "tarfile", "Image", "PIL",
                           "fsspec"})  # their open(path, mode); any other receiver: Path(p).open(mode)
_PATH_TYPES = frozenset({"Path", "PurePath", "PosixPath", "WindowsPath", "PurePosixPath"})
_SAME_PATH = frozenset({"abspath", "expanduser", "realpath", "normpath", "fspath", "str"})
_PATH_METHODS_SAME = frozenset({"resolve", "absolute", "expanduser"})
_PATH_METHODS_BESIDE = frozenset({"with_suffix", "with_name", "with_stem"})
_PATH_READ = frozenset({"read_text", "read_bytes", "iterdir", "glob", "rglob"})
_PATH_WRITE = frozenset({"write_text", "write_bytes", "touch"})
_MAKEDIRS = frozenset({"makedirs", "mkdir"})

# Calls that download: the pipeline needs the network.
_DOWNLOADS = frozenset({
    "load_dataset", "hf_hub_download", "snapshot_download", "urlretrieve", "urlopen", "get_file",
    "dataset_download", "model_download", "fetch_ucirepo",
})
_HTTP_MODULES = frozenset({"requests", "httpx", "urllib3", "wget", "gdown"})


@dataclass(frozen=True)
class PathParameter:
    """One path the notebook reads or writes, as a keyword parameter of ``run()``."""

    name: str
    default: str  # relative to the project root (re-based from the notebook's directory), or absolute
    written: str  # as the notebook wrote it
    role: Role  # read (input), written (output), read then written (updated), or only named (unknown)
    directory: bool  # files below it are read or written
    cell: int
    line: int
    constant: bool  # the notebook's own constant: its name is the parameter's
    # relative to the project root, when the default is relative to a folder os.chdir() moved to
    # (None: to the project root; "": to a folder the conversion cannot name)
    from_root: str | None = None

    @property
    def resolved(self) -> str:
        """The path from the project root (the default, unless an os.chdir() moved before it)."""
        return self.default if self.from_root is None else self.from_root or self.default

    @property
    def absolute(self) -> bool:
        return _is_absolute(self.written)


@dataclass(frozen=True)
class NetworkUse:
    """A URL or a download the pipeline makes: it needs the network."""

    what: str
    cell: int
    line: int


@dataclass
class PathReport:
    parameters: list[PathParameter] = field(default_factory=list)
    network: list[NetworkUse] = field(default_factory=list)
    in_helpers: list[str] = field(default_factory=list)  # paths inside module-level functions, left as written
    moves: list[str] = field(default_factory=list)  # the os.chdir() calls, followed or not: report lines
    unfollowed: list[str] = field(default_factory=list)  # warnings: os.chdir() calls that cannot be followed
    rebased_results: list[str] = field(default_factory=list)  # warnings: results that are re-based paths

    def lines(self) -> list[str]:
        """What the conversion report says about paths: one line per parameter."""
        found = []
        for p in self.parameters:
            what = {"input": "read", "output": "written", "updated": "read and written",
                    "unknown": "named"}[p.role]
            kind = "directory" if p.directory else "path"
            moved = f", {p.written!r} in the notebook" if p.written != p.default else ""
            if p.from_root is not None:
                where = p.from_root or "a folder not known"
                moved = f", relative to the folder os.chdir() moved to ({where} from the project root)"
            found.append(f"cell {p.cell}, line {p.line}: {kind} {what}: run({p.name}={p.default!r}){moved}")
        return found + self.moves

    def warnings(self) -> list[str]:
        found = [f"cell {p.cell}, line {p.line}: {p.written!r} is an absolute path: not portable, "
                 f"pass run({p.name}=...) where it differs" for p in self.parameters if p.absolute]
        found += [f"cell {n.cell}, line {n.line}: needs the network ({n.what}); the smoke test is skipped"
                  for n in self.network]
        found += self.in_helpers + self.unfollowed + self.rebased_results
        return found


def rebase(path: str, notebook_dir: str) -> str:
    """``path`` as written in a notebook in ``notebook_dir`` (relative to the project root, POSIX),
    relative to the project root; an absolute path (or one from the home directory) as written.
    A directory written with a final ``/`` keeps it: the notebook may add a file's name to the
    string (``f"{out}model.pkl"``)."""
    if _is_absolute(path):
        return path
    joined = posixpath.normpath(posixpath.join(notebook_dir or ".", path.replace("\\", "/")))
    return f"{joined}/" if path.endswith(("/", "\\")) and joined not in (".", "..") and not joined.endswith("/") \
        else joined


def _is_absolute(path: str) -> bool:
    return path.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", path) is not None


def is_path_like(value: str) -> bool:
    """A string that can name a file here: not a URL, not JSON, not a pattern, one line."""
    return bool(value) and value not in (".", "./") and len(value) < 260 and not _URL.match(value) \
        and not _NOT_A_PATH.search(value)


def parameter_name(path: str, directory: bool, taken: set[str]) -> str:
    """``iris_csv`` for ``../data/iris.csv``, ``models_dir`` for a directory ``../models``; unique
    among ``taken`` (which it joins)."""
    base = posixpath.basename(path.replace("\\", "/").rstrip("/")) or "root"
    stem = re.sub(r"\W+", "_", base.lower(), flags=re.ASCII).strip("_") or "path"
    if directory and not stem.endswith("dir"):
        stem += "_dir"
    elif "_" not in stem and "." not in base:
        stem += "_path"
    if not stem.isidentifier():
        stem = f"path_{stem}"
    if keyword.iskeyword(stem) or stem in RESERVED:
        stem += "_"
    name, number = stem, 2
    while name in taken:
        name, number = f"{stem}_{number}", number + 1
    taken.add(name)
    return name


# -- finding them -------------------------------------------------------------------------------------


@dataclass
class _Origin:
    """A path the notebook names: a constant or a string literal (possibly several, of one value)."""

    value: str
    constant: str | None  # the constant's name
    cell: int
    line: int
    literals: list[tuple[ast.stmt, ast.Constant]] = field(default_factory=list)  # (top-level statement, node)
    heads: list[tuple[ast.stmt, ast.JoinedStr]] = field(default_factory=list)  # f"{it}/..." written f"dir/..."
    uses: list[tuple[int, str, str, ast.stmt]] = field(default_factory=list)  # (order, role, how, statement)


@dataclass
class _Analysis:
    pipeline: Pipeline
    cell_of: dict[int, int]  # id(top-level statement) -> cell number
    constants: dict[str, str]  # path-like string constants: name -> value
    aliases: dict[str, tuple[_Origin, str] | None] = field(default_factory=dict)
    origins: dict[tuple[str, str], _Origin] = field(default_factory=dict)  # ("const"|"lit", key) -> origin
    pending: dict[tuple[str, str], _Origin] = field(default_factory=dict)  # f-strings bound to names, not used yet
    bound_at: dict[str, ast.stmt] = field(default_factory=dict)  # an alias -> the top-level statement binding it
    order: int = 0

    def origin(self, key: tuple[str, str], value: str, constant: str | None, statement: ast.stmt,
               node: ast.AST) -> _Origin:
        found = self.origins.get(key)
        if found is None:
            found = self.origins[key] = _Origin(value, constant, self.cell_of.get(id(statement), 0),
                                                getattr(node, "lineno", 0))
        return found

    def derive(self, expression: ast.AST | None, statement: ast.stmt, register: bool = True
               ) -> tuple[_Origin, str] | None:
        """The path ``expression`` is built from, and how (exact, below or beside it)."""
        if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
            if not is_path_like(expression.value):
                return None
            if not register:
                return None
            origin = self.origin(("lit", expression.value), expression.value, None, statement, expression)
            if not any(node is expression for _, node in origin.literals):
                origin.literals.append((statement, expression))
            return origin, _EXACT
        if isinstance(expression, ast.Name):
            if expression.id in self.constants:
                constant = self.constants[expression.id]
                return self.origin(("const", expression.id), constant, expression.id, statement, expression), _EXACT
            return self.aliases.get(expression.id)
        if isinstance(expression, ast.Call):
            name = _call_name(expression)
            receiver = expression.func.value if isinstance(expression.func, ast.Attribute) else None
            if name in _PATH_TYPES and expression.args:
                found = self.derive(expression.args[0], statement)
                return _further(found, _EXACT if len(expression.args) == 1 else _BELOW)
            if name == "join" and _qualifier(expression) == "path" and expression.args:
                found = self.derive(expression.args[0], statement)
                return _further(found, _EXACT if len(expression.args) == 1 else _BELOW)
            if name in _SAME_PATH and expression.args and (name == "str" or _qualifier(expression) in ("path", "os")):
                return self.derive(expression.args[0], statement)
            if receiver is not None and name in _PATH_METHODS_SAME:
                return self.derive(receiver, statement)
            if receiver is not None and name == "joinpath":
                return _further(self.derive(receiver, statement), _BELOW)
            if receiver is not None and name in _PATH_METHODS_BESIDE:
                return _further(self.derive(receiver, statement), _BESIDE)
            return None
        if isinstance(expression, ast.BinOp) and isinstance(expression.op, (ast.Div, ast.Add)):
            found = self.derive(expression.left, statement)
            if found is None:
                return None
            if isinstance(expression.op, ast.Div):
                return _further(found, _BELOW)
            right = expression.right
            below = found[0].value.endswith("/") or (
                isinstance(right, ast.Constant) and isinstance(right.value, str) and right.value.startswith("/"))
            return _further(found, _BELOW if below else _BESIDE)
        if isinstance(expression, ast.JoinedStr) and expression.values:
            first = expression.values[0]
            head = _directory_head(expression)
            if head is not None:
                key = ("lit", head)
                origin = self.origins.get(key) or self.pending.get(key) or _Origin(
                    head, None, self.cell_of.get(id(statement), 0), getattr(expression, "lineno", 0))
                if register:
                    self.origins[key] = origin
                else:
                    self.pending[key] = origin
                if not any(node is expression for _, node in origin.heads):
                    origin.heads.append((statement, expression))
                return origin, _BELOW
            if isinstance(first, ast.FormattedValue) and first.conversion == -1 and first.format_spec is None:
                found = self.derive(first.value, statement)
                if found is None:
                    return None
                rest = expression.values[1] if len(expression.values) > 1 else None
                below = found[0].value.endswith(("/", "\\")) or isinstance(rest, ast.Constant) and str(
                    rest.value).startswith("/")
                return _further(found, _BELOW if below else _BESIDE)
        return None

    def use(self, expression: ast.AST | None, role: str, statement: ast.stmt) -> None:
        found = self.derive(expression, statement)
        if found is None:
            return
        origin, how = found
        if origin.constant is None:
            origin = self._registered(origin)
        self.order += 1
        origin.uses.append((self.order, role, how, statement))

    def _registered(self, origin: _Origin) -> _Origin:
        """The registered origin of ``origin``'s path: an f-string bound to a name is known to be a
        path only once a reader or writer gets the name (then it joins the literal of that value)."""
        registered = self.origins.setdefault(("lit", origin.value), origin)
        if registered is not origin:
            registered.heads.extend(h for h in origin.heads if not any(h[1] is n for _, n in registered.heads))
        return registered


def _further(found: tuple[_Origin, str] | None, how: str) -> tuple[_Origin, str] | None:
    if found is None:
        return None
    origin, before = found
    if before == _EXACT:
        return origin, how
    return origin, before if how == _EXACT else _BELOW if _BELOW in (before, how) else before


def _directory_head(expression: ast.JoinedStr) -> str | None:
    """``models`` of ``f"models/clf_{stamp}.pkl"``: the directory an f-string's literal start
    names, when it is a relative path (a file written below it); None for any other f-string."""
    first = expression.values[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)) or len(expression.values) < 2:
        return None
    head, slash, _ = first.value.rpartition("/")
    if not slash or not head or _is_absolute(head) or "\\" in head or not is_path_like(head):
        return None
    return head


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _qualifier(call: ast.Call) -> str:
    """``path`` of ``os.path.join``, ``pd`` of ``pd.read_csv``: the name just before the call's."""
    func = call.func
    if isinstance(func, ast.Attribute):
        value = func.value
        if isinstance(value, ast.Name):
            return value.id
        if isinstance(value, ast.Attribute):
            return value.attr
    return ""


def _argument(call: ast.Call, index: int) -> ast.expr | None:
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
        return call.args[index]
    for keyword_ in call.keywords:
        if keyword_.arg in _PATH_KEYWORDS:
            return keyword_.value
    return None


def _mode(call: ast.Call, index: int) -> str:
    mode: ast.expr | None = call.args[index] if len(call.args) > index else None
    for keyword_ in call.keywords:
        if keyword_.arg == "mode":
            mode = keyword_.value
    if mode is None:
        return "input"
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return "output" if set(mode.value) & set("wax+") else "input"
    return "unknown"


def _sinks(call: ast.Call) -> Iterator[tuple[ast.expr | None, str]]:
    """(path expression, role) for each path the call reads or writes."""
    name = _call_name(call)
    qualifier = _qualifier(call)
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if name in _OPENERS:
        if receiver is not None and qualifier not in _OPEN_MODULES:
            yield receiver, _mode(call, 0)  # Path(p).open("w")
            return
        yield _argument(call, 0), ("input" if qualifier == "Image" else _mode(call, 1))
        return
    if name == "load" and qualifier not in _NOT_FILES:
        yield _argument(call, 0), "input"
    elif name in _READERS:
        yield _argument(call, _READERS[name]), "input"
    elif name == "dump" and qualifier not in _NOT_FILES:
        yield _argument(call, 1), "output"  # joblib.dump(value, filename)
    elif name == "save" and qualifier == "torch":
        yield _argument(call, 1), "output"
    elif name == "save_model":
        yield _argument(call, 1 if len(call.args) > 1 else 0), "output"
    elif name == "from_pretrained" and call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith((".", "/")):
            yield first, "input"
        elif not isinstance(first, ast.Constant):
            yield first, "input"
    elif name in _WRITERS and not (name == "to_json" and not call.args and not call.keywords):
        yield _argument(call, _WRITERS[name]), "output"
    elif name in ("copy", "copyfile", "copy2", "copytree", "move") and qualifier == "shutil":
        yield _argument(call, 0), "input"
        yield (call.args[1] if len(call.args) > 1 else None), "output"
    elif _is_chdir(call):
        yield _argument(call, 0), "chdir"
    elif name in _MAKEDIRS and qualifier == "os":
        yield _argument(call, 0), "mkdir"
    elif name in ("listdir", "scandir", "walk") and qualifier == "os":
        yield _argument(call, 0), "input"
    elif receiver is not None and name == "mkdir":
        yield receiver, "mkdir"
    elif receiver is not None and name in _PATH_READ:
        yield receiver, "input"
    elif receiver is not None and name in _PATH_WRITE:
        yield receiver, "output"


def _is_chdir(call: ast.Call) -> bool:
    """``os.chdir(...)``, or ``chdir(...)`` imported from os."""
    return _call_name(call) == "chdir" and _qualifier(call) in ("os", "") and isinstance(
        call.func, (ast.Name, ast.Attribute))


@dataclass(frozen=True)
class _Move:
    """An ``os.chdir()`` kept in a stage: where it is, and the folder (from the project root) the
    working directory is in after it: None when the conversion cannot name it."""

    cell: int
    line: int
    stage: str
    folder: str | None
    followed: bool  # a statement of its own, to a folder written as a string
    at: tuple[int, int]  # (cell, first line) of the statement holding it: the order of execution
    call: str = "os.chdir()"  # or the notebook's function that calls it: "go(), which calls os.chdir(),"


def _moves(analysis: _Analysis, notebook_dir: str) -> list[_Move]:
    """The ``os.chdir()`` calls of the stages, in notebook order, with the folder each moves to.

    The first runs from the project root, so its target is re-based (as a path parameter); each
    later one runs where the one before it moved, as in the notebook."""
    stage_of = {id(s): stage.name for stage in analysis.pipeline.stages for s in stage.statements}
    tops = sorted((s for stage in analysis.pipeline.stages for s in stage.statements),
                  key=lambda s: _position(analysis, s))
    folder: str | None = notebook_dir
    moves = []
    movers = _moving_functions([*analysis.pipeline.helpers, *tops])
    for top in tops:
        calls = [c for c in calls_in(top) if _is_chdir(c) or isinstance(c.func, ast.Name) and c.func.id in movers]
        if not calls:
            continue
        target = _target_of(analysis, top)
        folder = rebase(target, folder) if target is not None and folder is not None else None
        at = _position(analysis, top)
        first = calls[0].func
        call = f"{first.id}(), which calls os.chdir()," if isinstance(first, ast.Name) and first.id in movers \
            else "os.chdir()"
        moves.append(_Move(at[0], calls[0].lineno, stage_of[id(top)], folder, target is not None, at, call))
    return moves


def _moving_functions(statements: Sequence[ast.stmt]) -> set[str]:
    """The notebook's functions that call ``os.chdir()``, themselves or through another of them:
    a call of one moves the working directory where the conversion cannot follow it."""
    bodies = {node.name: node for statement in statements for node in walk(statement)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    called = {name: {c.func.id for c in calls_in(body) if isinstance(c.func, ast.Name)} | (
        {""} if any(_is_chdir(c) for c in calls_in(body)) else set()) for name, body in bodies.items()}
    movers: set[str] = set()
    while True:
        more = {name for name, names in called.items() if name not in movers and names & (movers | {""})}
        if not more:
            return movers
        movers |= more


def _target_of(analysis: _Analysis, top: ast.stmt) -> str | None:
    """The folder ``os.chdir("data")`` (or ``os.chdir(DATA)``) names, when it is the whole statement."""
    if not (isinstance(top, ast.Expr) and isinstance(top.value, ast.Call) and _is_chdir(top.value)):
        return None
    argument = _argument(top.value, 0)
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.Name):
        return analysis.constants.get(argument.id)
    return None


def _position(analysis: _Analysis, statement: ast.stmt) -> tuple[int, int]:
    """(cell, line): the notebook's order of execution."""
    return analysis.cell_of.get(id(statement), 0), statement.lineno


def _folders(analysis: _Analysis, origin: _Origin, moves: list[_Move], notebook_dir: str) -> list[str | None]:
    """The working directories (from the project root) of the statements that use ``origin``, in
    notebook order: the notebook's own until an os.chdir() moves it (a chdir's own target is
    read from where it runs)."""
    positions = [_position(analysis, statement) for _, _, _, statement in sorted(origin.uses, key=lambda u: u[0])]
    found: list[str | None] = []
    for position in positions or [(origin.cell, origin.line)]:
        before = [m for m in moves if m.at < position]
        folder = before[-1].folder if before else notebook_dir
        if folder not in found:
            found.append(folder)
    return found


def _aliases(analysis: _Analysis, statements: Sequence[ast.stmt]) -> None:
    """Names bound (once, or always alike) to a path built from a constant or literal:
    ``out = Path("../models")``, ``train_file = os.path.join(DATA, "train.csv")``."""
    assignments = [(top, node) for top in statements for node in walk(top)  # (walked once for both rounds)
                   if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None]
    for _ in range(2):  # an alias of an alias
        for top, node in assignments:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                continue
            name = targets[0].id
            found = analysis.derive(node.value, top, register=False) if not isinstance(
                node.value, ast.Constant) else None
            if name in analysis.aliases and analysis.aliases[name] is not None and found is not None \
                    and analysis.aliases[name][0] is not found[0]:  # type: ignore[index]
                analysis.aliases[name] = None  # bound to two different paths: neither
            elif name not in analysis.aliases or analysis.aliases[name] is not None:
                if found is not None:
                    analysis.aliases[name] = found
                    analysis.bound_at[name] = top


def find(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> _Analysis:
    cell_of = {id(s): number for stage in pipeline.stages for number, body in stage.body for s in body}
    cell_of.update({id(s): c.number for c in cells for s in c.tree.body})
    constants = {}
    for statement in pipeline.constants:
        value = getattr(statement, "value", None)
        target = _target(statement)
        if target and isinstance(value, ast.Constant) and isinstance(value.value, str) and is_path_like(value.value):
            constants[target] = value.value
    analysis = _Analysis(pipeline, cell_of, constants)
    statements = [s for stage in pipeline.stages for s in stage.statements]
    # literals inside Path(...) and os.path.join(...) first, so an alias can point at them
    for top in statements:
        for node in calls_in(top):
            if (_call_name(node) in _PATH_TYPES or (
                    _call_name(node) == "join" and _qualifier(node) == "path")) and node.args:
                analysis.derive(node.args[0], top)
    _aliases(analysis, statements)
    for top in statements:
        for node in calls_in(top):
            for expression, role in _sinks(node):
                analysis.use(expression, role, top)
    return analysis


def _target(statement: ast.stmt) -> str:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return ""


def _role(origin: _Origin) -> tuple[Role, bool, list[tuple[str, ast.stmt]]]:
    """Read or written (the first use decides; written after read: updated), whether it is a
    directory, and the writes that need a directory created: (``parent`` or ``self``, statement)."""
    uses = sorted(origin.uses, key=lambda u: u[0])
    directory = any(how == _BELOW or role in ("mkdir", "chdir") and how == _EXACT for _, role, how, _ in uses)
    roles = [{"mkdir": "output", "chdir": "input"}.get(role, role) for _, role, _, _ in uses if role != "unknown"]
    role: Role = "unknown"
    if roles:
        role = "input" if roles[0] == "input" else "output"
        if role == "input" and "output" in roles:
            role = "updated"
    creates = []
    for _, use, how, statement in uses:
        if use == "output" or use == "mkdir" and how != _EXACT:
            creates.append(("self" if how == _BELOW else "parent", statement))
    return role, directory, creates


# -- making them parameters ---------------------------------------------------------------------------


def parametrize(pipeline: Pipeline, cells: Sequence[ParsedCell], notebook_dir: str) -> PathReport:
    """Make the notebook's paths keyword parameters of its stages and of ``run()`` (in place), with
    defaults re-based from ``notebook_dir`` (the notebook's directory relative to the project root,
    POSIX); create the directories writes need; find what needs the network."""
    with walks_remembered():  # only looking: the trees change below, once the paths are known
        report = PathReport(network=_network(pipeline, cells))
        analysis = find(pipeline, cells)
        taken = _names_taken(pipeline, cells)
        moves = _moves(analysis, notebook_dir)
    origins = _unified(analysis)
    mkdirs: dict[int, list[tuple[str, str]]] = {}  # id(statement) -> (parameter, "parent"|"self")
    new_constants: list[ast.stmt] = []
    for origin in origins:
        if origin.constant is not None and not origin.uses:
            continue  # a constant no reader or writer gets: not known to be a path
        role, directory, creates = _role(origin)
        folders = _folders(analysis, origin, moves, notebook_dir)
        default, from_root = _default(origin.value, folders[0], notebook_dir)
        if len(folders) > 1:
            report.unfollowed.append(
                f"cell {origin.cell}, line {origin.line}: {origin.value!r} is used before and after os.chdir(): "
                f"run() passes one path for both, {default!r} (give each folder's file a name of its own)")
        if origin.constant is not None:
            name = origin.constant
            _set_constant(pipeline, name, origin.value, default)
        else:
            named_after = origin.value if posixpath.basename(origin.value.rstrip("/")) not in ("", ".", "..") \
                else default if default not in (".", "..") else "project"
            name = parameter_name(named_after, directory, taken)
            new_constants.append(
                ast.Assign(targets=[ast.Name(name, ast.Store())], value=ast.Constant(default), lineno=0))
        for top, node in origin.literals:
            _replace(top, node, name)
        for top, joined in origin.heads:
            _replace_head(top, joined, origin.value, name)
        report.parameters.append(PathParameter(name, default, origin.value, role, directory, origin.cell,
                                               origin.line, origin.constant is not None, from_root))
        for how, statement in creates:
            entry = (name, how)
            if entry not in mkdirs.setdefault(id(statement), []):
                mkdirs[id(statement)].append(entry)
    pipeline.constants.extend(new_constants)
    if mkdirs:
        _create_directories(pipeline, mkdirs)
    names = {p.name for p in report.parameters}
    for stage in pipeline.stages if names else []:  # (no path parameter: no stage takes one)
        if stage.is_stub:
            continue
        read = {n for s in stage.statements for n in loaded_names(s)}
        for name in sorted(names & read - set(stage.constants), key=lambda n: pipeline.constant_names.index(n)):
            stage.constants.append(name)
    report.parameters = [p for p in report.parameters
                         if any(p.name in s.constants for s in pipeline.stages if not s.is_stub)]
    report.in_helpers = _in_helpers(pipeline, cells)
    report.rebased_results = _rebased_results(pipeline, analysis, report.parameters)
    _report_moves(pipeline, report, moves)
    pipeline.path_parameters = report.parameters
    pipeline.network = [f"{n.what} (cell {n.cell}, line {n.line})" for n in report.network]
    return report


def _rebased_results(pipeline: Pipeline, analysis: _Analysis, parameters: Sequence[PathParameter]) -> list[str]:
    """A result run() returns that is a path built from a re-based one (``filename =
    os.path.join(OUT_DIR, f"{i}.csv")`` shown at the end): it names the same file as the notebook's,
    spelled from elsewhere, so the two values differ as text. Warnings, one per result."""
    moved = {p.written: p for p in parameters if p.default != p.written}
    found = []
    for key, name in pipeline.results if moved else []:
        alias = analysis.aliases.get(name)
        p = moved.get(alias[0].value) if alias is not None else None
        if p is not None:
            top = analysis.bound_at[name]
            found.append(f"cell {analysis.cell_of.get(id(top), 0)}, line {top.lineno}: run() returns {key}, made "
                         f"from the path {p.name}: it is {p.default!r} from the project root where the notebook "
                         f"wrote {p.written!r} from its own directory, so the value differs as text though it "
                         "names the same file")
    return found


def _default(value: str, folder: str | None, notebook_dir: str) -> tuple[str, str | None]:
    """The default of a path used in ``folder`` (the working directory then, from the project
    root), and the path from the project root when that is not the default: re-based from the
    notebook's directory, or, after an os.chdir(), as written (read from where run() moved to)."""
    if folder == notebook_dir or _is_absolute(value):
        return rebase(value, notebook_dir), None
    return value, rebase(value, folder) if folder is not None else ""


def _report_moves(pipeline: Pipeline, report: PathReport, moves: list[_Move]) -> None:
    """Say where each os.chdir() moves run(), or that it cannot be followed; run() then returns to
    the directory it started in (a second run() reads what the first did)."""
    if not moves:
        return
    pipeline.moves_directory = True
    _import_module(pipeline, "os")
    for move in moves:
        where = f"cell {move.cell}, line {move.line}: {move.call} in {move.stage}()"
        if move.followed and move.folder is not None:
            report.moves.append(f"{where}: the later relative paths are read from {move.folder}, as in the "
                                "notebook; run() returns to the directory it started in")
        else:
            report.unfollowed.append(
                f"{where} moves to a folder the conversion cannot follow (a computed one, or in a loop, "
                "condition or function): the later relative paths are passed as the notebook wrote them "
                "and may name other files (write os.chdir(\"folder\") as a statement of its own)")


def _unified(analysis: _Analysis) -> list[_Origin]:
    """The origins in notebook order; a literal of the same value as a path constant joins it."""
    constants = {o.value: o for o in analysis.origins.values() if o.constant is not None and o.uses}
    found = []
    for origin in sorted(analysis.origins.values(), key=lambda o: (o.cell, o.line)):
        same = constants.get(origin.value) if origin.constant is None else None
        if same is not None:
            same.uses.extend(origin.uses)
            same.literals.extend(origin.literals)
            continue
        found.append(origin)
    return found


def _names_taken(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> set[str]:
    """Every name the notebook's code and the module's imports use or bind: a new parameter takes none.

    Walked statement by statement (the same nodes as walking each cell's tree): the statements of
    the stages were walked above already, within the same :func:`walks_remembered`."""
    taken = set(RESERVED) | set(pipeline.constant_names)
    for statement in [s for cell in cells for s in cell.tree.body]:
        for node in walk(statement):
            if isinstance(node, ast.Name):
                taken.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                taken.add(node.name)
            elif isinstance(node, ast.alias):
                taken.add(node.asname or node.name.split(".")[0])
            elif isinstance(node, ast.arg):
                taken.add(node.arg)
    for statement in pipeline.imports:
        for node in walk(statement):
            if isinstance(node, ast.alias):
                taken.add(node.asname or node.name.split(".")[0])
    return taken


def _set_constant(pipeline: Pipeline, name: str, value: str, default: str) -> None:
    """The notebook's constant with its value re-based (its own text kept, the string changed)."""
    if default == value:
        return
    from mlpack_cli.literals import py_string

    for statement in pipeline.constants:
        if _target(statement) == name and isinstance(getattr(statement, "value", None), ast.Constant):
            statement.value = ast.Constant(default)  # type: ignore[attr-defined]
            literals = dict(getattr(statement, PATH_LITERALS, None) or {})
            literals[value] = py_string(default)
            setattr(statement, PATH_LITERALS, literals)


def _replace(top: ast.stmt, literal: ast.Constant, name: str) -> None:
    """The string ``literal`` inside ``top`` becomes the name ``name``, in the tree and (recorded on
    the statement for code generation) in the user's text."""
    for node in walk(top):
        for field_name, value in ast.iter_fields(node):
            if value is literal:
                setattr(node, field_name, ast.copy_location(ast.Name(name, ast.Load()), literal))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if item is literal:
                        value[index] = ast.copy_location(ast.Name(name, ast.Load()), literal)
    literals = dict(getattr(top, PATH_LITERALS, None) or {})
    literals[str(literal.value)] = name
    setattr(top, PATH_LITERALS, literals)


def _replace_head(top: ast.stmt, joined: ast.JoinedStr, head: str, name: str) -> None:
    """``f"models/clf_{t}.pkl"`` inside ``top`` becomes ``f"{models_dir}/clf_{t}.pkl"``, in the tree
    and (recorded on the statement for code generation) in the user's text."""
    first = joined.values[0]
    assert isinstance(first, ast.Constant) and isinstance(first.value, str)
    joined.values[:1] = [ast.FormattedValue(ast.Name(name, ast.Load()), -1, None),
                         ast.Constant(first.value[len(head):])]
    heads = dict(getattr(top, FSTRING_HEADS, None) or {})
    heads[head] = name
    setattr(top, FSTRING_HEADS, heads)


def _create_directories(pipeline: Pipeline, mkdirs: dict[int, list[tuple[str, str]]]) -> None:
    """Before each statement that writes under a path parameter, create the directory it writes
    into: ``Path(p).parent.mkdir(parents=True, exist_ok=True)`` (the path's own, for a directory)."""
    path = ""  # ``Path`` or ``pathlib.Path``, imported when a directory is made
    for stage in pipeline.stages:
        ready: set[str] = set()  # directories made already in this stage (made once, not before each write)
        for index, (number, statements) in enumerate(stage.body):
            made: list[ast.stmt] = []
            for statement in statements:
                for name, how in mkdirs.get(id(statement), []):
                    if name in ready:
                        continue
                    if how == "self":
                        ready.add(name)
                    path = path or _path_name(pipeline)
                    target: ast.expr = ast.Call(ast.Name(path, ast.Load()), [ast.Name(name, ast.Load())], [])
                    if how == "parent":
                        target = ast.Attribute(target, "parent", ast.Load())
                    call = ast.Call(ast.Attribute(target, "mkdir", ast.Load()), [], [
                        ast.keyword("parents", ast.Constant(True)), ast.keyword("exist_ok", ast.Constant(True))])
                    made.append(ast.Expr(call))
                made.append(statement)
                ready |= _directory_made(statement)
            stage.body[index] = (number, made)


def _directory_made(statement: ast.stmt) -> set[str]:
    """The path parameter a top-level ``os.makedirs(p)`` or ``Path(p).mkdir(...)`` makes."""
    call = statement.value if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) else None
    if call is None:
        return set()
    if _call_name(call) in _MAKEDIRS and _qualifier(call) == "os" and call.args:
        made = call.args[0]
    elif _call_name(call) == "mkdir" and isinstance(call.func, ast.Attribute) and isinstance(
            call.func.value, ast.Call) and _call_name(call.func.value) in _PATH_TYPES and len(
            call.func.value.args) == 1:
        made = call.func.value.args[0]
    else:
        return set()
    return {made.id} if isinstance(made, ast.Name) else set()


def _path_name(pipeline: Pipeline) -> str:
    """``Path`` when the module imports it from pathlib, else ``pathlib.Path`` (imported)."""
    for statement in pipeline.imports:
        if isinstance(statement, ast.ImportFrom) and statement.module == "pathlib" and statement.level == 0:
            if any(a.name == "Path" and a.asname is None for a in statement.names):
                return "Path"
    _import_module(pipeline, "pathlib")
    return "pathlib.Path"


def _import_module(pipeline: Pipeline, module: str) -> None:
    """``import module`` at the top of the module, unless it is there (after ``__future__``)."""
    for statement in pipeline.imports:
        if isinstance(statement, ast.Import) and any(a.name == module and a.asname is None for a in statement.names):
            return
    position = next((i for i, s in enumerate(pipeline.imports)
                     if not (isinstance(s, ast.ImportFrom) and s.module == "__future__")), len(pipeline.imports))
    pipeline.imports.insert(position, ast.Import(names=[ast.alias(module)]))


def _in_helpers(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> list[str]:
    """Paths inside module-level functions stay as written: the function reads them relative to the
    current directory."""
    found = []
    number_of = {id(s): c.number for c in cells for s in c.tree.body}
    for helper in pipeline.helpers:
        for node in walk(helper):
            if isinstance(node, ast.Call):
                for expression, _ in _sinks(node):
                    if isinstance(expression, ast.Constant) and isinstance(expression.value, str) \
                            and is_path_like(expression.value) and not _is_absolute(expression.value):
                        found.append(f"cell {number_of.get(id(helper), 0)}, line {expression.lineno}: "
                                     f"{expression.value!r} in {getattr(helper, 'name', 'a function')}() is "
                                     "relative to the current directory, not a parameter of run()")
    return found


# -- the network --------------------------------------------------------------------------------------


def _network(pipeline: Pipeline, cells: Sequence[ParsedCell]) -> list[NetworkUse]:
    """URLs anywhere in the module's code, and calls that download (``fetch_*``, hub downloads)."""
    number_of = {id(s): c.number for c in cells for s in c.tree.body}
    tops: list[tuple[int, ast.stmt]] = [(number_of.get(id(s), 0), s)
                                        for s in [*pipeline.imports, *pipeline.constants, *pipeline.helpers]]
    tops += [(number, s) for stage in pipeline.stages for number, body in stage.body for s in body]
    found: list[NetworkUse] = []
    seen: set[str] = set()
    for number, top in tops:
        for node in walk(top):
            what = ""
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _URL.match(node.value):
                what = node.value if len(node.value) <= 80 else node.value[:77] + "..."
            elif isinstance(node, ast.Call):
                what = _download(node)
            if what and what not in seen:
                seen.add(what)
                found.append(NetworkUse(what, number, getattr(node, "lineno", 0)))
    return sorted(found, key=lambda n: (n.cell, n.line))


def _download(call: ast.Call) -> str:
    name = _call_name(call)
    qualifier = _qualifier(call)
    if name.startswith("fetch_") or name in _DOWNLOADS or qualifier in _HTTP_MODULES:
        return f"{qualifier + '.' if qualifier else ''}{name}()"
    if name == "load_data" and "datasets" in ast.unparse(call.func):
        return f"{ast.unparse(call.func)}()"
    if name == "load" and qualifier in ("tfds", "hub"):
        return f"{qualifier}.{name}()"
    if name == "from_pretrained" and call.args and isinstance(call.args[0], ast.Constant) \
            and isinstance(call.args[0].value, str) and not call.args[0].value.startswith((".", "/")):
        return f"from_pretrained({call.args[0].value!r})"
    if any(k.arg == "download" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords):
        return f"{name}(download=True)"
    return ""


__all__ = ["PATH_LITERALS", "NetworkUse", "PathParameter", "PathReport", "is_path_like", "parameter_name",
           "parametrize", "rebase"]
