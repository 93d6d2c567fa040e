"""The [tool.mlpack] schema: in step with the code that reads each table, and usable by validate-pyproject."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlpack_cli import tool_schema
from mlpack_cli.commands import ci
from mlpack_cli.notebook.stages import DEFAULT_KEYWORDS, DROPPED

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_is_draft_7_with_an_id_as_validate_pyproject_requires() -> None:
    schema = tool_schema.load_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"  # validate-pyproject's own draft
    assert schema["$id"].startswith("https://")
    assert tool_schema.validate_pyproject_plugin("mlpack") == schema
    assert tool_schema.validate_pyproject_plugin("mlpack") is not schema, "a copy: the caller may keep it"


def test_the_ci_table_lists_exactly_the_settings_ci_reads() -> None:
    keys = set(tool_schema.property_schema("ci")["properties"])
    read = {f.name.replace("_", "-") for f in dataclasses.fields(ci.CiOptions)
            if not f.metadata.get("internal")} - {"name", "package"}  # internal: found in the project
    assert keys == read


def test_the_keywords_table_lists_exactly_the_stages_convert_reads() -> None:
    keys = set(tool_schema.property_schema("convert", "keywords")["properties"])
    assert keys == {"skip" if stage == DROPPED else stage for stage in DEFAULT_KEYWORDS}


def test_every_toml_example_in_the_docs_is_valid(tmp_path: Path) -> None:
    import tomlkit

    from mlpack_cli.project import validate_pyproject_values

    examples = 0
    for page in (ROOT / "docs").glob("*.md"):
        for block in re.findall(r"```toml\n(.*?)```", page.read_text(), re.DOTALL):
            if "[tool.mlpack" not in block:
                continue
            validate_pyproject_values(tomlkit.parse(block).unwrap(), page)
            examples += 1
    assert examples >= 3


@pytest.mark.parametrize(
    ("image", "valid"),
    [
        ("python:3.11-slim", True),
        ("registry.example.org:5000/base/python:3.12", True),
        ("python:3.11-slim@sha256:" + "a" * 64, True),
        ("python@sha256:" + "0" * 64, True),
        ("python:3.11@sha256:" + "a" * 63, False),  # cut short
        ("python:3.11@sha256:" + "A" * 64, False),  # digests are lower-case hex
        ("python:3.11@sha512:" + "a" * 128, False),
        ("python:3.11 slim", False),
        ("$PYTHON_IMAGE", False),  # also the Dockerfile's ARG default: no variables
    ],
)
def test_image_references_may_be_pinned_by_a_full_sha256_digest(image: str, valid: bool) -> None:
    for key in ("python-image", "buildkit-image"):
        pattern = re.compile(tool_schema.property_schema("ci", key)["pattern"])
        assert bool(pattern.match(image)) is valid, (key, image)


def test_validation_is_not_paid_for_at_start_up() -> None:
    probe = ("import sys\nfrom mlpack_cli.cli import app\ntry:\n    app(['--version'], prog_name='mlpack')\n"
             "except SystemExit:\n    pass\nprint('fastjsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


# -- the validate-pyproject plugin, run for real ---------------------------------------------------

BAD = """\
[project]
name = "churn-model"
version = "1.0.0"

[tool.mlpack]
notebook = "analysis"
"""

GOOD = """\
[project]
name = "churn-model"
version = "1.0.0"

[tool.mlpack]
notebooks = "analysis"

[tool.mlpack.ci]
python-image = "python:3.11-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
audit-ignore = ["GHSA-jjg7-2v4v-x38h"]
"""


def validate_pyproject(path: Path) -> subprocess.CompletedProcess[str]:
    command = shutil.which("validate-pyproject", path=str(Path(sys.executable).parent))
    assert command, "validate-pyproject comes with the test extras"
    return subprocess.run([command, str(path)], capture_output=True, text=True)


def test_validate_pyproject_finds_the_plugin_and_refuses_a_bad_table(tmp_path: Path) -> None:
    bad = tmp_path / "bad" / "pyproject.toml"
    bad.parent.mkdir()
    bad.write_text(BAD)
    done = validate_pyproject(bad)
    assert done.returncode != 0
    assert "tool.mlpack" in done.stdout + done.stderr and "notebook" in done.stdout + done.stderr


@pytest.mark.parametrize(
    "table",
    ['[tool.mlpack.ci]\ncontainer = "yes"\n', '[tool.mlpack.ci]\npython-image = "python:3.11@sha256:abc"\n',
     "[tool.mlpack]\npackage = 123\n"],
)
def test_validate_pyproject_refuses_bad_values(tmp_path: Path, table: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "churn-model"\nversion = "1.0.0"\n\n' + table)
    assert validate_pyproject(path).returncode != 0


def test_validate_pyproject_accepts_a_good_table_and_our_own(tmp_path: Path) -> None:
    good = tmp_path / "pyproject.toml"
    good.write_text(GOOD)
    done = validate_pyproject(good)
    assert done.returncode == 0, done.stdout + done.stderr
    own = validate_pyproject(ROOT / "pyproject.toml")
    assert own.returncode == 0, own.stdout + own.stderr


def test_the_plugin_is_registered_under_validate_pyprojects_group() -> None:
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="validate_pyproject.tool_schema") if e.name == "mlpack"]
    assert entry.load() is tool_schema.validate_pyproject_plugin
    assert json.dumps(entry.load()("mlpack"))  # plain JSON data
