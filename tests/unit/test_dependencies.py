"""What the package imports and what pyproject.toml declares agree (checked by deptry)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_is_declared_and_every_dependency_used() -> None:
    deptry = shutil.which("deptry")
    assert deptry, "deptry is in the test extra: pip install -e '.[test]'"
    done = subprocess.run([deptry, "src"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
