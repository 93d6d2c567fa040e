"""``mlpack publish``: upload with twine, credentials resolved in one documented place.

Where the index and the credentials come from, first match wins (docs/publish.md says the same):

* index URL: ``--repository-url`` > ``--repository NAME`` (a ~/.pypirc section) >
  ``TWINE_REPOSITORY_URL`` > ``TWINE_REPOSITORY`` > GitLab's project registry when running in GitLab CI
  (``CI_API_V4_URL``/``CI_PROJECT_ID``) > PyPI.
* username and password, each on its own: command-line options (or ``user:pass@`` in the URL) >
  ``TWINE_USERNAME``/``TWINE_PASSWORD`` > GitLab's ``CI_JOB_TOKEN`` (only for that GitLab's own
  registry, never sent anywhere else) > the ~/.pypirc section > keyring.

The source of each value is reported; a secret never is. Before uploading, the version is looked up
in the index's simple API: twine 6.2+ refuses ``--skip-existing`` for indexes other than PyPI, and a
refused duplicate half-way through would leave a half-published release. With ``skip_existing`` a
version that is already there with the same files is skipped (what a tag pipeline does after
``mlpack release`` uploaded it); with other files it is still refused.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlpack_cli.errors import InvalidInput, PublishFailed
from mlpack_cli.reporting import reporter

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD = "https://test.pypi.org/legacy/"
GITLAB_USERNAME = "gitlab-ci-token"
LOOKUP_TIMEOUT = 15.0
DEFAULT_PYPIRC = "~/.pypirc"


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
    """Where to upload, and how we know."""

    upload_url: str
    simple_url: str
    source: str  # e.g. "--repository-url", ".pypirc [local]", "GitLab CI"
    section: str | None = None  # the .pypirc section, when the URL came from one


@dataclass(frozen=True)
class Credentials:
    username: str | None
    password: str | None = field(repr=False)
    username_source: str = ""
    password_source: str = ""

    @property
    def description(self) -> str:
        """Where the credentials came from; never the password itself."""
        if self.username_source == self.password_source:
            return f"username {self.username!r} and password from {self.username_source}"
        return f"username {self.username!r} from {self.username_source}, password from {self.password_source}"


@dataclass
class PublishResult:
    target: Target
    credentials: Credentials
    uploaded: list[Path]
    name: str
    version: str
    skipped: list[Path] = field(default_factory=list)  # already on the index (skip_existing)
    notes: list[str] = field(default_factory=list)

    @property
    def install_command(self) -> str:
        return f"pip install --index-url {self.target.simple_url} {self.name}=={self.version}"


# -- where to ----------------------------------------------------------------------------------


def sanitize_url(url: str) -> str:
    """The URL without any ``user:password@`` part."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


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


def _pypirc(settings: PublishSettings) -> tuple[Path, dict[str, dict[str, Any]]]:
    from twine import exceptions, utils

    path = Path(os.path.expanduser(str(settings.config_file or DEFAULT_PYPIRC)))
    if settings.config_file is None and not path.exists():
        return path, dict(utils.get_config(os.devnull))  # no ~/.pypirc: twine's defaults (pypi, testpypi)
    try:
        return path, dict(utils.get_config(str(path)))
    except (OSError, exceptions.TwineException) as exc:
        raise PublishFailed(f"cannot read {path}: {exc}", hint="Fix or remove that file.") from exc
    except Exception as exc:  # configparser errors may quote a password: never show their text
        raise PublishFailed(f"{path} is not a valid .pypirc file",
                            hint="See https://packaging.python.org/specifications/pypirc/.") from exc


def resolve_target(settings: PublishSettings) -> Target:
    """The upload URL, in the documented order."""
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
    if section is not None:
        path, config = _pypirc(settings)
        if section not in config:
            raise PublishFailed(
                f"no [{section}] section in {path}",
                hint=f"Add [{section}] with a repository URL to {path}, or pass --repository-url.",
            )
        url = str(config[section].get("repository") or "")
        if not url:
            raise PublishFailed(f"[{section}] in {path} has no repository URL", hint="Add `repository = URL` there.")
    assert url is not None
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise PublishFailed(f"{sanitize_url(url)!r} is not an http(s) URL of a package index",
                            hint="Pass a URL such as https://upload.pypi.org/legacy/ or http://host:port/.")
    clean = sanitize_url(url)
    simple = settings.index_url or simple_url_for(clean)
    return Target(upload_url=clean, simple_url=simple if simple.endswith("/") else simple + "/",
                  source=source, section=section)


