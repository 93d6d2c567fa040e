"""``mlpack convert``: notebooks become importable pipeline modules with tests and declared dependencies.

:func:`convert_project` converts every notebook it can, records each failure against its notebook
(nothing is written for a notebook that fails, nor for one whose generated files were edited since
mlpack wrote them) and plans all writes in one :class:`~mlpack_cli.files.FilePlan`, applied
all-or-nothing. :func:`check_modules` answers the CI question "is every generated module in step with
its notebook?" without converting anything; both find generated files whose notebook was deleted.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import keyword
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlpack_cli.project import ProjectSettings, load_project
from mlpack_cli.errors import EnvironmentProblem, InvalidInput, NotebookError
from mlpack_cli.files import FilePlan

if TYPE_CHECKING:
    from mlpack_cli.notebook.dataflow import ParsedCell
    from mlpack_cli.notebook.localmods import LocalModuleError, LocalModules
    from mlpack_cli.notebook.reader import Cell, Notebook

RESERVED_MODULES = {"monitoring", "pipelines", "__init__", "__main__"}
CHECKPOINTS = ".ipynb_checkpoints"


@dataclass(frozen=True)
class ConvertSettings:
    root: Path
    paths: list[Path] = field(default_factory=list)  # notebooks or directories; default: the notebooks directory
    force: bool = False
    skip_invalid_cells: bool = False
    dry_run: bool = False
    prune: bool = False  # remove generated files whose notebook no longer exists, unless they were edited


# How an existing generated file stands against its notebook (see _generated_state).
FileState = Literal["missing", "foreign", "edited", "changed", "kept", "current"]


@dataclass
class Conflict:
    """A generated file kept as it is, so that the notebook it belongs to was not written."""

    path: str
    state: FileState  # "edited" (since mlpack wrote it) or "foreign" (mlpack did not write it)


@dataclass
class Orphan:
    """A generated file whose source notebook (named in its header) no longer exists."""

    path: str
    notebook: str
    edited: bool


@dataclass
class CellReport:
    """Where one part of a cell went: a cell split at statement boundaries has one per part, each
    with the same cell number and the part's lines (first, last) in the cell."""

    cell: int
    first_line: str
    stage: str
    reason: str
    lines: list[int] | None = None  # [first, last] line of the part in the cell; None: the whole cell


@dataclass
class NotebookReport:
    notebook: str  # relative to the project root when inside it
    module: str | None = None
    ok: bool = True
    error: str | None = None
    hint: str | None = None
    cells: list[CellReport] = field(default_factory=list)
    stages: dict[str, list[int]] = field(default_factory=dict)  # stage -> cells kept there
    dropped: list[int] = field(default_factory=list)
    stubs: list[str] = field(default_factory=list)
    magics: dict[str, int] = field(default_factory=dict)  # rule applied -> times
    dependencies: list[str] = field(default_factory=list)
    local_modules: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)  # "notebooks/utils.py -> src/<package>/utils.py"
    unresolved_imports: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # the files run() reads and writes: its path parameters
    network: list[str] = field(default_factory=list)  # URLs and downloads: run() needs the network
    serves: dict[str, Any] | None = None  # the model it saves and how predict() was derived
    files: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)  # when any: none of ``files`` was written


@dataclass
class ConvertResult:
    root: Path
    reports: list[NotebookReport]
    plan: FilePlan
    dependencies_added: list[str] = field(default_factory=list)
    dry_run: bool = False
    orphans: list[Orphan] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)  # orphans removed (``prune``; with ``dry_run``: would be)
    console_script: str | None = None  # declared in [project.scripts]: `<script> run <module>`, `<script> list`
    warnings: list[str] = field(default_factory=list)  # about the project as a whole

    @property
    def failed(self) -> list[NotebookReport]:
        return [r for r in self.reports if not r.ok]

    @property
    def conflicted(self) -> list[NotebookReport]:
        """Notebooks converted but not written: one of their generated files was edited."""
        return [r for r in self.reports if r.conflicts]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.conflicted

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "notebooks": [asdict(r) for r in self.reports],
            "dependencies_added": self.dependencies_added,
            "files": [
                {"path": e.path.as_posix(), "action": e.action.value, "note": e.note}
                for e in sorted(self.plan.entries, key=lambda e: str(e.path))
            ],
            "orphans": [asdict(o) for o in self.orphans],
            "pruned": self.pruned,
            "console_script": self.console_script,
            "warnings": self.warnings,
        }


@dataclass
class StaleModule:
    notebook: str  # the notebook, or the local module (``notebooks/helpers.py``) a copy was made of
    module: str
    state: FileState  # "missing", "foreign", "edited" or "changed"
    copy: bool = False  # ``module`` is the package's copy of the local module ``notebook``

    def describe(self) -> str:
        """Why it is stale, in words: the module of a notebook, or the copy of a local module."""
        if self.copy:
            edited = ", and the copy was edited" if self.state == "edited" else ""
            return f"the local module changed since it was copied to {self.module}{edited}"
        return {"missing": f"no module yet: {self.module} is to be generated",
                "changed": f"the notebook changed since {self.module} was generated",
                "edited": f"the notebook changed since {self.module} was generated, and the module was edited",
                "foreign": f"its module {self.module} was not written by mlpack"}[self.state]


@dataclass
class ModuleCheck:
    """What ``convert --check`` found; ``ok`` when every module is in step and nothing is left over."""

    root: Path
    stale: list[StaleModule] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    failed: list[NotebookReport] = field(default_factory=list)  # notebooks that cannot be read

    @property
    def ok(self) -> bool:
        return not (self.stale or self.orphans or self.failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "stale": [s.notebook for s in self.stale],
            "modules": [asdict(s) for s in self.stale],
            "orphans": [asdict(o) for o in self.orphans],
            "failed": [{"notebook": r.notebook, "error": r.error, "hint": r.hint} for r in self.failed],
        }


# -- finding notebooks -----------------------------------------------------------------------------


def _notebooks_under(directory: Path) -> list[Path]:
    """The notebooks in ``directory`` and its folders (symlinked folders not followed, checkpoints left
    out), sorted. os.walk passes over a folder that vanishes or cannot be read while it is walked (a
    kernel's scratch folder, another program's temporary files), where Path.rglob raises."""
    found: list[Path] = []
    for folder, folders, files in os.walk(directory):
        folders[:] = [name for name in folders if name != CHECKPOINTS]
        found.extend(Path(folder, name) for name in files if name.endswith(".ipynb"))
    return sorted(p for p in found if p.is_file())


