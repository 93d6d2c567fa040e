"""Commented-out code: a cell of comments that are disabled code is not part of ``run()``.

A cell of comments only is usually prose about the code after it, and is kept with that code. But
``# url = '...'``, ``# !curl -O {url}/data.csv`` or ``# step_2.hint()`` is code the author switched
off: it does not run in the notebook, so it has no place in the pipeline either.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings

_MAGIC = re.compile(r"[!%]{1,2}[A-Za-z_]")  # a shell line or a magic, commented out
_LONGEST = 30  # lines one commented-out statement may span


def comment_texts(code: str) -> list[str]:
    """The text after ``#`` of each non-blank comment line of a cell (other lines are skipped)."""
    texts = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#") and stripped.lstrip("#").strip():
            texts.append(stripped.lstrip("#"))
    return texts


def _parsed(lines: list[str]) -> ast.Module | None:
    with warnings.catch_warnings():  # "invalid escape sequence" and the like: prose, not an error
        warnings.simplefilter("ignore")
        try:
            return ast.parse(textwrap.dedent("\n".join(lines)))
        except (SyntaxError, ValueError):
            return None


def _is_code(tree: ast.Module) -> bool:
    """More than a bare word or literal: ``# TODO`` and ``# (it overfits)`` parse, but are prose; so
    does ``# Note: this is slow`` (an annotation without a value, which disabled code hardly is)."""
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Constant))
                    or isinstance(node, ast.AnnAssign) and node.value is None)
               for node in tree.body)


def code_lines(texts: list[str]) -> int:
    """How many of the comment texts are code: each run of lines is taken as the shortest that
    parses from its first line (so a call spread over lines counts whole), a line that starts
    a run that never parses is prose."""
    count, index = 0, 0
    while index < len(texts):
        if _MAGIC.match(texts[index].strip()):
            count, index = count + 1, index + 1
            continue
        for end in range(index + 1, min(len(texts), index + _LONGEST) + 1):
            tree = _parsed(texts[index:end])
            if tree is not None:
                if _is_code(tree):
                    count += end - index
                index = end
                break
        else:
            index += 1
    return count


def is_commented_out_code(code: str) -> bool:
    """Whether a cell of comments only is disabled code: some of its comment lines are code, and
    they are at least as many as its prose lines (``# The lines below show the solution.`` above
    ``# step_1.solution()`` introduces only that code)."""
    texts = comment_texts(code)
    found = code_lines(texts)
    return found > 0 and 2 * found >= len(texts)
