"""Convert a directory of notebooks with mlpack and with `jupyter nbconvert --to script`; compare.

Usage: python benchmarks/convert_vs_nbconvert.py [CORPUS_DIR] [--profile | --instructions]
(default: the nearest shared/corpus above the checkout, ../shared/corpus first)

``--profile``: after the timed runs, one more mlpack conversion of the directory under cProfile, and
the functions that took the most time in it (cumulative), to see where the time goes.

``--instructions``: instead of wall times, the instructions each tool executes for one warm
conversion of the directory, counted by valgrind's callgrind (the tool's imports and a first,
warming conversion are not counted), and their ratio. Counts repeat to a fraction of a percent
whatever else the machine is doing, where wall times on a shared machine vary by a fifth; each
tool takes a few minutes under valgrind.

Prints, for mlpack convert: notebooks converted, rejected (by reason), crashes (must be 0),
generated files that fail ast.parse or flake8 (must be 0); then the wall time of both tools on the
same notebooks in this one process and their ratio. The crash count converts notebook by notebook;
the timing converts the directory in one call, as `mlpack convert` does.

How the timing is kept fair:

- both tools are warm: every import is done, and each tool's per-process state is built before
  the clock starts (mlpack caches its template environment and IPython's input transformer per
  process; nbconvert's exporter is made once and reused), so neither pays a start-up the other
  does not;
- both do the whole job in memory and write nothing (mlpack's dry run plans its files; nbconvert's
  exporter returns the script), on the same files, including those mlpack rejects;
- the runs alternate (mlpack, nbconvert, mlpack, ...) and each tool's fastest run counts, so a
  busy machine slows both alike.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.errors import MlpackError

ROOT = Path(__file__).resolve().parents[1]


def default_corpus() -> Path:
    """The nearest ``shared/corpus`` directory above the checkout (``../shared/corpus`` first)."""
    for parent in ROOT.parents:
        if (parent / "shared" / "corpus").is_dir():
            return parent / "shared" / "corpus"
    return ROOT.parent / "shared" / "corpus"


RUNS = 5
PYPROJECT = '[project]\nname = "bench"\nversion = "0.1.0"\n\n[tool.mlpack]\npackage = "bench"\n'


def make_project(directory: Path, notebooks: list[Path]) -> None:
    (directory / "notebooks").mkdir(parents=True)
    (directory / "pyproject.toml").write_text(PYPROJECT)
    (directory / ".flake8").write_text("[flake8]\nmax-line-length = 100\n")
    for notebook in notebooks:
        shutil.copy(notebook, directory / "notebooks" / notebook.name)


def run_mlpack(project: Path, notebooks: list[Path]) -> tuple[list[tuple[str, str]], list[str]]:
    """(notebook, rejection reason) for rejected ones, and the notebooks that crashed."""
    rejected: list[tuple[str, str]] = []
    crashed: list[str] = []
    for notebook in notebooks:
        settings = ConvertSettings(root=project, paths=[project / "notebooks" / notebook.name])
        try:
            result = convert_project(settings)
        except MlpackError as error:
            rejected.append((notebook.name, error.message))
            continue
        except Exception:  # a crash is what this benchmark exists to catch
            crashed.append(notebook.name)
            traceback.print_exc()
            continue
        rejected.extend((notebook.name, report.error or "") for report in result.failed)
    return rejected, crashed


def run_nbconvert(notebooks: list[Path], exporter: Any) -> None:
    for notebook in notebooks:
        try:
            exporter.from_filename(str(notebook))
        except Exception:  # nbconvert rejects what is not a notebook; it still spent the time
            pass


def fastest(runs: int, *actions: Callable[[], object]) -> list[float]:
    """The fastest of ``runs`` wall times of each action, the actions taking turns."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, spent in zip(actions, times):
            started = time.perf_counter()
            action()
            spent.append(time.perf_counter() - started)
    return [min(spent) for spent in times]


def reason_kind(message: str) -> str:
    text = re.sub(r"^[^:]+\.ipynb: ", "", message)
    text = re.sub(r"cell \d+, line \d+: ", "", text)
    return re.sub(r"\s*\(.*", "", text.split(":")[0])[:70]


