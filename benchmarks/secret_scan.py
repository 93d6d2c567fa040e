"""The secret scan of `mlpack build` against detect-secrets run on every line, on the same files.

Both scan mlpack's own source tree (about as much text as a wheel of a notebook project holds, and
more) with the same plugins and filters; mlpack hands detect-secrets only the lines its plugins'
own patterns could match. Both must find the same secrets (a planted one among them), else the
comparison would be unfair and the script fails. Target: ratio at most 0.3.
Usage: python benchmarks/secret_scan.py [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import time
from pathlib import Path

TARGET_RATIO = 0.3
ROOT = Path(__file__).resolve().parents[1]


def texts() -> list[tuple[str, str]]:
    files = sorted(p for p in (ROOT / "src").rglob("*.py"))
    found = [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in files]
    planted = "hf_" + "".join(random.Random(1).choices(string.ascii_letters, k=34))
    found.append(("planted.py", f'TOKEN = "{planted}"\n'))
    return found


def ours(members: list[tuple[str, str]]) -> list[tuple[str, int]]:
    from mlpack_cli.notebook.secrets import scanner

    with scanner() as scan:
        return [(name, d.line) for name, text in members for d in scan(text, Path(name).suffix)]


def every_line(members: list[tuple[str, str]]) -> list[tuple[str, int]]:
    import tempfile

    from detect_secrets import SecretsCollection
    from detect_secrets.settings import transient_settings

    from mlpack_cli.notebook.secrets import _config, _occurrences

    found = []
    with tempfile.TemporaryDirectory() as scratch, transient_settings(_config()):
        for index, (name, text) in enumerate(members):
            path = Path(scratch) / f"{index}{Path(name).suffix}"
            path.write_text(text, encoding="utf-8")
            collection = SecretsCollection()
            collection.scan_file(str(path))
            raw = [(s.line_number, s.type, s.secret_value) for _, s in collection]
            found += [(name, d.line) for d in _occurrences(text.split("\n"), raw, path.name)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    members = texts()
    lines = sum(text.count("\n") for _, text in members)
    first, second = ours(members), every_line(members)  # warm-up, and the fairness check
    if sorted(first) != sorted(second) or ("planted.py", 1) not in first:
        raise SystemExit(f"the two scans disagree: {sorted(set(first) ^ set(second))}")
    timings: dict[str, list[float]] = {"mlpack": [], "every line": []}
    for _ in range(runs):
        for label, scan in (("mlpack", ours), ("every line", every_line)):
            start = time.perf_counter()
            scan(members)
            timings[label].append(time.perf_counter() - start)
    mine, theirs = statistics.median(timings["mlpack"]), statistics.median(timings["every line"])
    print(f"{len(members)} files, {lines} lines, {len(first)} findings")
    print(f"mlpack scan      {mine:.3f} s (median of {runs})")
    print(f"every line       {theirs:.3f} s")
    print(f"ratio            {mine / theirs:.2f} (target at most {TARGET_RATIO})")


if __name__ == "__main__":
    main()
