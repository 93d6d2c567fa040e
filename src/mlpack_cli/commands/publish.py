"""``mlpack publish``: upload with twine, credentials resolved in one documented place.

Where the index comes from, first match wins (docs/publish.md says the same): ``--repository-url`` >
``--repository NAME`` (a ~/.pypirc section) > ``TWINE_REPOSITORY_URL`` > ``TWINE_REPOSITORY`` > GitLab's
project registry when running in GitLab CI (``CI_API_V4_URL``/``CI_PROJECT_ID``) > PyPI. twine's own
``Settings`` reads that index's configuration and its resolver finds the username and the password
(:mod:`mlpack_cli.credentials`).

The source of each value is reported; a secret never is, and every URL shown goes through
:func:`mlpack_cli.redaction.redact_url`. Before uploading, the version is looked up in the index's
simple API: twine 6.2+ refuses ``--skip-existing`` for indexes other than PyPI, and a refused
duplicate half-way through would leave a half-published release. A version that is there only in
part, every file of it byte-identical (sha256) to one of ours, is completed: only the missing files
are uploaded. With ``skip_existing`` a version that is already there with the same files is skipped
(what a tag pipeline does after ``mlpack release`` uploaded it); with other files it is refused, and
the hint names the next version that is free on the index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlpack_cli.credentials import Credentials as Credentials  # re-exported: release and tests import it here
from mlpack_cli.credentials import Repository, strip_userinfo
from mlpack_cli.dists import dist_kind, parse_dist_filename
from mlpack_cli.errors import ExitCode, InvalidInput, PublishFailed
from mlpack_cli.redaction import redact_url
from mlpack_cli.reporting import reporter
from mlpack_cli.twine_quiet import captured_twine_output

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD = "https://test.pypi.org/legacy/"
LOOKUP_TIMEOUT = 15.0
RECHECK_TIMEOUT = 5.0  # the look-up after a failed or interrupted upload: what is on the index now


@dataclass(frozen=True)
class PublishSettings:
    root: Path
    dists: tuple[Path, ...] = ()  # default: the sdist and wheel of the current version in dist/
    repository: str | None = None  # a section of ~/.pypirc
    repository_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    config_file: Path | None = None  # default ~/.pypirc
    index_url: str | None = None  # the simple API; default derived from the upload URL
    skip_existing: bool = False  # a version already there with these files: upload nothing, no error


@dataclass(frozen=True)
class Target:
    """Where to upload, and how we know. The URLs never hold credentials: those given in them are
    kept apart (and out of repr)."""

    upload_url: str
    simple_url: str
    source: str  # e.g. "--repository-url", ".pypirc [local]", "GitLab CI"
    section: str | None = None  # the .pypirc section, when the URL came from one
    index_auth: tuple[str, str] | None = field(default=None, repr=False)  # user:password@ of --index-url
    index_shown: str = ""  # the simple API as a user may paste it (pip install): password as ***
    index: Repository | None = field(default=None, repr=False, compare=False)  # twine's Settings for it

    @property
    def pip_index(self) -> str:
        return self.index_shown or self.simple_url


@dataclass
class PublishResult:
    target: Target
    credentials: Credentials
    uploaded: list[Path]
    name: str
    version: str
    skipped: list[Path] = field(default_factory=list)  # already on the index (skip_existing)
    notes: list[str] = field(default_factory=list)
    completed: list[Path] = field(default_factory=list)  # were already there, byte-identical (half-done before)

    @property
    def install_command(self) -> str:
        return f"pip install --index-url {redact_url(self.target.pip_index)} {self.name}=={self.version}"

    def to_json(self) -> dict[str, Any]:
        """What ``publish --json`` prints: where to and what, never a credential (only where it came from)."""
        return {
            "name": self.name, "version": self.version,
            "upload_url": redact_url(self.target.upload_url), "index": redact_url(self.target.pip_index),
            "target_source": self.target.source, "username_source": self.credentials.username_source,
            "password_source": self.credentials.password_source,
            "uploaded": [str(path) for path in self.uploaded], "skipped": [str(path) for path in self.skipped],
            "completed": [str(path) for path in self.completed], "notes": self.notes,
            "install_command": self.install_command,
        }


# -- where to ----------------------------------------------------------------------------------


def sanitize_url(url: str) -> str:
    """The URL without any ``user:password@`` part (what we send requests to; credentials go apart)."""
    return strip_userinfo(url)[0]


def simple_url_for(upload_url: str) -> str:
    """The simple API that goes with an upload URL (PyPI, TestPyPI, GitLab, pypiserver and most others)."""
    if upload_url.startswith(PYPI_UPLOAD):
        return "https://pypi.org/simple/"
    if upload_url.startswith(TESTPYPI_UPLOAD):
        return "https://test.pypi.org/simple/"
    base = upload_url.rstrip("/")
    if base.endswith("/legacy"):
        base = base[: -len("/legacy")]
    return base + "/simple/"


def resolve_target(settings: PublishSettings) -> Target:
    """The upload URL, in the documented order; twine's Settings reads its configuration."""
    from mlpack_cli.credentials import repository

    env = os.environ
    url: str | None = None
    section: str | None = None
    if settings.repository_url:
        url, source = settings.repository_url, "--repository-url"
    elif settings.repository:
        section, source = settings.repository, f".pypirc [{settings.repository}]"
    elif env.get("TWINE_REPOSITORY_URL"):
        url, source = env["TWINE_REPOSITORY_URL"], "TWINE_REPOSITORY_URL"
    elif env.get("TWINE_REPOSITORY"):
        section, source = env["TWINE_REPOSITORY"], f".pypirc [{env['TWINE_REPOSITORY']}] (TWINE_REPOSITORY)"
    elif _gitlab_registry():
        url, source = _gitlab_registry(), "GitLab CI project registry"
    else:
        section, source = "pypi", "PyPI (default)"
    if url is not None:
        _http_url(url, source)
    index = repository(section, url, settings.config_file)
    if not index.url:
        raise PublishFailed(f"[{section}] of the index configuration has no repository URL",
                            hint="Add `repository = URL` there.")
    _http_url(index.url, source)
    index_auth: tuple[str, str] | None = None
    if settings.index_url:
        _http_url(settings.index_url, "--index-url")
        simple, index_user, index_password = strip_userinfo(settings.index_url)
        if index_user or index_password:
            index_auth = (index_user or "", index_password or "")
        shown = redact_url(settings.index_url)
    else:
        simple = simple_url_for(index.url)
        shown = ""
    slash = "" if simple.endswith("/") else "/"
    return Target(upload_url=index.url, simple_url=simple + slash, source=source, section=section,
                  index_auth=index_auth, index_shown=shown + slash if shown else "", index=index)


