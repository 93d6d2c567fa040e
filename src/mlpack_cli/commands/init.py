"""``mlpack init``: turn a new or existing directory into a releasable project.

The whole result is planned first (a :class:`~mlpack_cli.files.FilePlan`), then written all at
once, so bad input or a failed write leaves the directory as it was. Files the user already has
are skipped (or replaced with ``force``); an existing pyproject.toml is merged, not replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpack_cli.commands import ci
from mlpack_cli.entrypoint import plan_support_file
from mlpack_cli.git import identity
from mlpack_cli.project import DEFAULT_NOTEBOOKS, PYPROJECT, read_pyproject, resolve_setting
from mlpack_cli.errors import EnvironmentProblem, InvalidInput
from mlpack_cli.files import FilePlan
from mlpack_cli.project_names import import_name_for, validate_import_name, validate_project_name
from mlpack_cli.pyproject_merge import Conflict, merge_pyproject
from mlpack_cli.templating import read_resource, render

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

CI_CHOICES = ("gitlab", "jenkins", "both", "none")
DEFAULT_PYTHON = ">=3.10"
DEFAULT_LICENSE = "MIT"
DEFAULT_DESCRIPTION = "Machine-learning pipelines packaged from Jupyter notebooks."

# The layout and fixed values of a new pyproject.toml. It holds no outside value: those are set
# into the parsed document with tomlkit (see pyproject_document), which writes each as TOML.
PYPROJECT_SKELETON = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = ""
version = "0.1.0"
description = ""
readme = "README.md"
requires-python = ""
license = ""
authors = []
dependencies = []

[project.optional-dependencies]
test = ["pytest>=8", "packaging>=24"]
dev = ["flake8>=7", "nox>=2024.3", "mlpack-cli"]

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = ["-ra"]

[tool.mlpack]
notebooks = ""
package = ""
"""

# (template, destination); destinations are formatted with the package name.
PROJECT_TEMPLATES = (
    ("project/package_init.py.j2", "src/{package}/__init__.py"),
    ("project/test_smoke.py.j2", "tests/test_smoke.py"),
    ("project/flake8.j2", ".flake8"),
    ("project/noxfile.py.j2", "noxfile.py"),
    ("project/README.md.j2", "README.md"),
    ("project/docs_index.md.j2", "docs/index.md"),
    ("project/gitignore.j2", ".gitignore"),
)

# The example project that ships inside the package (`init --example`, `quickstart`).
EXAMPLE_FILES = (
    ("example/houses.ipynb", "{notebooks}/houses.ipynb"),
    ("example/houses.csv", "data/houses.csv"),
)


@dataclass(frozen=True)
class InitSettings:
    path: Path
    name: str | None = None
    description: str | None = None
    author: str | None = None
    email: str | None = None
    python: str | None = None  # None: not asked for; DEFAULT_PYTHON fills a missing value
    license: str | None = None  # None: not asked for; DEFAULT_LICENSE fills a missing value
    ci: str = "gitlab"
    example: bool = False
    force: bool = False


@dataclass
class InitResult:
    root: Path
    name: str
    package: str
    plan: FilePlan
    conflicts: list[Conflict] = field(default_factory=list)
    replaced_keys: list[str] = field(default_factory=list)


def default_name(path: Path) -> str:
    """The project name an existing pyproject.toml declares, else the directory's name."""
    pyproject = path / PYPROJECT
    if pyproject.is_file():
        name = read_pyproject(pyproject).get("project", {}).get("name")
        if isinstance(name, str) and name:
            return name
    return path.resolve().name


def plan_init(settings: InitSettings) -> InitResult:
    """Work out everything ``init`` would do, without writing anything."""
    root = settings.path.resolve()
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{settings.path} exists and is not a directory", hint="Pass a directory path.")
    if settings.ci not in CI_CHOICES:
        raise InvalidInput(f"unknown CI kind {settings.ci!r}", hint=f"Use one of: {', '.join(CI_CHOICES)}.")
    python = settings.python or DEFAULT_PYTHON
    _validate_python(python)
    license_expression = _validate_license(settings.license or DEFAULT_LICENSE)
    existing = read_pyproject(root / PYPROJECT) if (root / PYPROJECT).is_file() else None

    name = validate_project_name(settings.name if settings.name is not None else default_name(root))
    tool: dict[str, Any] = existing.unwrap().get("tool", {}).get("mlpack", {}) if existing is not None else {}
    package = validate_import_name(str(resolve_setting("package", {}, tool) or import_name_for(name)))
    notebooks = str(resolve_setting("notebooks", {}, tool) or DEFAULT_NOTEBOOKS)
    git_name, git_email = identity(root) if settings.author is None or settings.email is None else (None, None)
    author = settings.author if settings.author is not None else git_name
    email = settings.email if settings.email is not None else git_email
    context = {
        "name": name,
        "package": package,
        "notebooks": notebooks,
        "description": settings.description or DEFAULT_DESCRIPTION,
        "author": author,
        "email": email,
        "python": python,
        "license": license_expression,
    }

    plan = FilePlan(root)
    result = InitResult(root, name, package, plan)
    for label, value in context.items():
        _check_text(label, value)
    wanted = pyproject_document(context)
    _plan_pyproject(plan, result, existing, wanted, settings.force, _fill_only(settings))
    for template, destination in PROJECT_TEMPLATES:
        plan.file(destination.format(package=package), render(template, **context), force=settings.force)
    plan.directory(notebooks)
    if settings.example:
        for resource, destination in EXAMPLE_FILES:
            plan.file(destination.format(notebooks=notebooks), read_resource(resource), force=settings.force)
    options = ci.CiOptions.from_tool(tool.get("ci", {}), name=name, package=package)
    for relpath, content in ci.generated_files(ci.kinds_for(settings.ci), options).items():
        plan.file(relpath, content, force=settings.force)
    monitoring = f"src/{package}/monitoring.py"
    if settings.force:
        plan.file(monitoring, ci.render_monitoring(package), force=True)
    else:  # refreshed while unedited, kept once edited
        plan_support_file(plan, monitoring, ci.render_monitoring(package), ci.MONITORING_KEPT)
    return result


