"""Virtualenvs and their installer: uv when present, pip otherwise; a clear error for anything else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlpack_cli import envs
from mlpack_cli.errors import CheckFailed, EnvironmentProblem


def test_the_installer_is_uv_when_found_else_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(envs, "uv_binary", lambda: "/opt/uv")
    assert envs.choose_installer(None) == "uv"
    assert envs.choose_installer("pip") == "pip"
    monkeypatch.setattr(envs, "uv_binary", lambda: None)
    assert envs.choose_installer(None) == "pip"
    with pytest.raises(EnvironmentProblem, match="uv was requested but is not installed"):
        envs.choose_installer("uv")
    with pytest.raises(EnvironmentProblem, match="unknown installer 'conda'"):
        envs.choose_installer("conda")


def test_a_virtualenvs_python_is_where_the_platform_puts_it(tmp_path: Path) -> None:
    expected = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    assert envs.venv_python(tmp_path / "venv") == tmp_path / "venv" / expected


@pytest.mark.slow
def test_a_fresh_virtualenv_and_an_install_that_fails_in_the_installers_words(tmp_path: Path) -> None:
    python = envs.create_virtualenv(tmp_path / "venv")
    assert python.is_file()
    missing = tmp_path / "missing-1.0-py3-none-any.whl"  # a local file that is not there: no index asked
    with pytest.raises(CheckFailed, match="installing missing-1.0-py3-none-any.whl failed") as caught:
        envs.install_packages(python, [str(missing)])
    assert "pyproject.toml" in (caught.value.hint or "")
