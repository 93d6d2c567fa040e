"""``mlpack build``: sdist and wheel through pypa build's Python API, then verified.

The wheel is built from the unpacked sdist (as ``python -m build`` does), which proves the sdist is
complete. Unlike ``python -m build``, one isolated environment serves both builds (and every later
build in the same process), installed with uv when it is available: that is most of the speed-up.
``SOURCE_DATE_EPOCH`` comes from the last git commit, so building one commit twice gives
byte-identical wheels. Verification: ``twine check --strict``, the wheel's contents (the package's
modules and declared package data; no tests, notebooks or stray data) and its metadata.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from mlpack_cli.project import ProjectSettings, load_project
from mlpack_cli.dists import DEFAULT_OUTDIR, Artifact, parse_dist_filename
from mlpack_cli.envs import choose_installer
from mlpack_cli.git import last_commit_epoch
from mlpack_cli.errors import BuildFailed, SecretInArtifact
from mlpack_cli.reporting import reporter, timed_step

if TYPE_CHECKING:
    from concurrent.futures import Future

    from build import ProjectBuilder

Distribution = Literal["sdist", "wheel"]
# What never belongs in a wheel of a notebook project: these show a packaging mistake.
FORBIDDEN_PARTS = frozenset({"tests", "test", "notebooks", ".ipynb_checkpoints", "__pycache__"})
FORBIDDEN_SUFFIXES = frozenset({".ipynb", ".pyc"})
# Members larger than this are data, not code or configuration: the secret scan skips them.
SECRET_SCAN_MAX_BYTES = 4 * 1024 * 1024
DATA_SUFFIXES = frozenset({".csv", ".tsv", ".parquet", ".feather", ".pkl", ".pickle", ".joblib", ".h5", ".hdf5",
                           ".npy", ".npz", ".xlsx", ".xls", ".sqlite", ".db", ".zip", ".gz"})


@dataclass(frozen=True)
class BuildSettings:
    root: Path
    outdir: Path | None = None  # default: <root>/dist
    isolation: bool = True
    installer: str | None = None  # "uv" or "pip"; None picks uv when it is available
    verify: bool = True


@dataclass
class BuildResult:
    project: ProjectSettings
    sdist: Artifact
    wheel: Artifact
    installer: str
    source_date_epoch: int | None
    checks: list[str] = field(default_factory=list)  # what verification confirmed, one line each

    def to_json(self) -> dict[str, Any]:
        """What ``build --json`` prints."""
        return {
            "name": self.project.name, "version": self.project.version,
            "artifacts": [artifact.to_json() for artifact in self.artifacts],
            "installer": self.installer, "source_date_epoch": self.source_date_epoch, "checks": self.checks,
        }

    @property
    def artifacts(self) -> list[Artifact]:
        return [self.sdist, self.wheel]


# -- tools ----------------------------------------------------------------------------------------


def source_date_epoch(root: Path) -> int | None:
    """The user's ``SOURCE_DATE_EPOCH`` when set, else the last commit's time."""
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(given) if given.isdigit() else last_commit_epoch(root)


# -- the build environment ------------------------------------------------------------------------


class BuildEnvironment:
    """An isolated environment (or the current interpreter) that several builds share.

    Requirements are installed once: a second build (the wheel after the sdist, or the next build
    in a release) only installs what the first did not.
    """

    def __init__(self, isolation: bool, installer: str, epoch: int | None) -> None:
        self.isolation = isolation
        self.installer = installer
        self.epoch = epoch
        self._stack = contextlib.ExitStack()
        self._env: Any = None
        self._installed: set[str] = set()
        self._pending: Future[None] | None = None
        self.warned = False  # said once that builds here are not reproducible

    def __enter__(self) -> BuildEnvironment:
        if self.isolation:
            from build.env import DefaultIsolatedEnv

            with _translated("creating the isolated build environment"):
                isolated = DefaultIsolatedEnv(installer=self.installer)  # type: ignore[arg-type]
                self._env = self._stack.enter_context(isolated)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _runner(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        """Run a backend hook quietly (its output is kept for the error message) with our epoch."""
        import pyproject_hooks

        extra = dict(extra_environ or {})
        if self.epoch is not None:
            extra["SOURCE_DATE_EPOCH"] = str(self.epoch)
        pyproject_hooks.quiet_subprocess_runner(cmd, cwd, extra)

    def _install(self, requirements: set[str]) -> None:
        missing = requirements - self._installed
        if missing:
            with _translated("installing the build requirements " + ", ".join(sorted(missing))):
                self._env.install(missing)
            self._installed |= missing

    def prepare_in_background(self, srcdir: Path) -> None:
        """Install the static ``[build-system] requires`` on a thread, e.g. while the checks run.

        The next :meth:`builder` call waits for it (and raises what it raised); nothing is built.
        """
        if not self.isolation or self._pending is not None:
            return
        from concurrent.futures import ThreadPoolExecutor

        from build import ProjectBuilder

        with _translated(f"reading the build system of {srcdir}"):
            requires = set(ProjectBuilder(srcdir, python_executable=self._env.python_executable).build_system_requires)
        pool = self._stack.enter_context(ThreadPoolExecutor(max_workers=1))
        self._pending = pool.submit(self._install, requires)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def builder(self, srcdir: Path, distribution: Distribution) -> ProjectBuilder:
        from build import ProjectBuilder

        self._wait()

        with _translated(f"reading the build system of {srcdir}"):
            if not self.isolation:
                builder = ProjectBuilder(srcdir, runner=self._runner)
                missing = builder.check_dependencies(distribution)
                if missing:
                    names = ", ".join(sorted(" -> ".join(chain) for chain in missing))
                    raise BuildFailed(
                        f"--no-isolation: the build requirements are not installed: {names}",
                        hint="Install them in this environment, or build without --no-isolation.",
                    )
                return builder
            builder = ProjectBuilder.from_isolated_env(self._env, srcdir, runner=self._runner)
        self._install(set(builder.build_system_requires))
        with _translated(f"asking the backend what the {distribution} needs"):
            extra = builder.get_requires_for_build(distribution)
        self._install(set(extra))
        return builder

    def build(self, srcdir: Path, distribution: Distribution, outdir: Path) -> Path:
        builder = self.builder(srcdir, distribution)
        with _translated(f"building the {distribution}"):
            return Path(builder.build(distribution, outdir))


@contextlib.contextmanager
def _translated(doing: str) -> Iterator[None]:
    """pypa build's exceptions become :class:`BuildFailed`, with the backend's own output."""
    from build import BuildBackendException, BuildException, FailedProcessError

    try:
        yield
    except BuildBackendException as exc:
        raise BuildFailed(f"{doing} failed: {exc}{_process_output(exc.exception)}",
                          hint="Fix what the build backend reports (its last lines, above) and build again.") from exc
    except FailedProcessError as exc:
        raise BuildFailed(f"{doing} failed: {_process_output(exc.exception).strip() or exc}",
                          hint="Check the [build-system] requires of pyproject.toml and your network.") from exc
    except BuildException as exc:
        raise BuildFailed(f"{doing} failed: {exc}", hint="Check [build-system] in pyproject.toml.") from exc
    except RuntimeError as exc:  # build raises it when the uv executable vanished
        raise BuildFailed(f"{doing} failed: {exc}") from exc


def _process_output(exc: BaseException | None) -> str:
    if not isinstance(exc, subprocess.CalledProcessError):
        return ""
    parts = [exc.stdout, exc.stderr]
    text = "".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else p for p in parts if p)
    tail = "\n".join(text.strip().splitlines()[-25:])
    return f"\n{tail}" if tail else ""


@contextlib.contextmanager
def build_environment(
    root: Path, *, isolation: bool = True, installer: str | None = None
) -> Iterator[BuildEnvironment]:
    """One build environment for everything built in this block (the release reuses it)."""
    with BuildEnvironment(isolation, choose_installer(installer), source_date_epoch(root)) as env:
        yield env


# -- building ------------------------------------------------------------------------------------


def build_project(settings: BuildSettings, env: BuildEnvironment | None = None, *,
                  project: ProjectSettings | None = None) -> BuildResult:
    """Build the sdist, then the wheel from the unpacked sdist, then verify both; ``project`` as the
    caller loaded it (default: loaded here)."""
    project = project or load_project(settings.root)
    outdir = (settings.outdir or project.root / DEFAULT_OUTDIR).resolve()
    if env is None:
        with build_environment(project.root, isolation=settings.isolation, installer=settings.installer) as own:
            return build_project(settings, own, project=project)

    step = reporter()
    with timed_step("build sdist"), _no_release_tree_left(project):
        sdist = env.build(project.root, "sdist", outdir)
    with timed_step("build wheel from the sdist"), tempfile.TemporaryDirectory(prefix="mlpack-sdist-") as tmp:
        srcdir = unpack_sdist(sdist, Path(tmp))
        wheel = env.build(srcdir, "wheel", outdir)
    with timed_step("scan for secrets"):
        refuse_secrets([sdist, wheel])
    installer = env.installer if env.isolation else "none (--no-isolation)"
    result = BuildResult(project, Artifact.from_path(sdist), Artifact.from_path(wheel), installer, env.epoch)
    if env.epoch is None and not env.warned:
        env.warned = True
        step.warn("no git commit to take SOURCE_DATE_EPOCH from: this wheel is not reproducible")
    if settings.verify:
        with timed_step("verify"):
            result.checks = verify_artifacts(project, result.sdist.path, result.wheel.path)
    return result


@contextlib.contextmanager
def _no_release_tree_left(project: ProjectSettings) -> Iterator[None]:
    """Remove the ``<name>-<version>/`` folder a failed sdist build leaves in the project (setuptools
    copies the files there before archiving them; a full disk or Ctrl-C stops it half-way), so that
    ``git add -A`` does not pick it up and the next release does not find the tree dirty."""
    from packaging.version import InvalidVersion, Version

    if project.version is None:  # a dynamic version: the folder's name is not known here
        yield
        return
    try:
        versions = {project.version, str(Version(project.version))}
    except InvalidVersion:
        versions = {project.version}
    stems = {project.name, re.sub(r"[-_.]+", "_", project.name), re.sub(r"[-_.]+", "_", project.name).lower()}
    names = {f"{stem}-{version}" for stem in stems for version in versions}
    before = {name for name in names if (project.root / name).exists()}
    try:
        yield
    except BaseException:
        for name in names - before:
            if (project.root / name).is_dir() and not (project.root / name).is_symlink():
                shutil.rmtree(project.root / name, ignore_errors=True)
        raise


def unpack_sdist(sdist: Path, into: Path) -> Path:
    """Extract ``sdist`` safely (no absolute paths, no ``..``, no links out) and return its top folder."""
    try:
        with tarfile.open(sdist) as tar:
            members = tar.getmembers()
            tops = {PurePosixPath(m.name).parts[0] for m in members if m.name}
            if len(tops) != 1:
                raise BuildFailed(f"{sdist.name} must hold one top-level folder, found {sorted(tops)}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:  # Python < 3.10.12 / 3.11.4: check by hand what the data filter would refuse
                for member in members:
                    path = PurePosixPath(member.name)
                    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
                        raise BuildFailed(f"{sdist.name} holds an unsafe member: {member.name}")
                tar.extractall(into)
    except (OSError, tarfile.TarError) as exc:
        raise BuildFailed(f"cannot unpack {sdist.name}: {exc}") from exc
    return into / tops.pop()


# -- secrets ----------------------------------------------------------------------------------------


def refuse_secrets(artifacts: Sequence[Path]) -> None:
    """Raise :class:`SecretInArtifact` (after removing ``artifacts``) when any of them holds a secret.

    Runs whether or not the build is verified: a secret must never reach an index.
    """
    problems = secret_problems(artifacts)
    if not problems:
        return
    for artifact in artifacts:
        artifact.unlink(missing_ok=True)
    shown = ", ".join(a.name for a in artifacts)
    raise SecretInArtifact(
        "the built artifacts hold secrets, so they were removed (" + shown + "):\n"
        + "\n".join(f"  - {p}" for p in problems),
        hint=(
            "Read each secret from an environment variable instead, rebuild, and rotate any key that was "
            "ever committed; a value that is no secret can stay with `# pragma: allowlist secret` at the end "
            "of its line."
        ),
    )


def secret_problems(artifacts: Sequence[Path]) -> list[str]:
    """Each secret in a text member of ``artifacts``: ``<artifact>: <member>, line N: <kind> <masked>``.

    The detector is convert's (:mod:`mlpack_cli.notebook.secrets`), configured once for every member;
    binary members and members over :data:`SECRET_SCAN_MAX_BYTES` are skipped.
    """
    from mlpack_cli.notebook.secrets import scanner

    problems: list[str] = []
    with scanner() as scan:
        for artifact in artifacts:
            for member, text in _text_members(artifact):
                suffix = PurePosixPath(member).suffix
                problems.extend(
                    f"{artifact.name}: {member}, line {found.line}: {found.kind} {found.masked}"
                    for found in scan(text, suffix)
                )
    return problems


def _text_members(artifact: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of each member of a wheel or sdist that is UTF-8 text of a scannable size."""
    try:
        if artifact.name.endswith(".whl"):
            with zipfile.ZipFile(artifact) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and info.file_size <= SECRET_SCAN_MAX_BYTES:
                        text = _as_text(archive.read(info))
                        if text is not None:
                            yield info.filename, text
        else:
            with tarfile.open(artifact) as tar:
                for member in tar:
                    if member.isfile() and member.size <= SECRET_SCAN_MAX_BYTES:
                        handle = tar.extractfile(member)
                        text = _as_text(handle.read()) if handle else None
                        if text is not None:
                            yield member.name, text
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise BuildFailed(f"cannot read {artifact.name} to scan it for secrets: {exc}") from exc


