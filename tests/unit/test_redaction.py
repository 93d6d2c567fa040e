"""The console's last line of defence: whatever built a message, a URL's password never gets printed."""

from __future__ import annotations

import pytest

from mlpack_cli.output import console
from mlpack_cli.errors import PublishFailed

LEAKY = "http://ci:s3cr3t-v4lue@pkgs.example.org/simple/"


def test_an_error_and_its_hint_are_printed_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_error(PublishFailed(f"cannot reach {LEAKY}", hint=f"pip install --index-url {LEAKY} demo"))
    err = capsys.readouterr().err
    assert "s3cr3t-v4lue" not in err
    assert err == ("Error: cannot reach http://ci:***@pkgs.example.org/simple/\n"
                   "Hint: pip install --index-url http://ci:***@pkgs.example.org/simple/ demo\n")


def test_info_warnings_and_step_lines_are_printed_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    console.stdout.cache_clear()
    console.stderr.cache_clear()
    try:
        console.info(f"index {LEAKY}")
        console.warn(f"slow index {LEAKY}")
        console.ConsoleReporter().step_finished("publish", 1.0, True, f"to {LEAKY}")
        captured = capsys.readouterr()
    finally:
        console.stdout.cache_clear()
        console.stderr.cache_clear()
    everything = captured.out + captured.err
    assert "s3cr3t-v4lue" not in everything
    assert everything.count("http://ci:***@pkgs.example.org/simple/") == 3


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://user:pa/ss@host/simple/", "http://user:***@host/simple/"),  # a raw "/" in the password
        ("https://hooks.example.org/x?token=abc123&env=prod", "https://hooks.example.org/x?token=***&env=prod"),
        ("https://blob.example.org/f.whl?sv=1&sig=Zm9v#frag", "https://blob.example.org/f.whl?sv=1&sig=***#frag"),
        ("http://127.0.0.1:8080/path@v1", "http://127.0.0.1:8080/path@v1"),  # a port, then "@" in the path
        # digits then "#" or "?": a password, not a port before a fragment or query holding "@"
        ("https://deployer:0#x@nexus.example.org/", "https://deployer:***@nexus.example.org/"),
        ("https://deployer:12?ab@nexus.example.org/", "https://deployer:***@nexus.example.org/"),
        ("https://registry.npmjs.org/@scope/pkg", "https://registry.npmjs.org/@scope/pkg"),
        ("https://hooks.example.org/x?token=$DEPLOY_TOKEN", "https://hooks.example.org/x?token=$DEPLOY_TOKEN"),
    ],
)
def test_every_form_of_url_credential_is_masked(text: str, shown: str) -> None:
    from mlpack_cli.redaction import redact_url, url_credentials

    assert redact_url(text) == shown
    assert (url_credentials(text) is None) == (text == shown)