def _http_url(url: str, source: str) -> Any:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishFailed(f"{redact_url(url)!r} (from {source}) is not an http(s) URL of a package index",
                            hint="Pass a URL such as https://upload.pypi.org/legacy/ or http://host:port/.")
    return parts


def _gitlab_registry() -> str | None:
    api, project = os.environ.get("CI_API_V4_URL"), os.environ.get("CI_PROJECT_ID")
    if api and project and os.environ.get("CI_JOB_TOKEN"):
        return f"{api.rstrip('/')}/projects/{project}/packages/pypi"
    return None


# -- who as ------------------------------------------------------------------------------------


def resolve_credentials(settings: PublishSettings, target: Target) -> Credentials:
    """Username and password through twine's resolver, each with where it came from."""
    from mlpack_cli.credentials import repository, resolve

    index = target.index or repository(target.section, None if target.section else target.upload_url,
                                       settings.config_file)
    return resolve(index, settings.username, settings.password)


# -- talking to the index ---------------------------------------------------------------------------


def published_files(target: Target, name: str, credentials: Credentials | None,
                    timeout: float = LOOKUP_TIMEOUT) -> dict[str, str | None]:
    """Filenames the index's simple API lists for ``name``, each with its sha256 when the index gives it
    (empty when the project is new there)."""
    import requests
    from packaging.utils import canonicalize_name

    from mlpack_cli.simple_api import NotASimpleAPI, project_files

    url = f"{target.simple_url}{canonicalize_name(name)}/"
    same_host = urlsplit(url).netloc == urlsplit(target.upload_url).netloc
    auth: tuple[str, str] | None = target.index_auth
    if auth is None and credentials and same_host:
        auth = (credentials.username or "", credentials.password or "")
    secrets = _secrets(credentials, target)
    try:
        return project_files(target.simple_url, name, auth, timeout)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise _bad_credentials(target, credentials, status, "looking the version up") from None
        reason = exc.response.reason if exc.response is not None else ""
        raise PublishFailed(redact(f"{url} answered HTTP {status} {reason}", secrets),
                            hint="Check the index URL (--index-url sets the simple API if it is elsewhere).") from None
    except requests.RequestException as exc:
        raise _unreachable(target, exc, secrets) from None
    except NotASimpleAPI as exc:
        raise PublishFailed(redact(f"{url} is not a simple API page: {exc}", secrets),
                            hint="Check the index URL (--index-url sets the simple API if it is elsewhere).") from None


