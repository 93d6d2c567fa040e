"""Who uploads: twine's own ``Settings`` and ``auth.Resolver`` decide, mlpack only says where from.

twine resolves the index's configuration (a ``~/.pypirc`` section or a URL) and then the username
and the password, each on its own: what it is given, then that configuration, then keyring, then
(PyPI and TestPyPI only, username ``__token__``) Trusted Publishing from a CI job. What mlpack gives
it is the command line, else ``TWINE_USERNAME``/``TWINE_PASSWORD`` (as twine's own command line
does), else GitLab's ``CI_JOB_TOKEN`` when the upload goes to that GitLab's own API. The one thing
added is :attr:`Credentials.description`: where each value came from, never the value.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from mlpack_cli.errors import PublishFailed
from mlpack_cli.redaction import redact_url

if TYPE_CHECKING:
    from twine.settings import Settings

GITLAB_USERNAME = "gitlab-ci-token"
FROM_URL = "the repository URL"
HINT = ("Set TWINE_USERNAME and TWINE_PASSWORD, put them in the ~/.pypirc section of this index, store the "
        "password with `keyring set URL USERNAME`, or publish to PyPI from CI with Trusted Publishing "
        "(docs/publish.md lists the order).")


@dataclass(frozen=True)
class Credentials:
    username: str | None
    password: str | None = field(repr=False)
    username_source: str = ""
    password_source: str = ""
    # twine's Settings that resolved them: the upload uses it, so keyring and Trusted Publishing are asked once
    twine: Settings | None = field(default=None, repr=False, compare=False)

    @property
    def description(self) -> str:
        """Where the credentials came from; never the password itself."""
        if self.username_source == self.password_source:
            return f"username {self.username!r} and password from {self.username_source}"
        return f"username {self.username!r} from {self.username_source}, password from {self.password_source}"


@dataclass(frozen=True)
class Repository:
    """twine's view of the index (its Settings), and where the values in its configuration came from."""

    settings: Settings = field(repr=False)
    origins: Mapping[str, str] = field(default_factory=dict)  # "username"/"password" -> a source's name

    @property
    def url(self) -> str:
        return str(self.settings.repository_config["repository"])


def strip_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """The URL without ``user:password@``, and the two (decoded) apart: they are sent as HTTP authentication."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    user = unquote(parts.username) if parts.username else None
    return bare, user, unquote(parts.password) if parts.password else None


def repository(section: str | None, url: str | None, config_file: Path | None) -> Repository:
    """twine's Settings for the index named by ``section`` (of ``config_file``) or by ``url``;
    ``user:password@`` in either URL becomes configuration, as twine does for ``--repository-url``."""
    from twine import exceptions, utils
    from twine.settings import Settings

    bare, url_user, url_password = strip_userinfo(url) if url else (None, None, None)
    # twine treats its own default path specially (a missing ~/.pypirc is fine): pass it unexpanded
    path = str(config_file) if config_file else utils.DEFAULT_CONFIG_FILE
    try:
        settings = Settings(repository_name=section or "pypi", repository_url=bare, config_file=path,
                            non_interactive=True, disable_progress_bar=True)
    except KeyError:  # twine's own look-up of the section's `repository`
        raise PublishFailed(f"[{section}] in {path} has no repository URL",
                            hint="Add `repository = URL` there, or pass --repository-url.") from None
    except exceptions.TwineException as exc:  # twine masks what a broken .pypirc holds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PublishFailed(redact_url(f"cannot use the index configuration: {first}"),
                            hint="Fix that file (https://packaging.python.org/specifications/pypirc/), or "
                                 "pass --repository-url.") from None
    config = settings.repository_config
    if url is None:  # a .pypirc section: its repository line may hold user:password@ too
        config["repository"], url_user, url_password = strip_userinfo(str(config.get("repository") or ""))
    origins = {key: f".pypirc [{section}]" for key in ("username", "password") if config.get(key) is not None}
    for key, value in (("username", url_user), ("password", url_password)):
        if value and config.get(key) is None:
            config[key], origins[key] = value, FROM_URL
    return Repository(settings, origins)


def _given(cli: str | None, variable: str, gitlab: str | None) -> tuple[str | None, str]:
    """What mlpack hands twine, as twine's command line would: the option, else the variable, else GitLab."""
    for value, source in ((cli, "the command line"), (os.environ.get(variable), variable),
                          (gitlab, "GitLab CI_JOB_TOKEN")):
        if value:
            return value, source
    return None, ""


