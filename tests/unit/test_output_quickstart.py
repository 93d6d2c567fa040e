"""What ``mlpack quickstart`` prints: where the project is, the metrics its installed pipeline returned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlpack_cli.commands.quickstart import QuickstartResult
from mlpack_cli.output import quickstart as output


def test_the_metrics_the_pipeline_returned_are_printed_as_json(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    result = QuickstartResult(root=tmp_path / "qs", wheel=tmp_path / "qs-0.1.0-py3-none-any.whl", module="iris",
                              module_file="x", metrics={"accuracy": 0.97, "f1": [0.9]}, venv=tmp_path / "venv",
                              command="qs run iris")
    output.show(result)
    out = printed()[0]
    assert out.splitlines()[0] == f"Project: {tmp_path / 'qs'}"
    assert f"`qs run iris`: iris.run() from the wheel installed in {tmp_path / 'venv'}" in out
    assert '"accuracy": 0.97' in out and '"f1": [' in out
    assert f"Wheel: {tmp_path / 'qs-0.1.0-py3-none-any.whl'}" in out
    assert out.splitlines()[-1].startswith(f"Next: cd {tmp_path / 'qs'}")
