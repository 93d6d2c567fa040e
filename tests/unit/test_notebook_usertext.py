"""Statement text from cells: found by position, comments attached once, meaning checked."""

from __future__ import annotations

import ast

import pytest

from mlpack_cli.notebook.dataflow import ParsedCell
from mlpack_cli.notebook.usertext import Edits, Sources, _same


def sources(code: str, **edits: object) -> tuple[Sources, ast.Module]:
    cell = ParsedCell(1, (), code, None, ast.parse(code), code=code)
    return Sources([cell], Edits(**edits)), cell.tree  # type: ignore[arg-type]


@pytest.mark.parametrize(("left", "right"), [
    ("x = 1", "x = 1.0"), ("x = 1", "x = True"), ("x = 'a'", "x = b'a'"), ("f(a, b)", "f(a)"),
    ("a.b = c", "a.c = c"), ("del x", "x"), ("x = 1", "x = (1)"),
])
def test_same_is_ast_dump_equality(left: str, right: str) -> None:
    a, b = ast.parse(left).body[0], ast.parse(right).body[0]
    assert _same(a, b) == (ast.dump(a) == ast.dump(b))
    assert _same(a, ast.parse(left + "  # moved").body[0])


def test_columns_are_bytes_and_text_is_characters() -> None:
    found, tree = sources("größe = 'ä'; wert = größe * 2  # ünïcode\n")
    assert found.piece(tree.body[1]).text == "wert = größe * 2  # ünïcode"
    assert found.piece(tree.body[0]).text == "größe = 'ä'"


def test_a_comment_line_inside_a_string_is_not_a_comment_above_the_next_statement() -> None:
    found, tree = sources('s = """text\n# not a comment\n#"""\n# a comment\nx = 1\n# after all\n')
    assert found.piece(tree.body[1]).text == "# a comment\nx = 1\n# after all"
    assert found.piece(tree.body[0]).text == 's = """text\n# not a comment\n#"""'


def test_directives_and_blank_runs_are_left_out_of_the_comments() -> None:
    found, tree = sources("# mlpack: train\n# one\n\n\n# two\nx = 1\n")
    assert found.piece(tree.body[0]).text == "# one\n\n# two\nx = 1"


def test_the_text_is_edited_only_where_a_name_to_change_appears() -> None:
    found, tree = sources("x = 1  # keep 'train' in strings\ny = train + 1\n", renamed={"train": "train_"})
    assert found.piece(tree.body[0]).text == "x = 1  # keep 'train' in strings"
    assert found.piece(tree.body[1]).text == "y = train_ + 1"


@pytest.mark.parametrize("code", [
    "class A:\n    x = 1\n    def f(self):\n        pass\n",  # E301
    "@property\n\ndef f():\n    pass\n",  # E304
    "def f():\n    x = 1\n\n\n    return x\n",  # E303
    "def f(a: int=1):\n    return a\n",  # E252
    "y = [1,2]\n",  # E231
])
def test_statements_pycodestyle_would_report_are_not_taken_as_clean(code: str) -> None:
    found, tree = sources(code)
    assert not found.piece(tree.body[0]).clean


@pytest.mark.parametrize("code", [
    "def f(a, b=1):\n    return a, b\n",
    "x = {'a': 1.}  # a dict\n",
    "class A:\n\n    def f(self):\n        pass\n\n    def g(self):\n        pass\n",
])
def test_statements_laid_out_as_unparse_would_are_clean(code: str) -> None:
    found, tree = sources(code)
    assert found.piece(tree.body[0]).clean


def test_an_edited_statement_is_laid_out_as_what_it_means_after_the_edits() -> None:
    """A renamed name or an assigned result changes the text and the statement alike: still clean."""
    from mlpack_cli.notebook.dataflow import ASSIGN_TO

    found, tree = sources("y = train + 1\nf(y)\n", renamed={"train": "train_"})
    setattr(tree.body[1], ASSIGN_TO, "score")
    pieces = [found.piece(statement) for statement in tree.body]
    assert [(p.text, p.clean) for p in pieces] == [("y = train_ + 1", True), ("score = f(y)", True)]


def test_the_copy_edited_for_the_check_leaves_the_statement_alone() -> None:
    from mlpack_cli.notebook.usertext import _copied

    node = ast.parse("for model in models:\n    plot(model)\n    fit(model, *args)\n").body[0]
    before = ast.dump(node, include_attributes=True)
    twin = _copied(node)
    assert ast.dump(twin, include_attributes=True) == before
    twin.body[1].value.args[0].id = "other"  # type: ignore[attr-defined]
    twin.body.pop(0)
    assert ast.dump(node, include_attributes=True) == before


def test_a_copied_tree_follows_only_the_children_of_each_node() -> None:
    from mlpack_cli.notebook.usertext import _copied

    tree = ast.parse("x = a * b + c")
    for node in ast.walk(tree):  # a linter's links up the tree (pyflakes sets _pyflakes_parent)
        for child in ast.iter_child_nodes(node):
            child._pyflakes_parent = node  # type: ignore[attr-defined]
    statement = tree.body[0]
    statement.mlpack_note = {"kept": True}  # type: ignore[attr-defined]
    twin = _copied(statement)
    assert ast.dump(twin) == ast.dump(statement) and twin is not statement
    assert twin.value is not statement.value  # type: ignore[attr-defined]
    assert twin.mlpack_note is statement.mlpack_note  # type: ignore[attr-defined]


@pytest.mark.parametrize(("code", "inside"), [
    ('print(\n    "first line: {}"\n    "second: {}".format(a, b)\n)\n', set()),  # joined across lines
    ('x = (f"{a}"\n     f"{b}")\n', set()),
    ('print("a"\n      """b\nc""")\n', {3}),
])
def test_lines_of_strings_joined_across_lines_are_indented_like_code(code: str, inside: set[int]) -> None:
    """Joined literals are one constant in the tree, but only a line inside one literal is string."""
    found, tree = sources(code)
    piece = found.piece(tree.body[0])
    assert piece.strings == inside
    indented = "\n".join(piece.indented("    "))
    body = ast.parse("def f():\n" + indented + "\n").body[0].body[0]  # type: ignore[attr-defined]
    assert ast.dump(body) == ast.dump(tree.body[0])
