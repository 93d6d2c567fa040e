"""Virtualenvs and the installer that fills them: uv when it is there (much faster), else venv and pip.

``build`` installs its build environment with the installer chosen here; ``check --isolated``,
``release`` and ``quickstart`` make fresh virtualenvs and install wheels into them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from mlpack_cli.errors import CheckFailed, EnvironmentProblem


def uv_binary() -> str | None:
    """The uv executable: the ``uv`` Python package's, else one on PATH; None when there is none."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which(os.environ.get("UV") or "uv")


def choose_installer(requested: str | None) -> str:
    if requested not in (None, "uv", "pip"):
        raise EnvironmentProblem(f"unknown installer {requested!r}", hint="Use 'uv' or 'pip'.")
    if requested == "uv" and uv_binary() is None:
        raise EnvironmentProblem("uv was requested but is not installed", hint="pip install uv, or use pip.")
    return requested or ("uv" if uv_binary() else "pip")


def project_python(root: Path) -> Path:
    """The interpreter of the project's environment (see the module docstring)."""
    active = os.environ.get("VIRTUAL_ENV")
    candidates = [Path(active)] if active else []
    candidates.append(root / ".venv")
    for env in candidates:
        python = venv_python(env)
        if python.is_file():
            return python
    return Path(sys.executable)


def venv_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def create_virtualenv(path: Path, *, installer: str | None = None) -> Path:
    """A fresh virtualenv at ``path`` (``uv venv`` when uv is used, else venv with pip); its python."""
    kind = choose_installer(installer)
    try:
        if kind == "uv":
            subprocess.run([str(uv_binary()), "venv", "--quiet", "--python", sys.executable, str(path)],
                           check=True, capture_output=True, text=True)
        else:
            import venv

            venv.EnvBuilder(with_pip=True, clear=True).create(path)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise EnvironmentProblem(f"cannot create a virtualenv in {path}: {detail.strip()}") from exc
    return venv_python(path)


def install_packages(python: Path, requirements: Sequence[str], *, installer: str | None = None) -> None:
    """Install into that interpreter's environment; a failure shows the installer's own words."""
    if choose_installer(installer) == "uv":
        command = [str(uv_binary()), "pip", "install", "--quiet", "--python", str(python), *requirements]
    else:
        command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise CheckFailed(
            f"installing {', '.join(Path(r).name for r in requirements)} failed:\n{tail}",
            hint="A declared dependency cannot be installed: check [project] dependencies in pyproject.toml.",
        )