def on_gitlab(upload_url: str) -> bool:
    """True when the upload goes to the API of the GitLab running this job (its job token is for it only)."""
    api = os.environ.get("CI_API_V4_URL", "").rstrip("/")
    return bool(api and os.environ.get("CI_JOB_TOKEN")) and upload_url.rstrip("/").startswith(api)


def resolve(index: Repository, username: str | None, password: str | None) -> Credentials:
    """Username and password through twine's resolver, with the source of each (see the module docstring)."""
    import requests
    from twine import auth, exceptions

    gitlab = on_gitlab(index.url)
    user_in, user_source = _given(username, "TWINE_USERNAME", GITLAB_USERNAME if gitlab else None)
    pass_in, pass_source = _given(password, "TWINE_PASSWORD", os.environ.get("CI_JOB_TOKEN") if gitlab else None)
    resolver = _traced()(index.settings.repository_config, auth.CredentialInput(user_in, pass_in))
    index.settings.auth = resolver
    what = "username"
    try:
        with _twine_logs_kept():
            found_user = resolver.username
            what = "password"
            found_password = resolver.password
    except exceptions.NonInteractive:
        raise PublishFailed(f"no {what} for {index.url}", hint=HINT) from None
    except exceptions.TrustedPublishingFailure as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise PublishFailed(redact_url(f"no password for {index.url}: Trusted Publishing failed ({reason})"),
                            hint="Check the trusted publisher registered for this project on the index, "
                                 "or set TWINE_PASSWORD to an API token.") from None
    except requests.RequestException as exc:  # Trusted Publishing asks the index for an audience first
        raise PublishFailed(f"no password for {index.url}, and Trusted Publishing could not reach the index "
                            f"({type(exc).__name__})", hint=HINT) from None
    if not found_user or not found_password:
        raise PublishFailed(f"no {'username' if not found_user else 'password'} for {index.url}", hint=HINT)
    if user_in is None and resolver.is_pypi():
        user_source = "PyPI's token convention"
    return Credentials(found_user, found_password, user_source or _source(index, resolver, "username"),
                       pass_source or _source(index, resolver, "password"), twine=index.settings)


@contextlib.contextmanager
def _twine_logs_kept() -> Iterator[None]:
    """twine's resolver logs (keyring trouble, Trusted Publishing steps): the library never prints, so
    they go nowhere while it runs (Python would print unhandled warnings on stderr)."""
    logger = logging.getLogger("twine")
    handler, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _source(index: Repository, resolver: Any, key: str) -> str:
    return resolver.sources.get(key) or index.origins.get(key, "the index configuration")


@functools.cache
def _traced() -> Any:
    """twine's non-interactive resolver, noting the two sources only it knows of: keyring and Trusted
    Publishing (everything else it finds is what it was given or its configuration)."""
    from twine import auth

    class Traced(auth.Private):
        def __init__(self, config: Any, given: Any) -> None:
            super().__init__(config, given)
            self.sources: dict[str, str] = {}

        def get_username_from_keyring(self) -> str | None:
            return self._noted("username", "keyring", super().get_username_from_keyring())

        def get_password_from_keyring(self) -> str | None:
            return self._noted("password", "keyring", super().get_password_from_keyring())

        def make_trusted_publishing_token(self) -> str | None:
            return self._noted("password", "Trusted Publishing", super().make_trusted_publishing_token())

        def _noted(self, key: str, source: str, value: str | None) -> str | None:
            if value:
                self.sources[key] = source
            return value

    return Traced
