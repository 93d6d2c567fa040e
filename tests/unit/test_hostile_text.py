"""Hostile project metadata through ``init``: every file it writes parses in its language, the package
imports without running anything the text holds, and each value means exactly what was given."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from mlpack_cli.commands.init import InitSettings, init_project
from mlpack_cli.errors import ExitCode, InvalidInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SENTINEL = "PWNED"
# Text that would run code if it reached Python, TOML, YAML or Groovy raw: each tries to close what
# it stands in and create the sentinel file.
PAYLOADS = [
    f'""";open("{SENTINEL}","w");"""', f"''';open('{SENTINEL}','w');'''", f'";open("{SENTINEL}","w");"',
    f'\\";open("{SENTINEL}","w")#', f'\nopen("{SENTINEL}","w")\n', f'\ropen("{SENTINEL}","w")\r',
    f'\x85open("{SENTINEL}","w")', f'\u2028open("{SENTINEL}","w")', f'\x0copen("{SENTINEL}","w")',
    f"\"\"\"\n__import__('os').system('touch {SENTINEL}')\n\"\"\"", f"'\n}}\nsh 'touch {SENTINEL}'\n{{'",
]
NASTY = st.sampled_from(
    ['"', "'", '"""', "\\", "C:\\Users\\new model", "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x00",
     "\x1b[31m", "\x7f", "\t", "\ufeff", "#", "${x}", "$(id)", "ﬁ", "Ｆｕｌｌ", "é", "😀", " ", "]", "}", "= 1"]
)
# Never empty: an empty value means "not given" (init fills in its default, or leaves authors out).
HOSTILE = st.lists(st.one_of(NASTY, st.sampled_from(PAYLOADS), st.text(max_size=4)), min_size=1, max_size=8).map(
    "".join
).filter(bool)
CHECK_IMPORT = """
import json, sys
src, tests, out = sys.argv[1:4]
sys.path[:0] = [src, tests]
import demo_pkg, test_smoke
json.dump({"doc": demo_pkg.__doc__}, open(out, "w"))
"""


def _init(root: Path, **options: object) -> None:
    init_project(InitSettings(path=root, name="demo-pkg", ci="both", **options))  # type: ignore[arg-type]


def _imported_doc(root: Path) -> str:
    """The package's docstring, read by importing it (and its smoke test) in a fresh interpreter
    whose working directory would receive the sentinel file."""
    out = root.parent / "doc.json"
    done = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORT, str(root / "src"), str(root / "tests"), str(out)],
        cwd=root, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (root / SENTINEL).exists(), "importing the package ran code from the metadata"
    return str(json.loads(out.read_text())["doc"])


def _assert_every_file_parses(root: Path) -> dict[str, object]:
    from tree_sitter_groovy import language
    import tree_sitter

    for path in root.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    YAML(typ="safe", pure=True).load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    tree = tree_sitter.Parser(tree_sitter.Language(language())).parse((root / "Jenkinsfile").read_bytes())
    assert not tree.root_node.has_error
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(description=HOSTILE, author=HOSTILE, email=st.one_of(st.just(""), HOSTILE))
def test_hostile_metadata_is_only_ever_data(description: str, author: str, email: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        if any(brk in value for value in (author, email) for brk in "\r\n"):
            # an author or e-mail is an address header of the metadata: the build would refuse it
            with pytest.raises(InvalidInput, match="holds a line break") as raised:
                _init(root, description=description, author=author, email=email)
            assert raised.value.exit_code == ExitCode.INVALID_INPUT and not root.exists()
            return
        _init(root, description=description, author=author, email=email)
        project = _assert_every_file_parses(root)["project"]
        assert project["description"] == description  # type: ignore[index]
        expected_author = {"name": author, **({"email": email} if email else {})}
        assert project["authors"] == [expected_author]  # type: ignore[index]
        doc = _imported_doc(root)
        if sys.version_info < (3, 13):  # 3.13+ strips the indentation of every docstring it compiles
            assert doc == description


@pytest.mark.parametrize("description", [
    'a """ b', "C:\\Users\\new model", 'ends in a quote"', "ends in a backslash\\",
    "CR\rLF\nNEL\x85LS\u2028PS\u2029DEL\x7fNUL\x00", f'x""";open("{SENTINEL}","w");"""',
])
def test_descriptions_from_the_field_import_and_mean_themselves(tmp_path: Path, description: str) -> None:
    root = tmp_path / "p"
    _init(root, description=description, author="Ada", email="ada@example.org")
    assert _assert_every_file_parses(root)["project"]["description"] == description  # type: ignore[index]
    assert _imported_doc(root) == description


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ours=HOSTILE, theirs=HOSTILE, force=st.booleans())
def test_merging_keeps_or_replaces_hostile_values_exactly(ours: str, theirs: str, force: bool) -> None:
    import tomlkit

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        root.mkdir()
        existing = tomlkit.document()
        existing["project"] = {"name": "demo-pkg", "description": theirs}
        (root / "pyproject.toml").write_text(tomlkit.dumps(existing), encoding="utf-8")
        _init(root, description=ours, author="Ada", email="ada@example.org", force=force)
        project = _assert_every_file_parses(root)["project"]
        assert project["description"] == (ours if force else theirs)  # type: ignore[index]


@pytest.mark.parametrize("python", ['===3"\\x', "===3\x7f", "===ﬁ'#"])
def test_a_requires_python_that_packaging_accepts_is_written_exactly(tmp_path: Path, python: str) -> None:
    root = tmp_path / "p"
    _init(root, python=python, author="Ada", email="ada@example.org")
    assert _assert_every_file_parses(root)["project"]["requires-python"] == python  # type: ignore[index]


def test_text_that_is_not_utf8_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    undecodable = b"caf\xe9".decode("utf-8", "surrogateescape")  # how a Latin-1 argv byte arrives
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        _init(tmp_path / "p", description=undecodable, author="Ada", email="ada@example.org")
    assert not (tmp_path / "p").exists()


@settings(max_examples=40, deadline=None)
@given(script=HOSTILE)
def test_a_hostile_deploy_script_is_one_literal_in_both_pipelines(script: str) -> None:
    """What [tool.mlpack.ci] accepts reaches .gitlab-ci.yml and the Jenkinsfile as a value only."""
    from hypothesis import assume
    from tree_sitter_groovy import language
    import tree_sitter

    from mlpack_cli.commands import ci

    try:
        options = ci.CiOptions.from_tool({"deploy": True, "deploy-script": [script]}, name="demo", package="demo")
    except InvalidInput:
        assume(False)
    gitlab = YAML(typ="safe", pure=True).load(ci.render_pipeline("gitlab", options))
    assert gitlab["deploy"]["script"] == [script]
    tree = tree_sitter.Parser(tree_sitter.Language(language())).parse(ci.render_pipeline("jenkins", options).encode())
    assert not tree.root_node.has_error


@pytest.mark.parametrize(("field", "value"), [
    ("author", "Ada\nRequires-Dist: evil-pkg"), ("author", "Ada\r"), ("email", "ada@example.org\nBcc: x@y.z"),
])
def test_an_author_or_email_with_a_line_break_is_refused_before_anything_is_written(
    tmp_path: Path, field: str, value: str
) -> None:
    options = {"author": "Ada", "email": "ada@example.org", field: value}
    with pytest.raises(InvalidInput, match=f"the {field} .* holds a line break") as raised:
        _init(tmp_path / "p", **options)
    assert raised.value.exit_code == ExitCode.INVALID_INPUT
    assert not (tmp_path / "p").exists()
