"""Map the generated code's imports to the distributions that provide them, with lower bounds
that the project's oldest Python can install.

An import resolves through :data:`~mlpack_cli.notebook.distributions.IMPORT_NAMES` (common ML and
data packages whose import name differs from their distribution, so they resolve when not
installed here), then what is installed (``importlib.metadata.packages_distributions()``), and
else the import name itself, reported as assumed. The standard library and notebook-environment
modules (``google.colab``) are never declared; modules beside the notebook are local.

The lower bound is the installed ``major.minor`` when the installed release's ``Requires-Python``
admits the project's oldest Python; otherwise the last release known to support that Python
(:data:`~mlpack_cli.notebook.distributions.LAST_RELEASE_FOR_PYTHON`); otherwise none, reported.
Nothing here uses the network.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mlpack_cli.notebook.distributions import IMPORT_NAMES, distribution_for, last_release_for, notebook_only
from mlpack_cli.notebook.statements import walk_statements

ALIASES = IMPORT_NAMES  # the older name of the table, kept for callers
# Top-level names that several distributions share: only a dotted entry of the table, or an
# installed distribution that holds that submodule, says which distribution an import needs.
NAMESPACES = frozenset({"google", "azure"})


@dataclass
class Dependencies:
    requirements: dict[str, str] = field(default_factory=dict)  # distribution -> requirement string
    local: list[str] = field(default_factory=list)  # imports that are the project's or the notebook's own
    unresolved: list[str] = field(default_factory=list)  # not declared: nothing says which distribution
    assumed: dict[str, str] = field(default_factory=dict)  # import -> distribution, not installed here
    notebook_only: list[str] = field(default_factory=list)  # google.colab, ...: never declared
    notes: list[str] = field(default_factory=list)  # report lines about the bounds chosen


def top_level_imports(tree: ast.AST) -> list[str]:
    """Absolute imports' top-level module names, sorted, without ``__future__``."""
    return sorted({name.split(".")[0] for name in imported_modules(tree)})


def imported_modules(tree: ast.AST) -> list[str]:
    """Absolute imports' dotted module names, sorted, without ``__future__``.

    ``from a.b import c`` gives ``a.b.c``: ``c`` may be a submodule, which is what tells the
    distributions of a namespace package apart (``from google.cloud import storage``).
    """
    names: set[str] = set()
    for node in walk_statements(tree):  # an import is a statement
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" if alias.name != "*" else node.module for alias in node.names)
    return sorted(name for name in names if name.split(".")[0] != "__future__")


def oldest_python(requires_python: str | None) -> tuple[int, int, int] | None:
    """The oldest Python 3 release ``requires-python`` admits, e.g. ``(3, 10, 0)`` for ``>=3.10``.

    None when the project does not say (or says something no Python 3 release satisfies).
    """
    if not requires_python:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifier = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return None
    for minor in range(0, 40):
        for patch in range(0, 40):
            if specifier.contains(f"3.{minor}.{patch}", prereleases=True):
                return (3, minor, patch)
    return None


@functools.lru_cache(maxsize=1)
def _installed() -> Mapping[str, list[str]]:
    """Top-level import name -> distributions that provide it.

    ``packages_distributions()`` of Python 3.10 reads only ``top_level.txt``, which wheels built by
    flit, hatchling or pdm (Jinja2, for one) do not have; for those, the names are inferred from the
    installed files, as Python 3.11 does.
    """
    from importlib.metadata import distributions, packages_distributions

    found = packages_distributions()
    if sys.version_info >= (3, 11):
        return found
    mapping = {name: list(dists) for name, dists in found.items()}
    for dist in distributions():
        if dist.read_text("top_level.txt") is not None:
            continue
        name = dist.metadata["Name"]
        for path in dist.files or []:
            top = path.parts[0] if len(path.parts) > 1 else path.name
            top = top[:-3] if top.endswith(".py") else top
            if top.isidentifier() and not top.endswith((".dist-info", ".egg-info")) and name:
                mapping.setdefault(top, [])
                if name not in mapping[top]:
                    mapping[top].append(name)
    return mapping


