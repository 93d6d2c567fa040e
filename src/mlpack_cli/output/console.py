"""Everything the CLI prints. Rich is imported here lazily, never at CLI start-up.

Every message, hint, warning and step line goes through :func:`mlpack_cli.redaction.redact_url` on
its way out: a URL's password never reaches the terminal or a CI log, whichever layer built the text.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from mlpack_cli.errors import MlpackError
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from rich.console import Console

    from mlpack_cli.files import FilePlan


# Piped or captured output (CI logs, `| grep`) has no terminal width; rich would assume 80 columns
# and cut paths short. Lines are not wrapped there and tables get room for full paths.
PIPED_WIDTH = 200


class Verbosity(enum.IntEnum):
    """``--quiet``: warnings and errors only; ``--verbose``: also the tools' full output."""

    QUIET = -1
    NORMAL = 0
    VERBOSE = 1


_verbosity = Verbosity.NORMAL


def set_verbosity(level: Verbosity) -> None:
    """Set once per command by the CLI, before anything is printed."""
    global _verbosity
    _verbosity = level
    stdout().quiet = level is Verbosity.QUIET


def verbosity() -> Verbosity:
    return _verbosity


@functools.lru_cache(maxsize=None)
def stdout() -> Console:
    return _console(sys.stdout, stderr=False)


@functools.lru_cache(maxsize=None)
def stderr() -> Console:
    return _console(sys.stderr, stderr=True)


def _console(stream: object, *, stderr: bool) -> Console:
    from rich.console import Console

    piped = not getattr(stream, "isatty", lambda: False)()
    return Console(stderr=stderr, highlight=False, soft_wrap=piped or stderr,
                   width=PIPED_WIDTH if piped and "COLUMNS" not in os.environ else None)


# C0 controls but line feed and tab, DEL and C1 controls: in a file name or notebook text they would
# drive the terminal (ESC [2J clears it, CR overwrites the line being read); they are shown as escapes.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with every terminal control character shown as a Python escape (``\\x1b``)."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def escape(text: str) -> str:
    """Text from outside, made safe to print through rich: no markup, no terminal control characters."""
    from rich.markup import escape as rich_escape

    return rich_escape(visible(text))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


def print_json(data: dict[str, Any]) -> None:
    """A command's ``--json`` report on stdout, every string redacted; written even under ``--quiet``."""
    sys.stdout.write(json.dumps(_redacted(data), indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def print_error(error: MlpackError) -> None:
    # Plain writes: an error must get out even if the terminal is odd, and must never be markup.
    sys.stderr.write(f"Error: {visible(redact_url(error.message))}\n")
    if error.hint:
        sys.stderr.write(f"Hint: {visible(redact_url(error.hint))}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    stderr().print(f"[yellow]Warning:[/yellow] {escape(redact_url(message))}")


def info(message: str) -> None:
    stdout().print(escape(redact_url(message)))


_ACTION_STYLES = {
    "created": "green",
    "updated": "cyan",
    "replaced": "magenta",
    "skipped": "yellow",
    "unchanged": "dim",
}


def print_plan(plan: FilePlan, *, title: str, dry_run: bool) -> None:
    from rich.table import Table

    table = Table(title=title + (" (dry run: nothing written)" if dry_run else ""), title_justify="left")
    table.add_column("file")
    table.add_column("action")
    table.add_column("note")
    for entry in sorted(plan.entries, key=lambda e: str(e.path)):
        name = f"{entry.path.as_posix()}/" if entry.is_dir else entry.path.as_posix()
        style = _ACTION_STYLES[entry.action.value]
        action = ("would be " if dry_run and entry.action.writes else "") + entry.action.value
        table.add_row(escape(name), f"[{style}]{action}[/{style}]", escape(redact_url(entry.note)))
    stdout().print(table)


class ConsoleReporter:
    """The reporter the CLI installs: step lines with timings, warnings on stderr."""

    def info(self, message: str) -> None:
        info(message)

    def warn(self, message: str) -> None:
        warn(message)

    def step_started(self, name: str) -> None:
        stdout().print(f"[bold]→[/bold] {escape(name)} ...")

    def step_finished(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        extra = f" {escape(redact_url(detail))}" if detail else ""
        stdout().print(f"{mark} {escape(name)} [dim]({seconds:.1f}s)[/dim]{extra}")
