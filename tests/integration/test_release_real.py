"""`mlpack release` in a temporary git repository against a real index (pypiserver)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from mlpack_cli.errors import ExitCode
from mlpack_cli.release import STEPS

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
    assert result.exit_code == ExitCode.RELEASE_FAILED
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
