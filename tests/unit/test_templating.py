from __future__ import annotations

import ast
import json

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpack_cli import templating
from mlpack_cli.errors import InvalidInput
from mlpack_cli.literals import decode_comment

AWKWARD = 'a "quoted" \\ back\\slash, a $dollar, a \'single\' and\na newline: ünïcode'

# Characters that end, fold or bend a YAML scalar or a Groovy string, and some that look harmless.
NASTY = st.sampled_from(
    ['"', "'", "\\", "\\u0027", "$", "${x}", "#", ": ", "- ", "&a", "*a", "!!python/object", "---", "...",
     "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x00", "\x1b", "\x7f", "\t", "\ufeff", "é", "😀", " "]
)
HOSTILE = st.lists(st.one_of(NASTY, st.text(max_size=5)), max_size=12).map("".join)
SMALL = settings(max_examples=50, deadline=None)


@SMALL
@given(HOSTILE)
def test_yaml_filter_is_one_scalar_on_one_line_that_means_the_text(text: str) -> None:
    from ruamel.yaml import YAML

    scalar = templating.yaml_string(text)
    assert "\n" not in scalar and "\r" not in scalar
    assert not set(scalar) & set("\x85\u2028\u2029"), "YAML 1.1 readers (GitLab's) take these as line breaks"
    loaded = YAML(typ="safe", pure=True).load(f"key: {scalar}\nnext: 1\n")
    assert loaded == {"key": text, "next": 1}


def _groovy_parser():  # type: ignore[no-untyped-def]
    tree_sitter = pytest.importorskip("tree_sitter")
    groovy = pytest.importorskip("tree_sitter_groovy")
    return tree_sitter.Parser(tree_sitter.Language(groovy.language()))


def _decode_groovy(literal: str) -> str:
    """The value of a single-quoted Groovy string, per the Groovy escapes (not our encoder)."""
    if literal == '""':
        return ""
    assert literal[0] == literal[-1] == "'"
    simple = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "s": " "}
    units, i, body = [], 0, literal[1:-1]
    while i < len(body):
        if body[i] != "\\":
            units.append(body[i])
            i += 1
        elif body[i + 1] == "u":
            units.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        else:
            units.append(simple[body[i + 1]])
            i += 2
    return "".join(units).encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


@SMALL
@given(HOSTILE)
def test_groovy_filter_is_one_string_literal_that_means_the_text(text: str) -> None:
    literal = templating.groovy_string(text)
    assert literal.isascii() and literal.isprintable(), "no raw line break or control character"
    source = f"pipeline {{\n    environment {{\n        X = {literal}\n        Y = 'after'\n    }}\n}}\n"
    tree = _groovy_parser().parse(source.encode())
    assert not tree.root_node.has_error, source
    strings = [n for n in _descendants(tree.root_node) if n.type in ("character_literal", "string_literal")]
    assert [s.text.decode() for s in strings] == [literal, "'after'"]
    assert _decode_groovy(literal) == text


def test_groovy_filter_never_uses_unicode_escapes_for_what_ends_a_string() -> None:
    """Groovy as Jenkins runs it may translate \\uXXXX before lexing: a quote or line break written
    that way would end the string there."""
    literal = templating.groovy_string("'\n\r\\")
    assert literal == "'\\'\\n\\r\\\\'"
    assert "\\u" not in literal


def _descendants(node):  # type: ignore[no-untyped-def]
    for child in node.children:
        yield child
        yield from _descendants(child)


@pytest.mark.parametrize("word", ["python:3.11-slim", "registry.example.org/team/py@sha256:abc", "churn-model"])
def test_docker_filter_passes_plain_words(word: str) -> None:
    assert templating.docker_word(word) == word


@pytest.mark.parametrize("word", ["python:3.11\nRUN curl x | sh", "a b", "${EVIL}", "x'y", "x\\y", "", "-x"])
def test_docker_filter_refuses_anything_else_with_a_clear_error(word: str) -> None:
    with pytest.raises(InvalidInput, match="cannot be written into the Dockerfile"):
        templating.docker_word(word)


@SMALL
@given(HOSTILE)
def test_py_filters_are_the_literals_encoders(text: str) -> None:
    env = templating.environment()
    assert ast.literal_eval(env.from_string("{{ v | py }}").render(v=text)) == text
    module = ast.parse(env.from_string('"""{{ v | pydoc }}"""').render(v=text))
    assert ast.get_docstring(module, clean=False) == text
    comment = env.from_string("# {{ v | pycomment }}").render(v=text)
    assert len(comment.splitlines()) == 1 and decode_comment(comment[2:]) == text


def test_pyname_filter_refuses_what_is_not_an_identifier() -> None:
    with pytest.raises(ValueError):
        templating.environment().from_string("import {{ v | pyname }}").render(v="os; import sys")


def test_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError):
        templating.render("project/README.md.j2", name="x")  # no description, no package


def test_templates_load_through_importlib_resources() -> None:
    root = templating.template_root()
    assert root.joinpath("project", "package_init.py.j2").is_file()
    assert json.loads(templating.read_resource("example/houses.ipynb"))["nbformat"] == 4