def profile(settings: ConvertSettings, top: int = 30) -> str:
    """One more conversion under cProfile (not timed): its most expensive functions, as text."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(convert_project, settings)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    return f"profile of one mlpack convert (cumulative time, top {top}):\n{out.getvalue().strip()}"


def count_one(tool: str, corpus: Path) -> None:
    """Run under callgrind by :func:`instructions`: one warm conversion by ``tool``, counted."""
    notebooks = sorted(corpus.glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        make_project(project, notebooks)
        settings = ConvertSettings(root=project, paths=[project / "notebooks"], dry_run=True)
        exporter = None
        if tool == "nbconvert":
            from nbconvert import PythonExporter

            exporter = PythonExporter()

        def convert() -> None:
            if exporter is None:
                convert_project(settings)
            else:
                run_nbconvert(notebooks, exporter)

        convert()  # imports and per-process state, not counted
        pid = str(os.getpid())
        subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=True)
        convert()
        subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=True)


def instructions(corpus: Path) -> int:
    """Each tool's instructions for one warm conversion of ``corpus`` and their ratio."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("--instructions needs valgrind (Debian: apt-get install valgrind)")
        return 2
    counts = {}
    for tool in ("mlpack", "nbconvert"):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
             sys.executable, __file__, "--count-one", tool, str(corpus)],
            capture_output=True, text=True, check=False,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode or not found:
            print(f"{tool}: callgrind did not count (exit {done.returncode}):\n{done.stderr[-2000:]}")
            return 1
        counts[tool] = int(found.group(1))
        print(f"{'mlpack convert:' if tool == 'mlpack' else 'nbconvert --to script:':22s} "
              f"{counts[tool] / 1e6:,.0f} M instructions")
    print(f"ratio mlpack/nbconvert: {counts['mlpack'] / counts['nbconvert']:.2f} (target: at most 1.00)")
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--count-one"]:
        count_one(sys.argv[2], Path(sys.argv[3]))
        return 0
    arguments = [a for a in sys.argv[1:] if a not in {"--profile", "--instructions"}]
    profiling = "--profile" in sys.argv[1:]
    corpus = Path(arguments[0]) if arguments else default_corpus()
    notebooks = sorted(corpus.glob("*.ipynb"))
    if not notebooks:
        print(f"no notebooks in {corpus}")
        return 2
    if "--instructions" in sys.argv[1:]:
        return instructions(corpus)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        make_project(project, notebooks)
        rejected, crashed = run_mlpack(project, notebooks)  # also warms up every import
        from nbconvert import PythonExporter

        exporter = PythonExporter()
        run_nbconvert(notebooks, exporter)
        generated = sorted((project / "src" / "bench").glob("*.py")) + sorted((project / "tests").glob("*.py"))
        unparsable = []
        for path in generated:
            try:
                ast.parse(path.read_text(encoding="utf-8"))
            except SyntaxError:
                unparsable.append(path.name)
        flake8 = subprocess.run(
            [sys.executable, "-m", "flake8", "--config", str(project / ".flake8"), *map(str, generated)],
            capture_output=True, text=True, check=False,
        ) if generated else None
        failing = sorted({line.split(":")[0] for line in (flake8.stdout if flake8 else "").splitlines() if line})

        # timed as users run it: one `mlpack convert` over the directory (dry run: like nbconvert's
        # exporter, it computes everything and writes nothing); a notebook that crashes mlpack would
        # stop that one call, so both tools are timed without the crashing ones
        timed = [notebook for notebook in notebooks if notebook.name not in crashed]
        timed_project = project
        if crashed:
            timed_project = Path(tmp) / "timed"
            make_project(timed_project, timed)
        everything = ConvertSettings(root=timed_project, paths=[timed_project / "notebooks"], dry_run=True)
        mlpack_seconds, nbconvert_seconds = fastest(
            RUNS, lambda: convert_project(everything), lambda: run_nbconvert(timed, exporter)
        ) if timed else (0.0, 0.0)
        profiled = profile(everything) if profiling and timed else ""

    converted = len(notebooks) - len(rejected) - len(crashed)
    print(f"notebooks:            {len(notebooks)} in {corpus}")
    print(f"converted:            {converted}")
    print(f"rejected:             {len(rejected)}")
    for reason, count in sorted(Counter(reason_kind(m) for _, m in rejected).items()):
        print(f"  {count} x {reason}")
    for name, message in rejected:
        print(f"    {name}: {message[:150]}")
    print(f"crashes:              {len(crashed)} {' '.join(crashed)}")
    print(f"generated files:      {len(generated)}")
    print(f"failing ast.parse:    {len(unparsable)} {' '.join(unparsable)}")
    print(f"failing flake8:       {len(failing)}")
    if flake8 and flake8.stdout:
        print(flake8.stdout[:3000])
    if crashed:
        print(f"timed on:             {len(timed)} notebooks (the {len(crashed)} that crash mlpack left out of both)")
    if not timed or not nbconvert_seconds:
        print("timing:               nothing to time")
        return 1
    print(f"mlpack convert:       {mlpack_seconds:.3f} s (best of {RUNS})")
    print(f"nbconvert --to script: {nbconvert_seconds:.3f} s (best of {RUNS})")
    print(f"ratio mlpack/nbconvert: {mlpack_seconds / nbconvert_seconds:.2f} (target: at most 1.00)")
    if profiled:
        print(profiled)
    return 1 if crashed or unparsable or failing else 0


if __name__ == "__main__":
    sys.exit(main())