@functools.lru_cache(maxsize=None)  # what is installed is read once per process, as _installed() is
def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=None)
def _requires_python(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        values = metadata(distribution).get_all("Requires-Python")  # [] or None when it says nothing
    except PackageNotFoundError:
        return None
    return str(values[0]) if values else None


@functools.lru_cache(maxsize=None)
def _files(distribution: str) -> frozenset[tuple[str, ...]]:
    """The installed module paths of ``distribution``, as tuples of parts without ``.py``."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        found = files(distribution) or []
    except PackageNotFoundError:
        return frozenset()
    return frozenset(
        tuple(path.parts[:-1]) + ((path.name[:-3],) if path.name.endswith(".py") else (path.name,))
        for path in found
    )


def _supports(requires_python: str | None, python: tuple[int, int, int]) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not requires_python:
        return True  # the release says nothing against any Python
    try:
        return SpecifierSet(requires_python).contains(".".join(map(str, python)), prereleases=True)
    except InvalidSpecifier:
        return True


def lower_bound(distribution: str, python: tuple[int, int, int] | None = None) -> str:
    """``name>=X.Y``: the installed ``major.minor`` when that release supports ``python`` (the
    project's oldest), else the last release known to; the bare name when neither is known."""
    return bound(distribution, python)[0]


def bound(distribution: str, python: tuple[int, int, int] | None = None) -> tuple[str, str | None]:
    """The requirement :func:`lower_bound` chooses, and a report line when it is not the installed
    version's (None when it is, or when nothing is installed)."""
    from packaging.version import InvalidVersion, Version

    installed = _version(distribution)
    if installed is None:
        return distribution, None
    try:
        release = Version(installed).release
    except InvalidVersion:
        return distribution, None
    if python is None or _supports(_requires_python(distribution), python):
        return f"{distribution}>={'.'.join(str(part) for part in release[:2])}", None
    shown = f"Python {python[0]}.{python[1]}"
    needs = f"{distribution} {installed} (installed here) requires Python {_requires_python(distribution)}"
    known = last_release_for(_canonical(distribution), python[1]) if python[0] == 3 else None
    if known is not None:
        return f"{distribution}>={known}", f"{needs}: declared >={known}, its last release for {shown}"
    unknown = f"mlpack does not know its last release for {shown}"
    return distribution, f"{needs} and {unknown}: declared without a lower bound"


def resolve(
    modules: Iterable[str],
    local_names: Iterable[str],
    own_package: str,
    *,
    python: tuple[int, int, int] | None = None,
    assume_unknown: bool = True,
) -> Dependencies:
    """Distributions for the dotted ``modules``, bounded for ``python`` (the project's oldest).

    ``local_names`` are modules found beside the notebook or in the project. An import neither in
    the table nor installed is declared under its own name when ``assume_unknown`` (reported in
    :attr:`Dependencies.assumed`); otherwise, and for namespace packages, it is left unresolved.
    """
    result = Dependencies()
    local = set(local_names) | {own_package}
    installed = _installed()
    for module in _outermost(modules):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in sys.builtin_module_names or top == own_package:
            continue
        if top in local:
            if top not in result.local:
                result.local.append(top)
            continue
        environment = notebook_only(module)
        if environment is not None:
            if environment not in result.notebook_only:
                result.notebook_only.append(environment)
            continue
        distribution = distribution_for(module) or _installed_distribution(module, installed)
        if distribution is None and assume_unknown and top not in NAMESPACES:
            distribution = top
        if distribution is None:
            name = module if top in NAMESPACES else top
            if name not in result.unresolved:
                result.unresolved.append(name)
            continue
        key = _canonical(distribution)
        if key in result.requirements:
            continue
        if _version(distribution) is None and _version(key) is None:
            result.assumed[top if top not in NAMESPACES else module] = key
        requirement, note = bound(distribution, python)
        result.requirements[key] = key + requirement[len(distribution):]
        if note:
            result.notes.append(note)
    return result


def _outermost(modules: Iterable[str]) -> list[str]:
    """Sorted, without the submodules of one that is listed (``a.b.c`` goes when ``a.b`` is there),
    except in namespace packages, where the submodule names the distribution."""
    names = sorted(set(modules))
    kept: list[str] = []
    for name in names:
        parent = next((k for k in kept if name.startswith(k + ".")), None)
        if parent is not None and parent.split(".")[0] not in NAMESPACES:
            continue
        kept.append(name)
    return kept


def _installed_distribution(module: str, installed: Mapping[str, list[str]]) -> str | None:
    """The installed distribution that provides ``module``; for a namespace package, the one whose
    files hold the longest part of its dotted name (at least two parts)."""
    parts = tuple(module.split("."))
    candidates = sorted(installed.get(parts[0], []))
    if parts[0] not in NAMESPACES:
        return candidates[0] if candidates else None
    best: tuple[int, str] | None = None
    for name in candidates:
        files = _files(name)
        depth = max((n for n in range(2, len(parts) + 1) if any(f[:n] == parts[:n] for f in files)), default=0)
        if depth and (best is None or depth > best[0]):
            best = (depth, name)
    return best[1] if best else None


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def combine(first: str, second: str) -> str:
    """One requirement for two of the same distribution: the union of their extras, and the first's
    version and marker, or the second's where the first has none (``diffusers[training]`` and
    ``diffusers>=0.30`` give ``diffusers[training]>=0.30``)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        one, two = Requirement(first), Requirement(second)
    except InvalidRequirement:
        return first
    if _canonical(one.name) != _canonical(two.name) or one.url or two.url:
        return first
    one.extras = one.extras | two.extras
    if not one.specifier:
        one.specifier = two.specifier
    if one.marker is None:
        one.marker = two.marker
    return str(one)


def merge_dependencies(document: object, wanted: Mapping[str, str]) -> list[str]:
    """Add ``wanted`` requirements to ``[project.dependencies]`` of a tomlkit document.

    Entries the user declared are never removed or changed; a requirement is added when no
    declared requirement of that name has its extras (``diffusers[training]`` is added beside a
    declared ``diffusers``, which pip then reads together). Returns the requirement strings added.
    """
    import tomlkit

    from mlpack_cli.pyproject_merge import requirement_covered

    project = document.setdefault("project", tomlkit.table())  # type: ignore[attr-defined]
    if "dependencies" in (project.get("dynamic") or []):
        return []
    if "dependencies" not in project:
        project["dependencies"] = tomlkit.array()
    array = project["dependencies"]
    declared = [str(item) for item in array]
    added = []
    for name in sorted(wanted):
        if not requirement_covered(declared, wanted[name]):
            array.append(wanted[name])
            declared.append(wanted[name])
            added.append(wanted[name])
    if added and len(array) > 1:
        array.multiline(True)
    return added
