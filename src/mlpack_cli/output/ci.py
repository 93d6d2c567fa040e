"""What ``mlpack ci`` prints: the file plan, its notes and, in a dry run, the diff of every file it would change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpack_cli.output import console
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from mlpack_cli.commands.ci import CiResult


def show(result: CiResult, *, kind: str, dry_run: bool) -> None:
    console.print_plan(result.plan, title=f"mlpack ci {kind} {result.root}", dry_run=dry_run)
    for note in result.notes:
        console.info(note)
    for difference in result.differences if dry_run else ():
        console.stdout().print(console.escape(redact_url(difference.diff)), soft_wrap=True)
