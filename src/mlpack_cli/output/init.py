"""What ``mlpack init`` prints: the file plan, each pyproject value kept, and where the project is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlpack_cli.output import console

if TYPE_CHECKING:
    from mlpack_cli.commands.init import InitResult


def show(result: InitResult, *, dry_run: bool) -> None:
    console.print_plan(result.plan, title=f"mlpack init {result.root}", dry_run=dry_run)
    for conflict in result.conflicts:
        console.warn(
            f"pyproject.toml: {conflict.key} is {conflict.theirs!r}; mlpack would set {conflict.ours!r}. "
            "Kept yours (use --force to replace)."
        )
    if not result.plan.changed:
        console.info(f"Nothing to change: {result.root} is already set up.")
    elif not dry_run:
        console.info(f"Project {result.name!r} (import name {result.package!r}) is ready in {result.root}.")
