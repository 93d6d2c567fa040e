"""Fixes for old notebooks: each keeps the rest of the line as written and means the same in Python 3."""

from __future__ import annotations

import ast
import contextlib
import io

import pytest

from mlpack_cli.notebook.legacy import fix_cell


def _printed(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<cell>", "exec"), {"sys": __import__("sys")})
    return out.getvalue()


@pytest.mark.parametrize(
    ("old", "new", "printed"),
    [
        ('print "a", 1\n', 'print("a", 1)\n', "a 1\n"),
        ('print "%d items" % 3\n', 'print("%d items" % 3)\n', "3 items\n"),
        ("print\n", "print()\n", "\n"),
        ('print "a",\nprint "b"\n', 'print("a", end=" ")\nprint("b")\n', "a b\n"),
        ("for i in range(2): print i\n", "for i in range(2): print(i)\n", "0\n1\n"),
        ('x = 1; print x  # shown\n', 'x = 1; print(x)  # shown\n', "1\n"),
        ('print (1 +\n       2)\n', 'print (1 +\n       2)\n', None),  # already a call: untouched
    ],
)
def test_print_statements_become_calls(old: str, new: str, printed: str | None) -> None:
    fixed = fix_cell(old)
    assert fixed.source == new
    if printed is not None:
        assert _printed(fixed.source) == printed


def test_print_to_a_file_becomes_the_file_keyword() -> None:
    fixed = fix_cell('print >>sys.stderr, "oops", 2\n')
    assert fixed.source == 'print("oops", 2, file=sys.stderr)\n'
    ast.parse(fixed.source)


def test_except_comma_becomes_as() -> None:
    fixed = fix_cell("try:\n    pass\nexcept (KeyError, ValueError), error:\n    raise\n")
    assert "except (KeyError, ValueError) as error:" in fixed.source
    assert fixed.fixes == ["rewrote a Python 2 `except X, e` (line 3)"]


def test_leading_indentation_is_removed_keeping_comments() -> None:
    fixed = fix_cell("# set up\n    x = 1  # one\n    if x:\n        y = 2\n")
    assert fixed.source == "# set up\nx = 1  # one\nif x:\n    y = 2\n"
    assert fixed.fixes == ["removed leading indentation"]


def test_python3_code_is_left_alone() -> None:
    source = "print('a', end='')\nprint = print\nvalue = print\n"
    assert fix_cell(source).source == source and fix_cell(source).fixes == []