def find_notebooks(project: ProjectSettings, paths: list[Path]) -> list[Path]:
    """Notebook files named or found under the directories named, sorted, without checkpoints."""
    found: list[Path] = []
    for given in paths or [project.notebooks]:
        path = given if given.is_absolute() else Path.cwd() / given
        if path.is_dir():
            found.extend(_notebooks_under(path))
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidInput(
                f"{given} does not exist",
                hint="Pass notebook files or directories, or set [tool.mlpack] notebooks in pyproject.toml.",
            )
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        shown = ", ".join(str(p) for p in paths) if paths else _display(project.notebooks, project.root)
        raise InvalidInput(f"no notebooks (*.ipynb) found in {shown}", hint="Add a notebook, or pass its path.")
    return unique


def module_name(notebook: Path, display: str = "") -> str:
    """The module a notebook becomes: ``01 - Train Model.ipynb`` -> ``nb_01_train_model``.

    The name is NFKC-normalised as Python normalises identifiers (``ﬁt.ipynb`` -> ``fit``), so the
    file is found under the name an import statement uses. It never takes the name of a keyword, a
    standard-library module or a module the generated project imports (``json.ipynb`` ->
    ``json_notebook``): the generated tests import it by that name next to their own imports. A file
    name with nothing that can become an identifier raises :class:`NotebookError`, naming the
    notebook as ``display`` (its path from the project root), as every other error of convert does.
    """
    where = display or repr(notebook.name)
    stem = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", notebook.stem).lower())
    # One character is kept when an identifier may continue with it (Unicode XID_Continue).
    name = re.sub(r"_+", "_", "".join(c if f"_{c}".isidentifier() else "_" for c in stem)).strip("_")
    if not name:
        raise NotebookError(
            f"{where}: the file name {notebook.name!r} has no letter or digit to make a module name from",
            hint="Rename the notebook to a name with letters or digits, for example train_model.ipynb.",
        )
    if not name.isidentifier():  # starts with a digit or another character that cannot start a name
        name = f"nb_{name}"
    if unicodedata.normalize("NFKC", name) != name or not name.isidentifier():
        raise NotebookError(
            f"{where}: the file name {notebook.name!r} does not give a module name Python can import ({name!r})",
            hint="Rename the notebook using letters, digits and '_', for example train_model.ipynb.",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _TAKEN_MODULE_NAMES:
        name = f"{name}_notebook"
    return name


# Names a notebook's module never takes: mlpack's own modules, the standard library, and the
# modules the generated project imports (its tests import `pytest`, `inspect`, `pathlib` next to it).
_TAKEN_MODULE_NAMES = frozenset(RESERVED_MODULES | set(sys.stdlib_module_names) | {"pytest", "packaging", "nox"})


def _module_names(notebooks: list[Path]) -> set[str]:
    """The modules of the notebooks that have one (a notebook whose name cannot become a module is
    reported by its conversion, and owns no generated file)."""
    names = set()
    for path in notebooks:
        try:
            names.add(module_name(path))
        except NotebookError:
            continue
    return names


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


# -- converting --------------------------------------------------------------------------------------


@dataclass
class _Converted:
    report: NotebookReport
    module_text: str
    tests_text: str
    requirements: dict[str, str]
    modules: dict[str, str] = field(default_factory=dict)  # other modules of the package (%%writefile)
    copied: dict[str, str] = field(default_factory=dict)  # local modules copied: path in the package -> text
    origins: dict[str, Path] = field(default_factory=dict)  # path in the package -> the local file copied


def convert_project(settings: ConvertSettings, *, project: ProjectSettings | None = None) -> ConvertResult:
    from mlpack_cli.notebook import deps

    project = project or load_project(settings.root)
    notebooks = find_notebooks(project, list(settings.paths))
    plan = FilePlan(project.root)
    result = ConvertResult(project.root, [], plan, dry_run=settings.dry_run)
    options = _options(project)
    modules: dict[str, str] = {}
    notebook_modules = _module_names(notebooks)
    copies: dict[str, tuple[Path, str]] = {}  # path in the package -> (local file, notebook copying it)
    requirements: dict[str, str] = {}
    for path in notebooks:
        display = _display(path, project.root)
        try:
            with _cycle_collection_paused():
                converted = convert_notebook(path, project, settings, display, options)
            other = modules.get(converted.report.module or "")
            if other is not None:
                raise NotebookError(
                    f"{display}: becomes module {converted.report.module!r}, which {other} already becomes",
                    hint="Rename one of the notebooks.",
                )
            _check_copies(converted, notebook_modules, copies, display, project.root)
        except NotebookError as error:
            result.reports.append(NotebookReport(display, ok=False, error=error.message, hint=error.hint))
            continue
        module = converted.report.module or ""
        modules[module] = display
        files = {f"src/{project.package}/{module}.py": converted.module_text,
                 f"tests/test_{module}.py": converted.tests_text}
        files.update({f"src/{project.package}/{name}.py": text for name, text in converted.modules.items()})
        files.update({f"src/{project.package}/{relpath}": text for relpath, text in converted.copied.items()})
        copies.update({relpath: (origin, display) for relpath, origin in converted.origins.items()})
        if _plan_generated(plan, files, settings.force, converted.report):
            for name, requirement in converted.requirements.items():
                requirements[name] = deps.combine(requirements.get(name, requirement), requirement)
        result.reports.append(converted.report)
    if modules:
        _plan_package(plan, project)
        result.dependencies_added = _plan_dependencies(plan, project, requirements)
        _plan_entry_point(plan, project, result)
    result.orphans = find_orphans(project, _module_names(notebooks))
    if settings.prune:
        result.pruned = [orphan.path for orphan in result.orphans if not orphan.edited]
    if not settings.dry_run:
        _check_removable(project.root, result.pruned)
        plan.apply()
        _remove(project.root, result.pruned)
    return result


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while one notebook converts.

    A conversion makes hundreds of thousands of short-lived syntax-tree nodes, which reference
    counting frees; the collector's passes over them took about a sixth of the time and find only a
    few thousand objects per notebook, which the first collection after the notebook frees. The
    walks the analysis remembers (dropped anyway when the next notebook is analysed) hold the
    notebook's trees: dropped before that collection, so that it does not go through them all.
    """
    from mlpack_cli.notebook.dataflow import forget_walks

    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        forget_walks()
        gc.enable()


def _options(project: ProjectSettings) -> dict[str, Any]:
    from mlpack_cli.notebook.stages import heading_keywords

    convert = project.tool.get("convert", {})
    if not isinstance(convert, dict):
        raise InvalidInput("[tool.mlpack.convert] must be a table", hint="See docs/convert.md for its keys.")
    keywords = convert.get("keywords", {})
    if not isinstance(keywords, dict):
        raise InvalidInput(
            "[tool.mlpack.convert.keywords] must map stage names to lists of words",
            hint='For example: train = ["train", "fit", "model"].',
        )
    return {"keywords": heading_keywords(keywords), "max_line": _max_line_length(project.root),
            "oldest_python": _oldest_python(project)}


def _oldest_python(project: ProjectSettings) -> tuple[int, int, int] | None:
    """The oldest Python the project's ``requires-python`` admits: dependency bounds must allow it."""
    from mlpack_cli.notebook.deps import oldest_python

    value = project.pyproject_data().get("project", {}).get("requires-python")
    return oldest_python(str(value)) if value is not None else None


def _max_line_length(root: Path) -> int:
    """max-line-length from the project's flake8 configuration (.flake8, setup.cfg, tox.ini), else 79."""
    import configparser

    for name in (".flake8", "setup.cfg", "tox.ini"):
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_option("flake8", "max-line-length"):
            try:
                return max(40, int(parser.get("flake8", "max-line-length")))
            except ValueError:
                continue
        if parser.has_option("flake8", "max_line_length"):
            try:
                return max(40, int(parser.get("flake8", "max_line_length")))
            except ValueError:
                continue
    return 79


def convert_notebook(
    path: Path, project: ProjectSettings, settings: ConvertSettings, display: str, options: dict[str, Any]
) -> _Converted:
    """Convert one notebook; a :class:`NotebookError` says why it cannot be."""
    from mlpack_cli.notebook import codegen, deps
    from mlpack_cli.notebook.dataflow import DynamicNames, HelperGlobal, OutOfOrder, OutputHistory, build_pipeline
    from mlpack_cli.notebook.pysource import users_module_with_noqa
    from mlpack_cli.notebook.reader import execution_order_problem, read_notebook

    notebook = read_notebook(path, display)
    module = module_name(path, display)
    report = NotebookReport(display, module=module, repairs=list(notebook.repairs))
    order_problem = execution_order_problem(notebook.cells)
    if order_problem:
        report.warnings.append(order_problem)
    parsed, magics, harvested, written = _parse_cells(
        notebook, display, settings.skip_invalid_cells, report, project.package, module
    )
    local = _take_local_modules(parsed, path, project, module, set(written), display)
    report.warnings.extend(_expand_star_imports(parsed, local, written, project.package))
    try:
        pipeline = build_pipeline(parsed, options["keywords"])
    except OutOfOrder as exc:
        raise NotebookError(
            f"{display}: {exc}",
            hint="Move the cell below the cells it depends on, or change its mlpack: tag.",
        ) from exc
    except HelperGlobal as exc:
        raise NotebookError(
            f"{display}: {exc}",
            hint=f"Give {exc.helper!r} the value of {exc.name!r} as a parameter in the notebook, "
                 "or define it after the cell that sets that value.",
        ) from exc
    except DynamicNames as exc:
        raise NotebookError(
            f"{display}: {exc}",
            hint="Bind each of those names with an assignment in the notebook "
                 "(a dict of results instead of globals()[...]), then convert again.",
        ) from exc
    except OutputHistory as exc:
        raise NotebookError(
            f"{display}: {exc}",
            hint="Bind the value to a name where the notebook computes it (`accuracy = model.score(X, y)` "
                 f"rather than a bare `model.score(X, y)`), read that name instead of {exc.name!r}, "
                 "and convert again.",
        ) from exc
    except RecursionError as exc:
        raise NotebookError(f"{display}: code nested too deeply to convert", hint="Simplify that cell.") from exc
    _refuse_ipython_bound(parsed, pipeline.required, display)
    _refuse_untraced_runs(parsed, pipeline.required, display)
    from mlpack_cli.notebook import paths as path_parameters

    found_paths = path_parameters.parametrize(pipeline, parsed, _notebook_dir(path, project.root))
    _derive_inference(pipeline, parsed, report)
    from mlpack_cli.notebook.outputs import Stored

    try:
        generated = codegen.generate(
            pipeline, package=project.package, module=module, notebook=display,
            source_hash=notebook.source_hash, max_line=options["max_line"], cells=parsed,
            outputs={c.number: Stored(c.execution_count, c.outputs) for c in notebook.code_cells},
        )
        ast.parse(generated.tests)
    except (ValueError, RecursionError, SyntaxError) as exc:
        raise NotebookError(
            f"{display}: mlpack could not write valid Python for this notebook ({exc})",
            hint="This is a bug in mlpack; please report it with the notebook attached.",
        ) from exc

    cell_code = {c.number: _as_written(c.source, c.code) for c in parsed}
    firsts = {c.number: _first_line(c.source) for c in parsed}  # sources with secrets moved out
    kept_somewhere: set[int] = set()
    reported = {c.cell for c in report.cells}
    for part in pipeline.parts:
        first = firsts.get(part.cell, "")
        if part.lines is not None and part.cell in reported:
            lines = cell_code.get(part.cell, "").splitlines()[part.lines[0] - 1: part.lines[1]]
            first = next((line.strip() for line in lines if line.strip()), first)
        report.cells.append(CellReport(part.cell, first[:80], part.stage, part.reason,
                                       list(part.lines) if part.lines else None))
        reported.add(part.cell)
        if part.stage != "dropped":
            kept_somewhere.add(part.cell)
            cells = report.stages.setdefault(part.stage, [])
            if part.cell not in cells:
                cells.append(part.cell)
    report.dropped = sorted({p.cell for p in pipeline.parts if p.stage == "dropped"} - kept_somewhere)
    report.cells.sort(key=lambda c: (c.cell, c.lines[0] if c.lines else 0))
    report.stubs = [s.name for s in pipeline.stages if s.is_stub]
    report.magics = dict(sorted(Counter(magics).items()))
    report.warnings.extend(pipeline.warnings)
    report.paths = found_paths.lines()
    report.network = list(pipeline.network)
    report.warnings.extend(found_paths.warnings())
    report.warnings.extend(generated.notes)
    if pipeline.renamed:
        renames = ", ".join(f"{old} -> {new}" for old, new in sorted(pipeline.renamed.items()))
        report.warnings.append(f"renamed notebook names that the module defines itself: {renames}")
    for stub in report.stubs:
        report.warnings.append(f"stage {stub!r} has no cells: written as a stub that raises NotImplementedError")

    imports = sorted(set(deps.imported_modules(generated.tree)) | local.imports)  # the copies' too
    uses_sys_path = any("sys.path" in c.source for c in notebook.code_cells)
    found = deps.resolve(imports, _local_modules(path, project) | set(local.missing), project.package,
                         python=options.get("oldest_python"), assume_unknown=not uses_sys_path)
    requirements = dict(found.requirements)
    for requirement in harvested:  # as written in pip install, with the extras and bound of both
        name = _requirement_name(requirement)
        if name:
            requirements[name] = deps.combine(requirement, requirements.get(name, requirement))
    report.dependencies = [requirements[k] for k in sorted(requirements)]
    report.local_modules = [name for name in found.local if name not in local.missing]
    report.unresolved_imports = found.unresolved
    report.warnings.extend(found.notes)
    if found.assumed:
        report.warnings.append(
            "imports not installed here, declared as the distribution assumed for them (without a lower bound): "
            + ", ".join(f"{module} -> {name}" for module, name in sorted(found.assumed.items()))
            + "; check the names"
        )
    if found.notebook_only:
        report.warnings.append(
            f"not declared, they exist only in a notebook environment: {', '.join(found.notebook_only)}"
        )
    if found.unresolved:
        how = " (the notebook changes sys.path)" if uses_sys_path else ""
        report.warnings.append(
            f"imports not installed here and not known to mlpack{how}: {', '.join(found.unresolved)}; "
            "declare them yourself if they come from an index"
        )
    if report.local_modules and uses_sys_path:
        report.warnings.append(f"local modules reached through sys.path: {', '.join(report.local_modules)}")
    if generated.silenced:
        codes = sorted({code for _, code in generated.silenced})
        report.warnings.append(
            f"kept the notebook's style where it cannot be rewritten safely (noqa: {', '.join(codes)})"
        )
    extra = {name: codegen.with_header(users_module_with_noqa(text, options["max_line"]), display,
                                       notebook.source_hash, options["max_line"]) for name, text in written.items()}
    copied, origins = _local_copies(local, project, display, options["max_line"], report)
    return _Converted(report, generated.module, generated.tests, requirements, extra, copied, origins)


def _derive_inference(pipeline: Any, parsed: list[Any], report: NotebookReport) -> None:
    """``load_model`` and ``predict`` when the notebook saves a model (notebook/inference.py); what
    could not be derived goes to the report, with the cell."""
    from mlpack_cli.notebook import inference

    found, why = inference.derive(pipeline, parsed)
    if why is not None:
        report.warnings.append(f"not served: {why}")
    if found is None:
        return
    pipeline.inference = found
    inference.return_from_stages(pipeline, found)
    report.serves = {"model": found.model_path, "saved_with": found.saver, "cell": found.cell,
                     "predict": "derived" if found.problem is None else "to complete",
                     "inference_cell": found.source, "fitted": list(found.fitted)}
    if found.problem is not None:
        report.warnings.append(f"predict() could not be derived ({found.problem}): it raises "
                               "NotImplementedError until you complete it in the module")


def _notebook_dir(path: Path, root: Path) -> str:
    """The notebook's directory relative to the project root (POSIX): where its relative paths start."""
    import os

    return Path(os.path.relpath(path.parent.resolve(), root.resolve())).as_posix()


def _refuse_untraced_runs(cells: list[ParsedCell], required: list[str], display: str) -> None:
    """``%run script.py`` is dropped: refuse the notebook when a name it reads is set by nothing
    else, which would then be the script's (run() would need it as a parameter and compute
    something else, or fail)."""
    runs = [(c, line) for c in cells for line in c.runs]
    if not runs or not required:
        return
    cell, line = runs[0]
    number = next((i for i, text in enumerate(cell.source.splitlines(), start=1)
                   if text.strip().startswith(line.split()[0]) and line.split()[-1] in text), 1)
    names = ", ".join(required)
    raise NotebookError(
        f"{display}: cell {cell.number}, line {number}: {line!r} runs a script in the notebook's namespace; "
        f"mlpack cannot trace the names it sets, and the notebook reads {names} that nothing else sets",
        hint="Import what the notebook uses from the script instead (`from script import name`, with its "
             "folder on sys.path), or paste the script into a cell, and convert again.",
    )


def _refuse_ipython_bound(cells: list[ParsedCell], required: list[str], display: str) -> None:
    """A name run() would need as a parameter that, in the notebook, only a dropped IPython construct
    set (``%store -r x``, ``%%capture out``, ``x = !ls``, ``x = %who_ls``) is no input of the pipeline:
    nobody calling run() has that value, so the module could only fail. Refuse, naming where the
    notebook reads it and the construct that set it there."""
    if not required:
        return
    binds = [(cell, name, line, what) for cell in cells for name, line, what in cell.ipython_binds]
    for name in required:
        read = _first_read(cells, name)
        if read is None:
            continue
        found = next(((cell, line, what) for cell, bound, line, what in binds
                      if bound in (name, "*") and cell.number <= read[0]), None)
        if found is None:
            continue
        cell, line, what = found
        raise NotebookError(
            f"{display}: cell {read[0]}, line {read[1]}: reads {name!r}, which only `{what}` "
            f"(cell {cell.number}, line {line}) sets; that needs a running IPython, so the module "
            f"would need {name!r} as a parameter of run() that nobody can give",
            hint=f"Set {name!r} with plain Python in the notebook ({_plain_python_for(what)}), or stop "
                 "reading it, and convert again.",
        )


def _plain_python_for(construct: str) -> str:
    """How plain Python does what an IPython construct did, for the hint of a refusal."""
    if construct.startswith("%%capture"):
        return "print into `io.StringIO()` under `contextlib.redirect_stdout(...)` and read its value"
    if construct.startswith("%store"):
        return "save it to a file where it is computed, and load it from that file"
    if "!" in construct.split("=", 1)[-1][:3]:
        return "run the command with `subprocess.run(..., capture_output=True, text=True)`"
    return "compute it, or load it from a file"


def _first_read(cells: list[ParsedCell], name: str) -> tuple[int, int] | None:
    """(cell, line) of the first statement that loads ``name``."""
    for cell in cells:
        lines = [node.lineno for node in ast.walk(cell.tree)
                 if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)]
        if lines:
            return cell.number, min(lines)
    return None


