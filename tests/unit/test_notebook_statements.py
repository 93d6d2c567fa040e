"""Walking statements: every statement ast.walk finds, in every kind of block, and nothing else."""

from __future__ import annotations

import ast
import sys

from mlpack_cli.notebook.statements import walk_statements

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
