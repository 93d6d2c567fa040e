"""What ``mlpack convert`` prints: a summary table, warnings, the file plan, ``--explain`` and ``--json``."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from mlpack_cli.output import console
from mlpack_cli.commands.convert import Conflict
from mlpack_cli.errors import FileConflict, MlpackError, NotebookError, StaleModules

if TYPE_CHECKING:
    from mlpack_cli.commands.convert import ConvertResult, ModuleCheck, NotebookReport, Orphan

STAGE_COLUMNS = ("load", "preprocess", "train", "evaluate", "export", "helpers")


def print_result(result: ConvertResult, *, explain: bool, as_json: bool) -> None:
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
        console.info(f"pyproject.toml: added {', '.join(result.dependencies_added)} to [project.dependencies]")
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
        console.warn(f"{_orphans_message(left)}. {_orphans_hint(left)}")


def _count(cells: list[int], stub: bool) -> str:
    return "stub" if stub else str(len(cells))


def raise_for_failures(result: ConvertResult) -> None:
    """After the good notebooks were written: exit 6 when a notebook failed, else 5 when a notebook was
    not written because one of its generated files was edited; each on its own ``Error:`` line."""
    errors: list[MlpackError] = [_notebook_error(report) for report in result.failed]
    for report in result.conflicted:
        what, hint = _kept_files(report.notebook, report.conflicts)
        errors.append(FileConflict(f"{report.notebook}: not written, because {what}", hint=hint))
    converted = len(result.reports) - len(result.failed) - len(result.conflicted)
    parts = [_plural(len(result.failed), "notebook") + " failed"] if result.failed else []
    parts += [f"{_plural(len(result.conflicted), 'notebook')} not written"] if result.conflicted else []
    _raise_all(errors, f"{', '.join(parts)}, {converted} converted" if len(result.reports) > 1 else None)


def finish_check(found: ModuleCheck, *, as_json: bool) -> None:
    """Print what ``convert --check`` found; exit 6 when a notebook cannot be converted, else 1 when a
    module is stale or a generated file outlived its notebook, else 0."""
    if as_json:
        console.print_json(found.to_json())
    elif found.ok:
        console.info("Every notebook's module is in step with its notebook.")
    for stale in found.stale if not as_json else []:
        console.info(f"stale: {stale.notebook} ({_STALE[stale.state]})")
    for orphan in found.orphans if not as_json else []:
        console.info(f"orphaned: {orphan.path} (its notebook {orphan.notebook} no longer exists)")
    errors: list[MlpackError] = [_notebook_error(report) for report in found.failed]
    regenerate = [s.notebook for s in found.stale if s.state in ("missing", "changed")]
    if regenerate:
        errors.append(StaleModules(
            f"{_plural(len(regenerate), 'notebook')} changed since their modules were generated: "
            f"{', '.join(regenerate)}",
            hint="Run `mlpack convert` and commit the regenerated files.",
        ))
    for stale in found.stale:
        if stale.state in ("edited", "foreign"):
            what, hint = _kept_files(stale.notebook, [Conflict(stale.module, stale.state)])
            errors.append(StaleModules(f"{stale.notebook}: its module is stale, and {what}", hint=hint))
    if found.orphans:
        errors.append(StaleModules(_orphans_message(found.orphans), hint=_orphans_hint(found.orphans)))
    parts = [f"{_plural(len(found.failed), 'notebook')} cannot be converted"] if found.failed else []
    parts += [f"{_plural(len(found.stale), 'module')} stale"] if found.stale else []
    parts += [f"{_plural(len(found.orphans), 'generated file')} without a notebook"] if found.orphans else []
    _raise_all(errors, ", ".join(parts) if len(errors) > 1 else None)


_STALE = {
    "missing": "no module yet", "changed": "the notebook changed",
    "edited": "the notebook changed, and its module was edited", "foreign": "its module was not written by mlpack",
}


def _notebook_error(report: NotebookReport) -> NotebookError:
    return NotebookError(report.error or f"{report.notebook}: cannot be converted", hint=report.hint)


def _kept_files(notebook: str, conflicts: list[Conflict]) -> tuple[str, str]:
    """Why a notebook's generated files are not overwritten, and the way out."""
    what = " and ".join(
        f"{c.path} was {'edited since mlpack wrote it' if c.state == 'edited' else 'not written by mlpack'}"
        for c in conflicts
    )
    force = f"run `mlpack convert --force {shlex.quote(notebook)}` to overwrite {', '.join(c.path for c in conflicts)}"
    if all(c.state == "edited" for c in conflicts):
        return what, f"Move your edits into the notebook, or {force}."
    return what, f"Move that file out of the way (or rename the notebook), or {force}."


def _orphans_message(orphans: list[Orphan]) -> str:
    notebooks = sorted({orphan.notebook for orphan in orphans})
    return (f"{_plural(len(orphans), 'generated file')} left from deleted notebooks ({', '.join(notebooks)}): "
            f"{', '.join(orphan.path for orphan in orphans)}")


def _orphans_hint(orphans: list[Orphan]) -> str:
    edited = [orphan.path for orphan in orphans if orphan.edited]
    if not edited:
        hint = "Run `mlpack convert --prune` to remove them"
    elif len(edited) == len(orphans):
        hint = "They were edited since mlpack wrote them: delete them, or remove their mlpack header to keep them"
    else:
        hint = (f"Run `mlpack convert --prune` to remove those not edited since mlpack wrote them; delete "
                f"{', '.join(edited)} yourself, or remove its mlpack header to keep it")
    return hint + ". The dependencies they added stay in pyproject.toml."


def _raise_all(errors: list[MlpackError], summary: str | None) -> None:
    """Raise the one error; or print each, then raise ``summary`` with the gravest exit code."""
    if not errors:
        return
    if len(errors) == 1 and summary is None:
        raise errors[0]
    for error in errors:
        console.print_error(error)
    raise MlpackError(summary or "", exit_code=max(error.exit_code for error in errors))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
