"""`mlpack release --dry-run` against the manual sequence a team would otherwise type, side by side.

Manual: flake8; pytest (in the project's development environment); python -m build; twine check
--strict. mlpack's dry run runs the same tools in that same environment and does more: the
clean-tree and notebook checks, the version bump and its rollback, the wheel's contents and
metadata. On the same generated project. Target: ratio at most 0.6.
Usage: python benchmarks/release_vs_manual.py [--runs 3]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 0.6


def make_project(base: Path) -> Path:
    from mlpack_cli.commands.init import InitSettings, init_project

    root = base / "relbench"
    init_project(InitSettings(path=root, name="relbench", ci="none"))
    identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "--quiet"], ["add", "--all"], [*identity, "commit", "--quiet", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def manual(root: Path, venv_python: Path, outdir: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flake8", "src", "tests"], cwd=root, check=True, capture_output=True)
    subprocess.run([str(venv_python), "-m", "pytest", "-q"], cwd=root, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(outdir), "."], cwd=root, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *glob.glob(f"{outdir}/*")], cwd=root,
                   check=True, capture_output=True)
    return time.perf_counter() - started


def ours(root: Path, venv: Path) -> float:
    """The dry run with the project's development environment active, as the manual pytest has it."""
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mlpack_cli", "release", "--dry-run"], cwd=root, check=True,
                   capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = make_project(base)
        # The manual pytest needs the project installed somewhere: a venv made once, outside the timing.
        venv = base / "devenv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{root}[test]"], check=True,
                       capture_output=True)
        mlpack_times, anchor_times = [], []
        for run in range(args.runs):  # interleaved, so machine noise hits both alike
            mlpack_times.append(ours(root, venv))
            anchor_times.append(manual(root, python, base / f"manual{run}"))
    mlpack, anchor = statistics.median(mlpack_times), statistics.median(anchor_times)
    ratio = mlpack / anchor
    print(f"mlpack release --dry-run                      median {mlpack:.2f} s over {args.runs} runs")
    print(f"flake8; pytest; python -m build; twine check  median {anchor:.2f} s over {args.runs} runs")
    print(f"ratio {ratio:.2f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
