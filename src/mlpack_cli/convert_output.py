"""What ``mlpack convert`` prints: a summary table, warnings, the file plan, ``--explain`` and ``--json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlpack_cli import console
from mlpack_cli.errors import NotebookError, StaleModules

if TYPE_CHECKING:
    from mlpack_cli.converting import ConvertResult

STAGE_COLUMNS = ("load", "preprocess", "train", "evaluate", "export", "helpers")


def print_result(result: ConvertResult, *, explain: bool, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
        return
    from rich.table import Table

    if explain:
        for report in result.reports:
            if not report.cells:
                continue
            table = Table(title=f"{report.notebook}: where each cell went", title_justify="left")
            for column in ("cell", "first line", "stage", "reason"):
                table.add_column(column)
            for cell in report.cells:
                table.add_row(str(cell.cell), console.escape(cell.first_line), cell.stage, console.escape(cell.reason))
            console.stdout().print(table)
    table = Table(title="mlpack convert", title_justify="left")
    for column in ("notebook", "module", "cells kept per stage", "dropped", "magics", "dependencies"):
        table.add_column(column)
    for report in result.reports:
        if not report.ok:
            table.add_row(console.escape(report.notebook), "[red]failed[/red]", "", "", "", "")
            continue
        stages = ", ".join(
            f"{stage} {_count(report.stages.get(stage, []), stage in report.stubs)}" for stage in STAGE_COLUMNS
        )
        table.add_row(
            console.escape(report.notebook), report.module or "", stages, str(len(report.dropped)),
            str(sum(report.magics.values())), console.escape(", ".join(report.dependencies)),
        )
    console.stdout().print(table)
    for report in result.reports:
        for warning in report.repairs + report.warnings:
            console.warn(f"{report.notebook}: {warning}")
    console.print_plan(result.plan, title="files", dry_run=result.dry_run)
    if result.dependencies_added:
        console.info(f"pyproject.toml: added {', '.join(result.dependencies_added)} to [project.dependencies]")


def _count(cells: list[int], stub: bool) -> str:
    return "stub" if stub else str(len(cells))


def raise_for_failures(result: ConvertResult) -> None:
    """Exit 6 (after the good notebooks were written) when any notebook failed."""
    if result.ok:
        return
    for report in result.failed[:-1]:
        sys.stderr.write(f"Error: {report.error}\n")
        if report.hint:
            sys.stderr.write(f"Hint: {report.hint}\n")
    last = result.failed[-1]
    converted = len(result.reports) - len(result.failed)
    suffix = f" ({len(result.failed)} notebooks failed, {converted} converted)" if len(result.reports) > 1 else ""
    raise NotebookError(f"{last.error}{suffix}", hint=last.hint)


def finish_check(stale: list[Path], root: Path, *, as_json: bool) -> None:
    """Print the stale notebooks and exit 1 when there are any (``convert --check``)."""
    shown = [_relative(path, root) for path in stale]
    if as_json:
        sys.stdout.write(json.dumps({"stale": shown}, indent=2) + "\n")
    elif not stale:
        console.info("Every notebook's module is in step with its notebook.")
    for name in shown if not as_json else []:
        console.info(f"stale: {name}")
    if stale:
        raise StaleModules(
            f"{len(stale)} notebook(s) changed since their modules were generated: {', '.join(shown)}",
            hint="Run `mlpack convert` and commit the regenerated files.",
        )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