def versions_in(filenames: Sequence[str], name: str) -> set[str]:
    """The versions those sdists and wheels belong to (unparseable names are ignored)."""
    from packaging.utils import canonicalize_name

    versions: set[str] = set()
    for filename in filenames:
        try:
            found, version, _ = parse_dist_filename(filename)
        except ValueError:
            continue
        if found == canonicalize_name(name):
            versions.add(str(version))
    return versions


def _of_version(files: dict[str, str | None], name: str, version: str) -> dict[str, str | None]:
    from packaging.version import Version

    return {filename: digest for filename, digest in files.items()
            if any(Version(v) == Version(version) for v in versions_in([filename], name))}


def files_of_version(target: Target, name: str, version: str,
                     credentials: Credentials | None) -> dict[str, str | None]:
    """The files of that version on the index (filename -> sha256 or None); empty when it is not there."""
    return _of_version(published_files(target, name, credentials), name, version)


def next_free_version(version: str, taken: set[str]) -> str:
    """The first patch bump of ``version`` that the index does not hold (never ``version`` itself)."""
    from packaging.version import Version

    from mlpack_cli.versions import bump_version

    used = {Version(v) for v in taken} | {Version(version)}
    candidate = bump_version(version, "patch")
    while Version(candidate) in used:
        candidate = bump_version(candidate, "patch")
    return candidate


class VersionTaken(PublishFailed):
    """The index holds the version with files that are not ours: it cannot be completed, only skipped."""


def _already_exists(target: Target, name: str, version: str, taken: set[str], extra: str = "") -> PublishFailed:
    free = next_free_version(version, taken)
    return VersionTaken(
        f"{name} {version} already exists on {target.simple_url}{extra}",
        hint=f"An index never takes the same version twice: {free} is the next version free there. "
             f"Release it (`mlpack release --bump {free}`), or set version = \"{free}\" and `mlpack build` again.",
    )


@dataclass(frozen=True)
class Completion:
    """How the version's files on the index compare with ours."""

    missing: list[str]  # our files the index does not hold (by name)
    foreign: list[str]  # index files whose sha256 is none of ours (or unknown)
    identical: list[str]  # index files with the sha256 of one of ours

    @property
    def completable(self) -> bool:
        """Half-published before: everything there is ours, something of ours is missing."""
        return bool(self.missing) and not self.foreign


def compare_with_index(existing: dict[str, str | None], ours: dict[str, str]) -> Completion:
    """``existing``: the index's files of the version (name -> sha256 or None); ``ours``: name -> sha256."""
    digests = set(ours.values())
    return Completion(
        missing=[n for n in ours if n not in existing],
        foreign=sorted(n for n, d in existing.items() if d is None or d not in digests),
        identical=sorted(n for n, d in existing.items() if d is not None and d in digests),
    )


