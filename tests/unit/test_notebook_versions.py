"""Versioned names: a name bound afresh again is a new variable, only where that frees a stage."""

from __future__ import annotations

import ast

from mlpack_cli.notebook import versions as vs


def body(code: str) -> list[ast.stmt]:
    return ast.parse(code).body


def test_a_fresh_binding_starts_a_version_and_a_rebinding_that_reads_it_does_not() -> None:
    statements = body("X = load()\nX = X / 255\nfit(X)\nX = load2()\nfit(X)\n")
    assert vs.find_versions(statements, statements) == {"X": [[0, 1, 2], [3, 4]]}


def test_a_binding_in_a_loop_or_branch_continues_the_version() -> None:
    statements = body("m = a()\nfor i in r:\n    m = b(m)\nif c:\n    m = d()\nuse(m)\n")
    assert vs.find_versions(statements, statements) == {}


def test_names_of_functions_lambdas_globals_and_imports_are_never_versioned() -> None:
    statements = body("m = a()\nf = lambda: m\nm = b()\nimport k\nk = 1\nk = 2\n")
    assert vs.find_versions(statements, statements) == {}
    assert vs.find_versions(body("m = a()\nm = b()\n"), body("m = a()\nm = b()\n")) == {"m": [[0], [1]]}
    assert vs.find_versions(body("m = a()\nm = eval('b')\n"), body("m = a()\nm = eval('b')\n")) == {}
    assert vs.find_versions(body("m = a()\nm = b()\n"), body("m = a()\nm = b()\n"), keep={"m"}) == {}


def test_versions_in_stage_order_are_joined_and_the_rest_renamed_with_the_last_keeping_the_name() -> None:
    statements = body("m = a()\nuse(m)\nm = b()\nuse(m)\nm = c()\nuse(m)\n")
    versions = vs.find_versions(statements, statements)
    stage_of = {0: 2, 1: 3, 2: 2, 3: 3, 4: 3, 5: 3}
    merged, joins = vs.merge_in_order(versions, stage_of)
    assert merged == {"m": [[0, 1], [2, 3, 4, 5]]} and joins == [("m", 1)]
    assert vs.merge_in_order(versions, stage_of, apart={("m", 1)}) == ({"m": [[0, 1], [2, 3], [4, 5]]}, [])
    assert vs.rename_versions(statements, merged, used={"m", "m_1"}) == {"m": ["m_1_"]}
    assert ast.unparse(ast.Module(statements, [])).split("\n") == [
        "m_1_ = a()", "use(m_1_)", "m = b()", "use(m)", "m = c()", "use(m)"]
    assert getattr(statements[0], vs.RENAMED) == {"m": "m_1_"}
    vs.revert(statements)
    assert ast.unparse(statements[0]) == "m = a()" and not hasattr(statements[0], vs.RENAMED)


def test_a_join_is_out_of_force_when_a_statement_of_the_earlier_version_ends_in_a_later_stage() -> None:
    # m = a(); show(m) revived in evaluate (3); m = b() in train (2): one name would show b's m
    versions = {"m": [[0, 1], [2, 3], [4, 5]]}
    stage_of: dict[int, float] = {0: 2, 1: 3, 2: 2, 3: 2, 4: 2, 5: 2}
    assert vs.out_of_force(versions, [("m", 0), ("m", 1)], stage_of) == [("m", 0)]
    assert vs.out_of_force(versions, [("m", 1)], stage_of) == []  # already apart: nothing mixes
    assert vs.out_of_force(versions, [("m", 0), ("m", 1)], {**stage_of, 1: 2}) == []
    # read once every stage has run (5) while the next version is bound in export
    assert vs.out_of_force({"r": [[0, 1], [2]]}, [("r", 0)], {0: 3, 1: 5, 2: 4}) == [("r", 0)]
