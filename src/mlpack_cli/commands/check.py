"""``mlpack check``: flake8 and pytest, run at the same time, one summary.

Both run as subprocesses from the project's root, so they read the project's own configuration
(``.flake8``/``setup.cfg``/``tox.ini``; ``[tool.pytest.ini_options]``). pytest runs in the project's
environment: the active virtualenv, else ``.venv`` in the project, else this interpreter.

``isolated`` tests what would ship instead: the wheel is built, installed (not editable) with its
declared dependencies and the ``test`` extra into a fresh virtualenv, and the tests run there. That
catches an undeclared dependency or a data file missing from the wheel.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpack_cli.project import ProjectSettings, load_project
from mlpack_cli.envs import create_virtualenv, install_packages, project_python, venv_python
from mlpack_cli.errors import CheckFailed, EnvironmentProblem
from mlpack_cli.reporting import reporter, timed_step

if TYPE_CHECKING:
    from mlpack_cli.commands.build import BuildEnvironment

LINT_PATHS = ("src", "tests")  # what flake8 lints when they exist (plus a flat-layout package)
PYTEST_NO_TESTS = 5
TOOL_TIMEOUT = 1800


@dataclass(frozen=True)
class CheckSettings:
    root: Path
    lint: bool = True
    tests: bool = True
    isolated: bool = False
    python: Path | None = None  # interpreter for pytest; default: the project's environment
    pytest_args: tuple[str, ...] = ()
    installer: str | None = None  # for --isolated: "uv" or "pip"; None picks uv when available


@dataclass(frozen=True)
class ToolRun:
    name: str  # "flake8" or "pytest"
    command: tuple[str, ...]
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def summary(self) -> str:
        """One line for the summary table: pytest's closing line, or flake8's problem count."""
        lines = [line.strip() for line in self.output.strip().splitlines() if line.strip()]
        if self.name == "flake8":
            return "no problems" if self.ok else f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
        if self.returncode == PYTEST_NO_TESTS:
            return "no tests collected"
        return lines[-1].strip("= ") if lines else f"exit code {self.returncode}"


@dataclass
class CheckResult:
    runs: list[ToolRun]
    isolated: bool = False
    wheel_name: str | None = None  # the wheel tested, with --isolated (built in a temporary folder)
    wheel_sha256: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    @property
    def failed(self) -> list[ToolRun]:
        return [run for run in self.runs if not run.ok]

    def to_json(self) -> dict[str, Any]:
        """What ``check --json`` prints: each tool's outcome and full output."""
        return {
            "ok": self.ok,
            "isolated": self.isolated,
            "wheel": self.wheel_name,
            "wheel_sha256": self.wheel_sha256,
            "tools": [
                {"name": run.name, "ok": run.ok, "returncode": run.returncode, "summary": run.summary,
                 "seconds": round(run.seconds, 3), "command": list(run.command), "output": run.output}
                for run in self.runs
            ],
            "notes": self.notes,
        }


def lint_paths(project: ProjectSettings) -> list[str]:
    paths = [p for p in LINT_PATHS if (project.root / p).is_dir()]
    if "src" not in paths and (project.root / project.package).is_dir():
        paths.append(project.package)
    return paths or ["."]


def flake8_command(project: ProjectSettings) -> list[str]:
    return [sys.executable, "-m", "flake8", *lint_paths(project)]


def run_tools(commands: dict[str, tuple[Sequence[str], dict[str, str] | None]], cwd: Path) -> list[ToolRun]:
    """Run the named commands concurrently, each to completion, and collect their output."""

    steps = reporter()  # a ContextVar: worker threads would not see the caller's reporter

    def run(name: str, command: Sequence[str], env: dict[str, str] | None) -> ToolRun:
        with timed_step(name, via=steps) as step:
            try:
                done = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True,
                                      timeout=TOOL_TIMEOUT, check=False)
            except FileNotFoundError as exc:
                raise EnvironmentProblem(f"cannot run {command[0]}: {exc.strerror}",
                                         hint="Is that interpreter still there?") from exc
            except subprocess.TimeoutExpired as exc:
                raise CheckFailed(f"{name} did not finish within {TOOL_TIMEOUT} s") from exc
            outcome = ToolRun(name, tuple(command), done.returncode, done.stdout + done.stderr, 0.0)
            step.ok, step.detail = outcome.ok, outcome.summary
        return dataclasses.replace(outcome, seconds=step.seconds)

    with ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        futures = [pool.submit(run, name, command, env) for name, (command, env) in commands.items()]
        return [future.result() for future in futures]


