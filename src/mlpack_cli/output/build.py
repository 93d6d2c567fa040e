"""What ``mlpack build`` prints: each artifact with its size and sha256, the checks passed, how it was built."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlpack_cli.output.console import escape, print_json, stdout

if TYPE_CHECKING:
    from mlpack_cli.commands.build import BuildResult
    from mlpack_cli.dists import Artifact


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


def show(result: BuildResult, *, as_json: bool = False) -> None:
    if as_json:
        print_json(result.to_json())
        return
    print_artifacts(result.artifacts)
    for line in result.checks:
        stdout().print(f"[green]✓[/green] {escape(line)}", soft_wrap=True)
    epoch = f"SOURCE_DATE_EPOCH={result.source_date_epoch}" if result.source_date_epoch else "no SOURCE_DATE_EPOCH"
    stdout().print(f"[dim]installer {result.installer}; {epoch}[/dim]", soft_wrap=True)
