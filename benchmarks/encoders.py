"""Cost of writing outside values through real encoders, as ratios.

1. ``mlpack ci`` rendering (GitLab and Jenkins), warm: the time ruamel.yaml's emitter adds over
   the same templates with ``json.dumps`` as the YAML filter (the encoder it replaced), as a share
   of starting the ``mlpack`` command at all (``mlpack --version`` in a fresh process).
   Target: at most 0.05 (the emitter costs the user nothing noticeable). The raw render ratio is
   printed too.
2. The pyproject.toml of ``init``, warm: built with tomlkit (parse the fixed layout, set the
   values) against rendering the same text from a jinja2 template with ``json.dumps`` values,
   again as added time over the start of the command. Target: at most 0.05. (A merge into an
   existing pyproject.toml parsed the rendered text with tomlkit before too.)

Usage: python benchmarks/encoders.py [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import jinja2

from mlpack_cli import templating
from mlpack_cli.commands import ci
from mlpack_cli.commands.init import PYPROJECT_SKELETON, pyproject_document

CONTEXT = {
    "name": "churn-model", "package": "churn_model", "notebooks": "notebooks", "python": ">=3.10",
    "description": 'Predicts churn; "quoted" \\ text', "author": "Ada Lovelace", "email": "ada@example.org",
    "license": "MIT",
}


def per_call(function: Callable[[], object], runs: int) -> float:
    function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _process_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mlpack_cli", "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def render_ci() -> object:
    options = ci.CiOptions.from_tool({"deploy": True, "deploy-script": ["./deploy.sh"]},
                                     name="churn-model", package="churn_model")
    return ci.generated_files(["gitlab", "jenkins"], options)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs

    env = templating.environment()
    emitter = per_call(render_ci, runs)
    env.filters["yaml"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    try:
        dumps = per_call(render_ci, runs)
    finally:
        env.filters["yaml"] = templating.yaml_string
    start = statistics.median(_process_seconds() for _ in range(5))
    print(f"ci render: emitter {emitter * 1e3:.2f} ms, json.dumps {dumps * 1e3:.2f} ms "
          f"(render ratio {emitter / dumps:.2f}); added time / `mlpack --version` {start * 1e3:.0f} ms: "
          f"{(emitter - dumps) / start:.3f} (target <= 0.05)")

    import tomlkit

    toml_env = jinja2.Environment()
    toml_env.filters["toml"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    template = toml_env.from_string(
        PYPROJECT_SKELETON.replace('name = ""', "name = {{ name | toml }}")
        .replace('description = ""', "description = {{ description | toml }}")
    )
    built = per_call(lambda: tomlkit.dumps(pyproject_document(CONTEXT)), runs)
    rendered = per_call(lambda: template.render(**CONTEXT), runs)
    print(f"pyproject.toml: tomlkit {built * 1e3:.2f} ms, template {rendered * 1e3:.2f} ms "
          f"(ratio {built / rendered:.0f}); added time / `mlpack --version`: {(built - rendered) / start:.3f} "
          "(target <= 0.05)")


if __name__ == "__main__":
    main()
