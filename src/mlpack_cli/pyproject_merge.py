"""Merge the pyproject.toml that ``init`` wants into the one the user already has.

Missing tables and keys are added; everything the user wrote (keys, values, comments, order,
formatting) is kept. Where both define a key with different values, the user's value stays and a
:class:`Conflict` is reported, unless ``force`` replaces it. Keys in ``fill_only`` (defaults
nobody asked for, such as the starting version) are only ever added, never reported or replaced.
Requirement lists are unions: the user's entries stay and ours are added when no requirement of
that name is declared yet, or when those declared lack some of our extras (``diffusers[training]``
is then added beside the user's ``diffusers``; installers read the two together).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import AoT, Array, Table

# Arrays of requirement strings: merged by requirement name instead of compared whole.
_REQUIREMENT_ARRAYS = {"project.dependencies", "build-system.requires"}
_REQUIREMENT_ARRAY_PREFIXES = ("project.optional-dependencies.",)


@dataclass(frozen=True)
class Conflict:
    key: str  # dotted, e.g. "project.license"
    ours: Any
    theirs: Any


@dataclass
class MergeResult:
    document: tomlkit.TOMLDocument
    added: list[str]
    conflicts: list[Conflict]
    replaced: list[str]


def merge_pyproject(
    existing: tomlkit.TOMLDocument,
    wanted: tomlkit.TOMLDocument,
    *,
    force: bool,
    fill_only: frozenset[str] = frozenset(),
) -> MergeResult:
    result = MergeResult(existing, [], [], [])
    dynamic = set(existing.get("project", {}).get("dynamic", []))
    _merge_table(existing, wanted, "", result, _Rules(force, dynamic, fill_only))
    return result


@dataclass(frozen=True)
class _Rules:
    force: bool
    dynamic: set[str]
    fill_only: frozenset[str]


def _merge_table(
    theirs: MutableMapping[str, Any],
    ours: MutableMapping[str, Any],
    prefix: str,
    result: MergeResult,
    rules: _Rules,
) -> None:
    for key, value in ours.items():
        dotted = f"{prefix}{key}"
        if prefix == "project." and key in rules.dynamic:
            continue  # the user's build backend computes it; a static value would be invalid
        if key not in theirs:
            theirs[key] = value
            result.added.append(dotted)
            continue
        current = theirs[key]
        if isinstance(value, Table) and isinstance(current, (Table, dict)) and not isinstance(current, AoT):
            _merge_table(current, value, dotted + ".", result, rules)
        elif _is_requirement_array(dotted) and isinstance(current, Array) and isinstance(value, Array):
            _merge_requirements(current, value, dotted, result)
        elif dotted in rules.fill_only:
            continue
        elif _plain(current) != _plain(value):
            if rules.force:
                theirs[key] = value
                result.replaced.append(dotted)
            else:
                result.conflicts.append(Conflict(dotted, _plain(value), _plain(current)))


def _is_requirement_array(dotted: str) -> bool:
    return dotted in _REQUIREMENT_ARRAYS or dotted.startswith(_REQUIREMENT_ARRAY_PREFIXES)


def _requirement_name(text: str) -> str:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return text.split(";")[0].strip().lower()


def _extras(text: str) -> set[str]:
    try:
        return {canonicalize_name(extra) for extra in Requirement(text).extras}
    except InvalidRequirement:
        return set()


def requirement_covered(declared: list[str], wanted: str) -> bool:
    """Whether the ``declared`` requirement strings already ask for ``wanted``: one of its name is
    declared, and together they ask for all of its extras. Versions and markers are the user's."""
    name = _requirement_name(wanted)
    same = [item for item in declared if _requirement_name(item) == name]
    if not same:
        return False
    extras: set[str] = set().union(*(_extras(item) for item in same))
    return _extras(wanted) <= extras


def _merge_requirements(current: Array, wanted: Array, dotted: str, result: MergeResult) -> None:
    declared = [str(item) for item in current]
    for item in wanted:
        if not requirement_covered(declared, str(item)):
            current.append(str(item))
            declared.append(str(item))
            result.added.append(f"{dotted}[{item}]")


def _plain(value: Any) -> Any:
    return value.unwrap() if hasattr(value, "unwrap") else value


# -- console scripts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptOutcome:
    """What :func:`add_script` did: ``added``; ``present`` (already declared so); ``taken`` (the
    user declared that name for something else, kept: ``theirs``); ``dynamic`` (the build backend
    computes the scripts); ``invalid`` ([project.scripts] is not a table)."""

    name: str
    state: str
    theirs: str | None = None


def add_script(document: tomlkit.TOMLDocument, name: str, target: str) -> ScriptOutcome:
    """Declare ``name = "target"`` in ``[project.scripts]``, never replacing the user's entry."""
    project = document.setdefault("project", tomlkit.table())
    if "scripts" in (project.get("dynamic") or []):
        return ScriptOutcome(name, "dynamic")
    if "scripts" not in project:
        table = tomlkit.table()
        table[name] = target
        table.add(tomlkit.nl())  # a blank line before the next table, as the user's tables have
        project.append("scripts", table)
        return ScriptOutcome(name, "added")
    scripts = project["scripts"]
    if not isinstance(scripts, MutableMapping):
        return ScriptOutcome(name, "invalid")
    if name in scripts:
        theirs = str(_plain(scripts[name]))
        return ScriptOutcome(name, "present") if theirs == target else ScriptOutcome(name, "taken", theirs)
    scripts[name] = target
    return ScriptOutcome(name, "added")
