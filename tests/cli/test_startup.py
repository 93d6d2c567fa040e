"""`mlpack --help` and `mlpack --version` must not pay for the heavy tools the commands use, nor for
a scan of the installed distributions; the version they report is the one the wheel was built with."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

import pytest
import tomlkit

import mlpack_cli

ROOT = Path(__file__).resolve().parents[2]

# pydantic: Typer converts option values with it, but a command's --help converts none
HEAVY = ["nbconvert", "nbformat", "IPython", "build", "twine", "jinja2", "flake8", "tomlkit", "pytest",
         "detect_secrets", "libcst", "pydantic"]

PROBE = """
import json, sys
from mlpack_cli.cli import app
try:
    app({args!r}, prog_name="mlpack")
except SystemExit:
    pass
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["convert", "--help"], ["ci", "-h"]])
def test_start_up_imports_none_of_the_heavy_tools(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "typer" in loaded, "the probe must really have run the app"
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_the_version_is_written_once_in_the_package() -> None:
    project = tomlkit.parse((ROOT / "pyproject.toml").read_text()).unwrap()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mlpack_cli.__version__"}


def test_the_reported_version_is_the_installed_distributions() -> None:
    mlpack = shutil.which("mlpack", path=str(Path(sys.executable).parent))
    assert mlpack, "the mlpack console script is installed next to this interpreter"
    done = subprocess.run([mlpack, "--version"], capture_output=True, text=True, check=True)
    assert mlpack_cli.__version__ == version("mlpack-cli"), "reinstall: pip install -e ."
    assert done.stdout == f"mlpack {version('mlpack-cli')}\n"


@pytest.mark.slow
def test_the_built_wheel_carries_the_version_of_the_package(mlpack_wheel: Path) -> None:
    with zipfile.ZipFile(mlpack_wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(name).decode())
    assert metadata["Version"] == mlpack_cli.__version__
    assert mlpack_wheel.name.startswith(f"mlpack_cli-{mlpack_cli.__version__}-")


def test_the_commands_annotations_are_objects_not_strings_to_evaluate() -> None:
    # Typer compiles and evaluates string annotations anew each time it builds the command tree.
    from mlpack_cli.cli import app

    callbacks = [info.callback for info in app.registered_commands] + [app.registered_callback.callback]
    assert len(callbacks) >= 9
    for callback in callbacks:
        strings = {name: hint for name, hint in callback.__annotations__.items() if isinstance(hint, str)}
        assert not strings, f"{callback.__name__}: {strings}"


def test_the_version_alone_is_answered_without_building_the_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer.main

    from mlpack_cli import cli

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command tree was built")

    monkeypatch.setattr(typer.main, "get_command", refuse)
    for flag in ("--version", "-V"):
        monkeypatch.setattr(sys, "argv", ["mlpack", flag])
        cli.main()
        assert capsys.readouterr().out == f"mlpack {mlpack_cli.__version__}\n"
    monkeypatch.setattr(sys, "argv", ["mlpack", "--version", "--help"])  # anything more goes through Typer
    with pytest.raises(AssertionError, match="was built"):
        cli.main()
