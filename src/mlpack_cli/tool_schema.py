"""The JSON schema of ``[tool.mlpack]``: mlpack checks its own settings with it, and offers it to
validate-pyproject (the ``validate_pyproject.tool_schema`` entry point) so users' CI checks them too.

Validation uses fastjsonschema, the engine validate-pyproject runs, so both agree on every value;
it is imported and the schema compiled only when a command reads a project, never at start-up.
The first violation is reported by key, with what is expected and, for a misspelt key, the
closest known one.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

from mlpack_cli.errors import InvalidInput

SCHEMA_RESOURCE = "schema/tool-mlpack.schema.json"
# Where each sub-table's keys are documented (the hint names the page).
_DOCS = {"ci": "docs/ci.md", "convert": "docs/convert.md"}


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The schema as shipped in the wheel (package data of mlpack_cli)."""
    text = files("mlpack_cli").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_pyproject_plugin(tool_name: str) -> dict[str, Any]:
    """Schema for the ``tool.$tool`` table of mlpack (https://mlpack-cli.readthedocs.io/en/latest/configuration/)."""
    # validate-pyproject wants a fresh dict it may keep; its `$id` names the docs page.
    return cast(dict[str, Any], json.loads(json.dumps(load_schema())))


def property_schema(*path: str) -> dict[str, Any]:
    """The schema of one key, e.g. ``property_schema("ci", "python-image")``."""
    node = load_schema()
    for key in path:
        node = node["properties"][key]
    return node


@functools.lru_cache(maxsize=1)
def _validator() -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(load_schema())


def validate_tool_table(table: Mapping[str, Any], path: Path) -> None:
    """Raise :class:`InvalidInput` (exit 4) naming the first ``[tool.mlpack]`` value the schema refuses."""
    import fastjsonschema

    try:
        _validator()(_plain(table))
    except fastjsonschema.JsonSchemaValueException as exc:
        raise _error(exc, path) from None


def _plain(value: Any) -> Any:
    """tomlkit containers (and their items) as plain dicts, lists and scalars."""
    if hasattr(value, "unwrap"):
        value = value.unwrap()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _error(exc: Any, path: Path) -> InvalidInput:
    parts = [str(part) for part in exc.path[1:]]  # exc.path starts with fastjsonschema's "data"
    key = _dotted(parts)
    definition: dict[str, Any] = exc.definition or {}
    table = [part for part in parts if not part.isdigit()]
    docs = _DOCS.get(table[0], "docs/configuration.md") if table else "docs/configuration.md"
    if exc.rule == "additionalProperties":
        known = sorted(definition.get("properties", {}))
        unknown = sorted(set(exc.value) - set(known)) if isinstance(exc.value, Mapping) else []
        name = unknown[0] if unknown else "?"
        close = difflib.get_close_matches(name, known, n=1)
        suggestion = f": did you mean `{close[0]}`?" if close else ""
        return InvalidInput(
            f"{path}: [{key}] has an unknown key `{name}`{suggestion}",
            hint=f"Known keys of [{key}]: {', '.join(known)} ({docs}). Nothing was written.",
        )
    leaf = parts[-1] if parts else key
    return InvalidInput(
        f"{path}: {key} must be {_expected(definition, exc.rule)}, not {exc.value!r}",
        hint=f"{_how_to_write(leaf, definition, exc.rule)}; {docs} lists every key. Nothing was written.",
    )


def _dotted(parts: list[str]) -> str:
    text = "tool.mlpack"
    for part in parts:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


_TYPES = {"string": "a string", "boolean": "true or false", "array": "a list", "object": "a table",
          "integer": "a whole number", "number": "a number"}


def _expected(definition: Mapping[str, Any], rule: str) -> str:
    """What the schema wants, in words: the type, and the key's description in brackets."""
    kinds = definition.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = " or ".join(_TYPES.get(kind, kind) for kind in kinds) or "a value"
    items = definition.get("items", {})
    if "array" in kinds and items.get("type") == "string":
        words = words.replace("a list", "a list of strings")
    if rule in ("minItems", "minLength"):
        words = words.replace("a list", "a non-empty list").replace("a string", "a non-empty string")
    if "enum" in definition:
        return "one of: " + ", ".join(str(choice) for choice in definition["enum"])
    description = definition.get("description")
    return f"{words} ({description})" if description else words


def _how_to_write(key: str, definition: Mapping[str, Any], rule: str) -> str:
    kinds = definition.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if rule == "enum":
        return "Use one of: " + ", ".join(f'"{choice}"' for choice in definition["enum"])
    if rule == "pattern" and definition.get("description"):
        return f"Expected {definition['description']}"
    if key.isdigit():
        return "Write each item as a quoted TOML string"
    if "boolean" in kinds:
        return f"Write `{key} = true` or `{key} = false` (a TOML boolean, without quotes)"
    if "array" in kinds:
        return f'Write {key} = ["...", "..."] (a TOML list of quoted strings)'
    if "object" in kinds:
        return f"Make {key} a table ([tool.mlpack.{key}] with key = value lines)"
    return f'Write {key} = "..." (a quoted TOML string)'