def _as_written(source: str, code: str) -> str:
    """The cell as the user wrote it (``%cd data``, not IPython's ``get_ipython().run_line_magic(...)``)
    when its lines are the code's, line for line; else the code the lines of the report count."""
    return source if len(source.splitlines()) == len(code.splitlines()) else code


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def _refuse_written_clash(display: str, number: int, source: str, names: set[str], package: str,
                          module: str) -> None:
    """``%%writefile monitoring.py`` (or the notebook's own module's name) would replace a module
    mlpack writes: refused, naming the cell and the line of the magic."""
    clash = sorted(names & (RESERVED_MODULES | {module}))
    if not clash:
        return
    line = next((n for n, text in enumerate(source.splitlines(), start=1) if text.strip()), 1)
    what = "the module this notebook becomes" if clash[0] == module else "a module mlpack writes itself"
    raise NotebookError(
        f"{display}: cell {number}, line {line}: %%writefile {clash[0]}.py would replace {what} "
        f"(src/{package or '<package>'}/{clash[0]}.py)",
        hint=f"Rename {clash[0]}.py in that cell, and in the notebook's imports of it.",
    )


def _parse_cells(
    notebook: Notebook, display: str, skip_invalid: bool, report: NotebookReport, package: str = "",
    module: str = "",
) -> tuple[list[ParsedCell], list[str], list[str], dict[str, str]]:
    """The notebook's code cells parsed (magics handled, old syntax fixed), the magic rules applied,
    the requirements harvested from ``pip install``, and the modules that ``%%writefile name.py``
    cells write (name -> text; the notebook's imports of them now name ``package``)."""
    from mlpack_cli.notebook.dataflow import ParsedCell
    from mlpack_cli.notebook.ipython import CellSyntaxError, parse_cell
    from mlpack_cli.notebook.secrets import protect_cells
    from mlpack_cli.notebook.stages import directive_problem, headings, title

    parsed: list[ParsedCell] = []
    magics: list[str] = []
    harvested: list[str] = []
    written: dict[str, str] = {}
    heading: str | None = None
    markdown: list[str] = []  # since the previous code cell
    shells: set[str] = set()  # names bound to get_ipython() so far
    cells, moved = protect_cells(notebook.cells, display)  # secrets become os.environ lookups, or refuse
    report.warnings.extend(moved)
    named = title([(cell.kind, cell.source) for cell in cells])  # (what the notebook is about: no stage)
    for cell in cells:
        if cell.kind == "markdown":
            found = headings(cell.source)
            heading = found[-1] if found else heading
            heading = None if heading is not None and heading == named and found == [named] else heading
            markdown.append(cell.source)
            continue
        if cell.kind != "code" or not cell.source.strip():
            continue
        problem = directive_problem(cell.tags, cell.source)
        if problem:
            raise NotebookError(
                f"{display}: cell {cell.number}{', ' if problem.startswith('line') else ': '}{problem} names no stage",
                hint="Use one of load, preprocess, train, evaluate, export, helpers or skip "
                     "(mlpack:train as the cell's tag, or # mlpack: train as its first line).",
            )
        try:
            code = parse_cell(cell.source, shells=shells)
        except CellSyntaxError as exc:
            where = f"{display}: cell {cell.number}, line {exc.line}: {exc.message}: {exc.text!r}"
            if not skip_invalid:
                raise NotebookError(
                    where,
                    hint=_syntax_hint(exc) + " Or pass --skip-invalid-cells to keep such cells as commented-out code.",
                ) from None
            report.warnings.append(
                f"cell {cell.number} (line {exc.line}: {exc.message}: {exc.text!r}) is not valid Python: "
                "kept as commented-out code marked TODO"
            )
            commented = _commented_out(cell, exc)
            parsed.append(ParsedCell(cell.number, cell.tags, cell.source, heading, ast.parse(commented),
                                     code=commented, markdown="\n\n".join(markdown)))
            markdown = []
            continue
        magics.extend(code.handled)
        _refuse_written_clash(display, cell.number, cell.source, set(code.modules), package, module)
        written.update(code.modules)
        harvested.extend(code.requirements)
        report.warnings.extend(f"cell {cell.number}: {w}" for w in code.warnings)
        parsed.append(ParsedCell(cell.number, cell.tags, cell.source, heading, code.tree, code=code.code,
                                 markdown="\n\n".join(markdown), runs=tuple(code.runs),
                                 ipython_binds=tuple(code.ipython_binds)))
        markdown = []
    if any("colab" in cell.code for cell in parsed):
        from mlpack_cli.notebook.colab import drop_colab

        report.warnings.extend(drop_colab(parsed))
    if not any(cell.tree.body for cell in parsed):
        raise _nothing_left(display, parsed)
    if written:
        _import_from_package(parsed, set(written), package)
        report.warnings.append(
            f"%%writefile modules became modules of the package: {', '.join(sorted(written))}"
        )
    return parsed, magics, harvested, written


