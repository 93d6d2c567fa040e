"""`mlpack --help` and `mlpack --version` must not pay for the heavy tools the commands use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["nbconvert", "nbformat", "IPython", "build", "twine", "jinja2", "flake8", "tomlkit", "pytest", "libcst"]

PROBE = """
import json, sys
from mlpack_cli.cli import app
try:
    app([{arg!r}], prog_name="mlpack")
except SystemExit:
    pass
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})), file=sys.stderr)
"""


@pytest.mark.parametrize("arg", ["--help", "--version"])
def test_start_up_imports_none_of_the_heavy_tools(arg: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(arg=arg)], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "typer" in loaded, "the probe must really have run the app"
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
