"""Publishing to a real index: pypiserver on 127.0.0.1, then pip installs from it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from mlpack_cli.commands.build import BuildResult, BuildSettings, build_project
from mlpack_cli.errors import ExitCode
from mlpack_cli.commands.publish import PublishResult, PublishSettings, publish


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
    assert "0.1.1 is the next version free there" in result.stderr and "--bump 0.1.1" in result.stderr
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


def test_a_password_in_any_url_never_shows(
    published: PublishResult, package_index: Any, run_cli: Callable[..., Result],
    chdir: Callable[[Path], None],
) -> None:
    """Credentials in the repository URL, the index URL and a .pypirc entry: used, and shown as ***."""
    host = package_index.url.split("//", 1)[1]
    with_password = f"http://{package_index.username}:{package_index.password}@{host}"
    chdir(published.uploaded[0].parent.parent)
    everything = ""

    refused = run_cli("publish", "--repository-url", with_password, "--index-url", with_password + "simple/")
    assert refused.exit_code == ExitCode.PUBLISH_FAILED, refused.stdout + refused.stderr
    assert f"pubdemo 0.1.0 already exists on {package_index.simple_url}" in refused.stderr
    assert "password from the repository URL" in refused.stdout
    skipped = run_cli("publish", "--skip-existing", "--repository-url", with_password,
                      "--index-url", with_password + "simple/")
    assert skipped.exit_code == 0, skipped.stdout + skipped.stderr
    assert f"Install it with: pip install --index-url http://{package_index.username}:***@{host}simple/" in (
        skipped.stdout)
    (Path.home() / ".pypirc").write_text(
        f"[distutils]\nindex-servers = local\n\n[local]\nrepository = {with_password}\n")
    from_rc = run_cli("publish", "--repository", "local")
    assert from_rc.exit_code == ExitCode.PUBLISH_FAILED
    assert "already exists" in from_rc.stderr and "password from the repository URL" in from_rc.stdout
    for result in (refused, skipped, from_rc):
        everything += result.stdout + result.stderr
    assert package_index.password not in everything
    assert f"{package_index.username}:***@" in everything


@pytest.fixture(scope="module")
def half_published(tmp_path_factory: pytest.TempPathFactory, package_index: Any, module_caches: None,
                   make_git_project: Callable[..., Path]) -> BuildResult:
    """pubhalf 0.1.0, built; only its sdist is uploaded (as when the wheel upload failed)."""
    root = make_git_project(tmp_path_factory.mktemp("half") / "pubhalf", "pubhalf")
    built = build_project(BuildSettings(root=root))
    publish(PublishSettings(root=root, dists=(built.sdist.path,), repository_url=package_index.url,
                            username=package_index.username, password=package_index.password))
    return built


@pytest.mark.parametrize("skip_existing", [False, True])
def test_a_half_published_version_is_completed(
    half_published: BuildResult, package_index: Any, run_cli: Callable[..., Result],
    chdir: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch, skip_existing: bool,
) -> None:
    sdist, wheel = half_published.sdist.path.name, half_published.wheel.path.name
    (package_index.packages / wheel).unlink(missing_ok=True)  # the half-done state, for each case
    assert sdist in package_index.files() and wheel not in package_index.files()
    monkeypatch.setenv("TWINE_USERNAME", package_index.username)
    monkeypatch.setenv("TWINE_PASSWORD", package_index.password)
    chdir(half_published.project.root)
    result = run_cli("publish", "--repository-url", package_index.url, *(["--skip-existing"] if skip_existing else []))
    assert result.exit_code == 0, result.stdout + result.stderr
    shown = " ".join(result.stdout.split())
    assert (f"completed pubhalf 0.1.0 was partly on {package_index.simple_url} ({sdist}, byte-identical to "
            f"ours): uploaded only the missing {wheel} to complete it") in shown
    assert result.stdout.count(f"uploaded {wheel}") == 1 and f"uploaded {sdist}" not in result.stdout
    assert {sdist, wheel} <= package_index.files()
    assert (package_index.packages / wheel).read_bytes() == half_published.wheel.path.read_bytes()
    assert package_index.password not in result.stdout + result.stderr


def test_a_half_published_version_with_another_build_is_refused(
    half_published: BuildResult, package_index: Any, run_cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """The index holds a file that is not ours byte for byte: nothing is uploaded, the next version named."""
    wheel = half_published.wheel.path.name
    (package_index.packages / wheel).unlink(missing_ok=True)
    other = tmp_path / half_published.sdist.path.name
    other.write_bytes(half_published.sdist.path.read_bytes() + b"\0")  # another build of the same version
    monkeypatch.setenv("TWINE_USERNAME", package_index.username)
    monkeypatch.setenv("TWINE_PASSWORD", package_index.password)
    result = run_cli("publish", "--repository-url", package_index.url, other, half_published.wheel.path)
    assert result.exit_code == ExitCode.PUBLISH_FAILED
    assert f"pubhalf 0.1.0 already exists on {package_index.simple_url} with other files" in result.stderr
    assert "--bump 0.1.1" in result.stderr
    assert wheel not in package_index.files()
