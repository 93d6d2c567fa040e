"""Start-up cost of `mlpack --version` against `python -c "import typer"`, measured side by side.

Target: ratio at most 1.5 (mlpack adds little on top of the CLI framework it is built on).
Usage: python benchmarks/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys

from timing import median_seconds  # benchmarks/timing.py, next to this script

TARGET_RATIO = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    mlpack = shutil.which("mlpack")
    mlpack_command = [mlpack, "--version"] if mlpack else [sys.executable, "-m", "mlpack_cli", "--version"]
    anchor_command = [sys.executable, "-c", "import typer"]
    # Interleave the two so that machine noise hits both alike.
    mlpack_times, anchor_times = [], []
    for _ in range(3):
        mlpack_times.append(median_seconds(mlpack_command, args.runs // 3 or 1))
        anchor_times.append(median_seconds(anchor_command, args.runs // 3 or 1))
    ours, theirs = statistics.median(mlpack_times), statistics.median(anchor_times)
    ratio = ours / theirs
    print(f"mlpack --version        median {ours * 1000:7.1f} ms")
    print(f"python -c 'import typer' median {theirs * 1000:7.1f} ms")
    print(f"ratio {ratio:.2f} (target <= {TARGET_RATIO}) {'OK' if ratio <= TARGET_RATIO else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
