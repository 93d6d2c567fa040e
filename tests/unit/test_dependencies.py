"""What the package imports and what pyproject.toml declares agree (checked by deptry)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_is_declared_and_every_dependency_used() -> None:
    # deptry is in the test extra; run from this interpreter, whose environment it inspects
    done = subprocess.run([sys.executable, "-m", "deptry", "src"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
