"""Where the index and the credentials come from (one documented order), and index look-ups."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlpack_cli.errors import ExitCode, InvalidInput, PublishFailed
from mlpack_cli.publishing import (
    Credentials,
    PublishSettings,
    Target,
    ensure_version_is_new,
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
    with pytest.raises(PublishFailed, match=r"no \[nowhere\] section"):
        resolve_target(settings(tmp_path, repository="nowhere"))
    with pytest.raises(PublishFailed, match="cannot read"):  # a --config-file that is not there
        resolve_target(settings(tmp_path, repository="nowhere", config_file=tmp_path / "missing"))


def test_sanitize_and_redact() -> None:
    assert sanitize_url("https://u:p@host:8443/x/") == "https://host:8443/x/"
    assert redact("token abc123 in abc123", ["abc123"]) == "token **** in ****"


def test_versions_in_ignores_other_projects_and_junk() -> None:
    files = ["demo-0.1.0.tar.gz", "demo-0.2.0-py3-none-any.whl", "demo_other-9.0.tar.gz", "README.html"]
    assert versions_in(files, "Demo") == {"0.1.0", "0.2.0"}


class _Index(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/simple/demo/":
            body = b'<a href="/packages/demo-1.0.tar.gz#sha256=00">demo-1.0.tar.gz</a>'
            self.send_response(200)
        else:
            body = b"not found"
            self.send_response(404)
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
    assert "bump" in (caught.value.hint or "")


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