def _gitlab_registry() -> str | None:
    api, project = os.environ.get("CI_API_V4_URL"), os.environ.get("CI_PROJECT_ID")
    if api and project and os.environ.get("CI_JOB_TOKEN"):
        return f"{api.rstrip('/')}/projects/{project}/packages/pypi"
    return None


# -- who as ------------------------------------------------------------------------------------


def resolve_credentials(settings: PublishSettings, target: Target) -> Credentials:
    """Username and password, each from the first source that has it (see the module docstring)."""
    env = os.environ
    in_url = urlsplit(settings.repository_url or "")
    gitlab = _gitlab_registry()
    on_gitlab = bool(gitlab) and target.upload_url.rstrip("/").startswith(env.get("CI_API_V4_URL", "\0").rstrip("/"))
    section: dict[str, Any] = {}
    if target.section is not None:
        section = _pypirc(settings)[1].get(target.section, {})

    candidates: dict[str, list[tuple[str | None, str]]] = {
        "username": [
            (settings.username, "the command line"),
            (in_url.username, "the repository URL"),
            (env.get("TWINE_USERNAME"), "TWINE_USERNAME"),
            (GITLAB_USERNAME if on_gitlab else None, "GitLab CI_JOB_TOKEN"),
            (section.get("username"), f".pypirc [{target.section}]"),
        ],
        "password": [
            (settings.password, "the command line"),
            (in_url.password, "the repository URL"),
            (env.get("TWINE_PASSWORD"), "TWINE_PASSWORD"),
            (env.get("CI_JOB_TOKEN") if on_gitlab else None, "GitLab CI_JOB_TOKEN"),
            (section.get("password"), f".pypirc [{target.section}]"),
        ],
    }
    username, username_source = _first(candidates["username"])
    if username is None and target.upload_url.startswith((PYPI_UPLOAD, TESTPYPI_UPLOAD)):
        username, username_source = "__token__", "PyPI's token convention"
    if username is None:
        username, username_source = _keyring_username(target.upload_url)
    password, password_source = _first(candidates["password"])
    if password is None and username is not None:
        password, password_source = _keyring_password(target.upload_url, username)
    if not username or not password:
        missing = "username" if not username else "password"
        raise PublishFailed(
            f"no {missing} for {target.upload_url}",
            hint="Set TWINE_USERNAME and TWINE_PASSWORD, put them in the ~/.pypirc section of this index, "
                 "or store the password with `keyring set URL USERNAME` (docs/publish.md lists the order).",
        )
    return Credentials(username, password, username_source, password_source)


def _first(candidates: Sequence[tuple[str | None, str]]) -> tuple[str | None, str]:
    for value, source in candidates:
        if value:
            return value, source
    return None, ""


def _keyring_username(url: str) -> tuple[str | None, str]:
    try:
        import keyring

        credential = keyring.get_credential(url, None)
    except Exception:  # no backend, locked keyring, keyring not installed: just not this source
        return None, ""
    return (credential.username, "keyring") if credential and credential.username else (None, "")


def _keyring_password(url: str, username: str) -> tuple[str | None, str]:
    try:
        import keyring

        password = keyring.get_password(url, username)
    except Exception:
        return None, ""
    return (password, "keyring") if password else (None, "")


# -- talking to the index ---------------------------------------------------------------------------


