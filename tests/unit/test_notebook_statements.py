"""Walking statements: every statement ast.walk finds, in every kind of block, and nothing else."""

from __future__ import annotations

import ast
import sys

from mlpack_cli.notebook.statements import drop_nested, walk_statements

CODE = '''
import a
class C:
    def f(self):
        try:
            import b
        except ValueError:
            import c
        else:
            import d
        finally:
            import e
for i in range(2):
    import f
else:
    with open("x") as handle:
        import g
while False:
    pass
else:
    import h
match 1:
    case 1:
        if True:
            import i
        else:
            import j
try:
    pass
except* OSError:
    import k
async def g():
    async with x:
        async for y in z:
            import m
lambda: (yield)
'''
if sys.version_info < (3, 11):  # except* (a TryStar block) is Python 3.11 syntax
    CODE = CODE.replace("except* OSError", "except OSError")


def test_every_statement_ast_walk_finds_once_in_source_order() -> None:
    tree = ast.parse(CODE)
    expected = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    found = list(walk_statements(tree))
    assert found[0] is tree
    assert sorted(map(id, found[1:])) == sorted(map(id, expected))
    imports = [node.names[0].name for node in found if isinstance(node, ast.Import)]
    assert imports == list("abcdefghijkm")


def test_dropping_nested_statements_empties_blocks_to_pass_everywhere() -> None:
    code = ("for k in ks:\n    fit(k)\n    plot(k)\nelse:\n    plot(0)\n"
            "try:\n    plot(1)\nexcept OSError:\n    plot(2)\n    fit(2)\nfinally:\n    plot(3)\n")
    tree = ast.parse(code)
    drop_nested(tree, lambda s: "plot(" in ast.unparse(s) and not hasattr(s, "body"))
    assert ast.unparse(tree) == ("for k in ks:\n    fit(k)\nelse:\n    pass\n"
                                 "try:\n    pass\nexcept OSError:\n    fit(2)\nfinally:\n    pass")


def test_dropping_nested_statements_never_drops_the_statement_itself() -> None:
    tree = ast.parse("plot(0)").body[0]
    drop_nested(tree, lambda s: True)
    assert ast.unparse(tree) == "plot(0)"
