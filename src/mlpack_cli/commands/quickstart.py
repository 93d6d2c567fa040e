"""``mlpack quickstart``: the whole path, notebook to installed wheel, on the example that ships inside mlpack.

init (with the example notebook and its data) -> convert -> check (against the built wheel, in a
fresh virtualenv: nothing needs installing first) -> build -> install the wheel into a fresh
virtualenv (with the project's ``serve`` extra) -> run the converted pipeline there through the
project's console script (``<project> run houses --set ...``) -> serve its model
(``<project> serve houses``) on a free port of 127.0.0.1, post one row of the example data to
``/predict``, stop the service -> return the metrics and that prediction. Needs nothing beyond
mlpack itself (and its dependencies); a fresh machine is enough.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlpack_cli.errors import EnvironmentProblem, FileConflict, NotebookError
from mlpack_cli import processes

DEFAULT_DIR = Path("mlpack-quickstart")
RUN_TIMEOUT = 600
SERVE_TIMEOUT = 120  # seconds for the service to answer /healthz

# Where the installed wheel's pipeline lives and which parameters its run() takes (the project root
# holds only src/, never the package, so this is the wheel's copy).
INSPECTOR = (
    "import importlib, inspect, json, sys\n"
    "module = importlib.import_module(sys.argv[1])\n"
    "print(json.dumps({'file': module.__file__, 'parameters': list(inspect.signature(module.run).parameters)}))\n"
)
# The example notebook exports its model to model.json in the working directory; a --set override
# sends it to dist/ (git-ignored, beside the wheel) so that the fresh project's tree stays clean.
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
    command: str = ""  # the console-script command line that ran the pipeline, from the project root
    served: dict[str, Any] | None = None  # {"command", "record", "predictions"}: one request to the service

    @property
    def metrics_text(self) -> str:
        return json.dumps(self.metrics, indent=2, sort_keys=True, default=str)


def quickstart(settings: QuickstartSettings) -> QuickstartResult:
    """Run every step on a new example project in ``settings.path`` (which must be new or empty)."""
    from mlpack_cli.commands.build import BuildSettings, build_environment, build_project
    from mlpack_cli.reporting import timed_step
    from mlpack_cli.commands.check import CheckSettings, require_ok, run_checks
    from mlpack_cli.envs import create_virtualenv, install_packages
    from mlpack_cli.commands.init import InitSettings, init_project

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
        converted, script = _convert(root)
        module = f"{initialised.package}.{converted}"
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
        install_packages(python, [f"{built.wheel.path}[test,serve]"], installer=settings.installer)
    with timed_step("run the pipeline"):
        output = _run_pipeline(python, script, module, root)
    with timed_step("serve the model and ask it"):
        served = _serve_once(python, script, module, root)
    return QuickstartResult(root=root, wheel=built.wheel.path, module=module, module_file=output["file"],
                            metrics=output["result"], venv=venv, command=output["command"], served=served)


def _convert(root: Path) -> tuple[str, str]:
    """Convert the example notebook; the name of the module it became and the project's console script."""
    from mlpack_cli.commands.convert import ConvertSettings, convert_project

    result = convert_project(ConvertSettings(root=root))
    if not result.ok or not result.reports or result.reports[0].module is None or not result.console_script:
        why = "; ".join([f"{r.notebook}: {r.error}" for r in result.failed] + result.warnings)
        raise NotebookError(f"converting the example notebook in {root} failed: {why or 'no module was written'}",
                            hint="Run `mlpack convert` there to see the details.")
    return str(result.reports[0].module), result.console_script


def _commit(root: Path) -> None:
    """A first commit: the build takes its timestamp from it, and `mlpack release` needs a clean tree."""
    from mlpack_cli.reporting import reporter

    from mlpack_cli.git import commit_everything

    problem = commit_everything(root, "Example project from mlpack quickstart")
    if problem == "git is not installed":
        reporter().warn("git is not installed: the project is not a repository (mlpack release needs one)")
    elif problem:
        reporter().warn(f"{problem}; commit the project yourself before `mlpack release`")


