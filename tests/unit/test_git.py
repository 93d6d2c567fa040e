"""The git helpers, against a real repository in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlpack_cli import git
from mlpack_cli.errors import ReleaseFailed


def test_a_first_commit_of_everything_then_a_clean_tree_with_a_commit_time(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    assert git.last_commit_epoch(tmp_path) is None  # not a repository yet
    assert git.commit_everything(tmp_path, "start") is None
    assert git.dirty_files(tmp_path) == []
    epoch = git.last_commit_epoch(tmp_path)
    assert epoch is not None and epoch > 1_600_000_000
    (tmp_path / "b.txt").write_text("b\n")
    assert git.dirty_files(tmp_path) == ["?? b.txt"]


def test_a_failing_git_command_names_itself_and_gits_words(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    git.commit_everything(tmp_path, "start")
    assert not git.succeeds(tmp_path, "rev-parse", "--verify", "--quiet", "refs/tags/v9")
    with pytest.raises(ReleaseFailed, match=r"^git rev-parse --verify no-such-ref failed: fatal: "):
        git.git(tmp_path, "rev-parse", "--verify", "no-such-ref")


def test_outside_a_repository_the_tree_check_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ReleaseFailed, match="is not a git repository") as caught:
        git.dirty_files(tmp_path)
    assert "git init" in (caught.value.hint or "")


def test_identity_comes_from_git_config(tmp_path: Path) -> None:
    assert git.identity(tmp_path) == ("Ada Lovelace", "ada@example.org")  # the tests' isolated git config


def test_without_git_the_optional_helpers_give_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    assert git.identity(tmp_path) == (None, None)
    assert git.last_commit_epoch(tmp_path) is None
    assert git.commit_everything(tmp_path, "start") == "git is not installed"


def test_the_push_command_names_the_remote_or_says_there_is_none(tmp_path: Path) -> None:
    git.commit_everything(tmp_path, "start")
    assert git.push_command(tmp_path, "v1.0") == ("git push <remote> HEAD v1.0", git.NO_REMOTE_NOTE)
    git.git(tmp_path, "remote", "add", "upstream", "https://example.org/r.git")
    assert git.push_command(tmp_path, None) == ("git push upstream HEAD", None)
