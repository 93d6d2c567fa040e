"""Release logic: version bumps, and the ordered steps with rollback in a real temporary git repo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlpack_cli.errors import InvalidInput, ReleaseFailed
from mlpack_cli.release import ReleaseSettings, bump_version, release, set_version
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
