"""Fixtures shared by every test module.

Isolation (autouse): HOME, git identity and every TWINE_*/MLPACK_* variable are reset, so no test
reads the developer's credentials or configuration. Helpers for the slower, real-tool tests:
``make_venv`` makes a fresh virtualenv; ``mlpack_wheel`` builds mlpack's own wheel once.
``benchmark_script`` loads a script of benchmarks/ as a module, for the tests of what it measures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner, Result

from mlpack_cli.cli import app

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    for name in list(os.environ):
        if name.startswith(("TWINE_", "MLPACK_", "CI_", "GITLAB_")):
            monkeypatch.delenv(name, raising=False)
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n")
    _no_trusted_publishing_exchange(monkeypatch)
    return home


def _no_trusted_publishing_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    """twine asks PyPI for a Trusted Publishing audience when no password is found for PyPI: in tests
    that request fails at once, as offline (tests that exercise the exchange give their own session)."""
    import requests
    import twine.repository  # noqa: F401 - uploads keep the real session: it binds the name on import
    import twine.utils

    class Offline(requests.Session):
        def request(self, method: str, url: str, *args: object, **kwargs: object) -> requests.Response:
            raise requests.ConnectionError(f"tests send nothing to {url}")

    monkeypatch.setattr(twine.utils, "make_requests_session", Offline)


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Invoke the ``mlpack`` app in-process; stdout and stderr are kept apart."""
    runner = CliRunner()

    def invoke(*args: str | os.PathLike[str], input: str | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def _venv_python(directory: Path) -> Path:
    return directory / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def uv_binary() -> str:
    """uv's executable (uv is a dependency of mlpack): it makes a virtualenv with pip in a fraction of
    the time venv's ensurepip takes, from the session's download cache."""
    import uv

    return str(uv.find_uv_bin())


def create_venv_with_pip(target: Path, cache: Path | None = None) -> Path:
    """A fresh virtualenv at ``target`` with pip in it (``uv venv --seed``); returns its python.
    ``cache``: uv's download cache, unless UV_CACHE_DIR names one already."""
    env = dict(os.environ)
    if cache is not None:
        env.setdefault("UV_CACHE_DIR", str(cache))
    subprocess.run([uv_binary(), "venv", "--quiet", "--seed", "--python", sys.executable, str(target)],
                   check=True, capture_output=True, text=True, env=env)
    return _venv_python(target)


@pytest.fixture
def make_venv(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Create a fresh virtualenv with pip; returns its python executable."""
    cache = tmp_path_factory.getbasetemp() / "venv-seed-cache"  # pip's wheel, downloaded once a session

    def create(name: str = "venv") -> Path:
        return create_venv_with_pip(tmp_path / name, cache)

    return create


@pytest.fixture(scope="session")
def mlpack_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mlpack's own wheel, built once per test session from this checkout with pypa build."""
    outdir = tmp_path_factory.mktemp("mlpack-dist")
    subprocess.run(
        # still pypa build; uv only fills its isolated build environment, faster than pip
        [sys.executable, "-m", "build", "--wheel", "--installer", "uv", "--outdir", str(outdir), str(REPO_ROOT)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = outdir.glob("mlpack_cli-*.whl")
    return wheel


@pytest.fixture
def pip_install() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``pip_install(python, *args)``: pip install into that interpreter's environment, quietly."""

    def install(python: Path, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *map(str, args)],
            check=True, capture_output=True, text=True,
        )

    return install


@pytest.fixture
def chdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    yield lambda path: monkeypatch.chdir(path)


@pytest.fixture(scope="session")
def benchmark_script() -> Callable[[str], ModuleType]:
    """Load ``benchmarks/<name>.py`` as a module (the benchmarks are scripts, not a package)."""
    import importlib.util

    def load(name: str) -> ModuleType:
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve their annotations through sys.modules
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def printed(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], tuple[str, str]]]:
    """For presenter tests: what the console has printed since (stdout, stderr), at normal verbosity."""
    from mlpack_cli.output import console

    console.stdout.cache_clear()
    console.stderr.cache_clear()
    console.set_verbosity(console.Verbosity.NORMAL)

    def read() -> tuple[str, str]:
        captured = capsys.readouterr()
        return captured.out, captured.err

    yield read
    console.set_verbosity(console.Verbosity.NORMAL)
    console.stdout.cache_clear()
    console.stderr.cache_clear()


def documented_json_keys(page: str) -> set[str]:
    """The keys the ``--json`` paragraph of ``docs/<page>`` names in backticks."""
    import re

    text = (REPO_ROOT / "docs" / page).read_text(encoding="utf-8")
    (paragraph,) = [line for line in text.splitlines() if line.startswith("`--json` prints")]
    return {key for key in re.findall(r"`([^`]+)`", paragraph) if re.fullmatch(r"[a-z_]+", key)}


def json_keys(data: object) -> set[str]:
    """Every key of a JSON value, at any depth."""
    if isinstance(data, dict):
        return set(data) | {key for value in data.values() for key in json_keys(value)}
    if isinstance(data, list):
        return {key for value in data for key in json_keys(value)}
    return set()


@pytest.fixture
def json_schema() -> Callable[[str, object], tuple[set[str], set[str]]]:
    """``json_schema(page, report)``: (keys docs/<page> documents for ``--json``, keys the report holds)."""
    return lambda page, report: (documented_json_keys(page), json_keys(report))
