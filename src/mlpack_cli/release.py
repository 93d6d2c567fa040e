"""``mlpack release``: the ordered steps from a clean tree to a published, tagged version.

clean tree -> notebooks in sync -> bump -> check -> build -> verify -> publish -> commit and tag.
A failure before the upload publishes nothing and puts pyproject.toml back byte for byte; the error
names the step. ``dry_run`` runs every step but the upload and the tag, then puts the version back.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlpack_cli.config import PYPROJECT, load_project, parse_pyproject
from mlpack_cli.errors import EnvironmentProblem, InvalidInput, MlpackError, ReleaseFailed
from mlpack_cli.reporting import reporter, timed_step

BUMP_PARTS = ("patch", "minor", "major")
STEPS = ("clean tree", "notebooks in sync", "bump version", "check", "build", "verify", "publish", "tag")


@dataclass(frozen=True)
class ReleaseSettings:
    root: Path
    bump: str = "patch"  # patch, minor, major or an explicit PEP 440 version
    repository: str | None = None
    repository_url: str | None = None
    index_url: str | None = None
    dry_run: bool = False
    tag: bool = True
    allow_dirty: bool = False
    isolated_check: bool = False  # True: test the built wheel in a fresh virtualenv (mlpack check --isolated)
    outdir: Path | None = None
    installer: str | None = None


@dataclass
class StepRecord:
    name: str
    seconds: float
    status: str  # "ok", "failed", "skipped"
    detail: str = ""


@dataclass
class ReleaseResult:
    name: str
    old_version: str
    new_version: str
    dry_run: bool
    steps: list[StepRecord] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)
    tag: str | None = None
    push_command: str | None = None
    install_command: str | None = None
    notes: list[str] = field(default_factory=list)


# -- versions --------------------------------------------------------------------------------------


def bump_version(current: str, bump: str) -> str:
    """The next version: ``patch``/``minor``/``major`` of ``current``, or an explicit later version."""
    from packaging.version import InvalidVersion, Version

    try:
        now = Version(current)
    except InvalidVersion as exc:
        raise InvalidInput(f"the current version {current!r} is not a PEP 440 version",
                           hint="Fix [project] version in pyproject.toml.") from exc
    if bump in BUMP_PARTS:
        major, minor, micro = (list(now.release) + [0, 0])[:3]
        if bump == "major":
            return f"{major + 1}.0.0"
        if bump == "minor":
            return f"{major}.{minor + 1}.0"
        if now.is_prerelease:  # 1.2.0rc1 -> 1.2.0: a patch bump finishes the pre-release
            return f"{major}.{minor}.{micro}"
        return f"{major}.{minor}.{micro + 1}"
    try:
        wanted = Version(bump)
    except InvalidVersion as exc:
        raise InvalidInput(f"--bump {bump!r} is neither patch, minor, major nor a PEP 440 version",
                           hint="Use e.g. --bump minor or --bump 2.0.0.") from exc
    if wanted <= now:
        raise InvalidInput(f"--bump {bump}: the new version must be later than {current}",
                           hint="Pick a higher version.")
    return str(wanted)


def set_version(text: str, path: Path, version: str) -> str:
    """pyproject.toml's text with [project] version replaced; comments and layout kept (tomlkit)."""
    import tomlkit

    document = parse_pyproject(text, path)
    project = document.get("project")
    if project is None or "version" not in project:
        raise InvalidInput(f"{path} has no static [project] version to bump",
                           hint="Set `version = \"0.1.0\"` under [project] (a dynamic version cannot be bumped).")
    project["version"] = version
    return tomlkit.dumps(document)


def _write_atomically(root: Path, content: bytes) -> None:
    from mlpack_cli.files import FilePlan

    plan = FilePlan(root)
    plan.update(PYPROJECT, content)
    plan.apply()


