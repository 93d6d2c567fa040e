"""Differential: ``run()`` of a converted notebook computes what the notebook computed.

For each notebook in tests/fixtures/differential/, the ORIGINAL notebook is executed in a Jupyter
kernel (nbclient) in a working directory holding its inputs; a cell appended to that executed copy
pickles the values of the result names its ``metadata.mlpack_test`` lists. The notebook is then
converted with ``mlpack convert`` in a fresh ``mlpack init`` project, and ``run()`` of the generated
module is called in a fresh interpreter, in a fresh working directory laid out the same way; its
return value is pickled too. Then:

- ``run()`` returns a dict holding every expected name, each value EXACTLY the notebook's value
  (the kernel and the subprocess run the same interpreter and libraries and the same code in the
  same order, with fixed seeds, so floats agree to the last bit; arrays by ``array_equal`` and
  dtype, pandas objects by ``equals``);
- every file the notebook wrote (``files``) is written by ``run()`` byte for byte; the plots the
  notebook saved (``figures``) are not written by ``run()``, which drops plotting; and ``run()``
  writes nothing else the notebook did not write.

A failure names the notebook and lists every difference, one a line, the first line first.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "differential"
NOTEBOOKS = sorted(FIXTURES.glob("*.ipynb"))
PACKAGE = "diffproj"
CELL_TIMEOUT = 60  # seconds per cell; a fixture notebook takes a few seconds in all
RUN_TIMEOUT = 120
IGNORED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class Spec:
    """What ``metadata.mlpack_test`` of a fixture notebook promises (see make_fixtures.py)."""

    notebook: Path
    executed: Path  # the notebook to execute: itself, or its Python 3 twin
    results: tuple[str, ...]
    files: frozenset[str]
    figures: frozenset[str]
    scratch: frozenset[str]
    inputs: tuple[str, ...]
    warns: tuple[str, ...] = ()  # what convert's report must say about the notebook
    refuses: tuple[str, ...] = ()  # convert must refuse it, saying these (then nothing is compared)
    # run()'s keys for values the notebook only printed or displayed (no name of the notebook holds
    # them at its end), each with the id of the cell whose output shows that value
    shown: tuple[tuple[str, str], ...] = ()
    folder: str = ""  # where in the project the notebook sits ("": the root, where run() runs)

    @classmethod
    def of(cls, path: Path) -> Spec:
        import nbformat

        test = nbformat.read(path, as_version=4).metadata.get("mlpack_test", {})
        assert test.get("results"), f"{path.name}: metadata.mlpack_test.results names nothing to compare"
        return cls(
            notebook=path,
            executed=FIXTURES / test.get("execute", path.name),
            results=tuple(test["results"]),
            files=frozenset(test.get("files", ())),
            figures=frozenset(test.get("figures", ())),
            scratch=frozenset(test.get("scratch", ())),
            inputs=tuple(test.get("inputs", ())),
            warns=tuple(test.get("warns", ())),
            refuses=tuple(test.get("refuses", ())),
            shown=tuple(test.get("shown", {}).items()),
            folder=test.get("folder", ""),
        )

    @property
    def name(self) -> str:
        return self.notebook.stem


def _lay_out(spec: Spec, directory: Path) -> None:
    """A working directory as the notebook expects it: its input files and folders, nothing else."""
    directory.mkdir(parents=True, exist_ok=True)
    for relpath in spec.inputs:  # (below the notebook's folder: kept in this directory without it)
        source = FIXTURES / relpath.removeprefix(f"{spec.folder}/" if spec.folder else "")
        target = directory / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*IGNORED_PARTS))
        else:
            shutil.copyfile(source, target)


def _files(directory: Path) -> dict[str, bytes]:
    """Every file below ``directory`` (relative POSIX path -> bytes), caches left out."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not IGNORED_PARTS.intersection(path.relative_to(directory).parts)
    }


def _probe(names: tuple[str, ...], out: Path) -> str:
    """The cell appended to the executed notebook: pickle the result values and the kernel's prefix."""
    return (
        "import pickle as _differential_pickle, sys as _differential_sys\n"
        f"with open({str(out)!r}, 'wb') as _differential_file:\n"
        "    _differential_pickle.dump(\n"
        f"        ({{_n: globals()[_n] for _n in {list(names)!r}}}, _differential_sys.prefix),\n"
        "        _differential_file)\n"
    )