def ensure_version_is_new(target: Target, name: str, version: str, credentials: Credentials | None) -> None:
    files = published_files(target, name, credentials)
    if _of_version(files, name, version):
        raise _already_exists(target, name, version, versions_in(list(files), name))


@dataclass(frozen=True)
class Preflight:
    """What ``mlpack release`` learns before it builds anything."""

    target: Target
    credentials: Credentials | None
    detail: str
    problems: list[str] = field(default_factory=list)  # found in a dry run, which goes on regardless
    existing: dict[str, str | None] = field(default_factory=dict)  # the version's files there (partly published)


def preflight(settings: PublishSettings, name: str, version: str, *, dry_run: bool = False) -> Preflight:
    """Credentials resolvable, index reachable, ``version`` free there (or only partly there, so that the
    upload can complete it). A dry run records the problems instead of stopping at them."""
    target = resolve_target(settings)
    problems: list[str] = []
    try:
        credentials: Credentials | None = resolve_credentials(settings, target)
    except PublishFailed as error:
        if not dry_run:
            raise
        credentials = None
        problems.append(f"{error.message} ({error.hint})")
    try:
        files = published_files(target, name, credentials)
    except PublishFailed as error:
        if not dry_run:
            raise
        return Preflight(target, credentials, f"index {target.upload_url}", problems + [error.message])
    existing = _of_version(files, name, version)
    kinds = {dist_kind(f) for f in existing}
    where = f"{target.upload_url} (from {target.source})"
    who = f"; {credentials.description}" if credentials else ""
    if {"sdist", "wheel"} <= kinds:
        taken = _already_exists(target, name, version, versions_in(list(files), name))
        if not dry_run:
            raise taken
        return Preflight(target, credentials, f"index {where}", problems + [f"{taken.message}. {taken.hint}"])
    if existing:
        detail = (f"{name} {version} is partly on {target.simple_url} ({', '.join(sorted(existing))}): the "
                  "upload completes it if those files are ours byte for byte (sha256)")
    else:
        detail = f"{name} {version} is free on {target.simple_url}"
    return Preflight(target, credentials, f"index {where}{who}; {detail}", problems, existing)


def _skip_note(target: Target, name: str, version: str, dists: Sequence[Path],
               existing: dict[str, str | None], ours: dict[str, str]) -> str:
    note = (f"{name} {version} is already on {target.simple_url} with these files "
            f"({', '.join(d.name for d in dists)}): nothing uploaded (--skip-existing)")
    if any(existing[d.name] not in (None, ours[d.name]) for d in dists):
        note += "; the index keeps its own copies, which differ byte for byte from these (built separately)"
    return note


def _artifact_identity(dists: Sequence[Path]) -> tuple[str, str]:
    identities = set()
    for dist in dists:
        try:
            name, version, _ = parse_dist_filename(dist.name)
        except ValueError as exc:
            raise InvalidInput(f"{dist.name} is not an sdist or wheel file name",
                               hint=f"{exc}. Name the .tar.gz and .whl files that `mlpack build` made.") from exc
        identities.add((str(name), str(version)))
    if len(identities) != 1:
        raise InvalidInput(
            "the files to upload are not all one project and version: "
            + ", ".join(sorted(f"{n} {v}" for n, v in identities)),
            hint="Upload one release at a time.",
        )
    return identities.pop()


def distributions(settings: PublishSettings) -> list[Path]:
    """The files to upload: those given, else the current version's sdist and wheel in dist/."""
    from mlpack_cli.dists import find_artifacts
    from mlpack_cli.project import load_project

    if settings.dists:
        missing = [str(d) for d in settings.dists if not Path(d).is_file()]
        if missing:
            raise InvalidInput(f"no such file: {', '.join(missing)}",
                               hint="Check the path, or run `mlpack build` first; without arguments "
                                    "`mlpack publish` uploads this version's sdist and wheel from dist/.")
        return [Path(d) for d in settings.dists]
    project = load_project(settings.root)
    found = find_artifacts(project)
    if not found:
        raise PublishFailed(
            f"no sdist or wheel of {project.name} {project.version} in {project.root / 'dist'}",
            hint="Run `mlpack build` first, or name the files to upload.",
        )
    return found


