"""The ``--json`` reports of publish, build and release: complete, and never holding a credential."""

from __future__ import annotations

import json
from pathlib import Path

from mlpack_cli.commands.build import BuildResult
from mlpack_cli.dists import Artifact
from mlpack_cli.project import ProjectSettings
from mlpack_cli.commands.publish import Credentials, PublishResult, PublishSettings, resolve_target
from mlpack_cli.commands.release import ReleaseResult, StepRecord


def test_publish_report_names_sources_never_secrets(tmp_path: Path) -> None:
    target = resolve_target(PublishSettings(root=tmp_path, repository_url="https://ada:hunter2-url@example.org/legacy/",
                                            index_url="https://ada:hunter2-index@example.org/simple/"))
    credentials = Credentials(username="ada", password="hunter2-password", username_source="TWINE_USERNAME",
                              password_source="TWINE_PASSWORD")
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    report = PublishResult(target=target, credentials=credentials, uploaded=[wheel], name="demo",
                           version="1.0").to_json()
    text = json.dumps(report)
    assert "hunter2" not in text and "hunter2" not in repr(target)
    assert report["upload_url"] == "https://example.org/legacy/" and report["target_source"] == "--repository-url"
    assert report["password_source"] == "TWINE_PASSWORD"
    assert report["uploaded"] == [str(wheel)]
    assert report["install_command"] == "pip install --index-url https://ada:***@example.org/simple/ demo==1.0"


def test_build_report_lists_both_artifacts(tmp_path: Path) -> None:
    sdist, wheel = tmp_path / "demo-1.0.tar.gz", tmp_path / "demo-1.0-py3-none-any.whl"
    sdist.write_bytes(b"s")
    wheel.write_bytes(b"ww")
    project = ProjectSettings(root=tmp_path, name="demo", version="1.0", package="demo", notebooks=tmp_path)
    report = BuildResult(project=project, sdist=Artifact.from_path(sdist), wheel=Artifact.from_path(wheel),
                         installer="pip", source_date_epoch=None).to_json()
    assert [(a["kind"], a["size"]) for a in report["artifacts"]] == [("sdist", 1), ("wheel", 2)]
    assert report["version"] == "1.0"


def test_release_report_keeps_every_step() -> None:
    result = ReleaseResult(name="demo", old_version="1.0", new_version="1.0.1", dry_run=True,
                           steps=[StepRecord("check", 1.23456, "ok"), StepRecord("publish", 0.0, "skipped")])
    report = result.to_json()
    assert [(s["name"], s["status"]) for s in report["steps"]] == [("check", "ok"), ("publish", "skipped")]
    assert report["steps"][0]["seconds"] == 1.235
