"""Generated source stays flake8-clean: our own text wrapped, the user's kept with noqa where needed."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlpack_cli.notebook.pysource import add_noqa, flake8_problems, piece_problems, wrap_expression


def test_long_calls_are_wrapped_one_argument_per_line() -> None:
    call = ast.parse("compute(" + ", ".join(f"argument_{i}={i}" for i in range(12)) + ")", mode="eval").body
    text = "result = " + wrap_expression(call, 9, 0, 60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert text.splitlines()[0] == "result = compute("
    assert ast.dump(ast.parse(text).body[0].value) == ast.dump(call)  # type: ignore[attr-defined]


def test_noqa_goes_where_flake8_reads_it(tmp_path: Path) -> None:
    long_text = "x" * 120
    source = textwrap.dedent(f'''\
        def f(l):
            """Doc with a long line {long_text}
            and more."""
            return l
        ''')
    fixed, silenced = add_noqa(source, 100)
    assert {code for _, code in silenced} == {"E501", "E741"}
    assert 'and more."""  # noqa: E501' in fixed
    assert flake8_problems(source, 100)
    (tmp_path / "generated.py").write_text(fixed)
    done = subprocess.run([sys.executable, "-m", "flake8", "--max-line-length", "100", str(tmp_path / "generated.py")],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "")


def test_noqa_after_a_backslash_continuation_goes_on_the_last_joined_line(tmp_path: Path) -> None:
    source = "def f():\n    unused = 1 + \\\n        2\n    #comment \\\n    return 3\n"
    fixed, silenced = add_noqa(source, 100, extra=[(4, "E265")])
    assert {code for _, code in silenced} == {"F841", "E265"}
    assert "    unused = 1 + \\\n        2  # noqa: F841\n" in fixed
    assert "    #comment \\  # noqa: E265\n" in fixed
    (tmp_path / "generated.py").write_text(fixed)
    done = subprocess.run([sys.executable, "-m", "flake8", "--max-line-length", "100", str(tmp_path / "generated.py")],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "")


def test_the_user_s_statements_are_checked_as_flake8_checks_them_where_they_are() -> None:
    """Each statement checked at column 0 gives what pycodestyle reports on it inside a function."""
    from mlpack_cli.notebook.usertext import Piece

    statements = [
        "#no space\ndata=load( 'a',1 )   # one space\n",
        "items = [1,2,\n  3]\n",
        "if data :\n  value = data+1\n",
        "class A:\n    def f(self):\n        pass\n    def g(self):\n        pass\n",
        "for i in x:\n\tprint(i)\n",
    ]
    pieces = [Piece(text.rstrip("\n")) for text in statements]
    lines = ["def stage(load, x):\n"]
    at = []
    for piece in pieces:
        if piece.text.startswith("class"):
            lines.append("\n")  # as code generation writes definitions
        at.append(len(lines) + 1)
        lines += [line + "\n" for line in piece.indented("    ")]
    found = piece_problems(list(zip(at, pieces)))
    full = flake8_problems("".join(lines), 100, pyflakes=False)
    assert set(found) >= set(full)
    assert set(found) - set(full) == {(12, "E301")}  # reported as E306 there: both are silenced
    assert {code for _, code in full} >= {"E265", "E225", "E231", "E201", "E202", "E203", "E111", "E306", "W191"}


def test_the_style_pass_finds_what_pycodestyle_finds() -> None:
    """Generated code is pycodestyle-clean in its layout; the checks that depend on what the code
    says run only where a pattern matches, on the statement there. Together: pycodestyle's answer."""
    from mlpack_cli.notebook.pysource import _multiline_strings, style_problems

    source = textwrap.dedent('''\
        """Module doc."""
        import os


        def stage(data, l=1):
            """A docstring with a line that is far too long to fit, far too long to fit, far too long to fit.
            And a URL alone: https://example.com/a/very/long/path/that/goes/on/and/on/and/on/and/on/forever
            """
            f = lambda x: x
            if data == None or data != True:
                pass
            for item in data:
                if item:
                    for I in item:
                        pass
            O = not item in data
            try:
                pass
            except:
                pass
            if type(data) == type(os):
                pass
            label = "a string with \\\\d, and not in is: x == None"
            total = compute(first_argument=1, second_argument=2, third_argument=3, fourth_argument=4, fifth=5)
            return f, O, label, total, l


        def l():
            return 'it\\'s not the same'
        ''')
    tree = ast.parse(source)
    fast = style_problems(source.splitlines(keepends=True), 100, _multiline_strings(tree), tree)
    full = flake8_problems(source, 100, pyflakes=False)
    assert sorted(fast) == sorted(full)
    assert {code for _, code in full} >= {"E501", "E711", "E712", "E713", "E721", "E722", "E731", "E741", "E743"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    " ", "\n", "\t", "\f", "\r", "\x85", "\u2028", "=", "==", "!=", "not", "in", "is", "None", "True", "type",
    "except", ":", "lambda", "l", "I", "O", "x", "\\", "\\d", "'", '"', "(", ")",
]), max_size=12).map("".join))
def test_a_content_check_is_skipped_only_where_its_pattern_cannot_match(text: str) -> None:
    """The words looked for before a pattern is searched: every match holds them."""
    from mlpack_cli.notebook.pysource import _content_patterns, _may_match

    for codes, pattern in _content_patterns():
        if pattern.search(text):
            assert _may_match(codes, text + "\n"), (codes, text)