def on_index_now(target: Target, name: str, version: str, credentials: Credentials | None) -> list[str] | None:
    """The version's files on the index right now (after a failed or interrupted upload); None if the
    index cannot tell quickly."""
    try:
        return sorted(_of_version(published_files(target, name, credentials, timeout=RECHECK_TIMEOUT),
                                  name, version))
    except Exception:  # a look-up for the message only: it must not replace the error
        return None


def _upload_state(target: Target, name: str, version: str, credentials: Credentials | None,
                  done: Sequence[Path], current: Path | None) -> str:
    """Exactly what the index holds of this version now, as far as it can be known."""
    there = on_index_now(target, name, version, credentials)
    if there is not None:
        held = ", ".join(there) if there else "no file of it"
        return f"the index now holds {held} (looked up after the failure)"
    uploaded = ", ".join(p.name for p in done) or "nothing"
    unsure = f"; whether {current.name} arrived is unknown (the index did not answer)" if current else ""
    return f"uploaded by this run: {uploaded}{unsure}"


def publish(settings: PublishSettings, progress: list[Path] | None = None) -> PublishResult:
    """Upload the distributions. A version the index already holds is refused, uploading nothing, unless
    every file it holds is one of ours byte for byte: then only the missing ones are uploaded (a half-done
    upload is finished). With ``skip_existing`` a version with all our file names there is skipped.
    ``progress`` gets each file as soon as it is uploaded: a caller that passes it (``mlpack release``)
    learns what was done even after a Ctrl-C, and states it itself (errors and Ctrl-C pass unchanged)."""
    from mlpack_cli.dists import Artifact

    dists = distributions(settings)
    name, version = _artifact_identity(dists)
    target = resolve_target(settings)
    credentials = resolve_credentials(settings, target)
    step = reporter()
    step.info(f"index {target.upload_url} (from {target.source}); {credentials.description}")
    files = published_files(target, name, credentials)
    existing = _of_version(files, name, version)
    ours = {d.name: Artifact.from_path(d).sha256 for d in dists}
    notes: list[str] = []
    to_upload = list(dists)
    completed: list[Path] = []
    if existing:
        compared = compare_with_index(existing, ours)
        taken = versions_in(list(files), name)
        if not compared.missing:
            if settings.skip_existing:
                return PublishResult(target, credentials, [], name, version, skipped=list(dists),
                                     notes=[_skip_note(target, name, version, dists, existing, ours)])
            raise _already_exists(target, name, version, taken)
        if not compared.completable:
            unknown = [f for f in compared.foreign if existing[f] is None]
            extra = f" with other files ({', '.join(compared.foreign)})"
            if unknown:
                extra += "; the index gives no sha256 for them, so they cannot be recognised as these"
            raise _already_exists(target, name, version, taken, extra)
        completed = [d for d in dists if d.name not in compared.missing]
        to_upload = [d for d in dists if d.name in compared.missing]
        notes.append(f"{name} {version} was partly on {target.simple_url} ({', '.join(compared.identical)}, "
                     f"byte-identical to ours): uploaded only the missing "
                     f"{', '.join(d.name for d in to_upload)} to complete it")
    uploaded: list[Path] = []
    current: Path | None = None
    try:
        for dist in sorted(to_upload, key=lambda d: d.name.endswith(".whl")):  # sdist first, as twine sorts
            current = dist
            _twine_upload(target, credentials, settings, dist)
            current = None
            uploaded.append(dist)
            if progress is not None:
                progress.append(dist)
            step.info(f"uploaded {dist.name}")
    except PublishFailed as error:
        if progress is None and (uploaded or completed):  # a caller with ``progress`` tells the state itself
            error.message += f" ({_upload_state(target, name, version, credentials, uploaded, None)})"
            error.hint = ((error.hint + " ") if error.hint else "") + (
                "Run the same `mlpack publish` again once the cause is fixed: it uploads only the missing files.")
        raise
    except KeyboardInterrupt:
        if progress is not None:
            raise
        state = _upload_state(target, name, version, credentials, uploaded, current)
        raise PublishFailed(
            f"interrupted while uploading {name} {version} to {target.upload_url}: {state}",
            hint="Run the same `mlpack publish` again: it uploads only the files the index does not hold yet.",
            exit_code=ExitCode.INTERRUPTED,
        ) from None
    return PublishResult(target, credentials, uploaded, name, version, notes=notes, completed=completed)


