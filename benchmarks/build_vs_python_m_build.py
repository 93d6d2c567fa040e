"""`mlpack build` against `python -m build` on the same generated project, measured side by side.

Both build an sdist and a wheel from it in isolated environments; mlpack also verifies them
(twine check --strict, contents, metadata). The two wheels must hold the same files with the same
bytes, else the comparison would be unfair and the script fails. Target: ratio at most 0.6.
Usage: python benchmarks/build_vs_python_m_build.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TARGET_RATIO = 0.6


def make_project(base: Path) -> Path:
    from mlpack_cli.commands.init import InitSettings, init_project

    root = base / "benchproj"
    init_project(InitSettings(path=root, name="benchproj", example=True, ci="none"))
    identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "--quiet"], ["add", "--all"], [*identity, "commit", "--quiet", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def wheel_contents(outdir: Path) -> dict[str, bytes]:
    (wheel,) = outdir.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = make_project(base)
        mlpack_times, anchor_times = [], []
        for run in range(args.runs):  # interleaved, so machine noise hits both alike
            ours, theirs = base / f"ours{run}", base / f"theirs{run}"
            mlpack_times.append(timed([sys.executable, "-m", "mlpack_cli", "build", "--outdir", str(ours)], root))
            anchor_times.append(timed([sys.executable, "-m", "build", "--outdir", str(theirs), "."], root))
        a, b = wheel_contents(base / "ours0"), wheel_contents(base / "theirs0")
        if a != b:
            print("the two wheels differ:", sorted(set(a) ^ set(b)))
            return 1
    mlpack, anchor = statistics.median(mlpack_times), statistics.median(anchor_times)
    ratio = mlpack / anchor
    print(f"mlpack build (incl. verify)  median {mlpack:.2f} s over {args.runs} runs")
    print(f"python -m build              median {anchor:.2f} s over {args.runs} runs")
    print(f"ratio {ratio:.2f} (target <= {TARGET_RATIO}); identical wheel contents: yes")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