def execute_original(spec: Spec, workdir: Path, out: Path, execute: Callable[..., None],
                     shown: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the notebook (or its Python 3 twin) in a kernel; the values of its result names.
    ``shown`` is filled with what each cell of ``spec.shown`` printed or displayed (its text)."""
    import nbformat

    notebook = nbformat.read(spec.executed, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_probe(spec.results, out)))
    execute(notebook, workdir, timeout=CELL_TIMEOUT)
    with out.open("rb") as stream:
        values, prefix = pickle.load(stream)
    assert prefix == sys.prefix, f"the kernel ran {prefix}, not this environment ({sys.prefix})"
    if shown is not None:
        cells = {cell.get("id"): cell for cell in notebook.cells}
        for _, cell_id in spec.shown:
            outputs = cells[cell_id].get("outputs", [])
            shown[cell_id] = "".join(o.get("text", "") if o.get("output_type") == "stream"
                                     else o.get("data", {}).get("text/plain", "") for o in outputs).strip()
    return values


# Run in a fresh interpreter: call run() and pickle what it returned; a value pickle cannot hold
# is replaced by its type and repr, so the comparison can still name it.
RUNNER = '''
import pickle, sys
from {package}.{module} import run

def portable(value):
    try:
        pickle.dumps(value)
        return value
    except Exception:
        return ("<unpicklable>", type(value).__qualname__, repr(value)[:300])

value = run()
if isinstance(value, dict):
    payload = ("dict", {{key: portable(item) for key, item in value.items()}})
else:
    payload = ("other", type(value).__qualname__, repr(value)[:300])
with open(sys.argv[1], "wb") as stream:
    pickle.dump(payload, stream)
'''


def start_run(root: Path, module: str, workdir: Path, out: Path) -> subprocess.Popen[str]:
    """Start ``run()`` of the generated module in a new interpreter whose working directory is
    ``workdir``; it runs while the kernel executes the notebook (both are single-threaded mostly)."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "MPLBACKEND": "Agg"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER.format(package=PACKAGE, module=module), str(out)],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish_run(spec: Spec, process: subprocess.Popen[str], out: Path) -> tuple[Any, ...]:
    """What ``run()`` returned (see RUNNER); a failure names the notebook and run()'s exception."""
    try:
        _, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"{spec.name}: run() did not return within {RUN_TIMEOUT} s", pytrace=False)
    if process.returncode != 0:
        lines = stderr.strip().splitlines() or ["(no output)"]
        pytest.fail(f"{spec.name}: run() raised {lines[-1]}\n{stderr}", pytrace=False)
    with out.open("rb") as stream:
        return tuple(pickle.load(stream))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _digest(data: bytes) -> str:
    return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]}"


def compare_results(spec: Spec, expected: dict[str, Any], returned: tuple[Any, ...],
                    same: Callable[[Any, Any], bool]) -> list[str]:
    if returned[0] != "dict":
        return [f"run() returned {returned[1]} {returned[2]}, not a dict with {list(spec.results)}"]
    actual: dict[Any, Any] = returned[1]
    problems = []
    for name in spec.results:
        if name not in actual:
            problems.append(f"result {name!r} missing: notebook {_show(expected[name])}, "
                            f"run() returned keys {sorted(map(str, actual))}")
        elif not same(expected[name], actual[name]):
            problems.append(f"result {name!r} differs: notebook {_show(expected[name])}, "
                            f"run() {_show(actual[name])}")
    return problems


def compare_shown(spec: Spec, shown: dict[str, str], returned: tuple[Any, ...]) -> list[str]:
    """Each value the notebook only showed is returned by run() and shows the same text (``str``
    as printed, or ``repr`` as displayed): a value of another model would show other digits."""
    if returned[0] != "dict" or not spec.shown:
        return []
    problems = []
    for key, cell_id in spec.shown:
        if key not in returned[1]:
            problems.append(f"shown {key!r} ({cell_id}) missing: run() returned keys {sorted(map(str, returned[1]))}")
        elif not _shows(shown[cell_id], returned[1][key]):
            problems.append(f"shown {key!r} differs: the notebook showed {shown[cell_id][:200]!r} in {cell_id}, "
                            f"run() returned {_show(returned[1][key])}")
    return problems


def _shows(text: str, value: Any) -> bool:
    """``text`` holds ``value`` as printed (``str``) or displayed (``repr``); a dict of every pass of a
    loop (``acc_by_name``) each of its keys and values."""
    if isinstance(value, dict) and value:
        return all(_shows(text, key) and _shows(text, item) for key, item in value.items())
    return str(value) in text or repr(value) in text


