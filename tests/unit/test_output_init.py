"""What ``mlpack init`` prints: the plan, each pyproject value it kept, and whether anything changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlpack_cli.commands.init import InitResult
from mlpack_cli.files import Action, FilePlan, PlannedFile
from mlpack_cli.output import init as output
from mlpack_cli.pyproject_merge import Conflict


def _result(tmp_path: Path, *entries: PlannedFile, conflicts: list[Conflict] | None = None) -> InitResult:
    return InitResult(tmp_path, "Shop-Model", "shop_model", FilePlan(tmp_path, list(entries)), conflicts or [])


def test_a_new_project_says_where_and_under_which_import_name(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    output.show(_result(tmp_path, PlannedFile(Path("pyproject.toml"), Action.CREATED, b"x")), dry_run=False)
    out, _ = printed()
    assert "pyproject.toml" in out and "created" in out
    assert out.splitlines()[-1] == f"Project 'Shop-Model' (import name 'shop_model') is ready in {tmp_path}."


def test_a_dry_run_says_would_be_and_claims_nothing(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    output.show(_result(tmp_path, PlannedFile(Path("README.md"), Action.CREATED, b"x")), dry_run=True)
    out, _ = printed()
    assert "(dry run: nothing written)" in out and "would be created" in out
    assert "is ready" not in out


def test_a_kept_value_is_a_warning_naming_both_values(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    conflict = Conflict("project.license", ours="MIT", theirs="Apache-2.0")
    output.show(_result(tmp_path, PlannedFile(Path("pyproject.toml"), Action.UNCHANGED), conflicts=[conflict]),
                dry_run=False)
    out, err = printed()
    assert ("Warning: pyproject.toml: project.license is 'Apache-2.0'; mlpack would set 'MIT'. "
            "Kept yours (use --force to replace).") in err
    assert out.splitlines()[-1] == f"Nothing to change: {tmp_path} is already set up."
