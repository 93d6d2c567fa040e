"""What ``mlpack convert`` prints: a summary table, warnings, the file plan, ``--explain`` and ``--json``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpack_cli.output import console

if TYPE_CHECKING:
    from mlpack_cli.commands.convert import ConvertResult, ModuleCheck

STAGE_COLUMNS = ("load", "preprocess", "train", "evaluate", "export", "helpers")


def show(result: ConvertResult, *, explain: bool = False, as_json: bool = False) -> None:
    """Its errors, and so its exit code, come from :func:`mlpack_cli.commands.convert.raise_for_failures`."""
    if as_json:
        console.print_json(result.to_json())
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
        module = (report.module or "") + (" [yellow](not written)[/yellow]" if report.conflicts else "")
        table.add_row(
            console.escape(report.notebook), module, stages, str(len(report.dropped)),
            str(sum(report.magics.values())), console.escape(", ".join(report.dependencies)),
        )
    console.stdout().print(table)
    for report in result.reports:
        for line in report.paths:
            console.info(f"{report.notebook}: {line}")
        for warning in report.repairs + report.warnings:
            console.warn(f"{report.notebook}: {warning}")
        for copied in report.copied:
            console.info(f"{report.notebook}: copied the local module {copied}")
    console.print_plan(result.plan, title="files", dry_run=result.dry_run)
    if result.dependencies_added:
        added = "would add" if result.dry_run else "added"
        console.info(f"pyproject.toml: {added} {', '.join(result.dependencies_added)} to [project.dependencies]")
    if result.console_script:
        console.info(f"run a pipeline: {result.console_script} run MODULE [--set NAME=VALUE] [--config FILE]"
                     f" (after installing the project; {result.console_script} list names them)")
    for warning in result.warnings:
        console.warn(warning)
    removed = "would remove" if result.dry_run else "removed"
    for orphan in result.orphans:
        if orphan.path in result.pruned:
            console.info(f"{removed} {orphan.path}: its notebook {orphan.notebook} no longer exists")
    left = [orphan for orphan in result.orphans if orphan.path not in result.pruned]
    if left:
        from mlpack_cli.commands.convert import orphans_hint, orphans_message

        console.warn(f"{orphans_message(left)}. {orphans_hint(left)}")


def _count(cells: list[int], stub: bool) -> str:
    return "stub" if stub else str(len(cells))


def show_check(found: ModuleCheck, *, as_json: bool = False) -> None:
    """What ``convert --check`` found (its errors, and so its exit code, come from
    :func:`mlpack_cli.commands.convert.raise_for_check`)."""
    if as_json:
        console.print_json(found.to_json())
        return
    if found.ok:
        console.info("Every notebook's module is in step with its notebook.")
    for stale in found.stale:
        console.info(f"stale: {stale.notebook} ({stale.describe()})")
    for orphan in found.orphans:
        console.info(f"orphaned: {orphan.path} (its notebook {orphan.notebook} no longer exists)")