def _as_text(data: bytes) -> str | None:
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- verification -----------------------------------------------------------------------------------


def verify_artifacts(project: ProjectSettings, sdist: Path, wheel: Path) -> list[str]:
    """Check what we built; raise :class:`BuildFailed` listing every problem, else say what was checked."""
    from mlpack_cli.twine_quiet import twine_check

    problems = twine_check([sdist, wheel])
    problems += _metadata_problems(project, sdist, wheel)
    contents, expected = wheel_contents_problems(project, wheel)
    problems += contents
    if problems:
        raise BuildFailed(
            "the built artifacts failed verification:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="Fix the packaging configuration in pyproject.toml (packages, package-data) and build again.",
        )
    return [
        "twine check --strict passed",
        f"metadata: {project.name} {project.version}",
        f"wheel holds the {expected} expected files of package {project.package!r} and nothing stray",
    ]


def _metadata_problems(project: ProjectSettings, sdist: Path, wheel: Path) -> list[str]:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    problems: list[str] = []
    try:
        expected = Version(project.version or "")
    except InvalidVersion:
        return [f"pyproject.toml version {project.version!r} is not a PEP 440 version"]
    name = canonicalize_name(project.name)
    wheel_name, wheel_version, _ = parse_dist_filename(wheel.name)
    sdist_name, sdist_version, _ = parse_dist_filename(sdist.name)
    for label, (got_name, got_version) in {
        wheel.name: (wheel_name, wheel_version),
        sdist.name: (sdist_name, sdist_version),
        f"{wheel.name} METADATA": _wheel_metadata(wheel),
    }.items():
        if canonicalize_name(str(got_name)) != name:
            problems.append(f"{label}: name {got_name} does not match pyproject.toml's {project.name}")
        if Version(str(got_version)) != expected:
            problems.append(f"{label}: version {got_version} does not match pyproject.toml's {project.version}")
    return problems


