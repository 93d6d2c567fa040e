"""The project's settings: CLI option > environment > ``[tool.mlpack]`` in pyproject.toml > default.

Other modules read their own sub-tables (``[tool.mlpack.convert]``, ``[tool.mlpack.ci]``) from
:attr:`ProjectSettings.tool`; this module only knows where the project is and what it is called.
Reading pyproject.toml checks the whole ``[tool.mlpack]`` table against its schema first
(:mod:`mlpack_cli.tool_schema`), so a command never starts on a value it would stumble on later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpack_cli.errors import EnvironmentProblem, InvalidInput
from mlpack_cli.project_names import import_name_for, validate_import_name

if TYPE_CHECKING:
    import tomlkit

PYPROJECT = "pyproject.toml"
DEFAULT_NOTEBOOKS = "notebooks"

# setting name -> environment variable that overrides pyproject.toml
ENVIRONMENT_VARIABLES = {"package": "MLPACK_PACKAGE", "notebooks": "MLPACK_NOTEBOOKS"}


@dataclass(frozen=True)
class ProjectSettings:
    root: Path
    name: str
    version: str | None
    package: str
    notebooks: Path
    tool: Mapping[str, Any] = field(default_factory=dict)  # the whole [tool.mlpack] table, unwrapped
    # the whole pyproject.toml as read (unwrapped), so that no step parses it again to read a value
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pyproject(self) -> Path:
        return self.root / PYPROJECT

    @property
    def package_dir(self) -> Path:
        return self.root / "src" / self.package

    def pyproject_data(self) -> Mapping[str, Any]:
        """pyproject.toml as loaded; read now only for settings made by hand (tests), which carry none."""
        return self.document or read_pyproject(self.pyproject).unwrap()


def parse_pyproject(text: str, path: Path) -> tomlkit.TOMLDocument:
    import tomlkit
    from tomlkit.exceptions import ParseError, TOMLKitError

    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        where = f"line {exc.line}, column {exc.col}"
        reason = _reason(exc)
    except TOMLKitError as exc:  # e.g. a key defined twice: tomlkit reports no position
        where, reason = _locate_duplicate(text, exc), str(exc)
    raise InvalidInput(
        f"{path} is not valid TOML ({where}): {reason}",
        hint="Fix that line and run the command again; nothing was written.",
    )


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(" at line ")[0] if " at line " in text else text


def _locate_duplicate(text: str, exc: Exception) -> str:
    """Best effort: the line of the second definition of the key tomlkit names."""
    import re

    match = re.search(r'Key "([^"]+)" already exists', str(exc))
    if match:
        key = re.compile(rf"^\s*{re.escape(match.group(1))}\s*=")
        lines = [n for n, line in enumerate(text.splitlines(), start=1) if key.match(line)]
        if len(lines) > 1:
            return f"line {lines[1]}"
    return "position unknown"


def read_pyproject(path: Path) -> tomlkit.TOMLDocument:
    """Parse and check the parts mlpack reads, so a bad value is reported here, by key, not later."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text", hint="Save it as UTF-8 and run again.") from exc
    document = parse_pyproject(text, path)
    validate_pyproject_values(document.unwrap(), path)
    return document


# Keys that must be tables where present.
_TABLES = ("project", "project.optional-dependencies", "project.urls", "build-system", "tool", "tool.mlpack",
           "tool.mlpack.ci", "tool.mlpack.convert")


def validate_pyproject_values(data: Mapping[str, Any], path: Path) -> None:
    """The PEP 621 values every command relies on (tables are tables, versions and requirements parse),
    and ``[tool.mlpack]`` against its schema."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    def bad(key: str, value: object, expected: str) -> InvalidInput:
        return InvalidInput(
            f"{path}: {key} = {value!r} is not {expected}",
            hint=f"Fix {key} in {PYPROJECT} (see https://packaging.python.org/en/latest/specifications/"
            "pyproject-toml/) and run again; nothing was written.",
        )

    for dotted in _TABLES:
        value = _lookup(data, dotted)
        if value is not None and not isinstance(value, Mapping):
            raise bad(f"[{dotted}]", value, "a table")
    tool_table = _lookup(data, "tool.mlpack")
    if tool_table is not None:  # the schema of our own table (also offered to validate-pyproject)
        from mlpack_cli.tool_schema import validate_tool_table

        validate_tool_table(tool_table, path)
    project = data.get("project", {})
    for key, kind in (("name", str), ("version", str), ("description", str), ("requires-python", str)):
        if key in project and not isinstance(project[key], kind):
            raise bad(f"project.{key}", project[key], "a string")
    if "version" in project:
        try:
            Version(project["version"])
        except InvalidVersion:
            raise bad("project.version", project["version"], "a PEP 440 version (for example 1.2.0)") from None
    if "requires-python" in project:
        try:
            SpecifierSet(project["requires-python"])
        except InvalidSpecifier:
            raise bad("project.requires-python", project["requires-python"], "a version specifier") from None
    lists = {"project.dependencies": project.get("dependencies")}
    for extra, items in (project.get("optional-dependencies") or {}).items():
        lists[f"project.optional-dependencies.{extra}"] = items
    for key, items in lists.items():
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise bad(key, items, "a list of requirement strings")
        for item in items:
            try:
                Requirement(item)
            except InvalidRequirement:
                raise bad(key, item, "a valid requirement (PEP 508), for example \"numpy>=1.26\"") from None


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds a pyproject.toml."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / PYPROJECT).is_file():
            return candidate
    raise EnvironmentProblem(
        f"no {PYPROJECT} found in {start} or any directory above it",
        hint="Run this inside a project (a directory with pyproject.toml), or run `mlpack init` to make one.",
    )


def load_project(start: Path, overrides: Mapping[str, Any] | None = None) -> ProjectSettings:
    """Read the project that contains ``start``; ``overrides`` are CLI options (None = not given).

    A command loads it once, at its boundary, and passes it down: the steps it runs take it as
    ``project=`` rather than reading pyproject.toml again."""
    root = find_project_root(start)
    document = read_pyproject(root / PYPROJECT).unwrap()
    project = document.get("project", {})
    tool = document.get("tool", {}).get("mlpack", {})
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(
            f"{root / PYPROJECT} has no [project] name",
            hint="Add `name = \"...\"` under [project], or run `mlpack init` to fill it in.",
        )
    values = {key: resolve_setting(key, overrides or {}, tool) for key in ENVIRONMENT_VARIABLES}
    package = validate_import_name(values["package"] or import_name_for(name))
    notebooks = Path(values["notebooks"] or DEFAULT_NOTEBOOKS)
    version = project.get("version")
    return ProjectSettings(
        root=root,
        name=name,
        version=version if isinstance(version, str) else None,
        package=package,
        notebooks=notebooks if notebooks.is_absolute() else root / notebooks,
        tool=tool,
        document=document,
    )


def resolve_setting(key: str, overrides: Mapping[str, Any], tool: Mapping[str, Any]) -> Any:
    """CLI option > environment variable > ``[tool.mlpack]`` value; None when none is set."""
    if overrides.get(key) is not None:
        return overrides[key]
    env = os.environ.get(ENVIRONMENT_VARIABLES[key])
    if env:
        return env
    return tool.get(key)