def init_project(settings: InitSettings, *, dry_run: bool = False) -> InitResult:
    result = plan_init(settings)
    if dry_run:
        return result
    if not result.root.exists():
        parent = result.root.parent
        if not parent.is_dir():
            raise EnvironmentProblem(
                f"{parent} does not exist", hint="Create the parent directory first, or pass another path."
            )
    result.plan.apply()
    return result


def _fill_only(settings: InitSettings) -> frozenset[str]:
    """Keys whose value nobody asked for: they fill a gap but never override what the project has."""
    asked = {
        "project.description": settings.description,
        "project.requires-python": settings.python,
        "project.license": settings.license,
        "project.authors": settings.author or settings.email,
    }
    return frozenset({"project.version", "project.readme"} | {key for key, value in asked.items() if not value})


def pyproject_document(context: dict[str, Any]) -> TOMLDocument:
    """The pyproject.toml ``init`` wants, built with tomlkit: every value is written by tomlkit's
    TOML encoder, so no quote, backslash, line break or control character can leave its string."""
    import tomlkit

    document = tomlkit.parse(PYPROJECT_SKELETON)
    project: Any = document["project"]
    project["name"] = context["name"]
    project["description"] = context["description"]
    project["requires-python"] = context["python"]
    project["license"] = context["license"]
    author = {key: value for key, value in (("name", context["author"]), ("email", context["email"])) if value}
    if author:
        # Parsed from a fixed text naming only the keys, for the `{ name = ..., email = ... }` layout.
        keys = ", ".join(f'{key} = ""' for key in author)
        entry: Any = tomlkit.parse(f"authors = [{{ {keys} }}]")["authors"]
        for key, value in author.items():
            entry[0][key] = value
        project["authors"] = entry
    else:
        del project["authors"]
    mlpack: Any = document["tool"]["mlpack"]
    mlpack["notebooks"] = context["notebooks"]
    mlpack["package"] = context["package"]
    return document


def _check_text(label: str, value: object) -> None:
    """Refuse text that cannot be written as UTF-8 (undecodable bytes from the command line arrive
    as lone surrogates): no file format can hold it, so it is refused before anything is written."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInput(
                f"the {label} holds bytes that are not UTF-8 text ({value!r})",
                hint="Pass the value as UTF-8 text.",
            ) from exc
        if label in ("author", "email") and ("\n" in value or "\r" in value):
            # they become the Author-email header of the package metadata, which the build refuses
            # ("address parts cannot contain CR or LF"): say so now, not at the first build
            raise InvalidInput(
                f"the {label} {value!r} holds a line break; nothing was written",
                hint=f"Pass the {label} as one line (--{'author' if label == 'author' else 'email'}).",
            )


def _plan_pyproject(
    plan: FilePlan, result: InitResult, existing: TOMLDocument | None, wanted: TOMLDocument, force: bool,
    fill_only: frozenset[str],
) -> None:
    import tomlkit

    if existing is None:
        plan.file(PYPROJECT, tomlkit.dumps(wanted))
        return
    merged = merge_pyproject(existing, wanted, force=force, fill_only=fill_only)
    result.conflicts = merged.conflicts
    result.replaced_keys = merged.replaced
    note = f"{len(merged.added)} keys added" if merged.added else ""
    if merged.conflicts:
        note = (note + "; " if note else "") + f"{len(merged.conflicts)} conflicting values kept"
    plan.update(PYPROJECT, tomlkit.dumps(merged.document), note=note)


def _validate_python(spec: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise InvalidInput(
            f"--python {spec!r} is not a version specifier",
            hint="Use a PEP 440 specifier such as '>=3.10' or '>=3.10,<3.14'.",
        ) from exc


def _validate_license(expression: str) -> str:
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    try:
        return str(canonicalize_license_expression(expression))
    except InvalidLicenseExpression as exc:
        raise InvalidInput(
            f"--license {expression!r} is not an SPDX license expression",
            hint="Use an SPDX identifier such as MIT, Apache-2.0 or BSD-3-Clause (https://spdx.org/licenses/).",
        ) from exc
