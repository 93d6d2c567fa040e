"""Does every comment of the code that convert keeps reach the generated module?

For each notebook given (default: every ``*.ipynb`` of the shared corpus, as
``convert_vs_nbconvert.py`` finds it), converted in a fresh project (dry run: nothing is written):

- the comments of each code cell are found with ``tokenize`` (magic and shell lines blanked out
  first, so line numbers stay those of the cell);
- a comment belongs to the top-level statement (or magic line) that holds it, else to the first one
  below it (a comment above a statement), else to the cell's last one;
- a statement counts as kept when its first line, without its inline comment, is a line of the
  module and convert's report does not list it as dropped; then the comment's text must appear
  in the module. The comments of a statement that is not
  in the module, or that convert rewrote on its first line (a renamed name, a path parameter), count
  as "in dropped code": this check cannot follow them. ``# mlpack:`` directives are instructions to
  convert, not comments to keep.

Prints each lost comment (notebook, cell, line, text) and a summary line; exits 1 when a comment was
lost. Cells that do not parse as Python 3 (Python 2 code before its fixes) are counted as unchecked.

Usage: ``python benchmarks/comments_kept.py [NOTEBOOK_OR_DIR ...]``
"""

from __future__ import annotations

import ast
import io
import sys
import tempfile
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.warnings import MissingIDFieldWarning

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.errors import MlpackError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_vs_nbconvert import default_corpus, make_project  # noqa: E402

DIRECTIVE = "# mlpack:"


@dataclass
class Tally:
    kept: int = 0  # comments of kept statements, found in the module
    lost: list[str] = field(default_factory=list)  # "notebook: cell N, line L: text"
    dropped: int = 0  # comments of statements not found in the module
    unchecked_cells: int = 0


def _blanked(source: str) -> str:
    """The cell's source with IPython magic and shell lines blanked: line numbers stay the cell's."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return "\n".join(lines) + "\n"


def comments(source: str) -> list[tuple[int, str]] | None:
    """(line, text) of each comment in a cell's source; None when tokenize cannot read it."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(_blanked(source)).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return [(token.start[0], token.string.strip()) for token in tokens
            if token.type == tokenize.COMMENT and not token.string.startswith(DIRECTIVE)]


def statements(source: str) -> list[tuple[int, int, str]] | None:
    """(first line, last line, first line's text) of each top-level statement, and of each magic or
    shell line (a comment above one is about it); None if the cell does not parse."""
    try:
        tree = ast.parse(_blanked(source))
    except SyntaxError:
        return None
    lines = source.splitlines()
    found = [(node.lineno, node.end_lineno or node.lineno, lines[node.lineno - 1].strip()) for node in tree.body]
    found += [(number, number, line.strip()) for number, line in enumerate(lines, start=1)
              if line.lstrip().startswith(("%", "!"))]
    return sorted(found)


def _code(line: str) -> str:
    """A line without its inline comment (cut at the first ``#``, the same way on both sides)."""
    return line.split("#")[0].strip()


def owner(line: int, found: list[tuple[int, int, str]]) -> tuple[int, int, str] | None:
    """The statement a comment on ``line`` belongs to: the one holding it, else the next one below,
    else the last one (a comment at the end of the cell)."""
    for statement in found:
        if statement[0] <= line <= statement[1]:
            return statement
    below = [statement for statement in found if statement[0] > line]
    return below[0] if below else (found[-1] if found else None)


def check(notebook: Path, module_text: str, tally: Tally,
          dropped: dict[int, list[tuple[int, int]]] | None = None) -> None:
    """Tally the comments of a notebook's code cells against the module convert made of it;
    ``dropped``: cell number -> the line ranges convert's report says it dropped (a statement whose
    first line is a common one, ``try:``, is not kept because some other line reads the same)."""
    module_lines = {_code(line) for line in module_text.splitlines()}
    dropped = dropped or {}
    with warnings.catch_warnings():  # notebooks without cell ids: nbformat fills them in, and says so
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        cells = nbformat.read(str(notebook), as_version=4).cells
    for number, cell in enumerate(cells, start=1):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        found, parsed = comments(cell.source), statements(cell.source)
        if found is None or parsed is None:
            tally.unchecked_cells += 1
            continue
        for line, text in found:
            statement = owner(line, parsed)
            if statement is None or _code(statement[2]) not in module_lines or any(
                    first <= statement[0] <= last for first, last in dropped.get(number, [])):
                tally.dropped += 1  # its statement is not in the module: gone with it
            elif text in module_text:
                tally.kept += 1
            else:
                tally.lost.append(f"{notebook.name}: cell {number}, line {line}: {text}")


def measure(notebooks: list[Path]) -> Tally:
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        make_project(project, notebooks)
        for notebook in notebooks:
            copy = project / "notebooks" / notebook.name
            try:
                result = convert_project(ConvertSettings(root=project, paths=[copy], dry_run=True))
            except MlpackError:
                continue  # refused: no module, so no comment to keep
            modules = {entry.path.name: (entry.content or b"").decode() for entry in result.plan.entries}
            for report in result.reports:
                if report.ok and report.module:
                    text = modules.get(f"{report.module}.py", "")
                    dropped: dict[int, list[tuple[int, int]]] = {}
                    for cell in report.cells:
                        if cell.stage == "dropped":
                            dropped.setdefault(cell.cell, []).append(
                                (cell.lines[0], cell.lines[-1]) if cell.lines else (1, sys.maxsize))
                    check(copy, text, tally, dropped)
    return tally


def main(arguments: list[str]) -> int:
    paths = [Path(argument) for argument in arguments] or [default_corpus()]
    notebooks = sorted(n for p in paths for n in ([p] if p.is_file() else p.glob("*.ipynb")))
    tally = measure(notebooks)
    for lost in tally.lost:
        print(f"lost: {lost}")
    print(f"comments in kept code: {tally.kept + len(tally.lost)}, in the modules: {tally.kept}, "
          f"lost: {len(tally.lost)}; in dropped code: {tally.dropped}; "
          f"cells not checked (not tokenizable): {tally.unchecked_cells}; notebooks: {len(notebooks)}")
    return 1 if tally.lost else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
