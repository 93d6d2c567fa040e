"""`mlpack release` in a temporary git repository against a real index (pypiserver)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from mlpack_cli.errors import ExitCode
from mlpack_cli.commands.release import STEPS

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]


@pytest.fixture
def credentials(package_index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINE_USERNAME", package_index.username)
    monkeypatch.setenv("TWINE_PASSWORD", package_index.password)


def test_release_publishes_commits_and_tags(
    tmp_path: Path, package_index: Any, run_cli: Callable[..., Result],
    make_git_project: Callable[..., Path], run_git: Callable[..., str],
) -> None:
    # index and credentials from a ~/.pypirc section this time (HOME is the test's own)
    (Path.home() / ".pypirc").write_text(
        f"[distutils]\nindex-servers = local\n\n[local]\nrepository = {package_index.url}\n"
        f"username = {package_index.username}\npassword = {package_index.password}\n"
    )
    root = make_git_project(tmp_path / "reldemo", "reldemo")
    result = run_cli("release", root, "--bump", "minor", "--isolated", "--repository", "local")
    assert result.exit_code == 0, result.stdout + result.stderr

    # every step shown, in order, each with its time
    finished = re.findall(r"^✓ (.+?) \((\d+\.\d)s\)", result.stdout, flags=re.MULTILINE)
    shown = [name for name, _ in finished if name in STEPS]
    assert shown == list(STEPS)

    assert {"reldemo-0.2.0.tar.gz", "reldemo-0.2.0-py3-none-any.whl"} <= package_index.files()
    assert 'version = "0.2.0"' in (root / "pyproject.toml").read_text()
    assert run_git(root, "cat-file", "-t", "v0.2.0").strip() == "tag"  # annotated, not lightweight
    assert run_git(root, "rev-parse", "v0.2.0^{commit}") == run_git(root, "rev-parse", "HEAD")
    assert run_git(root, "status", "--porcelain") == ""
    # the repository has no remote: the push command says so rather than naming one that is not there
    assert "Push the release commit and tag: git push <remote> HEAD v0.2.0" in result.stdout
    assert "no git remote: add one with `git remote add origin <url>`" in result.stdout
    assert "byte-identical to the one the tests ran against" in result.stdout
    assert "password from .pypirc [local]" in result.stdout
    assert package_index.password not in result.stdout + result.stderr


@pytest.mark.usefixtures("credentials")
def test_a_failed_upload_rolls_the_bump_back(
    tmp_path: Path, package_index: Any, run_cli: Callable[..., Result],
    make_git_project: Callable[..., Path], run_git: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = make_git_project(tmp_path / "relfail", "relfail")
    before = (root / "pyproject.toml").read_bytes()
    monkeypatch.setenv("TWINE_PASSWORD", "wrong-" + package_index.password)
    result = run_cli("release", root, "--isolated", "--repository-url", package_index.url)
    assert result.exit_code == ExitCode.PUBLISH_FAILED  # the step's own code, as `mlpack publish` would exit
    assert "release step 'publish' failed" in result.stderr
    assert "refused the credentials" in result.stderr
    assert (root / "pyproject.toml").read_bytes() == before
    assert run_git(root, "tag", "--list") == ""
    assert run_git(root, "status", "--porcelain") == ""
    assert not any(name.startswith("relfail") for name in package_index.files())
    assert package_index.password not in result.stdout + result.stderr


def test_dry_run_uploads_and_tags_nothing(
    tmp_path: Path, package_index: Any, run_cli: Callable[..., Result],
    make_git_project: Callable[..., Path], run_git: Callable[..., str],
) -> None:
    root = make_git_project(tmp_path / "reldry", "reldry")
    before = (root / "pyproject.toml").read_bytes()
    result = run_cli("release", root, "--dry-run", "--isolated", "--repository-url", package_index.url)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "publish (0.0s) skipped: dry run" in result.stdout
    assert "0.1.0 -> 0.1.1" in result.stdout
    assert (root / "pyproject.toml").read_bytes() == before
    assert (root / "dist" / "reldry-0.1.1-py3-none-any.whl").is_file()  # built and verified all the same
    # no credentials here: the dry run says that a real release would stop at the pre-flight
    assert "a real release would stop at pre-flight:" in result.stdout
    assert f"no username for {package_index.url}" in result.stdout
    assert run_git(root, "tag", "--list") == ""
    assert not any(name.startswith("reldry") for name in package_index.files())


@pytest.mark.usefixtures("credentials")
@pytest.mark.parametrize("problem", ["no git identity", "tag exists"])
def test_what_commit_and_tag_need_is_checked_before_the_upload(
    tmp_path: Path, package_index: Any, run_cli: Callable[..., Result], problem: str,
    make_git_project: Callable[..., Path], run_git: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "relpre" + ("id" if problem == "no git identity" else "tag")
    root = make_git_project(tmp_path / name, name)
    if problem == "no git identity":
        (Path.home() / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")
        for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
            monkeypatch.delenv(variable, raising=False)
        expected = "git does not know who you are"
    else:
        run_git(root, "tag", "-a", "v0.1.1", "-m", "an old mistake")
        expected = "the tag v0.1.1 already exists"
    before = (root / "pyproject.toml").read_bytes()
    head = run_git(root, "rev-parse", "HEAD")
    result = run_cli("release", root, "--isolated", "--repository-url", package_index.url)
    assert result.exit_code == ExitCode.RELEASE_FAILED, result.stdout + result.stderr
    assert f"Error: release step 'clean tree' failed: {expected}" in result.stderr
    assert "Hint: " in result.stderr
    assert not any(n.startswith(name) for n in package_index.files())  # nothing published
    assert not (root / "dist").exists()  # nothing even built
    assert (root / "pyproject.toml").read_bytes() == before
    assert run_git(root, "rev-parse", "HEAD") == head


def test_a_version_already_on_the_index_stops_the_release_before_the_build(
    tmp_path: Path, package_index: Any, run_cli: Callable[..., Result],
    make_git_project: Callable[..., Path], credentials: None,
) -> None:
    root = make_git_project(tmp_path / "reltaken", "reltaken")
    for name in ("reltaken-0.1.1.tar.gz", "reltaken-0.1.1-py3-none-any.whl", "reltaken-0.1.2.tar.gz"):
        (package_index.packages / name).write_bytes(b"published by someone else")
    before = (root / "pyproject.toml").read_bytes()
    result = run_cli("release", root, "--isolated", "--repository-url", package_index.url)
    assert result.exit_code == ExitCode.PUBLISH_FAILED, result.stdout + result.stderr
    assert (f"Error: release step 'pre-flight' failed: reltaken 0.1.1 already exists on {package_index.simple_url}"
            in result.stderr)
    assert "0.1.3 is the next version free there" in result.stderr and "--bump 0.1.3" in result.stderr
    assert not (root / "dist").exists()  # nothing built
    assert (root / "pyproject.toml").read_bytes() == before


def test_a_release_interrupted_during_the_upload_says_so_and_can_be_completed(
    tmp_path: Path, package_index: Any, run_cli: Callable[..., Result],
    make_git_project: Callable[..., Path], run_git: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C after the sdist went up: the message says exactly that; the command it gives finishes the job."""
    import twine.commands.upload

    root = make_git_project(tmp_path / "relhalf", "relhalf")
    before = (root / "pyproject.toml").read_bytes()
    host = package_index.url.split("//", 1)[1]
    url = f"http://{package_index.username}:{package_index.password}@{host}"  # credentials in the URL
    real_upload = twine.commands.upload.upload

    def ctrl_c_at_the_wheel(settings: Any, dists: list[str]) -> None:
        if dists[0].endswith(".whl"):
            raise KeyboardInterrupt
        real_upload(settings, dists)

    monkeypatch.setattr(twine.commands.upload, "upload", ctrl_c_at_the_wheel)
    stopped = run_cli("release", root, "--isolated", "--repository-url", url)
    assert stopped.exit_code == ExitCode.INTERRUPTED, stopped.stdout + stopped.stderr
    sdist, wheel = "relhalf-0.1.1.tar.gz", "relhalf-0.1.1-py3-none-any.whl"
    message = " ".join(stopped.stderr.split())
    assert "Error: release step 'publish' was interrupted (Ctrl-C)" in message
    assert (f"on the index now: {sdist} at {package_index.url}; not uploaded: {wheel}; "
            "pyproject.toml was put back to version 0.1.0.") in message
    shown_url = f"'http://{package_index.username}:***@{host}'"
    again = f"mlpack release {root} --bump 0.1.1 --repository-url {shown_url} --isolated"
    assert f"To complete the release, run `{again}`" in message
    assert (root / "pyproject.toml").read_bytes() == before
    assert sdist in package_index.files() and wheel not in package_index.files()
    assert run_git(root, "tag", "--list") == ""

    monkeypatch.setattr(twine.commands.upload, "upload", real_upload)
    completed = run_cli("release", root, "--bump", "0.1.1", "--isolated", "--repository-url", url)
    assert completed.exit_code == 0, completed.stdout + completed.stderr
    shown = " ".join(completed.stdout.split())
    assert f"relhalf 0.1.1 is partly on {package_index.simple_url} ({sdist})" in shown  # the pre-flight saw it
    assert f"uploaded only the missing {wheel} to complete it" in shown
    assert f"{sdist}: the copy already on the index is used" in shown  # the rebuilt sdist has newer timestamps
    assert {sdist, wheel} <= package_index.files()
    assert run_git(root, "cat-file", "-t", "v0.1.1").strip() == "tag"
    assert package_index.password not in stopped.stdout + stopped.stderr + completed.stdout + completed.stderr
