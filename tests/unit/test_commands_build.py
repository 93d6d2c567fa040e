"""Artifact verification on hand-made wheels and sdists (the real builds are in integration/)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from mlpack_cli.commands.build import (
    expected_wheel_files,
    source_date_epoch,
    unpack_sdist,
    wheel_contents_problems,
)
from mlpack_cli.dists import find_artifacts
from mlpack_cli.envs import choose_installer
from mlpack_cli.project import load_project
from mlpack_cli.errors import BuildFailed, EnvironmentProblem

PYPROJECT = """[project]
name = "Shop-Model"
version = "1.2.0"

[tool.setuptools.package-data]
shop_model = ["assets/*.json"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    package = tmp_path / "src" / "shop_model"
    (package / "assets").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "train.py").write_text("")
    (package / "assets" / "schema.json").write_text("{}")
    (package / "notes.txt").write_text("not declared, not expected")
    return tmp_path


def make_wheel(path: Path, names: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "")
        archive.writestr("shop_model-1.2.0.dist-info/METADATA", "Name: shop-model\nVersion: 1.2.0\n")
    return path


GOOD = ["shop_model/__init__.py", "shop_model/train.py", "shop_model/assets/schema.json"]


def test_expected_files_are_modules_and_declared_package_data(project: Path) -> None:
    assert expected_wheel_files(load_project(project)) == set(GOOD)


def test_a_complete_wheel_passes(project: Path, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "shop_model-1.2.0-py3-none-any.whl", GOOD)
    assert wheel_contents_problems(load_project(project), wheel) == ([], 3)


def test_missing_and_stray_files_are_each_named(project: Path, tmp_path: Path) -> None:
    names = ["shop_model/__init__.py", "shop_model/assets/schema.json",  # train.py missing
             "tests/test_train.py", "shop_model/notebooks/houses.ipynb", "shop_model/data/houses.csv",
             "shop_model/__pycache__/train.cpython-311.pyc", "houses.csv"]
    wheel = make_wheel(tmp_path / "shop_model-1.2.0-py3-none-any.whl", names)
    problems, _ = wheel_contents_problems(load_project(project), wheel)
    assert problems == [
        "missing from the wheel: shop_model/train.py",
        "stray file outside package 'shop_model': tests/test_train.py",
        "does not belong in a wheel (tests, notebooks or caches): shop_model/notebooks/houses.ipynb",
        "data file not declared as package data: shop_model/data/houses.csv",
        "does not belong in a wheel (tests, notebooks or caches): shop_model/__pycache__/train.cpython-311.pyc",
        "stray file outside package 'shop_model': houses.csv",
    ]


def test_find_artifacts_picks_the_current_version_only(project: Path) -> None:
    dist = project / "dist"
    dist.mkdir()
    for name in ["shop_model-1.1.0.tar.gz", "shop_model-1.2.0.tar.gz", "shop_model-1.2.0-py3-none-any.whl",
                 "other-1.2.0.tar.gz", "notes.txt"]:
        (dist / name).write_text("")
    assert [p.name for p in find_artifacts(load_project(project))] == [
        "shop_model-1.2.0-py3-none-any.whl", "shop_model-1.2.0.tar.gz"]


def _sdist(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_unpack_sdist_returns_its_top_folder(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path / "a-1.0.tar.gz", {"a-1.0/PKG-INFO": b"x", "a-1.0/pyproject.toml": b""})
    (tmp_path / "out").mkdir()
    top = unpack_sdist(sdist, tmp_path / "out")
    assert top == tmp_path / "out" / "a-1.0"
    assert (top / "PKG-INFO").read_text() == "x"


@pytest.mark.parametrize("members", [
    {"a-1.0/PKG-INFO": b"", "b/evil": b""},  # two top-level folders
    {"a-1.0/../../escape": b""},  # leaves the target folder
])
def test_unpack_sdist_refuses_odd_archives(tmp_path: Path, members: dict[str, bytes]) -> None:
    sdist = _sdist(tmp_path / "a-1.0.tar.gz", members)
    (tmp_path / "out").mkdir()
    with pytest.raises(BuildFailed):
        unpack_sdist(sdist, tmp_path / "out")
    assert not (tmp_path / "escape").exists()


def test_source_date_epoch_is_the_last_commit_unless_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert source_date_epoch(tmp_path) is None  # not a repository
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "add", "f"], cwd=tmp_path, check=True)
    env = {"GIT_COMMITTER_DATE": "2021-02-03T04:05:06+00:00", "GIT_AUTHOR_DATE": "2021-02-03T04:05:06+00:00"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    subprocess.run(["git", "commit", "--quiet", "-m", "x"], cwd=tmp_path, check=True)
    assert source_date_epoch(tmp_path) == 1612325106
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000")
    assert source_date_epoch(tmp_path) == 1000


def test_choose_installer() -> None:
    assert choose_installer("pip") == "pip"
    with pytest.raises(EnvironmentProblem):
        choose_installer("conda")


class _DiskFullBackend:
    """A build environment whose sdist build stops half-way, as setuptools does on a full disk."""

    isolation, installer, epoch, warned = True, "pip", None, False

    def build(self, srcdir: Path, distribution: str, outdir: Path) -> Path:
        tree = srcdir / "shop_model-1.2.0" / "src"
        tree.mkdir(parents=True)
        (tree / "half-copied.py").write_text("")
        raise BuildFailed("building the sdist failed: [Errno 28] No space left on device")


def test_a_failed_sdist_build_leaves_no_release_tree_in_the_project(project: Path) -> None:
    from mlpack_cli.commands.build import BuildSettings, build_project

    (project / "Shop-Model-1.2.0").mkdir()  # the user's own folder of that name stays
    with pytest.raises(BuildFailed, match="No space left"):
        build_project(BuildSettings(root=project), _DiskFullBackend())  # type: ignore[arg-type]
    assert not (project / "shop_model-1.2.0").exists()
    assert (project / "Shop-Model-1.2.0").is_dir()
