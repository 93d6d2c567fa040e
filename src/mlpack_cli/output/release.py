"""What ``mlpack release`` prints after its steps (each shown as it ran): the outcome and what to run next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpack_cli.output.console import escape, print_json, stdout
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from mlpack_cli.commands.release import ReleaseResult


def show(result: ReleaseResult, *, as_json: bool = False) -> None:
    if as_json:
        print_json(result.to_json())
        return
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
