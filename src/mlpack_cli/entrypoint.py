"""How converted pipelines run from the command line: the package's support module and console script.

``convert`` writes ``src/<package>/pipelines.py`` (standard library only: ``--set``/``--config``
parsing, ``<project> run``/``list``, results as JSON) and declares ``<project> =
"<package>.pipelines:main"`` in ``[project.scripts]``. Beside it, ``src/<package>/serving.py`` (the
HTTP service behind ``<project> serve``) and the optional extra ``serve`` of the project (the
web stack it imports). Each support module carries a hash of its own content: mlpack refreshes it
while it is exactly what mlpack wrote and keeps it once edited. A script name the user declared
for something else is kept and reported, never replaced.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mlpack_cli.config import ProjectSettings
    from mlpack_cli.files import FilePlan

SUPPORT_MODULE = "pipelines"
TEMPLATE = "module/pipelines.py.j2"
# tomllib is 3.11+; the support module reads TOML config files with tomli before that.
TOMLI = "tomli>=1.1; python_version < '3.11'"
_HEADER = (
    "# Written by mlpack convert: runs this package's pipelines from the command line.\n"
    "# mlpack refreshes this file while it is as mlpack wrote it; once you edit it, it is kept.\n"
    "# content: {content}\n"
)
_HEADER_RE = re.compile(r"\A# Written by mlpack convert: [^\n]*\n# [^\n]*\n# content: (?P<content>[0-9a-f]{64})\n")

SERVING_MODULE = "serving"
SERVING_TEMPLATE = "module/serving.py.j2"
SERVE_EXTRA = "serve"
# The service's stack; the floor where mlpack's environment has none installed to bound it by.
SERVE_REQUIREMENTS = {"starlette": "0.37", "uvicorn": "0.29", "prometheus-client": "0.20"}
_SERVING_HEADER = (
    "# Written by mlpack convert: serves this package's pipelines over HTTP (`serve` extra).\n"
    "# mlpack refreshes this file while it is as mlpack wrote it; once you edit it, it is kept.\n"
    "# content: {content}\n"
)

SupportState = Literal["missing", "current", "outdated", "edited", "foreign"]


@dataclass
class EntryPoint:
    """What :func:`plan_entry_point` planned: the console script declared (None: not declared) and
    what the user should know (a script name taken, a support module that is not mlpack's)."""

    script: str | None = None
    support: SupportState = "missing"  # the support module's state before this run
    serving: SupportState = "missing"  # the same for serving.py
    extra_added: list[str] = field(default_factory=list)  # requirements added to the serve extra
    dependencies_added: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def support_module_text(template: str = TEMPLATE, header: str = _HEADER) -> str:
    """The support module, with the hash of its content in its header."""
    from mlpack_cli.templating import render

    body = render(template)
    return header.format(content=hashlib.sha256(body.encode("utf-8")).hexdigest()) + body


def serving_module_text() -> str:
    """``serving.py``, written and refreshed as the support module is."""
    return support_module_text(SERVING_TEMPLATE, _SERVING_HEADER)


def support_state(path: Path, wanted: str) -> SupportState:
    """missing; current (what mlpack writes now); outdated (as an older mlpack wrote it, unedited);
    edited (since mlpack wrote it); foreign (mlpack did not write it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "foreign" if path.exists() else "missing"
    if text == wanted:
        return "current"
    match = _HEADER_RE.match(text)
    if match is None:
        return "foreign"
    body = text[match.end():]
    return "outdated" if hashlib.sha256(body.encode("utf-8")).hexdigest() == match.group("content") else "edited"


def script_name(project_name: str) -> str:
    """The console script: the project's normalised name (``My_Project`` -> ``my-project``)."""
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(project_name))


def plan_entry_point(plan: FilePlan, project: ProjectSettings) -> EntryPoint:
    """Plan the support module and the console script (in the pyproject.toml already planned, if any)."""
    entry = EntryPoint()
    relpath = f"src/{project.package}/{SUPPORT_MODULE}.py"
    entry.support = _plan_support(plan, relpath, support_module_text())
    if entry.support == "foreign":
        entry.warnings.append(
            f"{relpath} was not written by mlpack and is kept: `python -m {project.package}.<module>` and the "
            f"console script need mlpack's (run_module, main); rename yours and run `mlpack convert` again")
    relpath = f"src/{project.package}/{SERVING_MODULE}.py"
    entry.serving = _plan_support(plan, relpath, serving_module_text())
    if entry.serving == "foreign":
        entry.warnings.append(
            f"{relpath} was not written by mlpack and is kept: `serve` needs mlpack's (create_app, capture); "
            f"rename yours and run `mlpack convert` again")
    _plan_script(plan, project, entry)
    return entry


def _plan_support(plan: FilePlan, relpath: str, text: str) -> SupportState:
    """Write, refresh or keep one support module; its state before this run."""
    state = support_state(plan.root / relpath, text)
    if state in ("missing", "current"):
        plan.file(relpath, text)
    elif state == "outdated":
        plan.update(relpath, text, note="regenerated: this version of mlpack writes it differently")
    elif state == "edited":
        plan.skip(relpath, "edited since mlpack wrote it; kept")
    else:
        plan.skip(relpath, "not written by mlpack; kept")
    return state