def compare_files(spec: Spec, notebook_wrote: dict[str, bytes], run_wrote: dict[str, bytes]) -> list[str]:
    problems = []
    for name in sorted(spec.files):
        if name not in run_wrote:
            problems.append(f"file {name!r}: the notebook wrote it ({_digest(notebook_wrote[name])}), "
                            "run() did not")
        elif run_wrote[name] != notebook_wrote[name]:
            problems.append(f"file {name!r} differs: notebook {_digest(notebook_wrote[name])}, "
                            f"run() {_digest(run_wrote[name])}")
    for name in sorted(spec.figures & set(run_wrote)):
        problems.append(f"figure {name!r}: run() wrote it, but plotting is not part of the pipeline")
    for name in sorted(set(run_wrote) - spec.files - spec.figures - spec.scratch):
        if not _serving_file(name, notebook_wrote):
            problems.append(f"file {name!r}: run() wrote it, the notebook did not")
    return problems


def _serving_file(name: str, notebook_wrote: dict[str, bytes]) -> bool:
    """What serving needs beside a model the notebook saved (docs/serving.md): ``<model>.mlpack.json``,
    ``<model>.reference.json``, ``<model>.<fitted object>.pkl``."""
    suffixes = re.compile(r"\.(mlpack|reference)\.json|\.\w+\.pkl")
    return any(name.startswith(f"{model}.") and suffixes.fullmatch(name[len(model):]) for model in notebook_wrote)


def convert(spec: Spec, root: Path, run_cli: Callable[..., Any], chdir: Callable[[Path], None]) -> str | None:
    """A fresh project holding the notebook and its inputs, converted; the generated module's name
    (None: refused, as ``spec.refuses`` says it must be, with those words)."""
    from mlpack_cli.commands.convert import module_name

    created = run_cli("init", root, "--name", PACKAGE, "--ci", "none")
    assert created.exit_code == 0, created.stderr
    # The notebook sits at the project root, where run() runs (in the working directory below): its
    # relative paths mean the same to both, so the comparison is of what they compute. In a folder
    # (spec.folder), its paths are re-based: run() from the root must still read what it did.
    _lay_out(spec, root)
    (root / spec.folder).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(spec.notebook, root / spec.folder / spec.notebook.name)
    chdir(root)
    try:
        done = run_cli("convert", (Path(spec.folder) / spec.notebook.name).as_posix())
    except Exception as crash:  # a crash of convert itself, not a refusal
        trace = "".join(traceback.format_exception(crash))
        pytest.fail(f"{spec.name}: mlpack convert crashed: {type(crash).__name__}: {crash}\n{trace}",
                    pytrace=False)
    said = " ".join((done.stdout + done.stderr).split())  # the console may wrap long lines
    if spec.refuses:
        assert done.exit_code == 6, f"{spec.name}: convert did not refuse it:\n{said}"
        missing = [text for text in spec.refuses if text not in said]
        assert not missing, f"{spec.name}: the refusal does not say {missing}:\n{said}"
        return None
    missing = [text for text in spec.warns if text not in said]
    assert not missing, f"{spec.name}: convert's report does not say {missing}:\n{said}"
    if done.exit_code != 0:
        first = (done.stderr.strip().splitlines() or ["(no message)"])[0]
        pytest.fail(f"{spec.name}: mlpack convert exited {done.exit_code}: {first}\n{done.stderr}",
                    pytrace=False)
    module = module_name(spec.notebook)
    assert (root / "src" / PACKAGE / f"{module}.py").is_file(), done.stdout
    return module


