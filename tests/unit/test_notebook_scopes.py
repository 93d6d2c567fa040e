"""The tree walk analysis repeats: replayed only where it was asked to be, and only for the same node."""

from __future__ import annotations

import ast

from mlpack_cli.notebook.scopes import calls_in, walk, walks_remembered


def _ast_walk(node: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(node) if not isinstance(n, ast.expr_context)]


def test_walk_is_ast_walk_without_contexts_remembered_or_not() -> None:
    tree = ast.parse("def f(a, *, b=1):\n    return [a + x for x in b]\nf(1, b=[2])\n")
    assert list(walk(tree)) == _ast_walk(tree)
    with walks_remembered():
        assert list(walk(tree)) == _ast_walk(tree)
        assert list(walk(tree)) == _ast_walk(tree)  # replayed


def test_a_tree_changed_after_leaving_is_walked_afresh() -> None:
    tree = ast.parse("x = 1\n")
    with walks_remembered():
        list(walk(tree))
    tree.body.append(ast.parse("y = 2").body[0])
    assert any(isinstance(n, ast.Name) and n.id == "y" for n in walk(tree))
    with walks_remembered():
        assert any(isinstance(n, ast.Name) and n.id == "y" for n in walk(tree))


def test_renamed_names_are_seen_in_a_replayed_walk() -> None:
    tree = ast.parse("model = fit(model)\n")
    with walks_remembered():
        list(walk(tree))
        for node in walk(tree):
            if isinstance(node, ast.Name) and node.id == "model":
                node.id = "model_1"
        assert {n.id for n in walk(tree) if isinstance(n, ast.Name)} == {"model_1", "fit"}


def test_calls_in_are_the_calls_of_the_walk_in_its_order_remembered_or_not() -> None:
    tree = ast.parse("m = fit(make(1), g(h(2)))\nfor x in load():\n    show(x.plot())\n")
    expected = [n for n in _ast_walk(tree) if isinstance(n, ast.Call)]
    assert [ast.unparse(c.func) for c in expected] == ["fit", "load", "make", "g", "show", "h", "x.plot"]
    assert calls_in(tree) == expected
    with walks_remembered():
        assert calls_in(tree) == expected
        assert calls_in(tree) == expected  # replayed
    tree.body.append(ast.parse("save(m)").body[0])
    assert calls_in(tree) == [n for n in _ast_walk(tree) if isinstance(n, ast.Call)]  # changed after leaving
    assert "save" in [ast.unparse(c.func) for c in calls_in(tree)]


def test_a_remembered_analysis_follows_the_statement_s_renaming() -> None:
    from mlpack_cli.notebook import versions
    from mlpack_cli.notebook.dataflow import _renaming
    from mlpack_cli.notebook.scopes import analyses_remembered, analyze

    statement = ast.parse("model = fit(model, X)").body[0]
    with analyses_remembered([statement], _renaming):
        first = analyze([statement])
        first.reads.append("changed by the caller")
        assert analyze([statement]).reads == ["fit", "model", "X"]  # (a copy each time)
        versions.apply(statement, {"model": "model_1"})
        assert analyze([statement]).reads == ["fit", "model_1", "X"]
        assert analyze([statement]).binds == ["model_1"]
        versions.revert([statement])
        assert analyze([statement]).binds == ["model"]


def test_a_nested_statement_is_analysed_afresh_under_a_renamed_one() -> None:
    from mlpack_cli.notebook import versions
    from mlpack_cli.notebook.dataflow import _renaming
    from mlpack_cli.notebook.scopes import analyses_remembered, analyze

    statement = ast.parse("for k in ks:\n    model = k").body[0]
    inner = statement.body[0]  # type: ignore[attr-defined]
    with analyses_remembered([statement], _renaming):
        assert analyze([inner]).binds == ["model"]
        versions.apply(statement, {"model": "model_1"})
        assert analyze([inner]).binds == ["model_1"]  # it has no renaming of its own: never remembered
