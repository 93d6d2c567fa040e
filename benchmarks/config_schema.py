"""Cost of checking ``[tool.mlpack]`` against its schema, as ratios.

1. Per read, warm: ``read_pyproject`` (parse + PEP 621 checks + schema) against ``tomlkit.parse`` alone
   on mlpack's own pyproject.toml. Target: at most 1.5 (the check adds little to the parse).
2. Cold, in a fresh process: loading a project with mlpack (import, compile the schema, validate)
   against ``validate-pyproject pyproject.toml``, the ecosystem's check of the same file.
   Target: at most 1.0 (mlpack's own check is no slower than the tool users run in CI).

Usage: python benchmarks/config_schema.py [--runs 200]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

from timing import median_seconds  # benchmarks/timing.py, next to this script

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"


def per_call(function: object, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    import tomlkit

    from mlpack_cli.project import read_pyproject

    text = PYPROJECT.read_text()
    read_pyproject(PYPROJECT)  # compile the schema once, as the first read of a command does
    warm = per_call(lambda: read_pyproject(PYPROJECT), args.runs) / per_call(lambda: tomlkit.parse(text), args.runs)
    print(f"warm read with schema / tomlkit.parse: {warm:.2f} (target <= 1.5)")

    validate = shutil.which("validate-pyproject", path=str(Path(sys.executable).parent))
    ok = warm <= 1.5
    if validate:
        runs = max(3, args.runs // 20)
        ours = median_seconds([sys.executable, "-c", f"from mlpack_cli.project import load_project; "
                               f"load_project(__import__('pathlib').Path({str(ROOT)!r}))"], runs)
        theirs = median_seconds([validate, str(PYPROJECT)], runs)
        print(f"cold load_project / validate-pyproject: {ours / theirs:.2f} (target <= 1.0)")
        ok = ok and ours / theirs <= 1.0
    else:
        print("validate-pyproject is not installed (pip install -e '.[test]'): cold ratio skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
