"""What ``mlpack ci`` prints: the plan, and in a dry run the diff of each file you edited (redacted)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlpack_cli.commands.ci import CiOptions, CiResult, Difference
from mlpack_cli.files import Action, FilePlan, PlannedFile
from mlpack_cli.output import ci as output

DIFF = "--- .gitlab-ci.yml (yours)\n+++ .gitlab-ci.yml (mlpack)\n-  url: https://u:tok3n@example.org/\n+  url: x\n"


def _result(tmp_path: Path) -> CiResult:
    plan = FilePlan(tmp_path, [PlannedFile(Path(".gitlab-ci.yml"), Action.SKIPPED, note="edited; kept")])
    return CiResult(tmp_path, CiOptions(name="demo", package="demo"), plan, [Difference(".gitlab-ci.yml", DIFF)])


def test_a_dry_run_shows_the_diff_with_credentials_hidden(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    output.show(_result(tmp_path), kind="gitlab", dry_run=True)
    out, _ = printed()
    assert f"mlpack ci gitlab {tmp_path} (dry run: nothing written)" in out
    assert "+++ .gitlab-ci.yml (mlpack)" in out
    assert "tok3n" not in out and "https://u:***@example.org/" in out


def test_a_real_run_shows_the_plan_only(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    output.show(_result(tmp_path), kind="gitlab", dry_run=False)
    out, _ = printed()
    assert ".gitlab-ci.yml" in out and "edited; kept" in out
    assert "+++" not in out