@pytest.fixture(scope="module")
def mpl_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One matplotlib cache for the module: HOME is fresh per test, the font cache need not be."""
    return tmp_path_factory.mktemp("mplconfig")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_computes_what_the_notebook_computed(
    path: Path, tmp_path: Path, run_cli: Callable[..., Any], chdir: Callable[[Path], None],
    execute_in_kernel: Callable[..., None], mpl_config: Path, monkeypatch: pytest.MonkeyPatch,
    benchmark_script: Callable[[str], ModuleType],
) -> None:
    spec = Spec.of(path)
    monkeypatch.setenv("MPLCONFIGDIR", str(mpl_config))
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # the kernel and run() iterate sets alike

    module = convert(spec, tmp_path / "project", run_cli, chdir)
    if module is None:  # refused, as it must be: there is no run() to compare
        return
    workdir = tmp_path / "run"
    _lay_out(spec, workdir)
    inputs = _files(workdir)
    executed = tmp_path / "notebook"
    _lay_out(spec, executed)
    running = start_run(tmp_path / "project", module, workdir, tmp_path / "run.pkl")
    shown: dict[str, str] = {}
    try:
        expected = execute_original(spec, executed / spec.folder, tmp_path / "notebook.pkl", execute_in_kernel,
                                    shown)
    except BaseException:  # the notebook itself failed: that error is the one to see
        running.kill()
        running.communicate()
        raise
    returned = finish_run(spec, running, tmp_path / "run.pkl")
    notebook_wrote = {k: v for k, v in _files(executed).items() if inputs.get(k) != v}
    # the fixture's own promise, checked before anything is blamed on the conversion
    assert set(notebook_wrote) == spec.files | spec.figures | spec.scratch, (
        f"{spec.name}: fixture metadata is wrong: the notebook wrote {sorted(notebook_wrote)}")
    run_wrote = {k: v for k, v in _files(workdir).items() if inputs.get(k) != v}

    same = benchmark_script("corpus_fidelity").same
    problems = compare_results(spec, expected, returned, same) + compare_shown(spec, shown, returned)
    problems += compare_files(spec, notebook_wrote, run_wrote)
    if problems:
        pytest.fail(f"{spec.name}: " + "\n".join(problems), pytrace=False)


# -- the comparison itself (quick: no kernel, no conversion) ----------------------------------------


def _spec(**fields: Any) -> Spec:
    defaults: dict[str, Any] = {"notebook": FIXTURES / "x.ipynb", "executed": FIXTURES / "x.ipynb",
                                "results": ("accuracy",), "files": frozenset(), "figures": frozenset(),
                                "scratch": frozenset(), "inputs": ()}
    return Spec(**{**defaults, **fields})


def test_same_is_exact_for_numbers_arrays_and_frames(benchmark_script: Callable[[str], ModuleType]) -> None:
    same = benchmark_script("corpus_fidelity").same
    import numpy as np
    import pandas as pd

    assert same(0.1 + 0.2, 0.30000000000000004) and not same(0.1 + 0.2, 0.3)
    assert same(np.float64(0.5), 0.5) and same(float("nan"), np.nan)
    assert same(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not same(np.array([1, 2]), np.array([1.0, 2.0]))  # dtype differs
    assert not same(np.array([1, 2]), [1, 2]) and not same(np.array([1, 2]), np.array([1, 2, 3]))
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    assert same(frame, frame.copy()) and not same(frame, frame.assign(a=[1.0, 2.5]))
    assert not same(frame, frame["a"])
    assert same({"tree": 0.9, "knn": 0.8}, {"knn": 0.8, "tree": 0.9})
    assert not same({"tree": 0.9}, {"tree": 0.9, "knn": 0.8}) and not same((1, 2), [1, 2])


def test_a_difference_names_the_result_and_both_values(benchmark_script: Callable[[str], ModuleType]) -> None:
    same = benchmark_script("corpus_fidelity").same
    spec = _spec(results=("accuracy", "r2"))
    problems = compare_results(spec, {"accuracy": 0.95, "r2": 0.5}, ("dict", {"accuracy": 0.93}), same)
    assert problems == ["result 'accuracy' differs: notebook 0.95, run() 0.93",
                        "result 'r2' missing: notebook 0.5, run() returned keys ['accuracy']"]
    assert compare_results(spec, {"accuracy": 1, "r2": 2}, ("other", "NoneType", "None"), same) == [
        "run() returned NoneType None, not a dict with ['accuracy', 'r2']"]
    assert compare_results(spec, {"accuracy": 1, "r2": 2}, ("dict", {"accuracy": 1, "r2": 2, "x": 3}), same) == []


def test_files_must_match_and_figures_stay_unwritten() -> None:
    spec = _spec(files=frozenset({"model.joblib", "preds.csv"}), figures=frozenset({"fig.png"}),
                 scratch=frozenset({"tmp.py"}))
    notebook = {"model.joblib": b"m", "preds.csv": b"1,2\n", "fig.png": b"png", "tmp.py": b""}
    assert compare_files(spec, notebook, {"model.joblib": b"m", "preds.csv": b"1,2\n"}) == []
    problems = compare_files(spec, notebook, {"preds.csv": b"1,3\n", "fig.png": b"png", "extra.txt": b""})
    assert [p.split(":")[0] for p in problems] == [
        "file 'model.joblib'", "file 'preds.csv' differs", "figure 'fig.png'", "file 'extra.txt'"]


def test_a_value_only_shown_must_show_the_same_text_as_run_returns() -> None:
    spec = _spec(shown=(("score", "cell-07"), ("coef", "cell-06")))
    shown = {"cell-07": "0.3439237602253802", "cell-06": "[('bmi', np.float64(949.4352603840387))]"}
    import numpy as np

    right = ("dict", {"score": 0.3439237602253802, "coef": [("bmi", np.float64(949.4352603840387))]})
    assert compare_shown(spec, shown, right) == []
    wrong = ("dict", {"score": 0.48008243046470134})
    assert compare_shown(spec, shown, wrong) == [
        "shown 'score' differs: the notebook showed '0.3439237602253802' in cell-07, "
        "run() returned 0.48008243046470134",
        "shown 'coef' (cell-06) missing: run() returned keys ['score']"]