def _wheel_metadata(wheel: Path) -> tuple[str, str]:
    from email.parser import HeaderParser

    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(metadata).decode("utf-8"))
    return headers.get("Name", ""), headers.get("Version", "")


def wheel_contents_problems(project: ProjectSettings, wheel: Path) -> tuple[list[str], int]:
    """Compare the wheel with the source tree: (problems, how many expected files were found)."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
    expected = expected_wheel_files(project)
    present = set(names)
    problems = [f"missing from the wheel: {name}" for name in sorted(expected - present)]
    top_level = {project.package}
    for name in names:
        path = PurePosixPath(name)
        head = path.parts[0]
        if head.endswith(".dist-info") or (head.endswith(".data") and len(path.parts) > 1):
            continue
        if head not in top_level and path.stem not in top_level:
            problems.append(f"stray file outside package {project.package!r}: {name}")
        elif FORBIDDEN_PARTS & set(path.parts[:-1]) or path.suffix in FORBIDDEN_SUFFIXES or path.name == "conftest.py":
            problems.append(f"does not belong in a wheel (tests, notebooks or caches): {name}")
        elif path.suffix.lower() in DATA_SUFFIXES and name not in expected:
            problems.append(f"data file not declared as package data: {name}")
    return problems, len(expected & present)


def expected_wheel_files(project: ProjectSettings) -> set[str]:
    """The package's modules plus the files its ``[tool.setuptools.package-data]`` globs match."""
    package_dir = _package_dir(project)
    if not package_dir.is_dir():
        return set()
    patterns = _package_data_patterns(project)
    expected: set[str] = set()
    for path in package_dir.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package_dir).as_posix()
        subpackage = path.parent.relative_to(package_dir.parent).as_posix().replace("/", ".")
        wanted = path.suffix == ".py" or any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
            for key in ("*", "", project.package, subpackage)
            for pattern in patterns.get(key, ())
        )
        if wanted and not (FORBIDDEN_PARTS & set(path.relative_to(package_dir).parts[:-1])):
            expected.add(f"{project.package}/{relative}")
    return expected


def _package_dir(project: ProjectSettings) -> Path:
    src = project.package_dir
    return src if src.is_dir() else project.root / project.package


def _package_data_patterns(project: ProjectSettings) -> dict[str, list[str]]:
    document = project.pyproject_data()
    table = document.get("tool", {}).get("setuptools", {}).get("package-data", {})
    return {str(key): [str(p) for p in value] for key, value in table.items() if isinstance(value, list)}
