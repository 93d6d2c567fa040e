"""Render the jinja2 templates shipped as package data of ``mlpack_cli.templates``.

Templates are read through importlib.resources, never by a path relative to the source tree, so
they work the same from a wheel, an sdist install or an editable checkout. A missing variable is
an error (StrictUndefined). Every outside value reaches a rendered file only through the filter of
that file's language, which encodes it so that nothing in it can end the literal it stands in:

- Python: ``py`` (a string literal), ``pydoc`` (text inside ``\"\"\"...\"\"\"``), ``pycomment`` (text
  after ``#``), ``pyname`` (an identifier, checked), all from :mod:`mlpack_cli.literals`;
- YAML: ``yaml``, a double-quoted scalar written by ruamel.yaml's emitter;
- Groovy: ``groovy``, a single-quoted string with every character that could end it escaped;
- Dockerfile: ``docker``, a value checked to be one plain word, refused otherwise;
- a comment line: ``project_name``, the project name checked against PEP 508 (letters, digits,
  ``.``, ``_``, ``-``), so it can never end the comment (CiOptions checks it for the CI files).

``pyproject.toml`` is not rendered from a template at all: it is built with tomlkit (see
:mod:`mlpack_cli.commands.init`).
"""

from __future__ import annotations

import functools
import io
import re
import sys
import threading
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from mlpack_cli import literals
from mlpack_cli.errors import InvalidInput
from mlpack_cli.project_names import validate_project_name

if TYPE_CHECKING:  # annotations only, so no Python imports it at run time
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

    import jinja2
    from ruamel.yaml import YAML

TEMPLATE_PACKAGE = "mlpack_cli.templates"


def template_root() -> Traversable:
    return files(TEMPLATE_PACKAGE)


def read_resource(name: str) -> bytes:
    """Raw bytes of a shipped file (notebooks, data) that is copied rather than rendered."""
    return template_root().joinpath(*name.split("/")).read_bytes()


_YAML_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_style = '"'  # type: ignore[assignment]  # double-quoted: the one style that escapes all
    yaml.width = sys.maxsize  # never fold: the scalar stays on the line of its key
    yaml.allow_unicode = True
    return yaml


def yaml_string(value: object) -> str:
    """A one-line YAML double-quoted scalar whose value is ``str(value)``, written by ruamel.yaml.

    The emitter escapes quotes, backslashes, line breaks (LF, CR, NEL, U+2028/2029), the BOM and
    every unprintable character, so the scalar cannot end early or spill onto another line.
    """
    stream = io.StringIO()
    with _YAML_LOCK:  # one emitter, reused: ruamel.yaml's YAML object is not safe across threads
        _yaml().dump(str(value), stream)
    text = stream.getvalue().removesuffix("\n")
    if not text.startswith('"') or "\n" in text:  # the emitter's contract; never trust it silently
        raise ValueError(f"the YAML emitter did not write a one-line scalar for {value!r}")
    return text


# Groovy (as Jenkins runs it) may translate \uXXXX escapes before it reads the string, as Java does,
# so \u is never used for a character that would end the string there: CR, LF, quote, backslash.
_GROOVY_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r"}


def groovy_string(value: object) -> str:
    """A single-quoted Groovy string whose value is ``str(value)``: never interpolated (``$`` stays
    literal), and nothing in it (quote, backslash, CR, LF, NEL, U+2028/2029, any control or
    non-ASCII character) can end it: those are escaped, non-ASCII as UTF-16 ``\\uXXXX`` units."""
    text = str(value)
    if not text:
        return '""'  # the same empty String; tree-sitter-groovy (our tests' parser) misreads ''
    out = []
    for char in text:
        if char in _GROOVY_ESCAPES:
            out.append(_GROOVY_ESCAPES[char])
        elif " " <= char <= "~":
            out.append(char)
        else:
            data = char.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{int.from_bytes(data[i:i + 2], 'big'):04x}" for i in range(0, len(data), 2))
    return "'" + "".join(out) + "'"


# One Dockerfile word: no space, quote, backslash, `$` (variable) or line break can reach the file.
_DOCKER_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")


def docker_word(value: object) -> str:
    """``str(value)`` checked to be one plain Dockerfile word (image reference, project name)."""
    text = str(value)
    if not _DOCKER_WORD.fullmatch(text):
        raise InvalidInput(
            f"{text!r} cannot be written into the Dockerfile",
            hint="Use only letters, digits and . _ / : @ + - (for example python:3.11-slim), "
            "starting with a letter or digit.",
        )
    return text


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
    env.filters.update(
        py=literals.py_string,
        pydoc=literals.py_docstring_text,
        pycomment=literals.py_comment,
        pyname=literals.py_identifier,
        yaml=yaml_string,
        groovy=groovy_string,
        docker=docker_word,
        project_name=validate_project_name,
    )
    return env


def render(template: str, /, **context: Any) -> str:
    return environment().get_template(template).render(**context)
