"""pypa build for real on a package that holds a secret: refused, removed, never printed; the pragma lets it be."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from mlpack_cli.errors import ExitCode

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tool_caches")]

# Made here, so that no file of this repository holds the token itself.
TOKEN = "hf_" + "".join(random.Random(7).choices(string.ascii_letters, k=33)) + "Qz"


def test_a_wheel_holding_a_secret_is_refused_and_removed_and_the_pragma_allowlists_it(
    tmp_path: Path, make_git_project: Callable[..., Path], run_cli: Callable[..., Result],
) -> None:
    root = make_git_project(tmp_path / "leaky", "leaky")
    settings = root / "src" / "leaky" / "settings.py"
    settings.write_text(f'"""Settings."""\n\nREGION = "eu"\nHF_TOKEN = "{TOKEN}"\n')
    outdir = tmp_path / "dist"

    refused = run_cli("build", root, "--outdir", outdir)
    output = refused.stdout + refused.stderr
    assert refused.exit_code == ExitCode.BUILD_FAILED, output
    assert "Error: the built artifacts hold secrets, so they were removed" in refused.stderr
    assert "leaky-0.1.0-py3-none-any.whl: leaky/settings.py, line 4: Hugging Face Token hf…Qz" in refused.stderr
    assert "leaky-0.1.0.tar.gz: leaky-0.1.0/src/leaky/settings.py, line 4: Hugging Face Token hf…Qz" in refused.stderr
    assert "# pragma: allowlist secret" in refused.stderr
    assert TOKEN not in output
    assert not list(outdir.glob("leaky-*")), "a refused artifact must not be left for publish to find"

    settings.write_text(settings.read_text().replace(f'"{TOKEN}"', f'"{TOKEN}"  # pragma: allowlist secret'))
    built = run_cli("build", root, "--outdir", outdir)
    assert built.exit_code == 0, built.stdout + built.stderr
    assert sorted(p.name for p in outdir.iterdir()) == ["leaky-0.1.0-py3-none-any.whl", "leaky-0.1.0.tar.gz"]