def _twine_upload(target: Target, credentials: Credentials, settings: PublishSettings, dist: Path) -> None:
    import requests
    from twine import exceptions
    from twine.commands.upload import upload
    from twine.settings import Settings

    secrets = _secrets(credentials, target)
    try:
        with captured_twine_output():
            # the Settings whose resolver found the credentials (keyring and Trusted Publishing asked once)
            twine_settings = credentials.twine or Settings(
                repository_url=target.upload_url, username=credentials.username, password=credentials.password,
                non_interactive=True, disable_progress_bar=True)
            upload(twine_settings, [str(dist)])
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        text = (exc.response.text or "").lower() if exc.response is not None else ""
        reason = (exc.response.reason or "").lower() if exc.response is not None else ""
        if status in (401, 403):
            raise _bad_credentials(target, credentials, status, f"uploading {dist.name}") from None
        if status == 409 or "already exist" in text or "already exist" in reason:
            raise _taken_meanwhile(target, credentials, dist) from None
        raise PublishFailed(redact(f"uploading {dist.name} to {target.upload_url} failed: HTTP {status} "
                                   f"{exc.response.reason if exc.response is not None else ''}", secrets),
                            hint="Read the index's answer above.") from None
    except requests.RequestException as exc:
        raise _unreachable(target, exc, secrets) from None
    except exceptions.TwineException as exc:
        raise PublishFailed(redact(f"twine refused to upload {dist.name}: {exc}", secrets)) from None
    except OSError as exc:
        raise PublishFailed(redact(f"uploading {dist.name} failed: {exc}", secrets)) from None


def _taken_meanwhile(target: Target, credentials: Credentials, dist: Path) -> PublishFailed:
    """The index refused a file it already has (uploaded since our look-up): name the next free version."""
    name, version = _artifact_identity([dist])
    try:
        taken = versions_in(list(published_files(target, name, credentials, timeout=RECHECK_TIMEOUT)), name)
    except PublishFailed:
        taken = set()
    error = _already_exists(target, name, version, taken)
    error.message = f"{dist.name} already exists on {target.upload_url}"
    return error


def _unreachable(target: Target, exc: Exception, secrets: Sequence[str]) -> PublishFailed:
    reason = type(exc).__name__
    return PublishFailed(
        redact(f"cannot reach the package index at {target.upload_url} ({reason})", secrets),
        hint="Check the URL, your network and that the index is up.",
    )


def _bad_credentials(target: Target, credentials: Credentials | None, status: int, doing: str) -> PublishFailed:
    where = credentials.description if credentials else "no credentials"
    return PublishFailed(
        f"the index at {target.upload_url} refused the credentials (HTTP {status}) while {doing}",
        hint=f"Used {where}. Check them (docs/publish.md: where credentials come from).",
    )


def _secrets(credentials: Credentials | None, target: Target | None = None) -> list[str]:
    values = [credentials.password] if credentials and credentials.password else []
    values += [os.environ[k] for k in ("TWINE_PASSWORD", "CI_JOB_TOKEN") if os.environ.get(k)]
    if target is not None:
        values += [target.index_auth[1]] if target.index_auth and target.index_auth[1] else []
        config = target.index.settings.repository_config if target.index else {}
        values += [str(config["password"])] if config.get("password") else []
    return [v for v in values if len(v) >= 3]


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret replaced by ``****`` and every URL's password by ``***`` (defence in
    depth: we never put them in)."""
    for secret in secrets:
        text = text.replace(secret, "****")
    return redact_url(text)