def _plan_script(plan: FilePlan, project: ProjectSettings, entry: EntryPoint) -> None:
    import tomlkit

    from mlpack_cli.config import parse_pyproject
    from mlpack_cli.notebook.deps import merge_dependencies
    from mlpack_cli.pyproject_merge import add_script

    name = script_name(project.name)
    if name == "mlpack":
        entry.warnings.append("no console script declared: the project's name, mlpack, is mlpack's own command; "
                              f"run the pipelines with `python -m {project.package}.<module>`")
        return
    planned = next((e for e in plan.entries if e.path == Path("pyproject.toml") and e.content is not None), None)
    text = planned.content.decode("utf-8") if planned and planned.content else project.pyproject.read_text("utf-8")
    document = parse_pyproject(text, project.pyproject)
    outcome = add_script(document, name, f"{project.package}.{SUPPORT_MODULE}:main")
    if outcome.state in ("added", "present"):
        entry.script = name
    elif outcome.state == "taken":
        entry.warnings.append(
            f"pyproject.toml: [project.scripts] already declares {name} = {outcome.theirs!r}; kept, so "
            f"`{name} run` is not available: run the pipelines with `python -m {project.package}.<module>`, "
            f"or declare another name = \"{project.package}.{SUPPORT_MODULE}:main\"")
    else:
        why = "is dynamic" if outcome.state == "dynamic" else "is not a table"
        entry.warnings.append(f"pyproject.toml: [project.scripts] {why}, so no console script was declared; "
                              f"add {name} = \"{project.package}.{SUPPORT_MODULE}:main\" yourself")
    if _needs_tomli(document):
        entry.dependencies_added = merge_dependencies(document, {"tomli": TOMLI})
    entry.extra_added = add_serve_extra(document, entry.warnings)
    if outcome.state == "added" or entry.dependencies_added or entry.extra_added:
        notes = [planned.note] if planned and planned.note else []
        if outcome.state == "added":
            notes.append(f"console script {name} added")
        if entry.dependencies_added:
            notes.append(f"dependencies added: {', '.join(entry.dependencies_added)}")
        if entry.extra_added:
            notes.append(f"extra {SERVE_EXTRA} added: {', '.join(entry.extra_added)}")
        plan.update("pyproject.toml", tomlkit.dumps(document), note="; ".join(notes))


def serve_requirements() -> dict[str, str]:
    """The serve extra: each distribution bounded by the version installed here, as the notebook's
    own dependencies are, or by mlpack's floor when it is not installed (or older)."""
    from packaging.version import Version

    from mlpack_cli.notebook.deps import bound

    wanted = {}
    for name, floor in SERVE_REQUIREMENTS.items():
        found = bound(name)[0]
        installed = found.partition(">=")[2]
        wanted[name] = found if installed and Version(installed) >= Version(floor) else f"{name}>={floor}"
    return wanted


def add_serve_extra(document: object, warnings: list[str]) -> list[str]:
    """Add the requirements of ``[project.optional-dependencies] serve`` that it does not cover yet;
    the user's entries are never removed or changed. Returns the requirements added."""
    import tomlkit

    from mlpack_cli.pyproject_merge import requirement_covered

    project = document.setdefault("project", tomlkit.table())  # type: ignore[attr-defined]
    if "optional-dependencies" in (project.get("dynamic") or []):
        warnings.append("pyproject.toml: [project.optional-dependencies] is dynamic, so no serve extra was "
                        f"declared; `serve` needs {', '.join(serve_requirements().values())}")
        return []
    if "optional-dependencies" not in project:
        project["optional-dependencies"] = tomlkit.table()
    extras = project["optional-dependencies"]
    if not hasattr(extras, "get") or not isinstance(extras.get(SERVE_EXTRA, []), list):
        warnings.append("pyproject.toml: [project.optional-dependencies] serve is not a list; kept, "
                        "so no serve extra was declared")
        return []
    if SERVE_EXTRA not in extras:
        extras[SERVE_EXTRA] = tomlkit.array()
    array = extras[SERVE_EXTRA]
    declared = [str(item) for item in array]
    added = []
    for requirement in serve_requirements().values():
        if not requirement_covered(declared, requirement):
            array.append(requirement)
            declared.append(requirement)
            added.append(requirement)
    if added and len(array) > 1:
        array.multiline(True)
    return added


def _needs_tomli(document: object) -> bool:
    """True when ``requires-python`` admits a Python without tomllib (or says nothing)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    requires = str(document.get("project", {}).get("requires-python") or "")  # type: ignore[attr-defined]
    try:
        specifier = SpecifierSet(requires)
    except InvalidSpecifier:
        return True
    return any(specifier.contains(f"3.{minor}.{micro}", prereleases=True)
               for minor in range(0, 11) for micro in (0, 99))
