"""Does ``run()`` compute what the notebook computed, on notebooks we did not write?

For each notebook given (default: every ``*.ipynb`` of the directory named by ``--corpus``), in a
temporary directory:

1. convert it in a fresh ``mlpack init`` project (the library API, as ``mlpack convert`` does);
2. call ``run()`` of the generated module in a new interpreter, from an empty project root (plus,
   in its ``notebooks/``, the files next to the notebook, when ``--with-inputs``), and keep what it returned;
3. execute the notebook itself with nbclient in a working directory holding those files, with a
   last cell that pickles the notebook's values of the names ``run()`` returned;
4. compare, name by name, exactly (arrays by value and dtype, pandas objects by ``equals``).

It prints one line per notebook: ``converted, same results (N)``, ``different (names)``,
``refused (why)``, ``run() failed (why)`` or ``notebook does not run here (why)``, and a last line
that sums up. ``--warnings`` also prints what convert reported. Nothing is timed: this measures
fidelity, not speed.

Usage: ``python benchmarks/corpus_fidelity.py [--corpus DIR] [--with-inputs] [--warnings]
[--allow-errors] [NOTEBOOK ...]``
"""

from __future__ import annotations

import argparse
import ast
import math
import numbers
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

PACKAGE = "fidelity"
CELL_TIMEOUT = 120
RUN_TIMEOUT = 300

RUNNER = '''
import pickle, sys
from {package}.{module} import run

def portable(value):
    try:
        pickle.dumps(value)
        return value
    except Exception:
        return ("<unpicklable>", type(value).__qualname__)

value = run()
if isinstance(value, dict):
    payload = ("dict", {{key: portable(item) for key, item in value.items()}})
else:
    payload = ("other", type(value).__qualname__, repr(value)[:200])
with open(sys.argv[1], "wb") as stream:
    pickle.dump(payload, stream)
'''

PROBE = '''
import pickle as _fidelity_pickle
def _fidelity_portable(value):
    try:
        _fidelity_pickle.dumps(value)
        return value
    except Exception:
        return ("<unpicklable>", type(value).__qualname__)
with open({out!r}, "wb") as _fidelity_file:
    _fidelity_pickle.dump({{_n: _fidelity_portable(globals()[_n]) for _n in {names!r} if _n in globals()}},
                          _fidelity_file)
'''


class _Foreign:
    """An object of a class this process cannot import (the generated package's, a class the
    notebook defined): kept as an opaque record, which compares by identity (not compared)."""


class _Loader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (_Foreign,), {"__module__": module})


def same(expected: Any, actual: Any) -> bool:
    """Exact equality, numpy arrays by value and dtype, pandas objects by ``equals``; NaN is NaN."""
    import numpy as np

    try:
        import pandas as pd
        frames: tuple[type, ...] = (pd.DataFrame, pd.Series, pd.Index)
    except ImportError:  # pragma: no cover - pandas is in the test extra
        frames = ()
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        return (isinstance(expected, np.ndarray) and isinstance(actual, np.ndarray)
                and expected.dtype == actual.dtype
                and bool(np.array_equal(expected, actual, equal_nan=expected.dtype.kind in "fc")))
    if frames and isinstance(expected, frames):
        return type(expected) is type(actual) and bool(expected.equals(actual))
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(same(expected[k], actual[k]) for k in expected))
    if isinstance(expected, (list, tuple)):
        return (type(expected) is type(actual) and len(expected) == len(actual)
                and all(same(a, b) for a, b in zip(expected, actual)))
    if isinstance(expected, numbers.Number) and isinstance(actual, numbers.Number):
        both_nan = all(isinstance(v, numbers.Real) and math.isnan(v) for v in (expected, actual))
        return both_nan or bool(expected == actual)
    try:
        return bool(expected == actual)
    except Exception:
        return False


