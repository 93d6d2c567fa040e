from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlpack_cli import files
from mlpack_cli.errors import EnvironmentProblem, ExitCode, FileConflict
from mlpack_cli.files import Action, FilePlan


def test_new_file_is_planned_as_created_and_written_on_apply(tmp_path: Path) -> None:
    plan = FilePlan(tmp_path)
    entry = plan.file("a/b/c.txt", "hello\n")
    assert entry.action is Action.CREATED
    assert not (tmp_path / "a").exists(), "planning must not touch the disk"
    plan.apply()
    assert (tmp_path / "a/b/c.txt").read_text() == "hello\n"


def test_identical_file_is_unchanged_and_different_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_text("x")
    (tmp_path / "mine.txt").write_text("user content")
    plan = FilePlan(tmp_path)
    assert plan.file("same.txt", "x").action is Action.UNCHANGED
    skipped = plan.file("mine.txt", "generated")
    assert skipped.action is Action.SKIPPED
    assert "--force" in skipped.note
    plan.apply()
    assert (tmp_path / "mine.txt").read_text() == "user content"
    assert not plan.changed


def test_force_replaces_and_keeps_file_mode(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    plan = FilePlan(tmp_path)
    assert plan.file("run.sh", "new", force=True).action is Action.REPLACED
    plan.apply()
    assert script.read_text() == "new"
    assert script.stat().st_mode & 0o777 == 0o755


def test_new_files_get_umask_permissions_not_mkstemp_ones(tmp_path: Path) -> None:
    plan = FilePlan(tmp_path)
    plan.file("f.txt", "x")
    plan.apply()
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_update_reports_unchanged_when_content_is_the_same(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("a = 1\n")
    plan = FilePlan(tmp_path)
    assert plan.update("pyproject.toml", "a = 1\n").action is Action.UNCHANGED
    assert plan.update("pyproject.toml", "a = 1\nb = 2\n").action is Action.UPDATED
    assert len(plan.entries) == 1, "a path is planned once; the later plan wins"


def test_directory_entries(tmp_path: Path) -> None:
    plan = FilePlan(tmp_path)
    assert plan.directory("notebooks").action is Action.CREATED
    plan.apply()
    assert (tmp_path / "notebooks").is_dir()
    assert FilePlan(tmp_path).directory("notebooks").action is Action.UNCHANGED
    (tmp_path / "data").write_text("a file")
    with pytest.raises(FileConflict):
        FilePlan(tmp_path).directory("data")


def test_failure_in_the_middle_rolls_everything_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "existing.txt").write_text("original")
    plan = FilePlan(tmp_path)
    plan.file("existing.txt", "replacement", force=True)
    plan.file("new/dir/created.txt", "fresh")
    plan.file("third.txt", "boom")

    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "third.txt":
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(EnvironmentProblem) as caught:
        plan.apply()
    assert "No space left on device" in caught.value.message
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert (tmp_path / "existing.txt").read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.txt"], "no temp files or new dirs left"


def test_check_writable_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = FilePlan(tmp_path)
    plan.file("sub/a.txt", "x")
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    with pytest.raises(EnvironmentProblem) as caught:
        plan.apply()
    assert "sub/a.txt" in caught.value.message
    assert not (tmp_path / "sub").exists()
