"""Where the index and the credentials come from (one documented order), and index look-ups."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlpack_cli.errors import ExitCode, InvalidInput, PublishFailed
from mlpack_cli.redaction import redact_url
from mlpack_cli.commands.publish import (
    Credentials,
    PublishResult,
    PublishSettings,
    Target,
    compare_with_index,
    ensure_version_is_new,
    next_free_version,
    publish,
    redact,
    resolve_credentials,
    resolve_target,
    sanitize_url,
    simple_url_for,
    versions_in,
)

URL = "https://packages.example.org/upload/"


def settings(tmp_path: Path, **kwargs: object) -> PublishSettings:
    return PublishSettings(root=tmp_path, **kwargs)  # type: ignore[arg-type]  # ~/.pypirc is in the test's HOME


PYPIRC = """[distutils]
index-servers = pypi private

[private]
repository = https://private.example.org/simple-upload/
username = rc-user
password = rc-secret
"""


@pytest.mark.parametrize(
    ("upload", "simple"),
    [
        ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
        ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/"),
        ("https://gitlab.example.org/api/v4/projects/7/packages/pypi",
         "https://gitlab.example.org/api/v4/projects/7/packages/pypi/simple/"),
    ],
)
def test_simple_url_for(upload: str, simple: str) -> None:
    assert simple_url_for(upload) == simple


def test_target_order_cli_url_beats_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.home() / ".pypirc").write_text(PYPIRC)
    monkeypatch.setenv("TWINE_REPOSITORY_URL", "https://env.example.org/")
    assert resolve_target(settings(tmp_path, repository_url=URL, repository="private")).upload_url == URL
    assert resolve_target(settings(tmp_path, repository="private")).source == ".pypirc [private]"
    assert resolve_target(settings(tmp_path)).upload_url == "https://env.example.org/"
    monkeypatch.delenv("TWINE_REPOSITORY_URL")
    assert resolve_target(settings(tmp_path)).upload_url == "https://upload.pypi.org/legacy/"


def test_gitlab_ci_registry_is_the_default_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_API_V4_URL", "https://gitlab.example.org/api/v4")
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-value")
    target = resolve_target(settings(tmp_path))
    assert target.upload_url == "https://gitlab.example.org/api/v4/projects/42/packages/pypi"
    credentials = resolve_credentials(settings(tmp_path), target)
    assert (credentials.username, credentials.password) == ("gitlab-ci-token", "job-token-value")
    assert "job-token-value" not in credentials.description
    assert "job-token-value" not in repr(credentials)


def test_the_job_token_is_never_sent_to_another_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_API_V4_URL", "https://gitlab.example.org/api/v4")
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-value")
    target = resolve_target(settings(tmp_path, repository_url=URL))
    with pytest.raises(PublishFailed, match="no username"):
        resolve_credentials(settings(tmp_path, repository_url=URL), target)


def test_credential_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.home() / ".pypirc").write_text(PYPIRC)
    chosen = settings(tmp_path, repository="private")
    target = resolve_target(chosen)
    from_rc = resolve_credentials(chosen, target)
    assert (from_rc.username, from_rc.password) == ("rc-user", "rc-secret")
    assert from_rc.username_source == ".pypirc [private]"

    monkeypatch.setenv("TWINE_USERNAME", "env-user")
    monkeypatch.setenv("TWINE_PASSWORD", "env-secret")
    from_env = resolve_credentials(chosen, target)
    assert (from_env.username, from_env.password, from_env.password_source) == (
        "env-user", "env-secret", "TWINE_PASSWORD")

    cli = settings(tmp_path, repository="private", username="cli-user", password="cli-secret")
    from_cli = resolve_credentials(cli, target)
    assert (from_cli.username, from_cli.password) == ("cli-user", "cli-secret")
    assert from_cli.description == "username 'cli-user' and password from the command line"


def test_credentials_in_the_url_are_used_and_stripped(tmp_path: Path) -> None:
    chosen = settings(tmp_path, repository_url="https://bob:hunter22@packages.example.org/")
    target = resolve_target(chosen)
    assert target.upload_url == "https://packages.example.org/"
    assert (resolve_credentials(chosen, target).password) == "hunter22"


def test_pypi_defaults_to_the_token_username_and_needs_a_password(tmp_path: Path) -> None:
    target = resolve_target(settings(tmp_path))
    with pytest.raises(PublishFailed, match="no password") as caught:
        resolve_credentials(settings(tmp_path), target)
    assert "TWINE_PASSWORD" in (caught.value.hint or "")
    assert caught.value.exit_code == 8


def test_a_missing_pypirc_section_is_explained(tmp_path: Path) -> None:
    with pytest.raises(PublishFailed, match=r"Missing 'nowhere' section from ~/.pypirc") as caught:
        resolve_target(settings(tmp_path, repository="nowhere"))
    assert "pypirc" in (caught.value.hint or "")
    with pytest.raises(PublishFailed, match="No such file"):  # a --config-file that is not there
        resolve_target(settings(tmp_path, repository="nowhere", config_file=tmp_path / "missing"))
    (Path.home() / ".pypirc").write_text("[distutils]\nindex-servers = bare\n\n[bare]\nusername = x\n")
    with pytest.raises(PublishFailed, match=r"\[bare\] in ~/.pypirc has no repository URL"):
        resolve_target(settings(tmp_path, repository="bare"))


def test_sanitize_and_redact() -> None:
    assert sanitize_url("https://u:p@host:8443/x/") == "https://host:8443/x/"
    assert sanitize_url("http://u:p@[::1]:8080/") == "http://[::1]:8080/"
    assert redact("token abc123 in abc123", ["abc123"]) == "token **** in ****"
    assert redact("at http://u:pw@h/ x", []) == "at http://u:***@h/ x"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://user:password@host/simple/", "http://user:***@host/simple/"),
        ("http://token-only@host/simple/", "http://***@host/simple/"),
        ("https://u:p@ss:w@rd@host:8443/x", "https://u:***@host:8443/x"),  # a raw @ in the password
        ("pip install --index-url http://a:b@h/simple/ x==1 (and https://c:d@e/)",
         "pip install --index-url http://a:***@h/simple/ x==1 (and https://c:***@e/)"),
        ("http://host/simple/", "http://host/simple/"),
        ("pkg @ git+https://example.org/r.git@v1.0", "pkg @ git+https://example.org/r.git@v1.0"),
        ("ada@example.org", "ada@example.org"),
    ],
)
def test_redact_url(text: str, shown: str) -> None:
    assert redact_url(text) == shown


def test_credentials_in_every_kind_of_url_are_kept_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (Path.home() / ".pypirc").write_text(
        "[distutils]\nindex-servers = private\n\n[private]\nrepository = https://rc:rc-pw@private.example.org/up/\n")
    from_rc = resolve_target(settings(tmp_path, repository="private"))
    assert from_rc.upload_url == "https://private.example.org/up/" and "rc-pw" not in repr(from_rc)
    assert resolve_credentials(settings(tmp_path, repository="private"), from_rc).password == "rc-pw"

    monkeypatch.setenv("TWINE_REPOSITORY_URL", "https://env:env-pw@env.example.org/")
    from_env = resolve_target(settings(tmp_path))
    assert from_env.upload_url == "https://env.example.org/"
    assert resolve_credentials(settings(tmp_path), from_env).password_source == "the repository URL"

    chosen = settings(tmp_path, repository_url=URL, index_url="https://reader:read-pw@mirror.example.org/simple")
    target = resolve_target(chosen)
    assert target.simple_url == "https://mirror.example.org/simple/"
    assert target.index_auth == ("reader", "read-pw") and "read-pw" not in repr(target)
    result = PublishResult(target, Credentials("u", "p"), [], "demo", "1.0")
    assert result.install_command == "pip install --index-url https://reader:***@mirror.example.org/simple/ demo==1.0"


def test_a_bad_url_is_refused_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(PublishFailed) as caught:
        resolve_target(settings(tmp_path, repository_url="ftp://bob:hunter22@files.example.org/"))
    assert "hunter22" not in caught.value.message and "ftp://bob:***@files.example.org/" in caught.value.message
    with pytest.raises(PublishFailed) as caught:
        resolve_target(settings(tmp_path, repository_url=URL, index_url="http://bob:hunter22@host:port/simple/"))
    assert "hunter22" not in caught.value.message and "(from --index-url)" in caught.value.message


def test_next_free_version_bumps_past_every_taken_one() -> None:
    assert next_free_version("0.1.1", set()) == "0.1.2"
    assert next_free_version("0.1.1", {"0.1.0", "0.1.1", "0.1.2", "0.1.3.0"}) == "0.1.4"  # 0.1.3.0 == 0.1.3
    assert next_free_version("1.2.0rc1", {"1.2.0"}) == "1.2.1"


def test_compare_with_index_tells_a_half_upload_from_another_build() -> None:
    ours = {"demo-1.0.tar.gz": "aa", "demo-1.0-py3-none-any.whl": "bb"}
    half = compare_with_index({"demo-1.0.tar.gz": "aa"}, ours)
    assert half.completable and half.missing == ["demo-1.0-py3-none-any.whl"] and half.identical == ["demo-1.0.tar.gz"]
    other = compare_with_index({"demo-1.0.tar.gz": "cc"}, ours)
    assert not other.completable and other.foreign == ["demo-1.0.tar.gz"]
    unknown = compare_with_index({"demo-1.0.tar.gz": None}, ours)  # the index gives no digest: not ours
    assert not unknown.completable
    assert not compare_with_index(dict.fromkeys(ours, "aa"), ours).missing


def test_versions_in_ignores_other_projects_and_junk() -> None:
    files = ["demo-0.1.0.tar.gz", "demo-0.2.0-py3-none-any.whl", "demo_other-9.0.tar.gz", "README.html"]
    assert versions_in(files, "Demo") == {"0.1.0", "0.2.0"}


JSON_PAGE = json.dumps({
    "meta": {"api-version": "1.1"}, "name": "demo", "versions": ["1.0", "1.1"],
    "files": [{"filename": "demo-1.1.tar.gz", "url": "/packages/demo-1.1.tar.gz", "hashes": {"sha256": "AB12"}},
              {"filename": "demo-1.1-py3-none-any.whl", "url": "../../packages/demo-1.1-py3-none-any.whl",
               "hashes": {}}],
}).encode()


class _Index(http.server.BaseHTTPRequestHandler):
    """A simple API: HTML (PEP 503) at /simple/, JSON (PEP 691) at /json/simple/, and indexes that
    answer otherwise: a locked one (401) and one that serves something that is not a simple API."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        kind, body, status = "text/html", b"not found", 404
        if self.path == "/simple/demo/":
            body, status = b'<a href="/packages/demo-1.0.tar.gz#sha256=00">demo-1.0.tar.gz</a>', 200
        elif self.path == "/json/simple/demo/":
            kind, body, status = "application/vnd.pypi.simple.v1+json", JSON_PAGE, 200
        elif self.path.startswith("/locked/"):
            body, status = b"who are you", 401
        elif self.path == "/pdf/simple/demo/":
            kind, body, status = "application/pdf", b"%PDF-1.4", 200
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tiny_index() -> Iterator[Target]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield Target(upload_url=url, simple_url=url + "simple/", source="test")
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_version_lookup_reads_the_simple_api(tiny_index: Target) -> None:
    credentials = Credentials("u", "p", "test", "test")
    ensure_version_is_new(tiny_index, "demo", "1.0.1", credentials)
    ensure_version_is_new(tiny_index, "brand-new", "1.0", credentials)  # 404: the project is new there
    with pytest.raises(PublishFailed, match="demo 1.0.0 already exists") as caught:
        ensure_version_is_new(tiny_index, "demo", "1.0.0", credentials)  # 1.0 == 1.0.0 under PEP 440
    assert "1.0.1 is the next version free there" in (caught.value.hint or "")
    assert "--bump 1.0.1" in (caught.value.hint or "")


