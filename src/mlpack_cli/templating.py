"""Render the jinja2 templates shipped as package data of ``mlpack_cli.templates``.

Templates are read through importlib.resources, never by a path relative to the source tree, so
they work the same from a wheel, an sdist install or an editable checkout. A missing variable is
an error (StrictUndefined), and values placed into TOML, YAML or Groovy go through the filters
below, which escape them for that language.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importlib.resources.abc is 3.11+; annotations only, so 3.10 never imports it
    from importlib.resources.abc import Traversable

    import jinja2

TEMPLATE_PACKAGE = "mlpack_cli.templates"


def template_root() -> Traversable:
    return files(TEMPLATE_PACKAGE)


def read_resource(name: str) -> bytes:
    """Raw bytes of a shipped file (notebooks, data) that is copied rather than rendered."""
    return template_root().joinpath(*name.split("/")).read_bytes()


def toml_string(value: object) -> str:
    """A TOML basic string; JSON's string escapes are a subset TOML accepts."""
    return json.dumps(str(value), ensure_ascii=False)


def yaml_string(value: object) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(value), ensure_ascii=False)


def groovy_string(value: object) -> str:
    """A single-quoted Groovy string: never interpolated, so ``$`` stays literal."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{text}'"


def py_string(value: object) -> str:
    return repr(str(value))


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2

    def load(name: str) -> tuple[str, str, Any] | None:
        resource = template_root().joinpath(*name.split("/"))
        if not resource.is_file():
            return None
        return resource.read_text(encoding="utf-8"), f"{TEMPLATE_PACKAGE}/{name}", lambda: True

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(toml=toml_string, yaml=yaml_string, groovy=groovy_string, py=py_string)
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