def _nothing_left(display: str, parsed: list[ParsedCell]) -> NotebookError:
    """The refusal of a notebook none of whose code cells keeps any code: which cells were
    commented out as invalid (--skip-invalid-cells), which held only what conversion drops."""
    commented = [c.number for c in parsed if c.code.startswith("# TODO(mlpack):")]
    dropped = [c for c in parsed if c.number not in commented]
    parts = []
    if dropped:
        shown = ", ".join(f"cell {c.number}: {_shortened(_first_line(c.source))!r}" for c in dropped[:3])
        more = f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
        parts.append("its code cells hold only what conversion drops (IPython magics, shell commands, "
                     f"notebook-only calls; the warnings say which): {shown}{more}")
    if commented:
        which = f"cells {', '.join(map(str, commented))} are" if len(commented) > 1 else f"cell {commented[0]} is"
        parts.append(f"{which} not valid Python (kept as comments by --skip-invalid-cells)")
    hint = ("Fix the invalid cells instead of skipping them, or remove this notebook." if commented else
            "A module is made of the notebook's Python code, and this one has none: write its steps as "
            "Python in the notebook, or remove it from the notebooks directory.")
    return NotebookError(f"{display}: no code cell is left to convert: {'; '.join(parts)}", hint=hint)


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _commented_out(cell: Cell, exc: Any) -> str:
    """An invalid cell as comments, so that nothing of it is silently gone."""
    lines = [f"# TODO(mlpack): cell {cell.number} is not valid Python (line {exc.line}: {exc.message});",
             "# convert it by hand. Its code, as written:"]
    lines += [f"# {line}".rstrip() for line in cell.source.splitlines()]
    return "\n".join(lines) + "\n"


