"""Start-up cost of `mlpack --version`, `mlpack --help` and `mlpack convert --help` against
`python -c "import typer"`, measured in pairs.

Target: each ratio at most 1.5 (mlpack adds little on top of the CLI framework it is built on).
Each run of an mlpack command is paired with a run of the anchor right next to it (in alternating
order), and the ratio printed is the median of the pairs' ratios: machine noise, which on a shared
machine comes and goes within seconds, hits both halves of a pair alike.
Usage: python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

TARGET_RATIO = 1.5
COMMANDS = (["--version"], ["--help"], ["convert", "--help"])


def seconds(command: list[str]) -> float:
    """The wall time of one run of ``command``."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def paired(ours: list[str], anchor: list[str], runs: int) -> tuple[float, float, float]:
    """Median seconds of ``ours``, of ``anchor``, and the median ratio of ``runs`` adjacent pairs."""
    seconds(ours)  # warm the file cache
    seconds(anchor)
    mine, theirs, ratios = [], [], []
    for run in range(runs):
        if run % 2:
            a, b = seconds(anchor), seconds(ours)
        else:
            b, a = seconds(ours), seconds(anchor)
        mine.append(b)
        theirs.append(a)
        ratios.append(b / a)
    return statistics.median(mine), statistics.median(theirs), statistics.median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="pairs per command (default 15)")
    args = parser.parse_args()
    mlpack = shutil.which("mlpack")
    program = [mlpack] if mlpack else [sys.executable, "-m", "mlpack_cli"]
    anchor = [sys.executable, "-c", "import typer"]
    print(f"{'command':24} {'mlpack':>9} {'typer':>9}  ratio (target <= {TARGET_RATIO}, median of {args.runs} pairs)")
    for words in COMMANDS:
        name = " ".join(["mlpack", *words])
        ours, theirs, ratio = paired(program + words, anchor, args.runs)
        verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(f"{name:24} {ours * 1000:6.1f} ms {theirs * 1000:6.1f} ms  {ratio:.2f} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
