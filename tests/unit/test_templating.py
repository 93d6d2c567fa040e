from __future__ import annotations

import json

import jinja2
import pytest
import tomlkit

from mlpack_cli import templating

AWKWARD = 'a "quoted" \\ back\\slash, a $dollar, a \'single\' and\na newline: ünïcode'


def test_toml_filter_round_trips_awkward_strings() -> None:
    assert tomlkit.parse(f"key = {templating.toml_string(AWKWARD)}")["key"] == AWKWARD


def test_yaml_filter_round_trips_awkward_strings() -> None:
    from ruamel.yaml import YAML

    assert YAML(typ="safe").load(f"key: {templating.yaml_string(AWKWARD)}")["key"] == AWKWARD


def test_groovy_filter_makes_a_single_quoted_literal() -> None:
    text = templating.groovy_string("it's $HOME\\x")
    assert text == "'it\\'s $HOME\\\\x'"
    assert text.startswith("'") and text.endswith("'")


def test_py_filter_is_a_python_literal() -> None:
    assert eval(templating.py_string(AWKWARD)) == AWKWARD  # noqa: S307 - a literal we made


def test_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError):
        templating.render("project/README.md.j2", name="x")  # no description, no package


def test_templates_load_through_importlib_resources() -> None:
    root = templating.template_root()
    assert root.joinpath("project", "pyproject.toml.j2").is_file()
    assert json.loads(templating.read_resource("example/houses.ipynb"))["nbformat"] == 4
