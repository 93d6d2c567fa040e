"""Timing shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import subprocess
import time


def median_seconds(command: list[str], runs: int) -> float:
    """The median wall time of ``runs`` runs of ``command``, after one run that warms the caches."""
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
