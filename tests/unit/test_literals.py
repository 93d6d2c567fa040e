"""Docstring blocks from outside text: line breaks kept, nothing can close the docstring."""

from __future__ import annotations

import ast
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpack_cli.literals import py_docstring_block

HOSTILE = [
    'ends with a quote"',
    'three """ quotes and \'\'\' these',
    "a backslash \\ and \\n and one at the end \\",
    "a CR\r here, CRLF\r\nthere, NEL\x85, LS\u2028, form feed\x0c, NUL\x00",
    "# Heading\n\nText with trailing spaces  \n    indented code\n\n",
    '"',
    "",
]


def docstring(text: str) -> str:
    """The value of a function's docstring made from ``text`` (closing quotes on their own line
    after several lines, as code generation writes it)."""
    block = py_docstring_block(text, "    ")
    source = f'def f():\n    """{block}\n    """\n' if "\n" in block else f'def f():\n    """{block}"""\n'
    value = ast.parse(source).body[0].body[0].value.value  # type: ignore[attr-defined]
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize("text", HOSTILE)
def test_the_docstring_is_the_text_with_its_lines_indented(text: str) -> None:
    assert inspect.cleandoc(docstring(text)) == inspect.cleandoc(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_line_breaks_are_kept_and_no_line_ends_in_whitespace(text: str) -> None:
    block = py_docstring_block(text, "    ")
    assert block.count("\n") == text.count("\n")
    assert all(line == line.rstrip() for line in block.split("\n"))


@given(st.text())
def test_nothing_can_close_the_docstring(text: str) -> None:
    lines = docstring(text).split("\n")
    expected = text.split("\n")
    if len(expected) == 1:
        assert lines == expected
    else:
        assert lines[0] == expected[0] and lines[-1] == "    "
        assert [line.removeprefix("    ") for line in lines[1:-1]] == expected[1:]
