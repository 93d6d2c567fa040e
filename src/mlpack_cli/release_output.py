"""What check, build, publish, release and quickstart print (the library returns results; this shows them)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mlpack_cli.console import Verbosity, escape, stdout, verbosity
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from mlpack_cli.building import Artifact, BuildResult
    from mlpack_cli.checking import CheckResult
    from mlpack_cli.publishing import PublishResult
    from mlpack_cli.quickstart import QuickstartResult
    from mlpack_cli.release import ReleaseResult
    from mlpack_cli.reporting import Reporter


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_artifacts(artifacts: list[Artifact]) -> None:
    """One line per artifact, never cut short: path, size, sha256 (what a user compares and pastes)."""
    for artifact in artifacts:
        stdout().print(f"[bold]{artifact.kind:5}[/bold] {escape(_shown(artifact.path))}  "
                       f"{human_size(artifact.size)}  sha256:{artifact.sha256}", soft_wrap=True)


def print_build(result: BuildResult) -> None:
    print_artifacts(result.artifacts)
    for line in result.checks:
        stdout().print(f"[green]✓[/green] {escape(line)}", soft_wrap=True)
    epoch = f"SOURCE_DATE_EPOCH={result.source_date_epoch}" if result.source_date_epoch else "no SOURCE_DATE_EPOCH"
    stdout().print(f"[dim]installer {result.installer}; {epoch}[/dim]", soft_wrap=True)


CHECK_TOOLS = ("flake8", "pytest")


class _ToolsInSummary:
    """Passes every report on, except the end of the tool runs: ``print_check`` sums those up once."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner

    def info(self, message: str) -> None:
        self.inner.info(message)

    def warn(self, message: str) -> None:
        self.inner.warn(message)

    def step_started(self, name: str) -> None:
        self.inner.step_started(name)

    def step_finished(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        if name not in CHECK_TOOLS:
            self.inner.step_finished(name, seconds, ok, detail)


@contextlib.contextmanager
def check_progress() -> Iterator[None]:
    """For ``mlpack check``: flake8 and pytest show as they start; how they ended, only in the summary."""
    from mlpack_cli.reporting import reporter, using_reporter

    with using_reporter(_ToolsInSummary(reporter())):
        yield


def print_check(result: CheckResult) -> None:
    """The failures in full (with ``--verbose``, every tool's output), then one summary line per tool."""
    for run in result.runs if verbosity() is Verbosity.VERBOSE else result.failed:
        stdout().rule(f"{run.name} output")
        stdout().print(escape(redact_url(run.output.rstrip())), soft_wrap=True)
    for note in result.notes:
        stdout().print(f"[dim]{escape(redact_url(note))}[/dim]", soft_wrap=True)
    for run in result.runs:
        mark = "[green]✓[/green]" if run.ok else "[red]✗[/red]"
        stdout().print(f"{mark} {run.name}: {escape(run.summary)} [dim]({run.seconds:.1f}s)[/dim]", soft_wrap=True)


def print_publish(result: PublishResult) -> None:
    """Each upload was reported as it happened: here what was skipped or completed, and how to install."""
    for note in result.notes:
        label = "[yellow]skipped[/yellow]" if result.skipped else "[cyan]completed[/cyan]"
        stdout().print(f"{label} {escape(redact_url(note))}", soft_wrap=True)
    stdout().print(f"Install it with: {escape(redact_url(result.install_command))}", soft_wrap=True)


def print_release(result: ReleaseResult) -> None:
    for note in result.notes:
        stdout().print(f"[dim]{escape(redact_url(note))}[/dim]", soft_wrap=True)
    if result.dry_run:
        if result.preflight_problems:
            stdout().print(f"[yellow]Dry run of {escape(result.name)} {result.old_version} -> "
                           f"{result.new_version}: every step ran, but a real release would stop at pre-flight:"
                           "[/yellow]", soft_wrap=True)
            for problem in result.preflight_problems:
                stdout().print(f"  {escape(redact_url(problem))}", soft_wrap=True)
            return
        stdout().print(f"Dry run of {escape(result.name)} {result.old_version} -> {result.new_version}: "
                       "all steps passed.", soft_wrap=True)
        return
    stdout().print(f"[green]Released[/green] {escape(result.name)} {result.new_version}.", soft_wrap=True)
    if result.install_command:
        stdout().print(f"Install it with: {escape(redact_url(result.install_command))}", soft_wrap=True)
    if result.push_command:
        what = "commit and tag" if result.tag else "commit"
        stdout().print(f"Push the release {what}: {escape(result.push_command)}", soft_wrap=True)


def print_quickstart(result: QuickstartResult) -> None:
    stdout().print(f"Project: {escape(str(result.root))}", soft_wrap=True)
    where = f"{escape(result.module)}.run() from the wheel installed in {escape(str(result.venv))}"
    if result.command:
        where = f"`{escape(result.command)}`: {where}"
    stdout().print(f"Pipeline metrics ({where}):",
                   soft_wrap=True)
    stdout().print(escape(result.metrics_text), soft_wrap=True)
    if result.served:
        served = result.served
        stdout().print(f"Served (`{escape(served['command'])}`): POST /predict "
                       f"{escape(json.dumps({'records': [served['record']]}))} -> "
                       f"{escape(json.dumps({'predictions': served['predictions']}))}", soft_wrap=True)
    stdout().print(f"Wheel: {escape(str(result.wheel))}", soft_wrap=True)
    stdout().print(f"Next: cd {escape(str(result.root))} and edit notebooks/, then `mlpack convert`, "
                   "`mlpack check`, `mlpack release --dry-run`.", soft_wrap=True)
