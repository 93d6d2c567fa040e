"""Publishing to a real index: pypiserver on 127.0.0.1, then pip installs from it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from mlpack_cli.building import BuildResult, BuildSettings, build_project
from mlpack_cli.errors import ExitCode
from mlpack_cli.publishing import PublishResult, PublishSettings, publish


pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, package_index: Any,
              module_caches: None, make_git_project: Callable[..., Path]) -> PublishResult:
    """pubdemo 0.1.0, built and uploaded through the library API."""
    root = make_git_project(tmp_path_factory.mktemp("published") / "pubdemo", "pubdemo")
    build_project(BuildSettings(root=root))
    return publish(PublishSettings(root=root, repository_url=package_index.url,
                                   username=package_index.username, password=package_index.password))


@pytest.fixture(scope="module")
def unpublished(tmp_path_factory: pytest.TempPathFactory, module_caches: None,
                make_git_project: Callable[..., Path]) -> BuildResult:
    """pubdemo-two 0.1.0: built, never uploaded (until the test that does it)."""
    root = make_git_project(tmp_path_factory.mktemp("unpublished") / "pubdemo-two", "pubdemo-two")
    return build_project(BuildSettings(root=root))


def test_a_published_version_installs_from_the_index_with_pip(
    published: PublishResult, package_index: Any, make_venv: Callable[[str], Path],
    pip_install: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    assert {p.name for p in published.uploaded} <= package_index.files()
    python = make_venv("user")
    pip_install(python, "--index-url", package_index.simple_url, "pubdemo==0.1.0")
    done = subprocess.run([str(python), "-c", "import pubdemo; print(pubdemo.__version__)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0.1.0"
    assert published.install_command == f"pip install --index-url {package_index.simple_url} pubdemo==0.1.0"


def test_the_same_version_again_is_refused_before_any_upload(
    published: PublishResult, package_index: Any, run_cli: Callable[..., Result],
    chdir: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = package_index.files()
    monkeypatch.setenv("TWINE_USERNAME", package_index.username)
    monkeypatch.setenv("TWINE_PASSWORD", package_index.password)
    chdir(published.uploaded[0].parent.parent)
    result = run_cli("publish", "--repository-url", package_index.url)
    assert result.exit_code == ExitCode.PUBLISH_FAILED
    assert "pubdemo 0.1.0 already exists" in result.stderr
    assert "bump" in result.stderr
    assert package_index.files() == before
    assert package_index.password not in result.stdout + result.stderr


def test_skip_existing_skips_the_same_files_and_refuses_others(
    published: PublishResult, package_index: Any, run_cli: Callable[..., Result],
    chdir: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """What the tag pipeline's publish job does after `mlpack release` uploaded the version."""
    before = package_index.files()
    monkeypatch.setenv("TWINE_USERNAME", package_index.username)
    monkeypatch.setenv("TWINE_PASSWORD", package_index.password)
    chdir(published.uploaded[0].parent.parent)
    skipped = run_cli("publish", "--skip-existing", "--repository-url", package_index.url, "dist/pubdemo-0.1.0.tar.gz",
                      "dist/pubdemo-0.1.0-py3-none-any.whl")
    assert skipped.exit_code == 0, skipped.stdout + skipped.stderr
    assert (f"skipped pubdemo 0.1.0 is already on {package_index.simple_url} with these files "
            "(pubdemo-0.1.0.tar.gz, pubdemo-0.1.0-py3-none-any.whl): nothing uploaded (--skip-existing)"
            ) in " ".join(skipped.stdout.split())
    assert "differ byte for byte" not in skipped.stdout  # these very files
    assert "uploaded" not in skipped.stdout.replace("nothing uploaded", "")

    other = tmp_path / "pubdemo-0.1.0-py3-none-manylinux_2_17_x86_64.whl"  # same version, a file it lacks
    other.write_bytes(published.uploaded[-1].read_bytes())
    refused = run_cli("publish", "--skip-existing", "--repository-url", package_index.url, other)
    assert refused.exit_code == ExitCode.PUBLISH_FAILED
    assert "pubdemo 0.1.0 already exists on" in refused.stderr and "with other files" in refused.stderr
    assert package_index.files() == before
    assert package_index.password not in skipped.stdout + skipped.stderr + refused.stdout + refused.stderr


def test_an_unreachable_index_is_named_and_nothing_is_sent(
    unpublished: BuildResult, dead_index_url: str, run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWINE_USERNAME", "someone")
    monkeypatch.setenv("TWINE_PASSWORD", "not-a-real-secret")
    result = run_cli("publish", "--repository-url", dead_index_url, *[a.path for a in unpublished.artifacts])
    assert result.exit_code == ExitCode.PUBLISH_FAILED
    assert f"cannot reach the package index at {dead_index_url}" in result.stderr
    assert "not-a-real-secret" not in result.stdout + result.stderr


def test_wrong_then_right_password_never_shows_the_password(
    unpublished: BuildResult, package_index: Any, run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dists = [a.path for a in unpublished.artifacts]
    wrong = package_index.password[::-1] + "x"
    monkeypatch.setenv("TWINE_USERNAME", package_index.username)
    monkeypatch.setenv("TWINE_PASSWORD", wrong)
    failed = run_cli("publish", "--repository-url", package_index.url, *dists)
    assert failed.exit_code == ExitCode.PUBLISH_FAILED
    assert "refused the credentials (HTTP 403)" in failed.stderr or "(HTTP 401)" in failed.stderr
    assert "password from TWINE_PASSWORD" in failed.stderr
    assert not {p.name for p in dists} & package_index.files()

    monkeypatch.setenv("TWINE_PASSWORD", package_index.password)
    succeeded = run_cli("publish", "--repository-url", package_index.url, *dists)
    assert succeeded.exit_code == 0, succeeded.stderr
    assert {p.name for p in dists} <= package_index.files()
    for dist in dists:  # each upload reported once, as it happens
        assert succeeded.stdout.count(f"uploaded {dist.name}") == 1, succeeded.stdout

    everything = failed.stdout + failed.stderr + succeeded.stdout + succeeded.stderr
    assert package_index.password not in everything
    assert wrong not in everything
    assert "Uploading distributions" not in everything  # twine's own printing stays inside the library
