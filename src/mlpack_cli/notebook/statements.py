"""Walking the statements of a syntax tree, not its expressions, and removing some of them.

A statement is only ever in a block of another statement (a body, an ``else``, a ``finally``, an
``except`` or ``case`` clause), never inside an expression, so what looks for statements (imports,
the checks a moved secret leaves) need not visit the many more expression nodes ``ast.walk`` does.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator


def walk_statements(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and every statement nested in it, parents before children, in source order."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        parts = [*(getattr(current, "handlers", None) or []), *(getattr(current, "cases", None) or [])]
        blocks = [getattr(current, "body", None), *(part.body for part in parts),
                  getattr(current, "orelse", None), getattr(current, "finalbody", None)]
        for block in reversed(blocks):
            if isinstance(block, list):
                pending.extend(reversed([s for s in block if isinstance(s, ast.stmt)]))


def drop_nested(node: ast.AST, doomed: Callable[[ast.stmt], bool]) -> None:
    """Remove, in place, the statements nested in ``node`` for which ``doomed`` holds; a block left
    empty holds ``pass``, as the text of the statement does once its lines are deleted."""
    for current in list(walk_statements(node)):
        for holder in [current, *(getattr(current, "handlers", None) or []), *(getattr(current, "cases", None) or [])]:
            for name in ("body", "orelse", "finalbody"):
                block = getattr(holder, name, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    kept = [s for s in block if not doomed(s)]
                    if len(kept) != len(block):
                        block[:] = kept or [ast.Pass()]
