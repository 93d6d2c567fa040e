"""What ``mlpack build`` prints: a line per artifact a user can compare and paste, and its JSON report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlpack_cli.commands.build import BuildResult
from mlpack_cli.dists import Artifact
from mlpack_cli.output import build as output
from mlpack_cli.project import ProjectSettings


@pytest.fixture
def result(tmp_path: Path) -> BuildResult:
    sdist, wheel = tmp_path / "demo-1.0.tar.gz", tmp_path / "demo-1.0-py3-none-any.whl"
    sdist.write_bytes(b"s" * 1536)
    wheel.write_bytes(b"w" * 10)
    project = ProjectSettings(root=tmp_path, name="demo", version="1.0", package="demo", notebooks=tmp_path)
    return BuildResult(project, Artifact.from_path(sdist), Artifact.from_path(wheel), installer="uv",
                       source_date_epoch=1700000000, checks=["twine check --strict: passed"])


@pytest.mark.parametrize(("size", "shown"), [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                             (5 * 1024 * 1024, "5.0 MiB"), (3 * 1024 ** 3, "3072.0 MiB")])
def test_sizes_are_shown_in_binary_units(size: int, shown: str) -> None:
    assert output.human_size(size) == shown


def test_each_artifact_is_one_whole_line_with_size_and_sha256(
    result: BuildResult, printed: Callable[[], tuple[str, str]],
) -> None:
    output.show(result)
    out, _ = printed()
    lines = out.splitlines()
    digest = hashlib.sha256(b"s" * 1536).hexdigest()
    assert any(line.startswith("sdist") and str(result.sdist.path) in line and "1.5 KiB" in line
               and f"sha256:{digest}" in line for line in lines), out
    assert any(line.startswith("wheel") and "10 B" in line for line in lines), out
    assert "✓ twine check --strict: passed" in lines
    assert lines[-1] == "installer uv; SOURCE_DATE_EPOCH=1700000000"


def test_the_json_report_is_the_only_output_and_has_the_documented_keys(
    result: BuildResult, printed: Callable[[], tuple[str, str]],
    json_schema: Callable[[str, object], tuple[set[str], set[str]]],
) -> None:
    output.show(result, as_json=True)
    out, _ = printed()
    report = json.loads(out)  # nothing but the JSON on stdout
    documented, present = json_schema("build.md", report)
    assert documented and documented <= present, documented - present
    assert [a["sha256"] for a in report["artifacts"]] == [result.sdist.sha256, result.wheel.sha256]
