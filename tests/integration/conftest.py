"""A real package index for the publish and release tests: pypiserver on 127.0.0.1.

The server listens on a free port, authenticates uploads against an htpasswd file made with
passlib (a random password, so a leak test can look for it), and is stopped by its process id.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlpack_cli import processes
from mlpack_cli.commands.init import InitSettings, init_project

STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class PackageIndex:
    url: str  # the upload URL, http://127.0.0.1:PORT/
    username: str
    password: str
    packages: Path  # the folder pypiserver serves and stores uploads in

    @property
    def simple_url(self) -> str:
        return self.url + "simple/"

    def files(self) -> set[str]:
        return {p.name for p in self.packages.iterdir()}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_htpasswd(path: Path, username: str, password: str) -> None:
    with warnings.catch_warnings():
        # passlib imports the stdlib `crypt` module, deprecated since Python 3.11.
        warnings.filterwarnings("ignore", message="'crypt' is deprecated", category=DeprecationWarning)
        from passlib.apache import HtpasswdFile

    htpasswd = HtpasswdFile(str(path), new=True, default_scheme="sha256_crypt")
    htpasswd.set_password(username, password)
    htpasswd.save()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pypiserver exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "simple/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"pypiserver did not answer on {url} within {STARTUP_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """pypiserver on 127.0.0.1:<free port>, uploads need the htpasswd user; stopped by pid at the end."""
    base = tmp_path_factory.mktemp("pypiserver")
    packages = base / "packages"
    packages.mkdir()
    username, password = "uploader", secrets.token_urlsafe(18)
    _write_htpasswd(base / "htpasswd", username, password)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = base / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pypiserver", "run", "--host", "127.0.0.1", "--port", str(port),
             "--passwords", str(base / "htpasswd"), "--authenticate", "update", "--disable-fallback",
             str(packages)],
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, process, log)
        yield PackageIndex(url, username, password, packages)
    finally:
        processes.stop(process, grace=10)


@pytest.fixture
def dead_index_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/"


def git(cwd: Path, *args: str) -> str:
    # module-scoped fixtures run outside the per-test HOME isolation: name the identity here
    identity = ["-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.org"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _make_git_project(path: Path, name: str, *, example: bool = False) -> Path:
    """A scaffolded project, committed in a fresh git repository (what a release starts from)."""
    init_project(InitSettings(path=path, name=name, ci="none", example=example))
    git(path, "init", "--quiet", "--initial-branch", "main")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "Initial commit")
    return path


@pytest.fixture(scope="session")
def tool_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uv/pip cache for the whole session: HOME is fresh per test, the downloads need not be."""
    return tmp_path_factory.mktemp("tool-cache")


@pytest.fixture
def tool_caches(tool_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tool_cache_dir / "uv"))
    monkeypatch.setenv("PIP_CACHE_DIR", str(tool_cache_dir / "pip"))


@pytest.fixture(scope="module")
def module_caches(tool_cache_dir: Path) -> Iterator[None]:
    """The same caches for module-scoped fixtures (which run outside the per-test monkeypatch)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UV_CACHE_DIR", str(tool_cache_dir / "uv"))
        patch.setenv("PIP_CACHE_DIR", str(tool_cache_dir / "pip"))
        yield


@pytest.fixture(scope="session")
def make_git_project() -> Callable[..., Path]:
    """``make_git_project(path, name, example=False)``: a scaffolded project committed in a new git repo."""
    return _make_git_project


@pytest.fixture(scope="session")
def run_git() -> Callable[..., str]:
    """``run_git(cwd, *args)``: git's stdout; fails the test when git fails."""
    return git


def _execute_notebook(notebook: Any, workdir: Path, *, timeout: int = 60) -> None:
    """Execute ``notebook`` (an nbformat node, filled with outputs in place) in a python3 kernel
    whose working directory is ``workdir``; nbclient's CellExecutionError names a failing cell."""
    import nbclient

    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=timeout, startup_timeout=timeout,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()


@pytest.fixture(scope="session")
def execute_in_kernel() -> Callable[..., None]:
    """``execute_in_kernel(notebook, workdir, timeout=60)``: run every cell in a fresh python3 kernel."""
    return _execute_notebook
