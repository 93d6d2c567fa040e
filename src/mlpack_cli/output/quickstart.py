"""What ``mlpack quickstart`` prints: where the project is, the metrics its installed pipeline printed, what next."""

from __future__ import annotations

import json

from typing import TYPE_CHECKING

from mlpack_cli.output.console import escape, stdout

if TYPE_CHECKING:
    from mlpack_cli.commands.quickstart import QuickstartResult


def show(result: QuickstartResult) -> None:
    stdout().print(f"Project: {escape(str(result.root))}", soft_wrap=True)
    where = f"{escape(result.module)}.run() from the wheel installed in {escape(str(result.venv))}"
    if result.command:
        where = f"`{escape(result.command)}`: {where}"
    stdout().print(f"Pipeline metrics ({where}):", soft_wrap=True)
    stdout().print(escape(result.metrics_text), soft_wrap=True)
    if result.served:
        served = result.served
        stdout().print(f"Served (`{escape(served['command'])}`): POST /predict "
                       f"{escape(json.dumps({'records': [served['record']]}))} -> "
                       f"{escape(json.dumps({'predictions': served['predictions']}))}", soft_wrap=True)
    stdout().print(f"Wheel: {escape(str(result.wheel))}", soft_wrap=True)
    stdout().print(f"Next: cd {escape(str(result.root))} and edit notebooks/, then `mlpack convert`, "
                   "`mlpack check`, `mlpack release --dry-run`.", soft_wrap=True)