def published_files(target: Target, name: str, credentials: Credentials | None) -> dict[str, str | None]:
    """Filenames the index's simple API lists for ``name``, each with its sha256 when the index gives it
    (empty when the project is new there)."""
    import requests
    from packaging.utils import canonicalize_name

    url = f"{target.simple_url}{canonicalize_name(name)}/"
    same_host = urlsplit(url).netloc == urlsplit(target.upload_url).netloc
    auth = (credentials.username or "", credentials.password or "") if credentials and same_host else None
    secrets = _secrets(credentials)
    try:
        response = requests.get(url, auth=auth, timeout=LOOKUP_TIMEOUT, headers={"Accept": "text/html"})
    except requests.RequestException as exc:
        raise _unreachable(target, exc, secrets) from exc
    if response.status_code == 404:
        return {}
    if response.status_code in (401, 403):
        raise _bad_credentials(target, credentials, response.status_code, "looking the version up")
    if response.status_code >= 400:
        raise PublishFailed(redact(f"{url} answered HTTP {response.status_code} {response.reason}", secrets),
                            hint="Check the index URL (--index-url sets the simple API if it is elsewhere).")
    hrefs = re.findall(r"""href\s*=\s*["']([^"']+)["']""", response.text, flags=re.IGNORECASE)
    files: dict[str, str | None] = {}
    for href in hrefs:
        location, _, fragment = href.partition("#")
        digest = fragment[len("sha256="):].lower() if fragment.startswith("sha256=") else None
        files[location.rstrip("/").rsplit("/", 1)[-1]] = digest
    return files


def versions_in(filenames: Sequence[str], name: str) -> set[str]:
    """The versions those sdists and wheels belong to (unparseable names are ignored)."""
    from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

    versions: set[str] = set()
    for filename in filenames:
        try:
            if filename.endswith(".whl"):
                found, version, _, _ = parse_wheel_filename(filename)
            elif filename.endswith((".tar.gz", ".zip")):
                found, version = parse_sdist_filename(filename)
            else:
                continue
        except ValueError:
            continue
        if canonicalize_name(found) == canonicalize_name(name):
            versions.add(str(version))
    return versions


def files_of_version(target: Target, name: str, version: str,
                     credentials: Credentials | None) -> dict[str, str | None]:
    """The files of that version on the index (filename -> sha256 or None); empty when it is not there."""
    from packaging.version import Version

    return {filename: digest for filename, digest in published_files(target, name, credentials).items()
            if any(Version(v) == Version(version) for v in versions_in([filename], name))}


def _already_exists(target: Target, name: str, version: str, extra: str = "") -> PublishFailed:
    return PublishFailed(
        f"{name} {version} already exists on {target.simple_url}{extra}",
        hint="An index never takes the same version twice: bump it (`mlpack release --bump patch`) "
             "and build again.",
    )


def ensure_version_is_new(target: Target, name: str, version: str, credentials: Credentials | None) -> None:
    if files_of_version(target, name, version, credentials):
        raise _already_exists(target, name, version)


def _skip_note(target: Target, name: str, version: str, dists: Sequence[Path],
               existing: dict[str, str | None]) -> str:
    from mlpack_cli.building import Artifact

    note = (f"{name} {version} is already on {target.simple_url} with these files "
            f"({', '.join(d.name for d in dists)}): nothing uploaded (--skip-existing)")
    if any(existing[d.name] not in (None, Artifact.from_path(d).sha256) for d in dists):
        note += "; the index keeps its own copies, which differ byte for byte from these (built separately)"
    return note


def _artifact_identity(dists: Sequence[Path]) -> tuple[str, str]:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    identities = set()
    for dist in dists:
        try:
            if dist.name.endswith(".whl"):
                name, version, _, _ = parse_wheel_filename(dist.name)
            else:
                name, version = parse_sdist_filename(dist.name)
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
    from mlpack_cli.building import find_artifacts
    from mlpack_cli.config import load_project

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


def publish(settings: PublishSettings) -> PublishResult:
    """Upload the distributions; nothing is uploaded when the version is already on the index
    (refused, or with ``skip_existing`` skipped when the index has these very files)."""
    dists = distributions(settings)
    name, version = _artifact_identity(dists)
    target = resolve_target(settings)
    credentials = resolve_credentials(settings, target)
    step = reporter()
    step.info(f"index {target.upload_url} (from {target.source}); {credentials.description}")
    existing = files_of_version(target, name, version, credentials)
    if existing and settings.skip_existing and all(d.name in existing for d in dists):
        return PublishResult(target, credentials, [], name, version, skipped=list(dists),
                             notes=[_skip_note(target, name, version, dists, existing)])
    if existing:
        extra = f" with other files ({', '.join(sorted(existing))})" if settings.skip_existing else ""
        raise _already_exists(target, name, version, extra)
    uploaded: list[Path] = []
    for dist in sorted(dists, key=lambda d: d.name.endswith(".whl")):  # sdist first, as twine sorts dist/*
        try:
            _twine_upload(target, credentials, settings, dist)
        except PublishFailed as error:
            if uploaded:
                error.message += (f" (already uploaded: {', '.join(p.name for p in uploaded)}; "
                                  "that version is now taken: bump it before the next try)")
            raise
        uploaded.append(dist)
        step.info(f"uploaded {dist.name}")
    return PublishResult(target, credentials, uploaded, name, version)