def _run_pipeline(python: Path, script: str, module: str, root: Path) -> dict[str, Any]:
    """Run the pipeline with the console script installed in the virtualenv, from the project root
    (where the example's data is), its model sent to dist/ with ``--set``; what run() returned."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONSAFEPATH"] = "1"
    found = json.loads(_run(python, ["-c", INSPECTOR, module], root, env, module).stdout)
    arguments = ["run", module.rpartition(".")[2]]
    model = next((name for name in found["parameters"] if name.lower() == "model_path"), None)
    if model is not None:  # a notebook of another shape keeps its own output path
        arguments += ["--set", f"{model}={MODEL_FILE}"]
    executable = python.parent / (f"{script}.exe" if os.name == "nt" else script)
    done = _run(executable, arguments, root, env, module)
    try:
        result = json.loads(done.stdout)
    except ValueError as exc:
        raise EnvironmentProblem(f"{script} {' '.join(arguments)} printed no JSON result:\n{done.stdout[-2000:]}",
                                 hint=f"Run it yourself in {root}: {executable} {' '.join(arguments)}") from exc
    return {"file": found["file"], "result": result, "command": " ".join([script, *arguments])}


def _run(program: Path, arguments: list[str], root: Path, env: dict[str, str], module: str
         ) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run([str(program), *arguments], cwd=root, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentProblem(f"the pipeline {module} did not finish within {RUN_TIMEOUT} s") from exc
    except OSError as exc:
        raise EnvironmentProblem(f"running {program} failed: {exc.strerror or exc}",
                                 hint="Install the wheel again: the virtualenv is incomplete.") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise EnvironmentProblem(f"running {module} from the installed wheel failed:\n{tail}",
                                 hint=f"Run it yourself in {root}: {program} {' '.join(arguments)}")
    return done


def example_request(row: dict[str, str], model: Path) -> dict[str, Any]:
    """The record to post to /predict: the columns of ``row`` that the model reads (the features,
    as ``run()`` captured them in ``<model>.mlpack.json``), numbers as numbers; never the target."""
    schema = model.with_name(model.name + ".mlpack.json")
    try:
        columns = json.loads(schema.read_text(encoding="utf-8"))["columns"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EnvironmentProblem(f"{schema}: the columns the model reads could not be read ({exc})",
                                 hint="Run the pipeline again: run() writes it beside the model.") from exc
    return {key: _number(value) for key, value in row.items() if key in columns}


def _serve_once(python: Path, script: str, module: str, root: Path) -> dict[str, Any]:
    """Start ``<project> serve`` from the installed wheel on a free local port, post the features of
    the first row of the example data to /predict, stop the service; the record and the prediction."""
    import csv
    import signal
    import socket
    import time
    import urllib.error
    import urllib.request

    with (root / "data" / "houses.csv").open(newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    record = example_request(row, root / MODEL_FILE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    executable = python.parent / (f"{script}.exe" if os.name == "nt" else script)
    arguments = ["serve", module.rpartition(".")[2], "--model", MODEL_FILE, "--port", str(port)]
    command = " ".join([script, *arguments])
    service = subprocess.Popen([str(executable), *arguments], cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            if service.poll() is not None:
                output = service.stdout.read() if service.stdout else ""
                raise EnvironmentProblem(f"`{command}` stopped before it served:\n{output[-2000:]}",
                                         hint=f"Run it yourself in {root}.")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise EnvironmentProblem(f"`{command}` did not answer /healthz within {SERVE_TIMEOUT} s",
                                         hint=f"Run it yourself in {root} and look at its log.")
            time.sleep(0.3)
        request = urllib.request.Request(f"{base}/predict", data=json.dumps({"records": [record]}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                predictions = json.loads(response.read())["predictions"]
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            raise EnvironmentProblem(f"POST {base}/predict failed: {exc}",
                                     hint=f"Run `{command}` yourself in {root} and post a record.") from exc
    finally:
        processes.stop(service, polite=signal.SIGINT)
    return {"command": command, "record": record, "predictions": predictions}


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text