def test_keyring_comes_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    stored = {(URL, "kr-user"): "kr-secret"}
    monkeypatch.setattr(keyring, "get_password", lambda system, user: stored.get((system, user)))
    monkeypatch.setenv("TWINE_USERNAME", "kr-user")
    target = resolve_target(settings(tmp_path, repository_url=URL))
    from_keyring = resolve_credentials(settings(tmp_path, repository_url=URL), target)
    assert (from_keyring.password, from_keyring.password_source) == ("kr-secret", "keyring")
    monkeypatch.setenv("TWINE_PASSWORD", "env-secret")
    assert resolve_credentials(settings(tmp_path, repository_url=URL), target).password == "env-secret"


def test_skip_existing_skips_a_rebuilt_copy_and_says_the_index_keeps_its_own(
    tiny_index: Target, tmp_path: Path,
) -> None:
    rebuilt = tmp_path / "demo-1.0.tar.gz"  # same name as the index's, other bytes (built again in CI)
    rebuilt.write_bytes(b"rebuilt")
    chosen = settings(tmp_path, dists=(rebuilt,), repository_url=tiny_index.upload_url, username="u",
                      password="p", skip_existing=True)
    result = publish(chosen)
    assert (result.uploaded, result.skipped) == ([], [rebuilt])
    (note,) = result.notes
    assert note.startswith(f"demo 1.0 is already on {tiny_index.simple_url} with these files (demo-1.0.tar.gz): "
                           "nothing uploaded (--skip-existing)")
    assert "differ byte for byte" in note
    with pytest.raises(PublishFailed, match="demo 1.0 already exists") as caught:  # without the option: refused
        publish(settings(tmp_path, dists=(rebuilt,), repository_url=tiny_index.upload_url, username="u",
                         password="p"))
    assert "with other files" not in caught.value.message


