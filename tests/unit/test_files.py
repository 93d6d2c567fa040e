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


# -- staging: an interrupted run leaves nothing git would pick up, and the next run cleans up ------

KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from mlpack_cli import files

plan = files.FilePlan(Path(sys.argv[1]))
plan.file("tracked.txt", "changed\\n", force=True)
plan.file("sub/new.txt", "new\\n")
files.os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # killed once all is staged
plan.apply()
"""


def git(root: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "tracked.txt").write_text("original\n")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "start")
    return root


def test_a_killed_run_leaves_nothing_git_add_picks_up_and_the_next_run_cleans_it(repository: Path) -> None:
    import signal
    import subprocess
    import sys

    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(repository)], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = [p for p in (repository / ".mlpack").rglob("*") if p.name.endswith(files.STAGED_SUFFIX)]
    assert len(left) == 2, "the kill came after staging: both staged files are still there"
    assert (repository / "tracked.txt").read_text() == "original\n"
    assert git(repository, "status", "--porcelain", "--untracked-files=all", "--ignored=no") == ""
    assert git(repository, "add", "-A", "--dry-run") == ""

    plan = FilePlan(repository)
    plan.file("tracked.txt", "changed\n", force=True)
    plan.file("sub/new.txt", "new\n")
    plan.apply()
    assert not (repository / ".mlpack").exists(), "the dead run's staging was removed, and ours"
    assert git(repository, "status", "--porcelain", "--untracked-files=all").splitlines() == [
        " M tracked.txt", "?? sub/new.txt"]


def test_only_staging_of_runs_that_are_gone_is_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    base = tmp_path / files.STAGING_DIR
    (base / f"{dead}.abc").mkdir(parents=True)
    (base / f"{dead}.abc" / ".a.txt.x.mlpack-tmp").write_text("stale")
    (base / f"{os.getppid()}.live").mkdir()  # another mlpack still running in this project
    (tmp_path / f".a.txt.{dead}.k2j.mlpack-tmp").write_text("stale, staged beside its target")
    (tmp_path / ".a.txt.k2j8d0.mlpack-tmp").write_text("stale, named as before runs had a pid")
    (tmp_path / f".a.txt.{os.getppid()}.q.mlpack-tmp").write_text("live")
    # staged for a file this run does not write (its notebook was deleted since): stale all the same
    (tmp_path / f".gone.py.{dead}.r7.mlpack-tmp").write_text("stale, another target")
    (tmp_path / ".gone.py.x8ke2m.mlpack-tmp").write_text("stale, another target, no pid")
    plan = FilePlan(tmp_path)
    plan.file("a.txt", "x")
    plan.apply()
    assert sorted(p.name for p in base.iterdir()) == [".gitignore", f"{os.getppid()}.live"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".a.txt.%s.q.mlpack-tmp" % os.getppid(), ".mlpack", "a.txt"]


def test_staging_is_ignored_by_git_while_a_run_is_writing(repository: Path) -> None:
    staging = files.Staging(repository)
    run = staging.directory_for(repository / "tracked.txt")
    assert run is not None and run.parent == repository / files.STAGING_DIR
    (run / ".tracked.txt.abc.mlpack-tmp").write_text("staged")
    assert git(repository, "status", "--porcelain", "--untracked-files=all") == ""
    staging.close()
    assert not (repository / ".mlpack").exists()


def test_a_target_on_another_file_system_is_staged_beside_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files.Staging, "directory_for", lambda self, target: None)
    seen: list[str] = []
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    plan = FilePlan(tmp_path)
    plan.file("a.txt", "x")
    plan.apply()
    (name,) = seen
    assert name.startswith(f".a.txt.{os.getpid()}.") and name.endswith(files.STAGED_SUFFIX)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


# -- rewriting an existing file the way its owner keeps it ---------------------------------------------


def test_update_writes_through_a_symlink_and_the_link_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    real = tmp_path / "shared" / "pyproject.toml"
    real.write_text('[project]\nversion = "0.1.0"\n')
    (tmp_path / "pyproject.toml").symlink_to(Path("shared") / "pyproject.toml")
    plan = FilePlan(tmp_path)
    assert plan.update("pyproject.toml", '[project]\nversion = "0.2.0"\n').action is Action.UPDATED
    plan.apply()
    assert (tmp_path / "pyproject.toml").is_symlink()
    assert real.read_text() == '[project]\nversion = "0.2.0"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml", "shared"]
    assert [p.name for p in real.parent.iterdir()] == ["pyproject.toml"]  # no staging file left beside it


def test_update_keeps_crlf_line_endings_and_adds_no_bom(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\r\nname = "x"\r\n')
    plan = FilePlan(tmp_path)
    # new content in LF (what tomlkit writes for added keys), the file in CRLF: CRLF throughout
    assert plan.update("pyproject.toml", '[project]\r\nname = "x"\r\ndependencies = ["a"]\n').action is Action.UPDATED
    plan.apply()
    assert (tmp_path / "pyproject.toml").read_bytes() == b'[project]\r\nname = "x"\r\ndependencies = ["a"]\r\n'
    # the same text in LF is no change at all for a CRLF file
    assert FilePlan(tmp_path).update("pyproject.toml", '[project]\nname = "x"\ndependencies = ["a"]\n').action \
        is Action.UNCHANGED


@pytest.mark.parametrize(
    ("existing", "new", "expected"),
    [
        (b"a\nb\n", b"a\r\nc\n", b"a\nc\n"),  # LF stays LF
        (b"a\r\nb\r\n", b"a\nc\n", b"a\r\nc\r\n"),
        (b"a\r\nb\n", b"a\nc\n", b"a\nc\n"),  # mixed: left as the new content has it
        (b"\xef\xbb\xbfa\n", b"b\n", b"\xef\xbb\xbfb\n"),  # a BOM is kept
        (b"a\n", b"\xef\xbb\xbfb\n", b"b\n"),  # and never added
    ],
)
def test_keep_text_style(existing: bytes, new: bytes, expected: bytes) -> None:
    assert files.keep_text_style(existing, new) == expected


def test_write_in_place_needs_no_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "pyproject.toml"
    target.write_bytes(b'version = "0.1.1"\n')
    inode = target.stat().st_ino

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.tempfile, "mkstemp", disk_full)  # no temporary file can be made
    monkeypatch.setattr(files.os, "replace", disk_full)
    assert files.write_in_place(target, b'version = "0.1.0"\n') is True
    assert target.read_bytes() == b'version = "0.1.0"\n'
    assert target.stat().st_ino == inode  # the same file, rewritten
    assert files.write_in_place(target, b'version = "0.1.0"\n') is False  # already so: not written


def test_a_rollback_that_fails_for_one_file_still_restores_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "a.txt").write_text("a original")
    (tmp_path / "b.txt").write_text("b original")
    plan = FilePlan(tmp_path)
    plan.file("a.txt", "a new", force=True)
    plan.file("b.txt", "b new", force=True)
    plan.file("c.txt", "boom")
    real_replace, real_in_place = os.replace, files.write_in_place

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "c.txt":
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    def failing_in_place(path: Path, content: bytes) -> bool:
        if path.name == "b.txt":
            raise OSError(5, "Input/output error", str(path))
        return real_in_place(path, content)

    monkeypatch.setattr(files.os, "replace", failing_replace)
    monkeypatch.setattr(files, "write_in_place", failing_in_place)
    with pytest.raises(EnvironmentProblem) as caught:
        plan.apply()
    assert "No space left on device" in caught.value.message  # the first error, not the rollback's
    assert (tmp_path / "a.txt").read_text() == "a original"
