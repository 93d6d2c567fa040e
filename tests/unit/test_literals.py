"""The Python encoders: whatever the text, the literal or comment means it and nothing else."""

from __future__ import annotations

import ast
import inspect
import io
import tokenize

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpack_cli.literals import (
    decode_comment,
    py_comment,
    py_docstring_block,
    py_docstring_text,
    py_identifier,
    py_string,
)

# Characters that end or bend a Python literal or comment line, and neighbours that look like them.
NASTY = st.sampled_from(
    ['"', "'", '"""', "'''", "\\", "\\x41", "\\u2028", "\\\\", "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029",
     "\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\ufeff", "\t", "#", "\ud800", "ﬁ", "Ａ", "é", "😀"]
)
HOSTILE = st.lists(st.one_of(NASTY, st.text(max_size=5)), max_size=12).map("".join)
SMALL = settings(max_examples=50, deadline=None)


def _one_line(source: str) -> bool:
    """True when Python's tokenizer sees ``source`` as a single logical and physical line."""
    return len(source.splitlines()) == 1 and "\x0c" not in source


@SMALL
@given(HOSTILE)
def test_string_literal_means_the_text_and_stays_on_one_line(text: str) -> None:
    literal = py_string(text)
    assert _one_line(literal)
    tree = ast.parse(f"x = {literal}\n")
    assert len(tree.body) == 1
    assert ast.literal_eval(literal) == text


@SMALL
@given(HOSTILE)
def test_docstring_text_cannot_close_the_docstring(text: str) -> None:
    line = f'"""{py_docstring_text(text)}"""'
    assert _one_line(line)
    tree = ast.parse(line + "\nx = 1\n")
    assert [type(node) for node in tree.body] == [ast.Expr, ast.Assign]
    assert ast.get_docstring(tree, clean=False) == text


@SMALL
@given(HOSTILE)
def test_comment_stays_one_comment_and_decodes_back(text: str) -> None:
    source = f"# {py_comment(text)}\nx = 1\n"
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER)]
    assert tokens[0].type == tokenize.COMMENT and tokens[0].start == (1, 0)
    assert [t.string for t in tokens[1:]] == ["x", "=", "1"]
    assert decode_comment(py_comment(text)) == text


def test_comment_escapes_are_unambiguous() -> None:
    """A backslash the text already holds is doubled, so it never reads back as an escape."""
    assert py_comment("a\\x41\n") == "a\\\\x41\\x0a"
    assert decode_comment(py_comment("a\\x41\n")) == "a\\x41\n"


def test_printable_text_is_kept_readable() -> None:
    assert py_string("Données d'été") == "\"Données d'été\""
    assert py_comment("notebooks/01 - Train.ipynb") == "notebooks/01 - Train.ipynb"


@pytest.mark.parametrize("name", ["churn_model", "données", "_x1"])
def test_identifier_in_nfkc_form_is_accepted(name: str) -> None:
    assert py_identifier(name) == name


@pytest.mark.parametrize("name", ["ﬁle", "Ｆｕｌｌ", "class", "1x", "a-b", "a b", "os;x", ""])
def test_identifier_that_python_would_read_differently_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        py_identifier(name)


# -- docstring blocks (markdown above a stage): line breaks kept, nothing can close them -----------

BLOCK_HOSTILE = [
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


@pytest.mark.parametrize("text", BLOCK_HOSTILE)
def test_the_docstring_is_the_text_with_its_lines_indented(text: str) -> None:
    assert inspect.cleandoc(docstring(text)) == inspect.cleandoc(text)


@pytest.mark.parametrize("text", BLOCK_HOSTILE)
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
