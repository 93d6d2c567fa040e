"""Release logic: version bumps, and the ordered steps with rollback in a real temporary git repo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlpack_cli.errors import InvalidInput, ReleaseFailed
from mlpack_cli.release import (
    NO_REMOTE_NOTE,
    ReleaseResult,
    ReleaseSettings,
    _commit_and_tag,
    _Steps,
    bump_version,
    git_ready,
    push_command,
    release,
    set_version,
)
from mlpack_cli.reporting import using_reporter
from mlpack_cli.scaffold import InitSettings, init_project


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        ("0.1.0", "patch", "0.1.1"),
        ("0.1.9", "minor", "0.2.0"),
        ("1.4.2", "major", "2.0.0"),
        ("1.2.0rc1", "patch", "1.2.0"),
        ("1.2", "patch", "1.2.1"),
        ("0.1.0", "1.0.0", "1.0.0"),
        ("0.1.0", "v1.0", "1.0"),  # PEP 440 normalises
        ("0.1.0", "0.2.0.post1", "0.2.0.post1"),
    ],
)
def test_bump_version(current: str, bump: str, expected: str) -> None:
    assert bump_version(current, bump) == expected


@pytest.mark.parametrize("bump", ["0.1.0", "0.0.9", "banana", "1.0.0-not-pep440!"])
def test_bump_refuses_going_back_or_nonsense(bump: str) -> None:
    with pytest.raises(InvalidInput):
        bump_version("0.1.0", bump)


def test_set_version_keeps_comments_and_layout(tmp_path: Path) -> None:
    text = '[project]\nname = "x"  # the name\nversion = "0.1.0"   # bumped by mlpack\n\n[tool.other]\na = 1\n'
    new = set_version(text, tmp_path / "pyproject.toml", "0.2.0")
    assert new == text.replace('"0.1.0"', '"0.2.0"')


def test_a_dynamic_version_cannot_be_bumped(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no static"):
        set_version('[project]\nname = "x"\ndynamic = ["version"]\n', tmp_path / "pyproject.toml", "1.0")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "relunit"
    init_project(InitSettings(path=root, name="relunit", ci="none"))
    _git(root, "init", "--quiet")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "-m", "init")
    return root


class Steps:
    def __init__(self) -> None:
        self.finished: list[tuple[str, bool, str]] = []

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def step_started(self, name: str) -> None:
        pass

    def step_finished(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        self.finished.append((name, ok, detail))


def test_a_dirty_tree_is_refused_and_nothing_changes(repo: Path) -> None:
    (repo / "notes.txt").write_text("work in progress\n")
    before = (repo / "pyproject.toml").read_bytes()
    with pytest.raises(ReleaseFailed, match="clean tree") as caught:
        release(ReleaseSettings(root=repo, dry_run=True))
    assert "notes.txt" in caught.value.message
    assert "--allow-dirty" in (caught.value.hint or "")
    assert (repo / "pyproject.toml").read_bytes() == before


def test_not_a_git_repository_is_refused(tmp_path: Path) -> None:
    init_project(InitSettings(path=tmp_path / "nogit", name="nogit", ci="none"))
    with pytest.raises(ReleaseFailed, match="not a git repository"):
        release(ReleaseSettings(root=tmp_path / "nogit", dry_run=True))


def test_a_failing_check_rolls_the_bump_back_byte_for_byte(repo: Path) -> None:
    # a lint error, committed: the tree is clean, the check step must fail
    (repo / "tests" / "test_smoke.py").write_text((repo / "tests" / "test_smoke.py").read_text() + "import os\n")
    _git(repo, "commit", "--quiet", "-am", "lint error")
    before = (repo / "pyproject.toml").read_bytes()
    steps = Steps()
    with using_reporter(steps), pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, bump="minor", isolated_check=False, repository_url="http://127.0.0.1:9/"))
    assert caught.value.message.startswith("release step 'check' failed")
    assert "F401 'os' imported but unused" in caught.value.message
    assert "run `mlpack release` again" in (caught.value.hint or "")
    assert (repo / "pyproject.toml").read_bytes() == before
    assert _git(repo, "status", "--porcelain") == ""
    assert [(name, ok) for name, ok, _ in steps.finished if name in ("clean tree", "bump version", "check")] == [
        ("clean tree", True), ("bump version", True), ("check", False)]
    assert not any(name in ("build", "publish", "tag") for name, _, _ in steps.finished)


def test_notebooks_out_of_sync_stop_the_release_before_the_bump(tmp_path: Path) -> None:
    root = tmp_path / "stale"
    init_project(InitSettings(path=root, name="stale", ci="none", example=True))  # notebook, never converted
    _git(root, "init", "--quiet")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "-m", "init")
    before = (root / "pyproject.toml").read_bytes()
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=root, dry_run=True))
    assert caught.value.message.startswith("release step 'notebooks in sync' failed")
    assert "houses.ipynb" in caught.value.message
    assert "mlpack convert" in (caught.value.hint or "")
    assert (root / "pyproject.toml").read_bytes() == before


def test_a_failing_test_suggests_the_release_option_not_the_check_one(repo: Path) -> None:
    (repo / "tests" / "test_broken.py").write_text("def test_broken():\n    assert False\n")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "a failing test")
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, dry_run=True))
    assert caught.value.message.startswith("release step 'check' failed")
    hint = caught.value.hint or ""
    assert "run `mlpack release` again" in hint and "`mlpack release --isolated`" in hint
    assert "mlpack check --isolated" not in hint


def test_the_push_command_names_the_remote_or_says_there_is_none(repo: Path) -> None:
    assert push_command(repo, "v1.0.0") == ("git push <remote> HEAD v1.0.0", NO_REMOTE_NOTE)
    assert "git remote add origin <url>" in NO_REMOTE_NOTE
    _git(repo, "remote", "add", "upstream", "https://example.org/upstream.git")
    assert push_command(repo, "v1.0.0") == ("git push upstream HEAD v1.0.0", None)
    _git(repo, "remote", "add", "origin", "https://example.org/origin.git")
    assert push_command(repo, None) == ("git push origin HEAD", None)


def _no_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.home() / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")  # no name, no e-mail
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("problem", ["identity", "tag", "untracked", "merge"])
def test_what_commit_and_tag_need_is_checked_before_any_build(
    repo: Path, monkeypatch: pytest.MonkeyPatch, problem: str,
) -> None:
    if problem == "identity":
        _no_identity(monkeypatch)
        expected, hint = "git does not know who you are", "git config --global user.email"
    elif problem == "tag":
        _git(repo, "tag", "v0.1.1")
        expected, hint = "the tag v0.1.1 already exists", "git tag -d v0.1.1"
    elif problem == "untracked":
        _git(repo, "rm", "--cached", "--quiet", "pyproject.toml")
        _git(repo, "commit", "--quiet", "-m", "untrack")
        expected, hint = "pyproject.toml is not tracked by git", "git add pyproject.toml"
    else:
        head = _git(repo, "rev-parse", "HEAD").strip()
        (repo / ".git" / "MERGE_HEAD").write_text(head + "\n")
        expected, hint = "a merge is in progress", "git merge --abort"
    before = (repo / "pyproject.toml").read_bytes()
    steps = Steps()
    with using_reporter(steps), pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url="http://127.0.0.1:9/", allow_dirty=True))
    assert caught.value.message.startswith("release step 'clean tree' failed: ")
    assert expected in caught.value.message
    assert hint in (caught.value.hint or "")
    assert [name for name, _, _ in steps.finished] == ["clean tree"]  # nothing built, nothing uploaded
    assert (repo / "pyproject.toml").read_bytes() == before


def test_without_a_tag_an_existing_tag_does_not_matter(repo: Path) -> None:
    _git(repo, "tag", "v0.1.1")
    assert git_ready(repo, None) == "git identity known"
    assert git_ready(repo, "v0.1.2") == "tag v0.1.2 is free, git identity known"


def _published(repo: Path, tag: bool) -> tuple[ReleaseSettings, ReleaseResult]:
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text().replace('"0.1.0"', '"0.2.0"'))
    result = ReleaseResult("relunit", "0.1.0", "0.2.0", False, published_to="http://127.0.0.1:9/")
    return ReleaseSettings(root=repo, tag=tag), result


def test_a_tag_failure_after_the_upload_says_what_was_done_and_what_is_left(repo: Path) -> None:
    settings, result = _published(repo, tag=True)
    _git(repo, "tag", "v0.2.0")  # made in the meantime: the tag step fails after the commit
    with pytest.raises(ReleaseFailed) as caught:
        _commit_and_tag(settings, _Steps(result), result, repo)
    message, hint = caught.value.message, caught.value.hint or ""
    assert "tag 'v0.2.0' already exists" in message
    assert "relunit 0.2.0 is published to http://127.0.0.1:9/" in message
    assert "the version bump is committed; the tag was not made." in message
    assert hint == ('Fix the cause above, then run: `git tag -a v0.2.0 -m "Release 0.2.0"` && '
                    f"`git push <remote> HEAD v0.2.0` ({NO_REMOTE_NOTE}).")
    assert _git(repo, "log", "-1", "--format=%s").strip() == "Release 0.2.0"


def test_a_commit_failure_after_the_upload_lists_the_commit_too(
    repo: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _git(repo, "remote", "add", "origin", "https://example.org/origin.git")
    settings, result = _published(repo, tag=True)
    _no_identity(monkeypatch)
    with pytest.raises(ReleaseFailed) as caught:
        _commit_and_tag(settings, _Steps(result), result, repo)
    assert "pyproject.toml keeps the version bump, not committed; nothing was committed or tagged." in (
        caught.value.message)
    assert caught.value.hint == (
        'Fix the cause above, then run: `git commit -m "Release 0.2.0" -- pyproject.toml` && '
        '`git tag -a v0.2.0 -m "Release 0.2.0"` && `git push origin HEAD v0.2.0`.')