def _twine_upload(target: Target, credentials: Credentials, settings: PublishSettings, dist: Path) -> None:
    import requests
    from twine import exceptions, utils
    from twine.commands.upload import upload
    from twine.settings import Settings

    secrets = _secrets(credentials)
    # twine treats its own default path specially (a missing ~/.pypirc is fine): pass it unexpanded
    config_file = str(settings.config_file) if settings.config_file else utils.DEFAULT_CONFIG_FILE
    try:
        with captured_twine_output():
            twine_settings = Settings(
                repository_name=target.section or "pypi",
                repository_url=None if target.section else target.upload_url,
                config_file=config_file,
                username=credentials.username,
                password=credentials.password,
                non_interactive=True,
                disable_progress_bar=True,
            )
            upload(twine_settings, [str(dist)])
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        text = (exc.response.text or "").lower() if exc.response is not None else ""
        reason = (exc.response.reason or "").lower() if exc.response is not None else ""
        if status in (401, 403):
            raise _bad_credentials(target, credentials, status, f"uploading {dist.name}") from None
        if status == 409 or "already exist" in text or "already exist" in reason:
            raise PublishFailed(f"{dist.name} already exists on {target.upload_url}",
                                hint="Bump the version and build again.") from None
        raise PublishFailed(redact(f"uploading {dist.name} to {target.upload_url} failed: HTTP {status} "
                                   f"{exc.response.reason if exc.response is not None else ''}", secrets),
                            hint="Read the index's answer above; nothing more was uploaded.") from None
    except requests.RequestException as exc:
        raise _unreachable(target, exc, secrets) from None
    except exceptions.TwineException as exc:
        raise PublishFailed(redact(f"twine refused to upload {dist.name}: {exc}", secrets)) from None
    except OSError as exc:
        raise PublishFailed(redact(f"uploading {dist.name} failed: {exc}", secrets)) from None


def _unreachable(target: Target, exc: Exception, secrets: Sequence[str]) -> PublishFailed:
    reason = type(exc).__name__
    return PublishFailed(
        redact(f"cannot reach the package index at {target.upload_url} ({reason})", secrets),
        hint="Check the URL, your network and that the index is up; nothing was uploaded.",
    )


def _bad_credentials(target: Target, credentials: Credentials | None, status: int, doing: str) -> PublishFailed:
    where = credentials.description if credentials else "no credentials"
    return PublishFailed(
        f"the index at {target.upload_url} refused the credentials (HTTP {status}) while {doing}",
        hint=f"Used {where}. Check them (docs/publish.md: where credentials come from); nothing was uploaded.",
    )


def _secrets(credentials: Credentials | None) -> list[str]:
    values = [credentials.password] if credentials and credentials.password else []
    values += [os.environ[k] for k in ("TWINE_PASSWORD", "CI_JOB_TOKEN") if os.environ.get(k)]
    return [v for v in values if len(v) >= 3]


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret replaced by ``****`` (defence in depth: we never put them in)."""
    for secret in secrets:
        text = text.replace(secret, "****")
    return text


# -- twine in-process, quietly --------------------------------------------------------------------


@contextlib.contextmanager
def captured_twine_output() -> Iterator[list[str]]:
    """twine prints with rich and logs; the library must not print, so both are collected here."""
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                lines.append(record.getMessage())

    logger = logging.getLogger("twine")
    handler = _Collect(level=logging.WARNING)
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield lines
    finally:
        logger.removeHandler(handler)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])


def twine_check(dists: Sequence[Path]) -> list[str]:
    """``twine check --strict`` through twine's Python API: the problems found, one per line."""
    from twine import exceptions
    from twine.commands.check import check

    try:
        with captured_twine_output() as lines:
            failed = check([str(d) for d in dists], strict=True)
    except exceptions.TwineException as exc:
        return [f"twine check: {exc}"]
    if not failed:
        return []
    return [f"twine check --strict: {line}" for line in lines] or ["twine check --strict failed"]