def test_a_missing_file_or_a_foreign_name_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file") as caught:
        publish(settings(tmp_path, dists=(tmp_path / "dist" / "nonexist.whl",), repository_url=URL))
    assert caught.value.exit_code == ExitCode.INVALID_INPUT and "mlpack build" in (caught.value.hint or "")
    (tmp_path / "notes.txt").write_text("not a distribution\n")
    with pytest.raises(InvalidInput, match="not an sdist or wheel file name"):
        publish(settings(tmp_path, dists=(tmp_path / "notes.txt",), repository_url=URL))


def test_ctrl_c_between_two_uploads_says_what_the_index_holds(
    tiny_index: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlpack_cli.commands import publish as publishing

    sdist, wheel = tmp_path / "demo-2.0.tar.gz", tmp_path / "demo-2.0-py3-none-any.whl"
    sdist.write_bytes(b"sdist")
    wheel.write_bytes(b"wheel")
    sent: list[str] = []

    def upload(target: Target, credentials: Credentials, settings: PublishSettings, dist: Path) -> None:
        if dist.suffix == ".whl":
            raise KeyboardInterrupt
        sent.append(dist.name)

    monkeypatch.setattr(publishing, "_twine_upload", upload)
    chosen = settings(tmp_path, dists=(sdist, wheel), repository_url=tiny_index.upload_url, username="u",
                      password="p-secret")
    with pytest.raises(PublishFailed) as caught:
        publish(chosen)
    assert sent == ["demo-2.0.tar.gz"]  # sdist first
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    # this index keeps nothing (it is a stub): the look-up after the interruption says so, exactly
    assert caught.value.message == (f"interrupted while uploading demo 2.0 to {tiny_index.upload_url}: "
                                    "the index now holds no file of it (looked up after the failure)")
    assert "uploads only the files the index does not hold yet" in (caught.value.hint or "")
    progress: list[Path] = []
    with pytest.raises(KeyboardInterrupt):  # a caller keeping track states it itself
        publish(chosen, progress=progress)
    assert progress == [sdist]


def test_a_file_taken_meanwhile_names_the_next_free_version(
    tiny_index: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Uploaded by someone else between our look-up and our upload: the index answers 409."""
    import requests
    import twine.commands.upload

    def conflict(settings: object, dists: list[str]) -> None:
        response = requests.Response()
        response.status_code, response.reason = 409, "Conflict"
        raise requests.HTTPError(response=response)

    monkeypatch.setattr(twine.commands.upload, "upload", conflict)
    sdist = tmp_path / "demo-1.0.1.tar.gz"  # the index lists demo 1.0 only
    sdist.write_bytes(b"sdist")
    with pytest.raises(PublishFailed) as caught:
        publish(settings(tmp_path, dists=(sdist,), repository_url=tiny_index.upload_url, username="u", password="p"))
    assert caught.value.message == f"demo-1.0.1.tar.gz already exists on {tiny_index.upload_url}"
    assert "1.0.2 is the next version free there" in (caught.value.hint or "")


def test_the_simple_api_is_read_as_json_or_html(tiny_index: Target) -> None:
    from mlpack_cli.commands.publish import published_files

    assert published_files(tiny_index, "Demo", None) == {"demo-1.0.tar.gz": "00"}  # HTML, name normalised
    as_json = Target(tiny_index.upload_url, tiny_index.upload_url + "json/simple/", "test")
    assert published_files(as_json, "demo", None) == {"demo-1.1.tar.gz": "ab12", "demo-1.1-py3-none-any.whl": None}
    assert published_files(as_json, "unknown-project", None) == {}  # 404: new there


def test_an_index_that_is_no_simple_api_or_refuses_is_named(tiny_index: Target) -> None:
    from mlpack_cli.commands.publish import published_files

    pdf = Target(tiny_index.upload_url, tiny_index.upload_url + "pdf/simple/", "test")
    with pytest.raises(PublishFailed, match="demo/ is not a simple API page") as caught:
        published_files(pdf, "demo", None)
    assert "--index-url" in (caught.value.hint or "")
    locked = Target(tiny_index.upload_url, tiny_index.upload_url + "locked/simple/", "test")
    refused = r"refused the credentials \(HTTP 401\) while looking the version up"
    with pytest.raises(PublishFailed, match=refused) as caught:
        published_files(locked, "demo", Credentials("ada", "s3cret-pass", "TWINE_USERNAME", "TWINE_PASSWORD"))
    assert "password from TWINE_PASSWORD" in (caught.value.hint or "")
    assert "s3cret-pass" not in caught.value.message + (caught.value.hint or "")


def test_twine_order_the_variables_beat_the_url_and_pypi_uses_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """twine's order: what it is given (the command line, then TWINE_*) before its configuration (the
    URL's user:password@, the .pypirc section); on PyPI the username is __token__ unless given."""
    chosen = settings(tmp_path, repository_url="https://bob:url-secret@packages.example.org/")
    monkeypatch.setenv("TWINE_PASSWORD", "env-secret")
    found = resolve_credentials(chosen, resolve_target(chosen))
    assert (found.username, found.username_source) == ("bob", "the repository URL")
    assert (found.password, found.password_source) == ("env-secret", "TWINE_PASSWORD")
    monkeypatch.delenv("TWINE_PASSWORD")

    (Path.home() / ".pypirc").write_text("[pypi]\nusername = rc-user\npassword = pypi-token-from-rc\n")
    on_pypi = resolve_credentials(settings(tmp_path), resolve_target(settings(tmp_path)))
    assert (on_pypi.username, on_pypi.username_source) == ("__token__", "PyPI's token convention")
    assert (on_pypi.password, on_pypi.password_source) == ("pypi-token-from-rc", ".pypirc [pypi]")
    assert "pypi-token-from-rc" not in on_pypi.description + repr(on_pypi)


def test_keyring_is_asked_for_the_username_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.credentials import SimpleCredential

    monkeypatch.setattr(keyring, "get_credential", lambda system, user: SimpleCredential("kr-user", "x"))
    monkeypatch.setattr(keyring, "get_password", lambda system, user: f"pw-of-{user}-at-{system}")
    chosen = settings(tmp_path, repository_url=URL)
    found = resolve_credentials(chosen, resolve_target(chosen))
    assert (found.username, found.password) == ("kr-user", f"pw-of-kr-user-at-{URL}")
    assert found.description == "username 'kr-user' and password from keyring"


class _TrustedPublishingExchange:
    """PyPI's side of Trusted Publishing as twine talks to it: an audience, then a token for an OIDC one."""

    def __init__(self, answer: dict[str, object], ok: bool = True) -> None:
        self.answer, self.ok, self.calls = answer, ok, []  # type: list[str]

    def __call__(self) -> _TrustedPublishingExchange:  # stands in for twine.utils.make_requests_session
        return self

    def _response(self, status: int, payload: object) -> object:
        import requests

        response = requests.Response()
        response.status_code, response._content = status, json.dumps(payload).encode()
        return response

    def get(self, url: str, timeout: float) -> object:
        self.calls.append(url)
        return self._response(200, {"audience": "pypi"})

    def post(self, url: str, json: dict[str, str], timeout: float) -> object:
        self.calls.append(f"{url} {json['token']}")
        return self._response(200 if self.ok else 422, self.answer)


def test_trusted_publishing_gives_the_password_when_nothing_else_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No password anywhere, uploading to PyPI from a CI job with an OIDC identity: twine mints a token,
    mlpack no longer refuses first; the upload is done with that very token."""
    import twine.auth
    import twine.commands.upload
    import twine.utils

    exchange = _TrustedPublishingExchange({"success": True, "token": "pypi-minted-upload-token"})
    monkeypatch.setattr(twine.utils, "make_requests_session", exchange)
    monkeypatch.setattr(twine.auth, "detect_credential", lambda audience: f"oidc-jwt-for-{audience}")
    found = resolve_credentials(settings(tmp_path), resolve_target(settings(tmp_path)))
    assert (found.username, found.password) == ("__token__", "pypi-minted-upload-token")
    assert found.description == "username '__token__' from PyPI's token convention, password from Trusted Publishing"
    assert exchange.calls == ["https://upload.pypi.org/_/oidc/audience",
                              "https://upload.pypi.org/_/oidc/mint-token oidc-jwt-for-pypi"]

    sent: list[tuple[str | None, str | None]] = []
    monkeypatch.setattr(twine.commands.upload, "upload", lambda s, dists: sent.append((s.username, s.password)))
    sdist = tmp_path / "fresh-1.0.tar.gz"
    sdist.write_bytes(b"sdist")
    with _serving(_Index) as index_url:  # the version look-up goes to a local simple API, not PyPI's
        result = publish(settings(tmp_path, dists=(sdist,), index_url=index_url + "simple/"))
    assert result.uploaded == [sdist] and sent == [("__token__", "pypi-minted-upload-token")]
    assert result.to_json()["password_source"] == "Trusted Publishing"
    assert "pypi-minted-upload-token" not in json.dumps(result.to_json())


def test_a_refused_trusted_publishing_exchange_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import twine.auth
    import twine.utils

    refusal = {"errors": [{"code": "invalid-publisher", "description": "no trusted publisher for this job"}]}
    monkeypatch.setattr(twine.utils, "make_requests_session", _TrustedPublishingExchange(refusal, ok=False))
    monkeypatch.setattr(twine.auth, "detect_credential", lambda audience: "oidc-jwt")
    with pytest.raises(PublishFailed, match="Trusted Publishing failed") as caught:
        resolve_credentials(settings(tmp_path), resolve_target(settings(tmp_path)))
    assert caught.value.message.startswith("no password for https://upload.pypi.org/legacy/")
    assert "`invalid-publisher`: no trusted publisher for this job" in caught.value.message
    assert "trusted publisher" in (caught.value.hint or "")


def test_without_a_ci_identity_pypi_still_needs_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import twine.auth
    import twine.utils

    exchange = _TrustedPublishingExchange({})
    monkeypatch.setattr(twine.utils, "make_requests_session", exchange)
    monkeypatch.setattr(twine.auth, "detect_credential", lambda audience: None)  # not a CI job
    with pytest.raises(PublishFailed) as caught:
        resolve_credentials(settings(tmp_path), resolve_target(settings(tmp_path)))
    assert caught.value.message == "no password for https://upload.pypi.org/legacy/"
    assert "Trusted Publishing" in (caught.value.hint or "") and len(exchange.calls) == 1  # no token asked for


@contextlib.contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
