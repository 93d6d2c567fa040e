"""What ``mlpack convert`` prints, given a result: the summary table, warnings, the file plan, ``--explain``,
``--json``; and that the errors of a conversion (and so its exit code) come from the library, not from here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlpack_cli.commands import convert as converting
from mlpack_cli.commands.convert import (
    CellReport,
    Conflict,
    ConvertResult,
    ModuleCheck,
    NotebookReport,
    Orphan,
    StaleModule,
)
from mlpack_cli.errors import ExitCode, FileConflict, NotebookError, SeveralErrors, StaleModules
from mlpack_cli.files import Action, FilePlan, PlannedFile
from mlpack_cli.output import convert as output


def _report(**changes: object) -> NotebookReport:
    fields: dict = {"notebook": "notebooks/iris.ipynb", "module": "src/demo/iris.py",
                    "stages": {"load": [0], "train": [1, 2]}, "dropped": [3], "magics": {"pip": 1},
                    "dependencies": ["scikit-learn"],
                    "cells": [CellReport(0, "df = pd.read_csv('iris.csv')", "load", "reads a file")]}
    return NotebookReport(**{**fields, **changes})  # type: ignore[arg-type]


def _result(tmp_path: Path, *reports: NotebookReport, **changes: object) -> ConvertResult:
    plan = FilePlan(tmp_path, [PlannedFile(Path("src/demo/iris.py"), Action.CREATED, b"x")])
    return ConvertResult(tmp_path, list(reports), plan, **changes)  # type: ignore[arg-type]


def test_the_summary_counts_cells_per_stage(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    output.show(_result(tmp_path, _report(), dependencies_added=["scikit-learn"]))
    out, _ = printed()
    row = next(line for line in out.splitlines() if "notebooks/iris.ipynb" in line)
    assert "load 1, preprocess 0, train 2, evaluate 0, export 0, helpers 0" in row
    assert "scikit-learn" in row
    assert "src/demo/iris.py" in out and "created" in out  # the file plan
    assert "pyproject.toml: added scikit-learn to [project.dependencies]" in out


def test_a_dry_run_says_which_dependencies_it_would_add(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    output.show(_result(tmp_path, _report(), dependencies_added=["scikit-learn"], dry_run=True))
    out, _ = printed()
    assert "pyproject.toml: would add scikit-learn to [project.dependencies]" in out


def test_explain_shows_where_each_cell_went_and_why(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    output.show(_result(tmp_path, _report()), explain=True)
    out, _ = printed()
    assert "notebooks/iris.ipynb: where each cell went" in out
    assert "reads a file" in out


def test_a_failed_notebook_is_marked_and_its_warnings_go_to_stderr(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    failed = NotebookReport("notebooks/bad.ipynb", ok=False, error="notebooks/bad.ipynb: not JSON")
    output.show(_result(tmp_path, failed, _report(warnings=["cell 4 reads a global it never defines"])))
    out, err = printed()
    assert any("notebooks/bad.ipynb" in line and "failed" in line for line in out.splitlines())
    assert "Warning: notebooks/iris.ipynb: cell 4 reads a global it never defines" in err
    assert "not JSON" not in out + err  # the error itself is the handler's to print, once


def test_orphans_left_behind_are_a_warning_with_the_way_out(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    output.show(_result(tmp_path, _report(), orphans=[Orphan("src/demo/old.py", "notebooks/old.ipynb", False)]))
    _, err = printed()
    assert "1 generated file left from deleted notebooks (notebooks/old.ipynb): src/demo/old.py" in err
    assert "Run `mlpack convert --prune` to remove them" in err


def test_json_is_the_only_output(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    output.show(_result(tmp_path, _report()), as_json=True, explain=True)
    report = json.loads(printed()[0])  # no table, no --explain text: stdout is the JSON alone
    assert report["notebooks"][0]["notebook"] == "notebooks/iris.ipynb"
    assert report["notebooks"][0]["cells"][0]["reason"] == "reads a file"
    assert report["files"] == [{"path": "src/demo/iris.py", "action": "created", "note": ""}]


def test_check_lists_stale_and_orphaned_files(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    found = ModuleCheck(tmp_path, stale=[StaleModule("notebooks/iris.ipynb", "src/demo/iris.py", "changed"),
                                         StaleModule("notebooks/new.ipynb", "src/demo/new.py", "missing"),
                                         StaleModule("notebooks/helpers.py", "src/demo/helpers.py", "changed",
                                                     copy=True)],
                        orphans=[Orphan("src/demo/old.py", "notebooks/old.ipynb", False)])
    output.show_check(found)
    assert printed()[0].splitlines() == [
        "stale: notebooks/iris.ipynb (the notebook changed since src/demo/iris.py was generated)",
        "stale: notebooks/new.ipynb (no module yet: src/demo/new.py is to be generated)",
        "stale: notebooks/helpers.py (the local module changed since it was copied to src/demo/helpers.py)",
        "orphaned: src/demo/old.py (its notebook notebooks/old.ipynb no longer exists)",
    ]
    output.show_check(ModuleCheck(tmp_path))
    assert printed()[0] == "Every notebook's module is in step with its notebook.\n"


# -- the errors behind the exit code: the library's, one rule for several -------------------------------

def test_one_failed_notebook_is_its_own_error(tmp_path: Path) -> None:
    failed = NotebookReport("notebooks/bad.ipynb", ok=False, error="notebooks/bad.ipynb: not JSON", hint="Fix it.")
    with pytest.raises(NotebookError) as caught:
        converting.raise_for_failures(_result(tmp_path, failed))
    assert (caught.value.message, caught.value.hint) == ("notebooks/bad.ipynb: not JSON", "Fix it.")


def test_a_failure_and_a_conflict_exit_with_the_gravest_code(tmp_path: Path) -> None:
    failed = NotebookReport("notebooks/bad.ipynb", ok=False, error="not JSON")
    kept = _report(notebook="notebooks/edited.ipynb", conflicts=[Conflict("src/demo/edited.py", "edited")])
    with pytest.raises(SeveralErrors) as caught:
        converting.raise_for_failures(_result(tmp_path, failed, kept, _report()))
    error = caught.value
    assert error.exit_code == ExitCode.NOTEBOOK
    assert error.message == "1 notebook failed, 1 notebook not written, 1 converted"
    assert [type(e) for e in error.errors] == [NotebookError, FileConflict]
    assert "Move your edits into the notebook, or run `mlpack convert --force notebooks/edited.ipynb`" in (
        error.errors[1].hint or "")


def test_nothing_wrong_raises_nothing(tmp_path: Path) -> None:
    converting.raise_for_failures(_result(tmp_path, _report()))
    converting.raise_for_check(ModuleCheck(tmp_path))


def test_a_stale_module_exits_1(tmp_path: Path) -> None:
    found = ModuleCheck(tmp_path, stale=[StaleModule("notebooks/iris.ipynb", "src/demo/iris.py", "changed")])
    with pytest.raises(StaleModules) as caught:
        converting.raise_for_check(found)
    assert caught.value.exit_code == ExitCode.STALE
    assert caught.value.hint == "Run `mlpack convert` and commit the generated files."
    assert caught.value.message == (
        "1 module to generate again: notebooks/iris.ipynb (the notebook changed since src/demo/iris.py was generated)")


def test_a_new_notebook_and_a_changed_local_module_are_named_for_what_they_are(tmp_path: Path) -> None:
    found = ModuleCheck(tmp_path, stale=[StaleModule("notebooks/new.ipynb", "src/demo/new.py", "missing"),
                                         StaleModule("notebooks/helpers.py", "src/demo/helpers.py", "changed",
                                                     copy=True)])
    with pytest.raises(StaleModules) as caught:
        converting.raise_for_check(found)
    assert caught.value.message == (
        "2 modules to generate again: notebooks/new.ipynb (no module yet: src/demo/new.py is to be generated); "
        "notebooks/helpers.py (the local module changed since it was copied to src/demo/helpers.py)")
