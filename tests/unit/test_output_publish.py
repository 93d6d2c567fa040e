"""What ``mlpack publish`` prints: what was skipped or completed, how to install; never a credential."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from mlpack_cli.commands.publish import Credentials, PublishResult, Target
from mlpack_cli.output import publish as output


def _result(tmp_path: Path, **changes: object) -> PublishResult:
    target = Target(upload_url="https://example.org/legacy/", simple_url="https://example.org/simple/",
                    source="--repository-url", index_shown="https://ada:hunter2@example.org/simple/")
    credentials = Credentials(username="ada", password="hunter2", username_source="TWINE_USERNAME",
                              password_source="TWINE_PASSWORD")
    fields: dict = {"target": target, "credentials": credentials, "uploaded": [tmp_path / "demo-1.0.tar.gz"],
                    "name": "demo", "version": "1.0"}
    return PublishResult(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_install_command_is_printed_with_the_password_hidden(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    output.show(_result(tmp_path))
    out, err = printed()
    assert "hunter2" not in out + err
    assert out.splitlines()[-1] == ("Install it with: pip install --index-url https://ada:***@example.org/simple/ "
                                    "demo==1.0")


def test_skipped_uploads_say_so(tmp_path: Path, printed: Callable[[], tuple[str, str]]) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    output.show(_result(tmp_path, uploaded=[], skipped=[wheel], notes=["demo 1.0 is already on the index"]))
    out, _ = printed()
    assert out.splitlines()[0] == "skipped demo 1.0 is already on the index"


def test_the_json_report_has_the_documented_keys_and_no_secret(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
    json_schema: Callable[[str, object], tuple[set[str], set[str]]],
) -> None:
    output.show(_result(tmp_path), as_json=True)
    out, _ = printed()
    assert "hunter2" not in out
    report = json.loads(out)
    documented, present = json_schema("publish.md", report)
    assert documented and documented <= present, documented - present
    assert report["password_source"] == "TWINE_PASSWORD"