# -- git -----------------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; its error output becomes the message."""
    executable = shutil.which("git")
    if executable is None:
        raise EnvironmentProblem("git is not installed",
                                 hint="A release needs git for the clean-tree check and the tag.")
    done = subprocess.run([executable, *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReleaseFailed(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def dirty_files(root: Path) -> list[str]:
    try:
        return [line for line in git(root, "status", "--porcelain", "--untracked-files=normal").splitlines() if line]
    except ReleaseFailed as exc:
        raise ReleaseFailed(f"{root} is not a git repository (or git cannot read it)",
                            hint="Run `git init` and commit, so the release can be tagged.") from exc


def push_command(root: Path, tag: str) -> str:
    remotes = git(root, "remote").split()
    remote = "origin" if "origin" in remotes or not remotes else remotes[0]
    return f"git push {remote} HEAD {tag}"


# -- the release ---------------------------------------------------------------------------------


class _Steps:
    """Runs steps in order, reports each with its time, and names the failing one."""

    def __init__(self, result: ReleaseResult) -> None:
        self.result = result

    @contextlib.contextmanager
    def run(self, name: str) -> Iterator[StepRecord]:
        record = StepRecord(name, 0.0, "ok")
        try:
            with timed_step(name) as step:
                yield record
                step.detail = record.detail if record.status == "ok" else f"skipped: {record.detail}"
        except MlpackError as error:
            record.status = "failed"
            raise ReleaseFailed(f"release step '{name}' failed: {error.message}", hint=error.hint) from error
        except BaseException:  # Ctrl-C, or a bug: rolled back all the same, traceback kept
            record.status = "failed"
            raise
        finally:
            record.seconds = step.seconds
            self.result.steps.append(record)

    def skip(self, name: str, why: str) -> None:
        reporter().step_finished(name, 0.0, True, f"skipped: {why}")
        self.result.steps.append(StepRecord(name, 0.0, "skipped", why))


def release(settings: ReleaseSettings) -> ReleaseResult:
    """Run the release; see the module docstring for the order and what a failure leaves behind."""
    project = load_project(settings.root)
    root = project.root
    pyproject = root / PYPROJECT
    original = pyproject.read_bytes()
    current = project.version or ""
    result = ReleaseResult(project.name, current, current, settings.dry_run)
    steps = _Steps(result)
    bumped = published = False
    try:
        with steps.run("clean tree") as step:
            dirty = dirty_files(root)
            if dirty and not settings.allow_dirty:
                raise ReleaseFailed(
                    "the git tree has uncommitted changes:\n" + "\n".join(f"  {line}" for line in dirty[:20]),
                    hint="Commit or stash them first (or pass --allow-dirty to release anyway).",
                )
            step.detail = f"{len(dirty)} uncommitted changes allowed" if dirty else "clean"
        with steps.run("notebooks in sync") as step:
            step.detail = _notebooks_in_sync(project.notebooks, root)
        with steps.run("bump version") as step:
            result.new_version = bump_version(current, settings.bump)
            _write_atomically(root, set_version(original.decode("utf-8"), pyproject, result.new_version).encode())
            bumped = True
            step.detail = f"{current} -> {result.new_version}"
        _check_build_verify(settings, steps, result)
        if settings.dry_run:
            steps.skip("publish", "dry run")
        else:
            with steps.run("publish") as step:
                from mlpack_cli.publishing import PublishSettings, publish

                uploaded = publish(PublishSettings(
                    root=root, dists=tuple(result.artifacts), repository=settings.repository,
                    repository_url=settings.repository_url, index_url=settings.index_url,
                ))
                published = True
                result.install_command = uploaded.install_command
                step.detail = f"to {uploaded.target.upload_url}"
    except BaseException:
        if bumped and not published:
            _write_atomically(root, original)
            result.notes.append(f"pyproject.toml restored to version {current}")
        raise
    if settings.dry_run:
        _write_atomically(root, original)
        result.notes.append(f"dry run: nothing uploaded or tagged; pyproject.toml kept at {current}")
        steps.skip("tag", "dry run")
        return result
    _commit_and_tag(settings, steps, result, root)
    return result


def _notebooks_in_sync(notebooks: Path, root: Path) -> str:
    if not notebooks.is_dir() or not any(".ipynb_checkpoints" not in p.parts for p in notebooks.rglob("*.ipynb")):
        return "no notebooks"
    from mlpack_cli.converting import ConvertSettings, check_project
    from mlpack_cli.errors import StaleModules

    stale = check_project(ConvertSettings(root=root))
    if stale:
        names = ", ".join(str(getattr(item, "name", item)) for item in stale)
        raise StaleModules(f"notebooks changed since their modules were generated: {names}",
                           hint="Run `mlpack convert`, review and commit the result, then release again.")
    return "modules up to date"


def _check_build_verify(settings: ReleaseSettings, steps: _Steps, result: ReleaseResult) -> None:
    """check, build and verify share one isolated build environment (installed once)."""
    from mlpack_cli.building import BuildSettings, build_environment, build_project, verify_artifacts
    from mlpack_cli.checking import CheckSettings, require_ok, run_checks

    with build_environment(settings.root, installer=settings.installer) as env:
        if not settings.isolated_check:  # the isolated check builds at once; otherwise prepare meanwhile
            env.prepare_in_background(settings.root)
        with steps.run("check") as step:
            checked = run_checks(CheckSettings(root=settings.root, isolated=settings.isolated_check,
                                               installer=settings.installer), env)
            require_ok(checked)
            step.detail = ", ".join(f"{run.name}: {run.summary}" for run in checked.runs)
        with steps.run("build") as step:
            built = build_project(BuildSettings(root=settings.root, outdir=settings.outdir, verify=False), env)
            result.artifacts = [a.path for a in built.artifacts]
            step.detail = ", ".join(a.path.name for a in built.artifacts)
        with steps.run("verify") as step:
            verify_artifacts(built.project, built.sdist.path, built.wheel.path)
            step.detail = "twine check --strict, contents, metadata"
            if checked.wheel_sha256 is not None:
                same = checked.wheel_sha256 == built.wheel.sha256
                result.notes.append("the wheel is byte-identical to the one the tests ran against" if same
                                    else "the wheel differs from the tested one (no reproducible timestamp?)")


def _commit_and_tag(settings: ReleaseSettings, steps: _Steps, result: ReleaseResult, root: Path) -> None:
    """After the upload the version is taken: a failure here keeps the bump and says what to do."""
    tag = f"v{result.new_version}"
    message = f"Release {result.new_version}"
    try:
        with steps.run("tag") as step:
            git(root, "commit", "--quiet", "-m", message, "--", PYPROJECT)
            if settings.tag:
                git(root, "tag", "-a", tag, "-m", message)
                result.tag = tag
                result.push_command = push_command(root, tag)
                step.detail = f"committed the bump, annotated tag {tag}"
            else:
                result.push_command = "git push"
                step.detail = "committed the bump (--no-tag)"
    except ReleaseFailed as error:
        error.message += f"\n{result.name} {result.new_version} is already published; the version bump was kept."
        error.hint = f"Commit pyproject.toml and run `git tag -a {tag} -m \"{message}\"` by hand."
        raise