def comparable(value: Any) -> bool:
    """False for what compares by identity (a fitted model, a list of them): no value to compare."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(comparable(item) for item in value)
    if isinstance(value, dict):
        return all(comparable(item) for item in value.values())
    return type(value).__eq__ is not object.__eq__


def _lay_out(notebook: Path, directory: Path, with_inputs: bool) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if not with_inputs:
        return
    for item in notebook.parent.iterdir():
        if item.suffix == ".ipynb" or item.name.startswith("."):
            continue
        target = directory / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            shutil.copyfile(item, target)


def convert(notebook: Path, root: Path) -> tuple[str | None, str, list[str]]:
    """(module or None, the refusal when None, convert's warnings). The module is
    ``root/src/{PACKAGE}/<module>.py``."""
    from mlpack_cli.commands.convert import ConvertSettings, convert_project, module_name
    from mlpack_cli.commands.init import InitSettings, init_project

    init_project(InitSettings(path=root, name=PACKAGE, ci="none"))
    (root / "notebooks").mkdir(exist_ok=True)
    shutil.copyfile(notebook, root / "notebooks" / notebook.name)
    result = convert_project(ConvertSettings(root=root, paths=[root / "notebooks" / notebook.name]))
    (report,) = result.reports
    if not report.ok:
        return None, f"{report.error} ({report.hint})", report.warnings
    return module_name(notebook), "", report.warnings


def call_run(root: Path, module: str, workdir: Path, out: Path) -> tuple[Any, ...] | str:
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run([sys.executable, "-c", RUNNER.format(package=PACKAGE, module=module), str(out)],
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"no return within {RUN_TIMEOUT} s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no output)"]
        return lines[-1]
    with out.open("rb") as stream:
        return tuple(_Loader(stream).load())


_CELL_COMMENT = re.compile(r"^\s*# notebook cell (\d+)\s*$")


def named_cells(module: Path, names: Collection[str]) -> dict[str, int]:
    """The notebook cell (as the module's ``# notebook cell N`` comments number them) of the
    statement that binds each of ``names`` in the generated module: where convert computes a
    value the notebook only printed or displayed."""
    lines = module.read_text(encoding="utf-8").splitlines()
    cell_at: list[int | None] = []
    current: int | None = None
    for line in lines:
        found = _CELL_COMMENT.match(line)
        if found:
            current = int(found.group(1))
        cell_at.append(current)
    cells: dict[str, int] = {}
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            where = cell_at[node.lineno - 1]
            if name in names and where is not None:
                cells.setdefault(name, where)
    return cells


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def shows(value: Any, text: str) -> bool:
    """Whether ``text`` (what a cell printed or displayed) shows ``value``: its ``str`` or ``repr``,
    or, for a number, a number in the text that is the value rounded as printed (``0.9561`` of
    ``{acc:.4f}``, also as a percentage)."""
    if isinstance(value, dict):  # every pass of a loop (``acc_by_name``): each value shown
        return bool(value) and all(shows(v, text) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(shows(v, text) for v in value)
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return str(value) in text or repr(value) in text
    for found in _NUMBER.findall(text):  # (a number is read whole: 3 is not shown by "13")
        digits = len(found.split(".")[1].split("e")[0].split("E")[0]) if "." in found else 0
        tolerance = 0.5 * 10 ** -digits + 1e-12
        if any(abs(float(found) - v) <= tolerance for v in (float(value), 100 * float(value))):
            return True
    return False


def by_text(value: Any) -> bool:
    """Whether a printed text can show ``value``: a number or string, or a dict or list of them."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return all(isinstance(v, (numbers.Real, str)) for v in items)


def versioned(name: str, source: str) -> bool:
    """Whether ``name`` is convert's name for an earlier version of a notebook name (``df_1`` for
    the first ``df``): the cell ``source`` binds the name without its number. Such a value is not
    what the cell shows (it may show a view of it, or nothing)."""
    found = re.fullmatch(r"(\w+?)_\d+", name)
    if found is None:
        return False
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == found.group(1)
               for n in ast.walk(tree))


def execute(notebook: Path, workdir: Path, names: list[str], out: Path,
            allow_errors: bool = False, outputs: dict[int, tuple[str, str]] | None = None) -> dict[str, Any] | str:
    """Run the notebook and return its values of ``names``; ``outputs`` gets the text each cell
    printed or displayed and its source, by cell number (1-based, as convert numbers cells)."""
    import nbclient
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE.format(out=str(out), names=names)))
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["MPLBACKEND"] = "Agg"
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT, allow_errors=allow_errors,
                                     startup_timeout=60, resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    except Exception as failed:  # CellExecutionError names the cell
        text = str(failed).strip().splitlines()
        return text[-1] if text else type(failed).__name__
    if outputs is not None:
        for number, cell in enumerate(nb.cells, start=1):
            texts = [o.get("text", "") if o.get("output_type") == "stream"
                     else o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]
            outputs[number] = ("\n".join(t if isinstance(t, str) else "".join(t) for t in texts), cell.source)
    with out.open("rb") as stream:
        values: dict[str, Any] = _Loader(stream).load()
    return values


