"""``mlpack quickstart``: the whole path, notebook to installed wheel, on the example that ships inside mlpack.

init (with the example notebook and its data) -> convert -> check (against the built wheel, in a
fresh virtualenv: nothing needs installing first) -> build -> install the wheel into a fresh
virtualenv -> run the converted pipeline there and return its metrics. Needs nothing beyond mlpack
itself (and its dependencies); a fresh machine is enough.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlpack_cli.errors import EnvironmentProblem, FileConflict, NotebookError

DEFAULT_DIR = Path("mlpack-quickstart")
RUN_TIMEOUT = 600

# Imports the pipeline from the installed wheel (the project root holds only src/, never the package),
# calls run() with those of the given keyword arguments it takes, and prints what it returns as JSON.
RUNNER = (
    "import importlib, inspect, json, sys\n"
    "module = importlib.import_module(sys.argv[1])\n"
    "wanted = json.loads(sys.argv[2])\n"
    "accepted = inspect.signature(module.run).parameters\n"
    "result = module.run(**{k: v for k, v in wanted.items() if k in accepted})\n"
    "print(json.dumps({'file': module.__file__, 'result': result}, default=str))\n"
)
# The example notebook exports its model to model.json in the working directory; it goes to dist/
# (git-ignored, beside the wheel) so that the fresh project's tree stays clean.
MODEL_FILE = "dist/model.json"


@dataclass(frozen=True)
class QuickstartSettings:
    path: Path = DEFAULT_DIR
    name: str | None = None  # default: the directory's name
    installer: str | None = None  # "uv" or "pip"; None picks uv when available


@dataclass
class QuickstartResult:
    root: Path
    wheel: Path
    module: str
    module_file: str  # where the pipeline was imported from (inside the fresh virtualenv)
    metrics: Any
    venv: Path

    @property
    def metrics_text(self) -> str:
        return json.dumps(self.metrics, indent=2, sort_keys=True, default=str)


def quickstart(settings: QuickstartSettings) -> QuickstartResult:
    """Run every step on a new example project in ``settings.path`` (which must be new or empty)."""
    from mlpack_cli.building import BuildSettings, build_environment, build_project
    from mlpack_cli.reporting import timed_step
    from mlpack_cli.checking import CheckSettings, create_virtualenv, install_packages, require_ok, run_checks
    from mlpack_cli.scaffold import InitSettings, init_project

    target = settings.path
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is not empty" if target.is_dir() else "is a file"
        raise FileConflict(f"{target} exists and {what}: the example project would overwrite or mix with it",
                           hint="quickstart writes a new project: pass a new or empty directory "
                                "(mlpack quickstart DIR). Nothing was written.")
    with timed_step("init"):
        initialised = init_project(InitSettings(path=target, name=settings.name, example=True))
    root = initialised.root
    with timed_step("convert"):
        module = f"{initialised.package}.{_convert(root)}"
    with timed_step("git commit"):
        _commit(root)
    with build_environment(root, installer=settings.installer) as env:
        with timed_step("check"):
            require_ok(run_checks(CheckSettings(root=root, isolated=True, installer=settings.installer), env))
        with timed_step("build"):
            built = build_project(BuildSettings(root=root), env)
    venv = root / ".venv"  # git-ignored, and where `mlpack check` looks for the project's environment
    with timed_step("install the wheel in a fresh virtualenv"):
        python = create_virtualenv(venv, installer=settings.installer)
        install_packages(python, [f"{built.wheel.path}[test]"], installer=settings.installer)
    with timed_step("run the pipeline"):
        output = _run_pipeline(python, module, root, {"MODEL_PATH": str(root / MODEL_FILE)})
    return QuickstartResult(root=root, wheel=built.wheel.path, module=module, module_file=output["file"],
                            metrics=output["result"], venv=venv)


def _convert(root: Path) -> str:
    """Convert the example notebook; the name of the module it became."""
    from mlpack_cli.converting import ConvertSettings, convert_project

    result = convert_project(ConvertSettings(root=root))
    if not result.ok or not result.reports or result.reports[0].module is None:
        why = "; ".join(f"{r.notebook}: {r.error}" for r in result.failed) or "no module was written"
        raise NotebookError(f"converting the example notebook in {root} failed: {why}",
                            hint="Run `mlpack convert` there to see the details.")
    return str(result.reports[0].module)


def _commit(root: Path) -> None:
    """A first commit: the build takes its timestamp from it, and `mlpack release` needs a clean tree."""
    from mlpack_cli.reporting import reporter

    git = shutil.which("git")
    if git is None:
        reporter().warn("git is not installed: the project is not a repository (mlpack release needs one)")
        return
    message = "Example project from mlpack quickstart"
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", message]):
        done = subprocess.run([git, *args], cwd=root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reporter().warn(f"git {args[0]} failed ({done.stderr.strip() or done.stdout.strip()}); "
                            "commit the project yourself before `mlpack release`")
            return


def _run_pipeline(python: Path, module: str, root: Path, keywords: dict[str, str]) -> dict[str, Any]:
    """Run ``module.run()`` in the virtualenv, from the project root (where the example's data is)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONSAFEPATH"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "run_pipeline.py"
        script.write_text(RUNNER, encoding="utf-8")
        try:
            done = subprocess.run([str(python), str(script), module, json.dumps(keywords)], cwd=root, env=env,
                                  capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise EnvironmentProblem(f"the pipeline {module} did not finish within {RUN_TIMEOUT} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise EnvironmentProblem(f"running {module}.run() from the installed wheel failed:\n{tail}",
                                 hint=f"Run it yourself: {python} -c 'import {module} as m; m.run()'")
    lines = done.stdout.strip().splitlines()
    return dict(json.loads(lines[-1])) if lines else {"file": "", "result": None}
