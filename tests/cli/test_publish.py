"""`mlpack publish` and `mlpack release` refusals that need no index (the real index is in integration/)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from mlpack_cli.errors import ExitCode
from mlpack_cli.scaffold import InitSettings, init_project


def test_publish_without_a_build_says_to_build(
    tmp_path: Path, run_cli: Callable[..., Result], chdir: Callable[[Path], None],
) -> None:
    init_project(InitSettings(path=tmp_path, name="nobuild", ci="none"))
    chdir(tmp_path)
    result = run_cli("publish", "--repository-url", "http://127.0.0.1:9/")
    assert result.exit_code == ExitCode.PUBLISH_FAILED
    assert "no sdist or wheel of nobuild 0.1.0" in result.stderr
    assert "mlpack build" in result.stderr


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


def test_release_with_a_bad_bump_changes_nothing(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    init_project(InitSettings(path=tmp_path, name="badbump", ci="none"))
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "init"], cwd=tmp_path, check=True)
    before = (tmp_path / "pyproject.toml").read_bytes()
    result = run_cli("release", tmp_path, "--bump", "0.0.1")
    assert result.exit_code == ExitCode.RELEASE_FAILED
    assert "release step 'bump version' failed: --bump 0.0.1: the new version must be later than 0.1.0" in result.stderr
    assert (tmp_path / "pyproject.toml").read_bytes() == before
