"""What ``mlpack publish`` prints once the uploads (reported as they happened) are done: the notes, how to install."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpack_cli.output.console import escape, print_json, stdout
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from mlpack_cli.commands.publish import PublishResult


def show(result: PublishResult, *, as_json: bool = False) -> None:
    if as_json:
        print_json(result.to_json())
        return
    for note in result.notes:
        label = "[yellow]skipped[/yellow]" if result.skipped else "[cyan]completed[/cyan]"
        stdout().print(f"{label} {escape(redact_url(note))}", soft_wrap=True)
    stdout().print(f"Install it with: {escape(redact_url(result.install_command))}", soft_wrap=True)
