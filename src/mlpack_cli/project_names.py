"""Project and import names: validated once, with errors that say how to fix them."""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata

from packaging.utils import canonicalize_name

from mlpack_cli.errors import InvalidInput

# PEP 508 / core metadata "Name" field.
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
# "mlpack" is the unrelated library of that name on PyPI; "tests"/"src" are project directories.
_RESERVED_IMPORT_NAMES = {"mlpack", "test", "tests", "src"}


def is_valid_project_name(name: str) -> bool:
    return bool(_PROJECT_NAME.match(name))


def validate_project_name(name: str) -> str:
    if not is_valid_project_name(name):
        raise InvalidInput(
            f"{name!r} is not a valid project name",
            hint="Use letters, digits, '-', '_' and '.', starting and ending with a letter or digit "
            "(PEP 508), for example --name churn-model.",
        )
    return name


def import_name_for(project_name: str) -> str:
    """The import package a project name maps to: ``Churn-Model.v2`` -> ``churn_model_v2``."""
    return canonicalize_name(project_name).replace("-", "_")


def validate_import_name(name: str) -> str:
    if not name.isidentifier():
        raise InvalidInput(
            f"{name!r} is not a valid Python import name",
            hint="An import name starts with a letter or '_' and holds only letters, digits and '_'; "
            "pass another --name or set [tool.mlpack] package.",
        )
    if unicodedata.normalize("NFKC", name) != name:
        raise InvalidInput(
            f"{name!r} is not the name Python imports: it reads it as {unicodedata.normalize('NFKC', name)!r}",
            hint="Python normalises identifiers (NFKC); use the normalised name for [tool.mlpack] package.",
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise InvalidInput(
            f"{name!r} is a Python keyword and cannot be imported",
            hint="Choose another import name (--name, or [tool.mlpack] package in pyproject.toml), for "
            "example by adding a suffix such as '_model'.",
        )
    if name in sys.stdlib_module_names:
        raise InvalidInput(
            f"{name!r} would shadow the standard-library module of the same name",
            hint="Choose another import name (--name, or [tool.mlpack] package in pyproject.toml), for "
            "example by adding a prefix such as 'my_'.",
        )
    if name in _RESERVED_IMPORT_NAMES:
        raise InvalidInput(
            f"{name!r} is reserved as an import name here",
            hint="Choose another import name (--name, or [tool.mlpack] package in pyproject.toml); "
            "'tests', 'src' and mlpack's own names would collide.",
        )
    return name