def _import_from_package(cells: list[ParsedCell], modules: set[str], package: str) -> None:
    """``import features`` / ``from features import f`` -> the package's own module of that name."""
    for cell in cells:
        body: list[ast.stmt] = []
        for statement in cell.tree.body:
            if isinstance(statement, ast.Import) and any(a.name in modules for a in statement.names):
                for alias in statement.names:
                    node: ast.stmt = (ast.ImportFrom(module=package, names=[alias], level=0)
                                      if alias.name in modules else ast.Import(names=[alias]))
                    body.append(ast.copy_location(node, statement))
                continue
            if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module in modules:
                statement.module = f"{package}.{statement.module}"
            body.append(statement)
        cell.tree.body = body


def _expand_star_imports(parsed: list[ParsedCell], local: LocalModules, written: dict[str, str],
                         package: str) -> list[str]:
    """``from x import *`` -> ``from x import <what the notebook uses>`` (notebook/starimports.py),
    ``x`` looked for where the notebook's import finds it; the report lines."""
    from mlpack_cli.notebook import starimports

    if not starimports.has_star_import(parsed):
        return []
    roots = {name: [copied.origin.parent] for name, copied in local.copied.items()}
    locator = starimports.Locator(roots, written, package)
    return starimports.expand(parsed, starimports.Resolver(locator))