def run_checks(settings: CheckSettings, build_env: BuildEnvironment | None = None, *,
               project: ProjectSettings | None = None) -> CheckResult:
    """Lint and test; the result says what failed (see :func:`require_ok` to turn that into an error)."""
    if not (settings.lint or settings.tests):
        raise EnvironmentProblem("nothing to check: both lint and tests are turned off",
                                 hint="Drop --lint-only or --tests-only.")
    project = project or load_project(settings.root)
    if settings.isolated and settings.tests:
        return _run_isolated(project, settings, build_env)
    commands: dict[str, tuple[Sequence[str], dict[str, str] | None]] = {}
    if settings.lint:
        commands["flake8"] = (flake8_command(project), None)
    if settings.tests:
        python = settings.python or project_python(project.root)
        commands["pytest"] = ([str(python), "-m", "pytest", *settings.pytest_args], None)
    return CheckResult(run_tools(commands, project.root))


def _run_isolated(project: ProjectSettings, settings: CheckSettings, build_env: BuildEnvironment | None) -> CheckResult:
    from mlpack_cli.commands.build import BuildSettings, build_project

    with tempfile.TemporaryDirectory(prefix="mlpack-check-") as tmp:
        workdir = Path(tmp)
        with timed_step("build and install the wheel") as step:
            built = build_project(BuildSettings(root=project.root, outdir=workdir / "dist", verify=False,
                                                installer=settings.installer), build_env, project=project)
            python = create_virtualenv(workdir / "venv", installer=settings.installer)
            extras = "[test]" if "test" in _extras(project) else ""
            install_packages(python, [f"{built.wheel.path}{extras}", "pytest"], installer=settings.installer)
            step.detail = built.wheel.path.name
        commands: dict[str, tuple[Sequence[str], dict[str, str] | None]] = {}
        if settings.lint:
            commands["flake8"] = (flake8_command(project), None)
        # The venv's own pytest script (not `python -m`) keeps the project root off sys.path, so the
        # tests import the installed wheel, never the source tree.
        pytest = venv_python(workdir / "venv").parent / ("pytest.exe" if os.name == "nt" else "pytest")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PYTHONSAFEPATH"] = "1"
        commands["pytest"] = ([str(pytest), "-p", "no:cacheprovider", *settings.pytest_args], env)
        runs = run_tools(commands, project.root)
        return CheckResult(runs, isolated=True, wheel_name=built.wheel.path.name, wheel_sha256=built.wheel.sha256,
                           notes=[f"tested {built.wheel.path.name} (sha256 {built.wheel.sha256[:16]}...) "
                                  "installed in a fresh virtualenv"])


def _extras(project: ProjectSettings) -> set[str]:
    document = project.pyproject_data()
    return set(document.get("project", {}).get("optional-dependencies", {}) or {})


def require_ok(result: CheckResult, *, with_output: bool = True) -> None:
    """Raise :class:`CheckFailed` naming what failed (with the first lines of its output, unless shown already)."""
    if result.ok:
        return
    parts = []
    for run in result.failed:
        lines = run.output.strip().splitlines()
        excerpt = "".join(f"\n    {line}" for line in lines[:15]) if with_output else ""
        more = f"\n    ... ({len(lines) - 15} more lines)" if with_output and len(lines) > 15 else ""
        parts.append(f"{run.name} ({run.summary}){excerpt}{more}")
    hint = "Fix what is listed above and run `mlpack check` again."
    if not result.isolated and any(run.name == "pytest" for run in result.failed):
        hint += (" pytest ran in this environment: if the project is not installed there, "
                 "run `pip install -e '.[test]'` first, or test the built wheel with `mlpack check --isolated`.")
    raise CheckFailed("checks failed: " + "; ".join(parts), hint=hint)
