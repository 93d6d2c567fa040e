"""``mlpack release``: the ordered steps from a clean tree to a published, tagged version.

clean tree (and everything the final commit and tag need) -> notebooks in sync -> bump -> check ->
build -> verify -> publish -> commit and tag. ``--bump`` is validated before any step. A failure
before the upload publishes nothing and puts pyproject.toml back byte for byte; the error names the
step. A failure after the upload says what was done (published, committed) and the commands left to
run. ``dry_run`` runs every step but the upload and the tag, then puts the version back.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlpack_cli.config import PYPROJECT, load_project, parse_pyproject
from mlpack_cli.errors import CheckFailed, EnvironmentProblem, InvalidInput, MlpackError, ReleaseFailed
from mlpack_cli.reporting import reporter, timed_step

if TYPE_CHECKING:
    from mlpack_cli.checking import CheckResult

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
    published_to: str | None = None  # the upload URL, once the upload succeeded
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


NO_REMOTE_NOTE = "this repository has no git remote: add one with `git remote add origin <url>`, then push"


def push_command(root: Path, tag: str | None) -> tuple[str, str | None]:
    """The command that pushes the release commit (and tag), and a note when there is no remote to name."""
    remotes = git(root, "remote").split()
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else "<remote>")
    command = f"git push {remote} HEAD" + (f" {tag}" if tag else "")
    return command, None if remotes else NO_REMOTE_NOTE


def _git_ok(root: Path, *args: str) -> bool:
    try:
        git(root, *args)
    except ReleaseFailed:
        return False
    return True


def git_ready(root: Path, tag: str | None) -> str:
    """Fail before anything is built or uploaded if the final commit or tag could not be made."""
    problems: list[tuple[str, str]] = []
    for kind in ("AUTHOR", "COMMITTER"):  # the commit needs both; an annotated tag names the committer
        if not _git_ok(root, "var", f"GIT_{kind}_IDENT"):
            problems.append((f"git does not know who you are ({kind.lower()} identity unknown): the release "
                             "commit and tag could not be made",
                             'Run `git config --global user.name "Your Name"` and '
                             '`git config --global user.email "you@example.com"` (or set GIT_AUTHOR_NAME, '
                             "GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL), then release again."))
            break
    if not _git_ok(root, "ls-files", "--error-unmatch", "--", PYPROJECT):
        problems.append((f"{PYPROJECT} is not tracked by git: the version bump could not be committed",
                         f"Run `git add {PYPROJECT}` and commit it, then release again."))
    for marker, what in (("MERGE_HEAD", "merge"), ("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert")):
        if _git_ok(root, "rev-parse", "--quiet", "--verify", marker):
            problems.append((f"a {what} is in progress: the version bump could not be committed on its own",
                             f"Finish it (`git commit`) or abort it (`git {what} --abort`), then release again."))
    if tag and _git_ok(root, "rev-parse", "--quiet", "--verify", f"refs/tags/{tag}"):
        problems.append((f"the tag {tag} already exists",
                         f"Release another version (--bump), or delete the tag if it was a mistake "
                         f"(`git tag -d {tag}`), then release again."))
    if problems:
        raise ReleaseFailed("; ".join(message for message, _ in problems), hint=" ".join(h for _, h in problems))
    return f"tag {tag} is free, git identity known" if tag else "git identity known"


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
    # --bump and the version itself are checked before any step: a mistyped --bump runs nothing
    new_version = bump_version(current, settings.bump)
    bumped_text = set_version(original.decode("utf-8"), pyproject, new_version).encode()
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
            ready = git_ready(root, f"v{new_version}" if settings.tag else None)
            step.detail = (f"{len(dirty)} uncommitted changes allowed" if dirty else "clean") + f"; {ready}"
        with steps.run("notebooks in sync") as step:
            step.detail = _notebooks_in_sync(project.notebooks, root)
        with steps.run("bump version") as step:
            result.new_version = new_version
            _write_atomically(root, bumped_text)
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
                result.published_to = uploaded.target.upload_url
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
            try:
                require_ok(checked)
            except CheckFailed as error:
                error.hint = _release_check_hint(checked)
                raise
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


def _release_check_hint(checked: CheckResult) -> str:
    """What to do when the checks fail during a release (the release's options, not `mlpack check`'s)."""
    hint = "Fix what is listed above, commit, and run `mlpack release` again (`mlpack check` reruns only the checks)."
    if not checked.isolated and any(run.name == "pytest" for run in checked.failed):
        hint += (" pytest ran in this environment: if the project is not installed there, run "
                 "`pip install -e '.[test]'` first, or release with `mlpack release --isolated` to test the "
                 "built wheel in a fresh virtualenv.")
    return hint


def _commit_and_tag(settings: ReleaseSettings, steps: _Steps, result: ReleaseResult, root: Path) -> None:
    """After the upload the version is taken: a failure here keeps the bump and says what to do."""
    tag = f"v{result.new_version}" if settings.tag else None
    message = f"Release {result.new_version}"
    push, no_remote = push_command(root, tag)
    commit = f'git commit -m "{message}" -- {PYPROJECT}'
    make_tag = f'git tag -a {tag} -m "{message}"' if tag else None
    committed = False
    try:
        with steps.run("tag") as step:
            git(root, "commit", "--quiet", "-m", message, "--", PYPROJECT)
            committed = True
            if tag:
                git(root, "tag", "-a", tag, "-m", message)
                result.tag = tag
                step.detail = f"committed the bump, annotated tag {tag}"
            else:
                step.detail = "committed the bump (--no-tag)"
    except ReleaseFailed as error:
        where = f" to {result.published_to}" if result.published_to else ""
        done = f"{result.name} {result.new_version} is published{where} (that cannot be undone) and "
        done += ("the version bump is committed" if committed
                 else f"{PYPROJECT} keeps the version bump, not committed")
        error.message += f"\n{done}; " + ("the tag was not made." if committed else "nothing was committed or tagged.")
        left = ([] if committed else [commit]) + ([make_tag] if make_tag else []) + [push]
        error.hint = "Fix the cause above, then run: " + " && ".join(f"`{c}`" for c in left) + (
            f" ({no_remote})." if no_remote else ".")
        raise
    result.push_command = push
    if no_remote:
        result.notes.append(no_remote)
