"""Release logic: version bumps, the pre-flight, and the ordered steps with rollback in a real temporary
git repo. The index is a tiny simple-API server on 127.0.0.1 (uploads are tested against pypiserver in
integration/)."""

from __future__ import annotations

import errno
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlpack_cli import files
from mlpack_cli.commands import release as releasing
from mlpack_cli.errors import (
    BuildFailed,
    CheckFailed,
    ExitCode,
    InvalidInput,
    MlpackError,
    ReleaseFailed,
    StaleModules,
)
from mlpack_cli.commands.release import (
    STEPS,
    ReleaseResult,
    ReleaseSettings,
    _commit_and_tag,
    _release_command,
    _Steps,
    git_ready,
    release,
    set_version,
)
from mlpack_cli.git import NO_REMOTE_NOTE, push_command
from mlpack_cli.project import ProjectSettings
from mlpack_cli.reporting import using_reporter
from mlpack_cli.commands.init import InitSettings, init_project


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


class SimpleIndex(http.server.BaseHTTPRequestHandler):
    """The simple API of an index holding ``files`` (project -> file names); every other project is new."""

    files: dict[str, list[str]] = {}

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        project = self.path.strip("/").split("/")[-1]
        if self.path.startswith("/simple/") and project in self.files:
            body = "".join(f'<a href="/packages/{f}#sha256={"0" * 64}">{f}</a>' for f in self.files[project]).encode()
            self.send_response(200)
        else:
            body = b"not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """(upload URL, the files it holds: edit freely); credentials in TWINE_USERNAME/TWINE_PASSWORD."""
    held: dict[str, list[str]] = {}
    handler = type("Index", (SimpleIndex,), {"files": held})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("TWINE_USERNAME", "uploader")
    monkeypatch.setenv("TWINE_PASSWORD", "index-secret")
    yield f"http://127.0.0.1:{server.server_address[1]}/", held
    server.shutdown()
    server.server_close()
    thread.join()


def _no_check_or_build(monkeypatch: pytest.MonkeyPatch, then: BaseException | None = None) -> list[bytes]:
    """check, build and verify replaced (our own logic under test, not theirs): records pyproject.toml as
    the steps would see it, then raises ``then``."""
    seen: list[bytes] = []

    def fake(settings: ReleaseSettings, project: ProjectSettings, steps: _Steps, result: ReleaseResult) -> None:
        with steps.run("check"):
            seen.append((settings.root / "pyproject.toml").read_bytes())
            if then is not None:
                raise then

    monkeypatch.setattr(releasing, "_check_build_verify", fake)
    return seen


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


def test_a_failing_check_rolls_the_bump_back_byte_for_byte(repo: Path, index: tuple[str, dict]) -> None:
    # a lint error, committed: the tree is clean, the check step must fail
    (repo / "tests" / "test_smoke.py").write_text((repo / "tests" / "test_smoke.py").read_text() + "import os\n")
    _git(repo, "commit", "--quiet", "-am", "lint error")
    before = (repo / "pyproject.toml").read_bytes()
    steps = Steps()
    with using_reporter(steps), pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, bump="minor", isolated_check=False, repository_url=index[0]))
    assert caught.value.message.startswith("release step 'check' failed")
    assert "nothing was uploaded; pyproject.toml was put back to version 0.1.0." in caught.value.message
    assert "F401 'os' imported but unused" in caught.value.message
    assert "run `mlpack release` again" in (caught.value.hint or "")
    assert (repo / "pyproject.toml").read_bytes() == before
    assert _git(repo, "status", "--porcelain") == ""
    assert [(name, ok) for name, ok, _ in steps.finished if name in ("clean tree", "bump version", "check")] == [
        ("clean tree", True), ("bump version", True), ("check", False)]
    assert [name for name, _, _ in steps.finished][:2] == ["clean tree", "pre-flight"]
    assert not any(name in ("build", "publish", "tag") for name, _, _ in steps.finished)


def test_notebooks_out_of_sync_stop_the_release_before_the_bump(tmp_path: Path, index: tuple[str, dict]) -> None:
    root = tmp_path / "stale"
    init_project(InitSettings(path=root, name="stale", ci="none", example=True))  # notebook, never converted
    _git(root, "init", "--quiet")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "-m", "init")
    before = (root / "pyproject.toml").read_bytes()
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=root, dry_run=True, repository_url=index[0]))
    assert caught.value.message.startswith("release step 'notebooks in sync' failed")
    assert "houses.ipynb" in caught.value.message
    assert "mlpack convert" in (caught.value.hint or "")
    assert (root / "pyproject.toml").read_bytes() == before


def test_a_failing_test_suggests_the_release_option_not_the_check_one(repo: Path, index: tuple[str, dict]) -> None:
    (repo / "tests" / "test_broken.py").write_text("def test_broken():\n    assert False\n")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "a failing test")
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, dry_run=True, repository_url=index[0]))
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


@pytest.mark.parametrize("problem", ["identity", "tag", "untracked", "merge", "detached"])
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
    elif problem == "merge":
        head = _git(repo, "rev-parse", "HEAD").strip()
        (repo / ".git" / "MERGE_HEAD").write_text(head + "\n")
        expected, hint = "a merge is in progress", "git merge --abort"
    else:
        _git(repo, "checkout", "--quiet", "--detach", "HEAD")
        expected, hint = "HEAD is detached (not on a branch)", "git switch"
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
    branch = _git(repo, "symbolic-ref", "--short", "HEAD").strip()
    assert git_ready(repo, None) == f"git identity known, on branch {branch}"
    assert git_ready(repo, "v0.1.2") == f"tag v0.1.2 is free, git identity known, on branch {branch}"


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


# -- pre-flight: before anything is built -------------------------------------------------------------


def _finished(steps: Steps) -> list[str]:
    return [name for name, _, _ in steps.finished]


def test_the_pre_flight_runs_right_after_the_tree_check() -> None:
    assert STEPS[:3] == ("clean tree", "pre-flight", "notebooks in sync")


def test_missing_credentials_stop_the_release_before_anything_is_built(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TWINE_PASSWORD")
    seen = _no_check_or_build(monkeypatch)
    before = (repo / "pyproject.toml").read_bytes()
    steps = Steps()
    with using_reporter(steps), pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url=index[0]))
    assert caught.value.message.startswith(f"release step 'pre-flight' failed: no password for {index[0]}")
    assert "TWINE_PASSWORD" in (caught.value.hint or "")
    assert _finished(steps) == ["clean tree", "pre-flight"] and seen == []
    assert (repo / "pyproject.toml").read_bytes() == before


def test_an_unreachable_index_stops_the_release_before_anything_is_built(
    repo: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    monkeypatch.setenv("TWINE_USERNAME", "u")
    monkeypatch.setenv("TWINE_PASSWORD", "p-secret")
    seen = _no_check_or_build(monkeypatch)
    expected = rf"release step 'pre-flight' failed: cannot reach the package index at {dead}"
    with pytest.raises(ReleaseFailed, match=expected):
        release(ReleaseSettings(root=repo, repository_url=dead))
    assert seen == []


def test_a_version_already_on_the_index_is_refused_naming_the_next_free_one(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, held = index
    held["relunit"] = ["relunit-0.1.1.tar.gz", "relunit-0.1.1-py3-none-any.whl", "relunit-0.1.2.tar.gz"]
    seen = _no_check_or_build(monkeypatch)
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url=url))
    assert caught.value.message.startswith(
        f"release step 'pre-flight' failed: relunit 0.1.1 already exists on {url}simple/")
    hint = caught.value.hint or ""
    assert "0.1.3 is the next version free there" in hint and "mlpack release --bump 0.1.3" in hint
    assert "--bump 0.1.1" not in hint and "--bump patch" not in hint
    assert seen == []


def test_a_version_only_partly_on_the_index_goes_on_to_be_completed(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, held = index
    held["relunit"] = ["relunit-0.1.1.tar.gz"]  # a release whose wheel upload failed
    seen = _no_check_or_build(monkeypatch)
    steps = Steps()
    with using_reporter(steps):
        release(ReleaseSettings(root=repo, repository_url=url, dry_run=True))
    (detail,) = [d for name, _, d in steps.finished if name == "pre-flight"]
    assert "relunit 0.1.1 is partly on" in detail and "relunit-0.1.1.tar.gz" in detail
    assert len(seen) == 1 and b'version = "0.1.1"' in seen[0]


def test_a_dry_run_without_credentials_says_the_real_release_would_stop(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TWINE_USERNAME")
    monkeypatch.delenv("TWINE_PASSWORD")
    seen = _no_check_or_build(monkeypatch)
    result = release(ReleaseSettings(root=repo, repository_url=index[0], dry_run=True))
    assert len(seen) == 1  # every step ran
    (problem,) = result.preflight_problems
    assert problem.startswith(f"no username for {index[0]}")


# -- whatever stops a release: what it says, what it leaves ---------------------------------------------


@pytest.mark.parametrize("error", [CheckFailed("checks failed: pytest (1 failed)"),
                                   BuildFailed("the wheel holds tests/"), StaleModules("notebooks changed")],
                         ids=lambda e: type(e).__name__)
def test_a_failing_step_keeps_its_own_exit_code(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch, error: MlpackError,
) -> None:
    before = (repo / "pyproject.toml").read_bytes()

    def fake(settings: ReleaseSettings, project: ProjectSettings, steps: _Steps, result: ReleaseResult) -> None:
        with steps.run("check"):
            raise error

    monkeypatch.setattr(releasing, "_check_build_verify", fake)
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url=index[0]))
    assert caught.value.exit_code == error.exit_code != ExitCode.RELEASE_FAILED
    assert caught.value.message.startswith(f"release step 'check' failed: {error.message}")
    assert (repo / "pyproject.toml").read_bytes() == before


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_reported_and_the_bump_rolled_back_without_new_files(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = (repo / "pyproject.toml").read_bytes()
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(repo / "dist" / "relunit-0.1.1.tar.gz"))

    def fake(settings: ReleaseSettings, project: ProjectSettings, steps: _Steps, result: ReleaseResult) -> None:
        with steps.run("build"):
            # from here on no new file can be made: the rollback must not need one
            monkeypatch.setattr(files.tempfile, "mkstemp", _disk_full)
            monkeypatch.setattr(files.os, "replace", _disk_full)
            raise full

    monkeypatch.setattr(releasing, "_check_build_verify", fake)
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url=index[0]))
    message = caught.value.message
    assert message.startswith("release step 'build' failed: No space left on device (")
    assert "nothing was uploaded; pyproject.toml was put back to version 0.1.0." in message
    assert caught.value.exit_code == ExitCode.RELEASE_FAILED
    assert (repo / "pyproject.toml").read_bytes() == before
    assert _git(repo, "status", "--porcelain") == ""


def test_a_rollback_that_fails_never_hides_the_first_error(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlpack_cli.errors import CheckFailed

    _no_check_or_build(monkeypatch, then=CheckFailed("checks failed: pytest (1 failed)", hint="Fix the test."))
    monkeypatch.setattr(files, "write_in_place", _disk_full)
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url=index[0]))
    message, hint = caught.value.message, caught.value.hint or ""
    assert message.startswith("release step 'check' failed: checks failed: pytest (1 failed)\n")
    assert "pyproject.toml could NOT be put back (No space left on device)" in message
    assert hint.startswith('Set version = "0.1.0" in pyproject.toml again by hand. Fix the test.')


def test_ctrl_c_is_reported_with_what_was_done_and_exit_130(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = (repo / "pyproject.toml").read_bytes()
    _no_check_or_build(monkeypatch, then=KeyboardInterrupt())
    with pytest.raises(ReleaseFailed) as caught:
        release(ReleaseSettings(root=repo, repository_url=index[0]))
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    assert caught.value.message == ("release step 'check' was interrupted (Ctrl-C)\n"
                                    "nothing was uploaded; pyproject.toml was put back to version 0.1.0.")
    assert (repo / "pyproject.toml").read_bytes() == before


def test_ctrl_c_after_the_upload_keeps_the_bump_and_lists_the_commands_left(
    repo: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, result = _published(repo, tag=True)

    def interrupted(root: Path, *args: str) -> str:
        if args[0] == "tag":
            raise KeyboardInterrupt
        return real_git(root, *args)

    real_git = releasing.git
    monkeypatch.setattr(releasing, "git", interrupted)
    with pytest.raises(ReleaseFailed) as caught:
        _commit_and_tag(settings, _Steps(result), result, repo)
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    assert "relunit 0.2.0 is published to http://127.0.0.1:9/ (that cannot be undone)" in caught.value.message
    assert "the version bump is committed; the tag was not made." in caught.value.message
    assert '`git tag -a v0.2.0 -m "Release 0.2.0"`' in (caught.value.hint or "")


def test_the_bump_writes_through_a_symlink_and_keeps_crlf(
    repo: Path, index: tuple[str, dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = repo / "config" / "pyproject.toml"
    real.parent.mkdir()
    text = (repo / "pyproject.toml").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    real.write_bytes(text)
    (repo / "pyproject.toml").unlink()
    (repo / "pyproject.toml").symlink_to(Path("config") / "pyproject.toml")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "pyproject.toml is a link, with CRLF")
    seen = _no_check_or_build(monkeypatch)
    release(ReleaseSettings(root=repo, repository_url=index[0], dry_run=True))
    (during,) = seen
    assert during == text.replace(b'version = "0.1.0"', b'version = "0.1.1"')  # CRLF kept, no BOM added
    assert b'version = "0.1.1"\r\n' in during
    assert (repo / "pyproject.toml").is_symlink()
    assert real.read_bytes() == text  # put back after the dry run, through the link too
    assert sorted(p.name for p in real.parent.iterdir()) == ["pyproject.toml"]


def test_the_command_that_completes_a_release_redacts_passwords() -> None:
    settings = ReleaseSettings(root=Path("my project"), repository_url="http://u:hunter22@127.0.0.1:8080/",
                               index_url="http://u:hunter22@127.0.0.1:8080/simple/", isolated_check=True)
    assert _release_command(settings, "0.1.1") == (
        "mlpack release 'my project' --bump 0.1.1 --repository-url 'http://u:***@127.0.0.1:8080/' "
        "--index-url 'http://u:***@127.0.0.1:8080/simple/' --isolated")  # quoted: a shell would glob ***


def _sdist(path: Path, files: dict[str, bytes], mtime: int) -> bytes:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            archive.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def test_a_half_done_release_reuses_the_uploaded_sdist_only_when_it_has_the_same_files(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    uploaded = _sdist(path, {"demo-1.0/PKG-INFO": b"Version: 1.0\n"}, mtime=1_000)
    _sdist(path, {"demo-1.0/PKG-INFO": b"Version: 1.0\n"}, mtime=2_000)  # rebuilt: newer timestamps
    assert path.read_bytes() != uploaded
    (note,) = releasing._reuse_published_copies([path], {path.name: uploaded})
    assert "the copy already on the index is used" in note
    assert path.read_bytes() == uploaded
    changed = _sdist(path, {"demo-1.0/PKG-INFO": b"Version: 1.0\nSummary: changed\n"}, mtime=2_000)
    assert releasing._reuse_published_copies([path], {path.name: uploaded}) == []  # other content: kept
    assert path.read_bytes() == changed


@pytest.mark.parametrize("held_files", [["relunit-0.1.1.tar.gz"],
                                        ["relunit-0.1.1.tar.gz", "relunit-0.1.1-py3-none-any.whl"]])
def test_ctrl_c_during_the_upload_states_what_the_index_holds(
    repo: Path, index: tuple[str, dict], held_files: list[str],
) -> None:
    from mlpack_cli.commands.publish import Target

    url, held = index
    held["relunit"] = held_files
    pyproject = repo / "pyproject.toml"
    original = pyproject.read_bytes()
    pyproject.write_bytes(original.replace(b'"0.1.0"', b'"0.1.1"'))  # the bump, as the release left it
    result = ReleaseResult("relunit", "0.1.0", "0.1.1", False,
                           artifacts=[repo / "dist" / "relunit-0.1.1.tar.gz",
                                      repo / "dist" / "relunit-0.1.1-py3-none-any.whl"])
    progress = releasing._Progress(bumped=True, upload_started=True,
                                   target=Target(url, url + "simple/", "--repository-url"))
    settings = ReleaseSettings(root=repo, repository_url=url)
    error = releasing._stopped(KeyboardInterrupt(), "publish", settings, result, progress, pyproject, original)
    assert isinstance(error, ReleaseFailed) and error.exit_code == ExitCode.INTERRUPTED
    first, state = error.message.split("\n")
    assert first == "release step 'publish' was interrupted (Ctrl-C)"
    if len(held_files) == 1:  # half-done: put back, and the command that completes it
        assert state == (f"on the index now: relunit-0.1.1.tar.gz at {url}; not uploaded: "
                         "relunit-0.1.1-py3-none-any.whl; pyproject.toml was put back to version 0.1.0.")
        assert pyproject.read_bytes() == original
        assert f"To complete the release, run `mlpack release {repo} --bump 0.1.1 --repository-url {url}`" in (
            error.hint or "")
    else:  # everything went up just before Ctrl-C: published, the bump stays, only git is left
        assert state.endswith("pyproject.toml keeps the bump to 0.1.1 (that version is published).")
        assert b'"0.1.1"' in pyproject.read_bytes()
        assert error.hint == ('relunit 0.1.1 is published; finish by hand: `git commit -m "Release 0.1.1" -- '
                              'pyproject.toml` && `git tag -a v0.1.1 -m "Release 0.1.1"`, then push.')
