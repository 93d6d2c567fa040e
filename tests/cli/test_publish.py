"""`mlpack publish`, `release` and `quickstart` refusals that need no index (the real index is in integration/)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlpack_cli.errors import ExitCode
from mlpack_cli.commands.init import InitSettings, init_project


def test_publish_without_a_build_says_to_build(
    tmp_path: Path, run_cli: Callable[..., Result], chdir: Callable[[Path], None],
) -> None:
    init_project(InitSettings(path=tmp_path, name="nobuild", ci="none"))
    chdir(tmp_path)
    result = run_cli("publish", "--repository-url", "http://127.0.0.1:9/")
    assert result.exit_code == ExitCode.PUBLISH_FAILED
    assert "no sdist or wheel of nobuild 0.1.0" in result.stderr
    assert "mlpack build" in result.stderr


def test_publish_of_a_missing_file_is_an_input_error(
    tmp_path: Path, run_cli: Callable[..., Result], chdir: Callable[[Path], None],
) -> None:
    chdir(tmp_path)
    result = run_cli("publish", "--repository-url", "http://127.0.0.1:9/", "dist/nonexist.whl")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "Error: no such file: dist/nonexist.whl" in result.stderr
    assert "Hint: Check the path, or run `mlpack build` first" in result.stderr


def test_publish_without_credentials_lists_where_they_may_come_from(
    tmp_path: Path, run_cli: Callable[..., Result],
) -> None:
    wheel = tmp_path / "nocred-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    result = run_cli("publish", "--repository-url", "http://127.0.0.1:9/", wheel)
    assert result.exit_code == ExitCode.PUBLISH_FAILED
    assert "no username for http://127.0.0.1:9/" in result.stderr
    assert "TWINE_USERNAME" in result.stderr and "keyring" in result.stderr


def test_release_refuses_a_dirty_tree_and_names_the_step(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    init_project(InitSettings(path=tmp_path, name="dirty", ci="none"))
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    before = (tmp_path / "pyproject.toml").read_bytes()
    result = run_cli("release", tmp_path, "--dry-run")
    assert result.exit_code == ExitCode.RELEASE_FAILED
    assert "release step 'clean tree' failed: the git tree has uncommitted changes" in result.stderr
    assert "?? pyproject.toml" in result.stderr
    assert (tmp_path / "pyproject.toml").read_bytes() == before


@pytest.mark.parametrize(
    ("bump", "message"),
    [("0.0.1", "--bump 0.0.1: the new version must be later than 0.1.0"),
     ("huge", "--bump 'huge' is neither patch, minor, major nor a PEP 440 version")],
)
def test_release_with_a_bad_bump_stops_before_any_step(
    tmp_path: Path, run_cli: Callable[..., Result], bump: str, message: str,
) -> None:
    init_project(InitSettings(path=tmp_path, name="badbump", ci="none"))
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    (tmp_path / "notes.txt").write_text("a dirty tree: the clean-tree step would fail, had it run\n")
    before = (tmp_path / "pyproject.toml").read_bytes()
    result = run_cli("release", tmp_path, "--bump", bump)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert result.stderr.startswith(f"Error: {message}\nHint: ")
    assert "clean tree" not in result.stdout + result.stderr  # no step ran
    assert (tmp_path / "pyproject.toml").read_bytes() == before


def test_quickstart_into_a_non_empty_directory_is_a_conflict(
    tmp_path: Path, run_cli: Callable[..., Result],
) -> None:
    (tmp_path / "mine.txt").write_text("my own file\n")
    result = run_cli("quickstart", tmp_path)
    assert result.exit_code == ExitCode.CONFLICT
    assert f"Error: {tmp_path} exists and is not empty" in result.stderr
    assert "Hint: quickstart writes a new project: pass a new or empty directory" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize("option", ["--repository-url", "--index-url"])
def test_a_password_in_a_url_is_never_printed(
    tmp_path: Path, run_cli: Callable[..., Result], option: str,
) -> None:
    import socket

    with socket.socket() as probe:  # nothing listens there: the look-up fails and names the URL
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wheel = tmp_path / "redacted-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    url = f"http://uploader:pa55-w0rd-x@127.0.0.1:{port}/"
    args = (["--repository-url", url] if option == "--repository-url"
            else ["--repository-url", f"http://127.0.0.1:{port}/", "--username", "u", "--index-url", url + "simple/"])
    result = run_cli("publish", *args, wheel, input="")
    assert result.exit_code == ExitCode.PUBLISH_FAILED, result.stdout + result.stderr
    assert "pa55-w0rd-x" not in result.stdout + result.stderr


def test_release_refuses_a_detached_head_with_a_hint(
    tmp_path: Path, run_cli: Callable[..., Result],
) -> None:
    init_project(InitSettings(path=tmp_path, name="detached", ci="none"))
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "init"],
                 ["checkout", "--quiet", "--detach", "HEAD"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    result = run_cli("release", tmp_path, "--repository-url", "http://127.0.0.1:9/")
    assert result.exit_code == ExitCode.RELEASE_FAILED
    assert "Error: release step 'clean tree' failed: HEAD is detached (not on a branch)" in result.stderr
    assert "Hint: Switch to the branch to release from (`git switch main`" in result.stderr
    assert "pre-flight" not in result.stdout  # nothing after the tree check ran