def _syntax_hint(exc: Any) -> str:
    if "print" in exc.message.lower():
        return "This is Python 2 syntax: write print(...) with parentheses."
    return "Fix that line in the notebook (it must be valid Python 3 once magics are handled)."


def _take_local_modules(
    parsed: list[ParsedCell], path: Path, project: ProjectSettings, module: str, written: set[str], display: str
) -> LocalModules:
    """Find the local modules the notebook imports (see :mod:`mlpack_cli.notebook.localmods`), make the
    notebook import them from the package, and drop the ``sys.path`` set-up that only served them."""
    from mlpack_cli.notebook import deps, localmods

    installed = deps._installed()

    def external(name: str) -> bool:
        return (name in sys.stdlib_module_names or name in sys.builtin_module_names
                or name in deps.ALIASES or name in installed)

    try:
        local = localmods.find_local_modules(  # the package itself (reached through ../src) is no copy
            parsed, path.parent, exclude=written | {project.package}, external=external)
    except localmods.LocalModuleError as exc:
        raise _uncopyable(exc, display, project.root) from exc
    for name in localmods.clashes(local, RESERVED_MODULES | {module}):
        what = ("a standard-library module" if name in sys.stdlib_module_names or name in sys.builtin_module_names
                else "this notebook's module" if name == module else "a module mlpack writes itself")
        raise NotebookError(
            f"{display}: the local module {name!r} ({_display(local.copied[name].origin, project.root)}) "
            f"would become {project.package}.{name}, which has the name of {what}",
            hint=f"Rename the local module {name!r} (and the imports of it).",
        )
    localmods.rewrite_cells(parsed, set(local.copied), project.package)
    localmods.drop_setups(parsed, local)
    return local


def _uncopyable(error: LocalModuleError, display: str, root: Path) -> NotebookError:
    return NotebookError(f"{display}: imports a local module that cannot be copied into the package: "
                         f"{_display(error.path, root)}{error.detail}", hint=error.hint)


def _local_copies(
    local: LocalModules, project: ProjectSettings, display: str, max_line: int, report: NotebookReport
) -> tuple[dict[str, str], dict[str, Path]]:
    """The copies of the local modules (path in the package -> text, and -> local file), with a
    report line each; the missing ones warned about with the directories searched."""
    from mlpack_cli.notebook import localmods

    try:
        copied = localmods.copied_files(local, project.package, lambda p: _display(p, project.root), max_line)
    except localmods.LocalModuleError as exc:
        raise _uncopyable(exc, display, project.root) from exc
    origins = {relpath: source for c in local.copied.values() for relpath, source in c.files.items()}
    for name, found in sorted(local.copied.items()):
        target = f"src/{project.package}/{name}" + (".py" if found.origin.suffix == ".py" else "/")
        count = f" ({len(found.files)} files)" if len(found.files) > 1 else ""
        report.copied.append(f"{_display(found.origin, project.root)} -> {target}{count}")
    for name, searched in sorted(local.missing.items()):
        where = ", ".join(_display(d, project.root) for d in searched)
        report.warnings.append(
            f"local module {name!r} not found (searched {where}): not copied into the package, "
            "and not declared as a dependency"
        )
    return copied, origins


def _check_copies(
    converted: _Converted, notebook_modules: set[str], copies: dict[str, tuple[Path, str]], display: str,
    root: Path,
) -> None:
    """A copied module may not take the name of another notebook's module, nor a path in the package
    that another notebook fills from another file."""
    own = converted.report.module
    for relpath, origin in converted.origins.items():
        top = relpath.split("/")[0].removesuffix(".py")
        if top in notebook_modules and top != own:
            raise NotebookError(
                f"{display}: the local module {top!r} ({_display(origin, root)}) has the name of another "
                "notebook's module",
                hint=f"Rename the local module {top!r} (and the imports of it), or that notebook.",
            )
        other = copies.get(relpath)
        if other is not None and other[0] != origin:
            raise NotebookError(
                f"{display}: imports {top!r} from {_display(origin, root)}, but {other[1]} imports it from "
                f"{_display(other[0], root)}",
                hint="Keep one copy of that module, or give the two different names.",
            )


