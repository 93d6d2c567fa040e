"""``mlpack release``: the ordered steps from a clean tree to a published, tagged version.

clean tree (and everything the final commit and tag need: identity, tag free, HEAD on a branch) ->
pre-flight (credentials, index reachable, version free there or only partly uploaded) -> notebooks in
sync -> bump -> check -> build -> verify -> publish -> commit and tag. ``--bump`` is validated before
any step. Whatever stops a release (an error, a full disk, Ctrl-C), the error names the step and
states what was uploaded, whether pyproject.toml was put back (byte for byte, from memory, written in
place so that a full disk cannot stop it) and the command that completes the release. A failure after
the upload says what was done (published, committed) and the commands left to run. ``dry_run`` runs
every step but the upload and the tag, then puts the version back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlpack_cli.project import PYPROJECT, ProjectSettings, load_project, parse_pyproject
from mlpack_cli.errors import CheckFailed, ExitCode, InvalidInput, MlpackError, ReleaseFailed
from mlpack_cli.git import dirty_files, git, push_command, succeeds
from mlpack_cli.redaction import redact_url
from mlpack_cli.reporting import reporter, timed_step
from mlpack_cli.versions import bump_version

if TYPE_CHECKING:
    from mlpack_cli.commands.check import CheckResult
    from mlpack_cli.commands.publish import Credentials, PublishSettings, Target
    from mlpack_cli.reporting import Step

STEPS = ("clean tree", "pre-flight", "notebooks in sync", "bump version", "check", "build", "verify", "publish", "tag")


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
    preflight_problems: list[str] = field(default_factory=list)  # a dry run's: a real release would stop

    def to_json(self) -> dict[str, Any]:
        """What ``release --json`` prints."""
        return {
            "name": self.name, "old_version": self.old_version, "new_version": self.new_version,
            "dry_run": self.dry_run,
            "steps": [{"name": s.name, "status": s.status, "seconds": round(s.seconds, 3), "detail": s.detail}
                      for s in self.steps],
            "artifacts": [str(path) for path in self.artifacts], "tag": self.tag,
            "published_to": self.published_to, "install_command": self.install_command,
            "push_command": self.push_command, "notes": self.notes, "preflight_problems": self.preflight_problems,
        }


# -- versions --------------------------------------------------------------------------------------


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
    """The bump: written beside pyproject.toml, then moved over it (through a symlink; CRLF kept)."""
    from mlpack_cli.files import FilePlan

    plan = FilePlan(root)
    plan.update(PYPROJECT, content)
    plan.apply()


# -- git -----------------------------------------------------------------------------------------


def git_ready(root: Path, tag: str | None) -> str:
    """Fail before anything is built or uploaded if the final commit or tag could not be made."""
    problems: list[tuple[str, str]] = []
    for kind in ("AUTHOR", "COMMITTER"):  # the commit needs both; an annotated tag names the committer
        if not succeeds(root, "var", f"GIT_{kind}_IDENT"):
            problems.append((f"git does not know who you are ({kind.lower()} identity unknown): the release "
                             "commit and tag could not be made",
                             'Run `git config --global user.name "Your Name"` and '
                             '`git config --global user.email "you@example.com"` (or set GIT_AUTHOR_NAME, '
                             "GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL), then release again."))
            break
    if not succeeds(root, "ls-files", "--error-unmatch", "--", PYPROJECT):
        problems.append((f"{PYPROJECT} is not tracked by git: the version bump could not be committed",
                         f"Run `git add {PYPROJECT}` and commit it, then release again."))
    for marker, what in (("MERGE_HEAD", "merge"), ("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert")):
        if succeeds(root, "rev-parse", "--quiet", "--verify", marker):
            problems.append((f"a {what} is in progress: the version bump could not be committed on its own",
                             f"Finish it (`git commit`) or abort it (`git {what} --abort`), then release again."))
    if not succeeds(root, "symbolic-ref", "--quiet", "HEAD"):
        problems.append(("HEAD is detached (not on a branch): the release commit would belong to no branch "
                         "and `git push <remote> HEAD` could not push it",
                         "Switch to the branch to release from (`git switch main`, or `git switch -c release` "
                         "to keep this commit), then release again."))
    if tag and succeeds(root, "rev-parse", "--quiet", "--verify", f"refs/tags/{tag}"):
        problems.append((f"the tag {tag} already exists",
                         f"Release another version (--bump), or delete the tag if it was a mistake "
                         f"(`git tag -d {tag}`), then release again."))
    if problems:
        raise ReleaseFailed("; ".join(message for message, _ in problems), hint=" ".join(h for _, h in problems))
    branch = git(root, "symbolic-ref", "--short", "HEAD").strip()
    return (f"tag {tag} is free, " if tag else "") + f"git identity known, on branch {branch}"


# -- the release ---------------------------------------------------------------------------------


@dataclass
class _Progress:
    """What the release has done so far: every failure message states it."""

    bumped: bool = False  # the bump may have reached pyproject.toml
    upload_started: bool = False
    published: bool = False  # every file is on the index
    uploaded: list[Path] = field(default_factory=list)  # filled by publish() as each file goes up
    target: Target | None = None
    credentials: Credentials | None = None
    kept: dict[str, bytes] = field(default_factory=dict)  # dist/ files the index already holds, byte for byte


def _as_release_error(exc: BaseException, step: str | None) -> MlpackError | None:
    """Our error for anything that stops a step: ours (with its own exit code), a fault of the machine
    (OSError: a full disk, permissions; exit 9) or Ctrl-C (130). None for a bug, which keeps its traceback."""
    where = f"release step '{step}'" if step else "the release"
    if isinstance(exc, ReleaseFailed) and exc.message.startswith(where):
        return exc
    if isinstance(exc, MlpackError):  # the step's own exit code: check failing in a release exits like check
        return ReleaseFailed(f"{where} failed: {exc.message}", hint=exc.hint, exit_code=exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        return ReleaseFailed(f"{where} was interrupted (Ctrl-C)", exit_code=ExitCode.INTERRUPTED)
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        on = f" ({exc.filename})" if exc.filename else ""
        return ReleaseFailed(f"{where} failed: {what}{on}",
                             hint="Fix the cause (disk space, permissions) and release again.")
    return None


class _Steps:
    """Runs steps in order, reports each with its time, and names the failing one."""

    def __init__(self, result: ReleaseResult) -> None:
        self.result = result
        self.current: str | None = None

    @contextlib.contextmanager
    def run(self, name: str) -> Iterator[StepRecord]:
        record = StepRecord(name, 0.0, "ok")
        self.current = name
        step: Step | None = None
        try:
            with timed_step(name) as step:
                yield record
                step.detail = record.detail if record.status == "ok" else f"skipped: {record.detail}"
        except BaseException as exc:
            record.status = "failed"
            error = _as_release_error(exc, name)
            if error is None or error is exc:
                raise
            raise error from exc
        finally:
            record.seconds = step.seconds if step is not None else 0.0
            self.result.steps.append(record)

    def skip(self, name: str, why: str) -> None:
        reporter().step_finished(name, 0.0, True, f"skipped: {why}")
        self.result.steps.append(StepRecord(name, 0.0, "skipped", why))


def _publish_settings(settings: ReleaseSettings, root: Path, dists: tuple[Path, ...] = ()) -> PublishSettings:
    from mlpack_cli.commands.publish import PublishSettings

    return PublishSettings(root=root, dists=dists, repository=settings.repository,
                           repository_url=settings.repository_url, index_url=settings.index_url)


def release(settings: ReleaseSettings) -> ReleaseResult:
    """Run the release; see the module docstring for the order and what a failure leaves behind."""
    project = load_project(settings.root)
    root = project.root
    pyproject = root / PYPROJECT
    original = pyproject.read_bytes()  # kept in memory: the rollback writes these very bytes back
    current = project.version or ""
    # --bump and the version itself are checked before any step: a mistyped --bump runs nothing
    new_version = bump_version(current, settings.bump)
    bumped_text = set_version(original.decode("utf-8-sig"), pyproject, new_version).encode()
    result = ReleaseResult(project.name, current, current, settings.dry_run)
    steps = _Steps(result)
    progress = _Progress()
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
        with steps.run("pre-flight") as step:
            step.detail = _preflight(settings, root, result, progress, new_version)
        with steps.run("notebooks in sync") as step:
            step.detail = _notebooks_in_sync(project)
        with steps.run("bump version") as step:
            result.new_version = new_version
            progress.bumped = True  # before the write: a Ctrl-C during it must still restore
            _write_atomically(root, bumped_text)
            step.detail = f"{current} -> {result.new_version}"
        # the steps after the bump see the bumped version, without reading pyproject.toml again
        _check_build_verify(settings, dataclasses.replace(project, version=new_version), steps, result)
        if settings.dry_run:
            steps.skip("publish", "dry run")
        else:
            with steps.run("publish") as step:
                from mlpack_cli.commands.publish import publish

                result.notes.extend(_reuse_published_copies(result.artifacts, progress.kept))
                progress.upload_started = True
                uploaded = publish(_publish_settings(settings, root, tuple(result.artifacts)),
                                   progress=progress.uploaded)
                progress.published = True
                result.install_command = uploaded.install_command
                result.published_to = uploaded.target.upload_url
                result.notes.extend(uploaded.notes)
                step.detail = f"to {uploaded.target.upload_url}"
    except BaseException as exc:
        raise _stopped(exc, steps.current, settings, result, progress, pyproject, original) from None
    if settings.dry_run:
        try:
            _restore(pyproject, original)
        except OSError as exc:
            raise ReleaseFailed(f"the dry run passed, but pyproject.toml could not be put back: {exc.strerror or exc}",
                                hint=f"Set version = \"{current}\" in pyproject.toml again by hand.") from exc
        result.notes.append(f"dry run: nothing uploaded or tagged; pyproject.toml kept at {current}")
        steps.skip("tag", "dry run")
        return result
    _commit_and_tag(settings, steps, result, root)
    return result


def _preflight(settings: ReleaseSettings, root: Path, result: ReleaseResult, progress: _Progress,
               version: str) -> str:
    """Everything the upload needs, before anything is built: see :func:`mlpack_cli.commands.publish.preflight`."""
    from mlpack_cli.commands.publish import preflight

    checked = preflight(_publish_settings(settings, root), result.name, version, dry_run=settings.dry_run)
    progress.target, progress.credentials = checked.target, checked.credentials
    result.preflight_problems.extend(checked.problems)
    outdir = settings.outdir or root / "dist"
    for filename, digest in checked.existing.items():  # a half-done release: keep what the index has
        path = outdir / filename
        if digest and path.is_file() and hashlib.sha256(data := path.read_bytes()).hexdigest() == digest:
            progress.kept[filename] = data
    if checked.problems:
        return checked.detail + "; a real release would stop here: " + "; ".join(checked.problems)
    return checked.detail


def _reuse_published_copies(artifacts: list[Path], kept: dict[str, bytes]) -> list[str]:
    """A half-done release is completed with the files the index already holds: a rebuilt sdist differs
    from the uploaded one only by its timestamps (wheels are reproducible), so when its members are the
    same byte for byte, the uploaded copy (still in dist/ from the first try) goes back in its place."""
    notes = []
    for path in artifacts:
        original = kept.get(path.name)
        if original is None or not path.name.endswith(".tar.gz"):
            continue
        rebuilt = path.read_bytes()
        if rebuilt != original and _sdist_members(rebuilt) == _sdist_members(original):
            path.write_bytes(original)
            notes.append(f"{path.name}: the copy already on the index is used (the rebuilt one has the same "
                         "files, only newer timestamps)")
    return notes


def _sdist_members(data: bytes) -> list[tuple[str, int, bytes]] | None:
    """Name, mode and bytes of every member of a .tar.gz (None when it is not one)."""
    import io
    import tarfile

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = []
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                members.append((member.name, member.mode, handle.read() if handle else b""))
            return sorted(members)
    except (tarfile.TarError, OSError, EOFError):
        return None


def _restore(path: Path, original: bytes) -> bool:
    """pyproject.toml back to ``original``; False when it already holds it (never written)."""
    from mlpack_cli.files import write_in_place

    return write_in_place(path, original)


def _stopped(exc: BaseException, step: str | None, settings: ReleaseSettings, result: ReleaseResult,
             progress: _Progress, pyproject: Path, original: bytes) -> BaseException:
    """The error that ends a failed release: the first error, then what was uploaded, whether
    pyproject.toml was restored, and the command that completes the release. A rollback that fails
    itself is reported here and never replaces the first error."""
    from mlpack_cli.commands.publish import VersionTaken

    error = _as_release_error(exc, step)
    old, new = result.old_version, result.new_version
    on_index = _on_index(result, progress, new)
    # stopped after the last file went up (Ctrl-C just then): the version is published, only git is left
    everything = bool(result.artifacts) and on_index.startswith("on the index now") and "not uploaded" not in on_index
    if everything:
        kept, restored = f"{PYPROJECT} keeps the bump to {new} (that version is published)", True
    elif progress.bumped and not progress.published:
        try:
            changed = _restore(pyproject, original)
            kept = (f"{PYPROJECT} was put back to version {old}" if changed
                    else f"{PYPROJECT} was not changed (version {old})")
            restored = True
        except OSError as rollback:
            kept = (f"{PYPROJECT} could NOT be put back ({rollback.strerror or rollback}): it may say version "
                    f"{new}; set version = \"{old}\" there by hand before anything else")
            restored = False
    else:
        kept, restored = f"{PYPROJECT} was not changed (version {old})", True
    result.notes.append(kept)
    state = f"{on_index}; {kept}."
    if error is None:  # a bug: keeps its traceback, with the state as a note
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"mlpack release stopped: {state}")
        return exc
    error.message += f"\n{state}"
    if everything:
        tag = f" && `git tag -a v{new} -m \"Release {new}\"`" if settings.tag else ""
        error.hint = (f"{result.name} {new} is published; finish by hand: "
                      f"`git commit -m \"Release {new}\" -- {PYPROJECT}`{tag}, then push.")
    elif (progress.upload_started and not on_index.startswith("nothing was uploaded")
          and not isinstance(exc.__cause__ if exc.__cause__ is not None else exc, VersionTaken)):
        again = _release_command(settings, new)
        finish = (f"To complete the release, run `{again}`: it checks and builds this commit again, keeps the "
                  "files the index already holds (from dist/) and uploads only the missing ones (an index never "
                  "takes a version back; to give it up instead, release the next one).")
        if not restored:
            finish = f"Put version = \"{old}\" back into {PYPROJECT} first. " + finish
        error.hint = ((error.hint + " ") if error.hint else "") + finish
    elif not restored:
        error.hint = f"Set version = \"{old}\" in {PYPROJECT} again by hand. " + (error.hint or "")
    return error


def _on_index(result: ReleaseResult, progress: _Progress, version: str) -> str:
    """Exactly what the failed release put on the index."""
    if not progress.upload_started or progress.target is None:
        return "nothing was uploaded"
    from mlpack_cli.commands.publish import on_index_now

    where = progress.target.upload_url
    there = on_index_now(progress.target, result.name, version, progress.credentials)
    if there is None:
        done = ", ".join(p.name for p in progress.uploaded)
        if done:
            return f"uploaded to {where}: {done} (the index did not answer to confirm the rest)"
        return f"nothing was confirmed uploaded to {where} (the index did not answer: look at it before retrying)"
    if not there:
        return f"nothing was uploaded (the index at {where} holds no file of {result.name} {version})"
    missing = [p.name for p in result.artifacts if p.name not in there]
    return (f"on the index now: {', '.join(there)} at {where}"
            + (f"; not uploaded: {', '.join(missing)}" if missing else ""))


def _release_command(settings: ReleaseSettings, version: str) -> str:
    """The ``mlpack release`` that redoes this one at ``version`` (URLs redacted)."""
    words = ["mlpack", "release"]
    if str(settings.root) not in ("", "."):
        words.append(shlex.quote(str(settings.root)))
    words += ["--bump", version]
    for option, value in (("--repository", settings.repository), ("--repository-url", settings.repository_url),
                          ("--index-url", settings.index_url)):
        if value:
            words += [option, shlex.quote(redact_url(value))]
    for flag, on in (("--no-tag", not settings.tag), ("--allow-dirty", settings.allow_dirty),
                     ("--isolated", settings.isolated_check)):
        if on:
            words.append(flag)
    return " ".join(words)


def _notebooks_in_sync(project: ProjectSettings) -> str:
    notebooks = project.notebooks
    if not notebooks.is_dir() or not any(".ipynb_checkpoints" not in p.parts for p in notebooks.rglob("*.ipynb")):
        return "no notebooks"
    from mlpack_cli.commands.convert import ConvertSettings, check_project
    from mlpack_cli.errors import StaleModules

    stale = check_project(ConvertSettings(root=project.root), project=project)
    if stale:
        names = ", ".join(str(getattr(item, "name", item)) for item in stale)
        raise StaleModules(f"notebooks changed since their modules were generated: {names}",
                           hint="Run `mlpack convert`, review and commit the result, then release again.")
    return "modules up to date"


def _check_build_verify(settings: ReleaseSettings, project: ProjectSettings, steps: _Steps,
                        result: ReleaseResult) -> None:
    """check, build and verify share one isolated build environment (installed once)."""
    from mlpack_cli.commands.build import BuildSettings, build_environment, build_project, verify_artifacts
    from mlpack_cli.commands.check import CheckSettings, require_ok, run_checks

    steps.current = "check"  # preparing the shared environment is part of it
    with build_environment(settings.root, installer=settings.installer) as env:
        if not settings.isolated_check:  # the isolated check builds at once; otherwise prepare meanwhile
            env.prepare_in_background(settings.root)
        with steps.run("check") as step:
            checked = run_checks(CheckSettings(root=settings.root, isolated=settings.isolated_check,
                                               installer=settings.installer), env, project=project)
            try:
                require_ok(checked)
            except CheckFailed as error:
                error.hint = _release_check_hint(checked)
                raise
            step.detail = ", ".join(f"{run.name}: {run.summary}" for run in checked.runs)
        with steps.run("build") as step:
            built = build_project(BuildSettings(root=settings.root, outdir=settings.outdir, verify=False), env,
                                  project=project)
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
    """After the upload the version is taken: a failure here (Ctrl-C and a full disk included) keeps the
    bump and says what to do."""
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
    except MlpackError as error:
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
