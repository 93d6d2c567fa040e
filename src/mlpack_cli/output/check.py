"""What ``mlpack check`` prints: the tools as they start, then the failures in full and one line per tool."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlpack_cli.output.console import Verbosity, escape, print_json, stdout, verbosity
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from mlpack_cli.commands.check import CheckResult
    from mlpack_cli.reporting import Reporter

CHECK_TOOLS = ("flake8", "pytest")


class _ToolsInSummary:
    """Passes every report on, except the end of the tool runs: :func:`show` sums those up once."""

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
def progress() -> Iterator[None]:
    """flake8 and pytest show as they start; how they ended, only in the summary."""
    from mlpack_cli.reporting import reporter, using_reporter

    with using_reporter(_ToolsInSummary(reporter())):
        yield


def show(result: CheckResult, *, as_json: bool = False) -> None:
    """The failures in full (with ``--verbose``, every tool's output), then one summary line per tool."""
    if as_json:
        print_json(result.to_json())
        return
    for run in result.runs if verbosity() is Verbosity.VERBOSE else result.failed:
        stdout().rule(f"{run.name} output")
        stdout().print(escape(redact_url(run.output.rstrip())), soft_wrap=True)
    for note in result.notes:
        stdout().print(f"[dim]{escape(redact_url(note))}[/dim]", soft_wrap=True)
    for run in result.runs:
        mark = "[green]✓[/green]" if run.ok else "[red]✗[/red]"
        stdout().print(f"{mark} {run.name}: {escape(run.summary)} [dim]({run.seconds:.1f}s)[/dim]", soft_wrap=True)