def _requirement_name(text: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        return None


def _local_modules(notebook: Path, project: ProjectSettings) -> set[str]:
    names: set[str] = set()
    for directory in {notebook.parent, project.root, project.root / "src"}:
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and (entry / "__init__.py").is_file():
                names.add(entry.name)
    return names


# -- planning the writes ---------------------------------------------------------------------------


def _plan_generated(plan: FilePlan, files: dict[str, str], force: bool, report: NotebookReport) -> bool:
    """Plan a notebook's generated files (path -> text): all of them, or none when one of them was
    edited since mlpack wrote it, or not written by mlpack, and the notebook changed (unless ``force``).
    A file edited while its notebook stayed the same is kept. False when nothing is written."""
    from mlpack_cli.notebook.codegen import parse_header

    report.files.extend(files)
    states: dict[str, FileState] = {}
    for relpath, text in files.items():
        header = parse_header(text)
        states[relpath] = _generated_state(plan.root / relpath, header.source if header else "")
    if not force:
        report.conflicts = [Conflict(path, state) for path, state in states.items() if state in ("edited", "foreign")]
    for relpath, text in files.items():
        state = states[relpath]
        if report.conflicts:
            own = next((c for c in report.conflicts if c.path == relpath), None)
            plan.skip(relpath, f"{_STATE_NOTES[own.state]}; kept (use --force to replace)" if own
                      else "not written: another file of its notebook was edited")
        elif state == "kept" and not force:
            plan.skip(relpath, "edited since mlpack wrote it, from the same notebook cells; kept")
        elif state == "changed":
            plan.update(relpath, text, note="regenerated: the notebook changed")
        elif state == "current" and (plan.root / relpath).read_bytes() != text.encode("utf-8"):
            plan.update(relpath, text, note="regenerated: this version of mlpack writes it differently")
        else:
            plan.file(relpath, text, force=force)
    return not report.conflicts


_STATE_NOTES = {"edited": "edited since mlpack wrote it", "foreign": "not written by mlpack"}


def _generated_state(path: Path, source: str) -> FileState:
    """How the generated file at ``path`` stands against a notebook whose cells hash to ``source``.

    missing; foreign (no mlpack header: not written by mlpack); edited (since mlpack wrote it, and the
    notebook changed since); changed (not edited; the notebook changed); kept (edited; the notebook did
    not change); current (neither edited nor changed).
    """
    from mlpack_cli.notebook.codegen import is_edited, parse_header

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # missing; a directory in the way is reported when the write is planned
        return "foreign" if path.is_file() else "missing"
    header = parse_header(text)
    if header is None:
        return "foreign"
    edited = is_edited(text)
    if header.source == source:
        return "kept" if edited else "current"
    return "edited" if edited else "changed"


def _plan_package(plan: FilePlan, project: ProjectSettings) -> None:
    from mlpack_cli.commands.ci import MONITORING_KEPT, render_monitoring
    from mlpack_cli.entrypoint import plan_support_file

    package_dir = f"src/{project.package}"
    if not (plan.root / package_dir / "__init__.py").exists():
        plan.file(f"{package_dir}/__init__.py", f'"""{project.package}: pipelines converted from notebooks."""\n')
    # refreshed while unedited, kept once edited (see mlpack_cli.entrypoint.plan_support_file)
    plan_support_file(plan, f"{package_dir}/monitoring.py", render_monitoring(project.package), MONITORING_KEPT)


def _plan_entry_point(plan: FilePlan, project: ProjectSettings, result: ConvertResult) -> None:
    """The support module beside monitoring.py and the console script (see :mod:`mlpack_cli.entrypoint`);
    after the dependencies, as it adds to the pyproject.toml they planned (its note names tomli)."""
    from mlpack_cli.entrypoint import plan_entry_point

    entry = plan_entry_point(plan, project)
    result.console_script = entry.script
    result.warnings += entry.warnings


def _plan_dependencies(plan: FilePlan, project: ProjectSettings, requirements: dict[str, str]) -> list[str]:
    import tomlkit

    from mlpack_cli.project import read_pyproject
    from mlpack_cli.notebook.deps import merge_dependencies

    document = read_pyproject(project.pyproject)
    added = merge_dependencies(document, requirements)
    if added:
        plan.update("pyproject.toml", tomlkit.dumps(document), note=f"dependencies added: {', '.join(added)}")
    return added


# -- checking ---------------------------------------------------------------------------------------


def check_modules(settings: ConvertSettings, *, project: ProjectSettings | None = None) -> ModuleCheck:
    """Which notebooks' modules are missing or were generated from other cells, which notebooks cannot
    be read, and which generated files outlived their notebook. Converts and writes nothing."""
    from mlpack_cli.notebook.reader import read_notebook

    project = project or load_project(settings.root)
    notebooks = find_notebooks(project, list(settings.paths))
    result = ModuleCheck(project.root)
    for path in notebooks:
        display = _display(path, project.root)
        try:
            module = project.package_dir / f"{module_name(path, display)}.py"
            source = read_notebook(path, display).source_hash
        except NotebookError as error:
            result.failed.append(NotebookReport(display, ok=False, error=error.message, hint=error.hint))
            continue
        state = _generated_state(module, source)
        if state in ("current", "kept"):
            continue
        problem = _conversion_problem(path, project, settings, display)
        if problem is not None:  # never "stale": it has no module to be in step with
            result.failed.append(problem)
        else:
            result.stale.append(StaleModule(display, _display(module, project.root), state))
    result.stale.extend(_stale_copies(project))
    result.orphans = find_orphans(project, _module_names(notebooks))
    return result


def _stale_copies(project: ProjectSettings) -> list[StaleModule]:
    """Copies of local modules whose local file changed since they were copied (``notebook`` names
    that file); a copy whose file is gone is an orphan instead."""
    import hashlib

    from mlpack_cli.notebook.codegen import is_edited, parse_header
    from mlpack_cli.notebook.localmods import COPY_NOTE

    stale: list[StaleModule] = []
    for path in sorted(project.package_dir.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        header = parse_header(text)
        if header is None or text.split("\n", 2)[1] != COPY_NOTE:
            continue
        origin = Path(header.notebook)
        origin = origin if origin.is_absolute() else project.root / origin
        try:
            digest = hashlib.sha256(origin.read_bytes()).hexdigest()
        except OSError:
            continue
        if digest != header.source:
            state: FileState = "edited" if is_edited(text) else "changed"
            stale.append(StaleModule(header.notebook, _display(path, project.root), state, copy=True))
    return stale


def _conversion_problem(
    path: Path, project: ProjectSettings, settings: ConvertSettings, display: str
) -> NotebookReport | None:
    """Why ``convert`` would refuse this notebook (converted in memory, nothing written), or None."""
    try:
        convert_notebook(path, project, settings, display, _options(project))
    except NotebookError as error:
        return NotebookReport(display, ok=False, error=error.message, hint=error.hint)
    return None


def check_project(settings: ConvertSettings, *, project: ProjectSettings | None = None) -> list[Path]:
    """Everything :func:`check_modules` finds out of step, as paths (empty: all in step): notebooks
    whose module is stale, notebooks that cannot be read, and generated files whose notebook is gone."""
    found = check_modules(settings, project=project)
    paths = [found.root / s.notebook for s in found.stale] + [found.root / r.notebook for r in found.failed]
    return paths + [found.root / o.path for o in found.orphans]


# -- generated files whose notebook is gone ----------------------------------------------------------


def find_orphans(project: ProjectSettings, modules: set[str]) -> list[Orphan]:
    """Generated modules and tests whose header names a notebook that no longer exists, leaving out
    the files of ``modules`` (the notebooks found now: a renamed notebook takes its module over)."""
    from mlpack_cli.notebook.codegen import is_edited, parse_header

    candidates = [p for p in sorted(project.package_dir.glob("*.py")) if p.stem not in modules]
    candidates += sorted(project.package_dir.glob("*/**/*.py"))  # copies of local packages
    tests = sorted((project.root / "tests").glob("test_*.py"))
    candidates += [p for p in tests if p.stem.removeprefix("test_") not in modules]
    orphans: list[Orphan] = []
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        header = parse_header(text)
        if header is None:
            continue
        notebook = Path(header.notebook)
        if not (notebook if notebook.is_absolute() else project.root / notebook).is_file():
            orphans.append(Orphan(_display(path, project.root), header.notebook, is_edited(text)))
    return orphans


def _check_removable(root: Path, relpaths: list[str]) -> None:
    """Fail before anything is written when a file to remove cannot be."""
    import os

    for relpath in relpaths:
        directory = (root / relpath).parent
        if not os.access(directory, os.W_OK | os.X_OK):
            raise EnvironmentProblem(
                f"cannot remove {relpath}: {_display(directory, root)} is not writable",
                hint="Fix the permissions, or remove the file yourself. Nothing was written.",
            )


def _remove(root: Path, relpaths: list[str]) -> None:
    for relpath in relpaths:
        try:
            (root / relpath).unlink(missing_ok=True)
        except OSError as exc:
            raise EnvironmentProblem(
                f"removing {relpath} failed: {exc.strerror or exc}",
                hint="The converted files were written; remove that file yourself.",
            ) from exc


# -- what a conversion that did not go through means, as errors ----------------------------------


def raise_for_failures(result: ConvertResult) -> None:
    """After the good notebooks were written: a notebook that failed (exit 6), one not written because
    one of its generated files was edited (exit 5); each its own error, the gravest code wins."""
    from mlpack_cli.errors import FileConflict, MlpackError, raise_all

    errors: list[MlpackError] = [_notebook_error(report) for report in result.failed]
    for report in result.conflicted:
        what, hint = kept_files(report.notebook, report.conflicts)
        errors.append(FileConflict(f"{report.notebook}: not written, because {what}", hint=hint))
    converted = len(result.reports) - len(result.failed) - len(result.conflicted)
    parts = [_plural(len(result.failed), "notebook") + " failed"] if result.failed else []
    parts += [f"{_plural(len(result.conflicted), 'notebook')} not written"] if result.conflicted else []
    raise_all(errors, f"{', '.join(parts)}, {converted} converted" if len(result.reports) > 1 else None)


def raise_for_check(found: ModuleCheck) -> None:
    """``convert --check``: exit 6 when a notebook cannot be converted, else 1 when a module is stale or a
    generated file outlived its notebook."""
    from mlpack_cli.errors import MlpackError, StaleModules, raise_all

    errors: list[MlpackError] = [_notebook_error(report) for report in found.failed]
    regenerate = [s for s in found.stale if s.state in ("missing", "changed")]
    if regenerate:
        errors.append(StaleModules(
            f"{_plural(len(regenerate), 'module')} to generate again: "
            + "; ".join(f"{s.notebook} ({s.describe()})" for s in regenerate),
            hint="Run `mlpack convert` and commit the generated files.",
        ))
    for stale in found.stale:
        if stale.state in ("edited", "foreign"):
            what, hint = kept_files(stale.notebook, [Conflict(stale.module, stale.state)])
            errors.append(StaleModules(
                f"{stale.notebook}: {'its copy' if stale.copy else 'its module'} is stale, and {what}", hint=hint))
    if found.orphans:
        errors.append(StaleModules(orphans_message(found.orphans), hint=orphans_hint(found.orphans)))
    parts = [f"{_plural(len(found.failed), 'notebook')} cannot be converted"] if found.failed else []
    parts += [f"{_plural(len(found.stale), 'module')} stale"] if found.stale else []
    parts += [f"{_plural(len(found.orphans), 'generated file')} without a notebook"] if found.orphans else []
    raise_all(errors, ", ".join(parts) if len(errors) > 1 else None)


def _notebook_error(report: NotebookReport) -> NotebookError:
    return NotebookError(report.error or f"{report.notebook}: cannot be converted", hint=report.hint)


def kept_files(notebook: str, conflicts: list[Conflict]) -> tuple[str, str]:
    """Why a notebook's generated files are not overwritten, and the way out."""
    import shlex

    what = " and ".join(
        f"{c.path} was {'edited since mlpack wrote it' if c.state == 'edited' else 'not written by mlpack'}"
        for c in conflicts
    )
    force = f"run `mlpack convert --force {shlex.quote(notebook)}` to overwrite {', '.join(c.path for c in conflicts)}"
    if all(c.state == "edited" for c in conflicts):
        return what, f"Move your edits into the notebook, or {force}."
    return what, f"Move that file out of the way (or rename the notebook), or {force}."


def orphans_message(orphans: list[Orphan]) -> str:
    notebooks = sorted({orphan.notebook for orphan in orphans})
    return (f"{_plural(len(orphans), 'generated file')} left from deleted notebooks ({', '.join(notebooks)}): "
            f"{', '.join(orphan.path for orphan in orphans)}")


def orphans_hint(orphans: list[Orphan]) -> str:
    edited = [orphan.path for orphan in orphans if orphan.edited]
    if not edited:
        hint = "Run `mlpack convert --prune` to remove them"
    elif len(edited) == len(orphans):
        hint = "They were edited since mlpack wrote them: delete them, or remove their mlpack header to keep them"
    else:
        hint = (f"Run `mlpack convert --prune` to remove those not edited since mlpack wrote them; delete "
                f"{', '.join(edited)} yourself, or remove its mlpack header to keep it")
    return hint + ". The dependencies they added stay in pyproject.toml."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