def check(notebook: Path, with_inputs: bool, allow_errors: bool = False) -> tuple[str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="fidelity-") as scratch:
        base = Path(scratch)
        module, refusal, warnings = convert(notebook, base / "project")
        if module is None:
            return f"refused ({refusal})", warnings
        # run() runs from the project root, where its paths are re-based from notebooks/: the
        # notebook's inputs sit in notebooks/ of its working directory
        (base / "run").mkdir()
        _lay_out(notebook, base / "run" / "notebooks", with_inputs)
        returned = call_run(base / "project", module, base / "run", base / "run.pkl")
        if isinstance(returned, str):
            return f"run() failed ({returned})", warnings
        if returned[0] != "dict":
            names: list[str] = []
        else:
            names = sorted(returned[1])
        _lay_out(notebook, base / "nb", with_inputs)
        outputs: dict[int, tuple[str, str]] = {}
        expected = execute(notebook, base / "nb", names, base / "nb.pkl", allow_errors, outputs)
        if isinstance(expected, str):
            return f"notebook does not run here ({expected})", warnings
        if returned[0] != "dict":
            return f"converted, run() returned {returned[1]} (no results to compare)", warnings
        actual = returned[1]
        # an object that compares by identity (a fitted model) cannot be compared across processes
        names = [n for n in names if n not in expected or comparable(expected[n])]
        # a value the notebook only printed or displayed, named by convert (`accuracy_score(...)` ->
        # accuracy), has no notebook value: it is compared with the output of its cell
        named = [n for n in names if n not in expected]
        compared = [n for n in names if n in expected]
        differ = [n for n in compared if not same(expected[n], actual[n])]
        found = named_cells(base / "project" / "src" / PACKAGE / f"{module}.py", named)
        # (a version of a notebook name, or a cell that shows nothing: no output to compare with)
        cells = {n: c for n, c in found.items() if outputs.get(c, ("", ""))[0].strip()
                 and not versioned(n, outputs[c][1])}
        # (every pass's value of something a loop printed otherwise, such as an array's mean: no text to compare)
        cells = {n: c for n, c in cells.items() if by_text(actual[n])}
        shown = [n for n in named if n in cells and shows(actual[n], outputs[cells[n]][0])]
        differ += [f"{n} (shown in cell {cells[n]})" for n in named if n in cells and n not in shown]
        unchecked = [n for n in named if n not in cells]
        extra = f"; named by convert, as shown: {', '.join(shown)}" if shown else ""
        extra += f"; not compared: {', '.join(unchecked)}" if unchecked else ""
        if differ:
            return f"different ({', '.join(differ)}{extra})", warnings
        return f"converted, same results ({len(compared)}: {', '.join(compared)}{extra})", warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--with-inputs", action="store_true", help="copy the files next to the notebook")
    parser.add_argument("--warnings", action="store_true", help="print what convert reported")
    parser.add_argument("--allow-errors", action="store_true",
                        help="run the notebook past cells that fail here (a missing renderer, say)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(args.corpus.glob("*.ipynb"))
    tally: dict[str, int] = {}
    for notebook in notebooks:
        outcome, warnings = check(notebook.resolve(), args.with_inputs, args.allow_errors)
        kind = outcome.split(" (")[0].split(",")[0]
        tally[kind] = tally.get(kind, 0) + 1
        print(f"{notebook.name}: {outcome}", flush=True)
        if args.warnings:
            for line in warnings:
                print(f"    warning: {line}")
    print("; ".join(f"{kind}: {count}" for kind, count in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
