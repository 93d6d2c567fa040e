"""``mlpack convert`` of notebooks with hostile file names: the generated module and its tests parse,
import without running anything the name holds, name the notebook exactly (so orphans are still
found), and a name that cannot become a module is a clear error, never "a bug in mlpack"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpack_cli.commands.convert import ConvertSettings, check_modules, module_name
from mlpack_cli.errors import ExitCode
from mlpack_cli.notebook.codegen import parse_header

SENTINEL = "PWNED"
PAYLOADS = [
    f'b""";__import__("os").system("touch {SENTINEL}");"""x', f"''';open('{SENTINEL}','w');'''",
    f'\nopen("{SENTINEL}","w")\n', f'\ropen("{SENTINEL}","w")#', f'\x85open("{SENTINEL}","w")',
    f'\u2028open("{SENTINEL}","w")', f'\\";open("{SENTINEL}","w")#',
]
NASTY = st.sampled_from(
    ['"', "'", '"""', "\\", "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x01", "\x1b", "\x7f", "\t",
     "\ufeff", "#", " ", "-", ".", "ﬁ", "ﬂow", "Ｔｒａｉｎ", "½", "²", "é", "e\u0301", "日本", "😀", "json", "random"]
)
# A file name: no "/" or NUL, at most 255 bytes with ".ipynb", not "." or "..".
STEMS = st.lists(st.one_of(NASTY, st.sampled_from(PAYLOADS), st.text(max_size=4)), min_size=1, max_size=6).map(
    "".join
).map(lambda s: s.replace("/", "").replace("\x00", "")).filter(
    lambda s: s not in ("", ".", "..") and len(s.encode("utf-8", "surrogateescape")) <= 240
)
# What would drive a terminal (ESC sequences, CR overwriting the line): never printed raw.
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CHECK_IMPORT = """
import importlib, json, sys
src, tests, module, out = sys.argv[1:5]
sys.path[:0] = [src, tests]
generated = importlib.import_module("demo." + module)
importlib.import_module("test_" + module)
json.dump({"doc": generated.__doc__}, open(out, "w"))
"""
NOTEBOOK = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell("## Load"), nbformat.v4.new_code_cell("rows = [1, 2, 3]"),
    nbformat.v4.new_markdown_cell("## Evaluate"), nbformat.v4.new_code_cell("score = sum(rows)\nscore"),
])


@pytest.fixture(scope="module")
def template_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlpack_cli.commands.init import InitSettings, init_project

    root = tmp_path_factory.mktemp("template") / "demo"
    init_project(InitSettings(path=root, name="demo", ci="none", author="Ada", email="ada@example.org"))
    return root


def _fresh_project(template: Path, where: Path) -> Path:
    import shutil

    root = where / "demo"
    shutil.copytree(template, root)
    return root


def _import_generated(root: Path, module: str) -> str:
    out = root.parent / "doc.json"
    done = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORT, str(root / "src"), str(root / "tests"), module, str(out)],
        cwd=root, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (root / SENTINEL).exists(), "importing the generated module ran code from the file name"
    return str(json.loads(out.read_text())["doc"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stem=STEMS)
def test_hostile_notebook_names_give_modules_that_are_only_data(
    stem: str, template_project: Path, run_cli: Callable[..., object], tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _fresh_project(template_project, tmp_path_factory.mktemp("hostile"))
    name = f"{stem}.ipynb"
    nbformat.write(NOTEBOOK, str(root / "notebooks" / name))
    monkeypatch.chdir(root)
    result = run_cli("convert")
    output = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert "bug in mlpack" not in output and "Traceback" not in output
    assert not TERMINAL_CONTROL.search(output), "a control character of the name reached the terminal"
    try:
        module = module_name(Path(name))
    except Exception:
        assert result.exit_code == ExitCode.NOTEBOOK  # type: ignore[attr-defined]
        assert "Rename the notebook" in result.stderr  # type: ignore[attr-defined]
        return
    assert result.exit_code == 0, output  # type: ignore[attr-defined]
    assert module.isidentifier() and unicodedata.normalize("NFKC", module) == module
    assert module not in sys.stdlib_module_names
    generated = root / "src" / "demo" / f"{module}.py"
    tests = root / "tests" / f"test_{module}.py"
    display = f"notebooks/{name}"
    for path in (generated, tests):
        text = path.read_text(encoding="utf-8")
        compile(text, str(path), "exec")
        header = parse_header(text)
        assert header is not None and header.notebook == display
    doc = _import_generated(root, module)
    if sys.version_info < (3, 13):  # 3.13+ strips the indentation of every docstring it compiles
        assert f"a pipeline converted from the notebook {display}." in doc

    (root / "notebooks" / name).unlink()
    nbformat.write(NOTEBOOK, str(root / "notebooks" / "plain.ipynb"))  # a project always has one
    found = check_modules(ConvertSettings(root=root))
    assert sorted((o.path, o.notebook) for o in found.orphans) == sorted(
        [(f"src/demo/{module}.py", display), (f"tests/test_{module}.py", display)]
    )


@pytest.mark.parametrize(("name", "module"), [
    ("ﬁt.ipynb", "fit"), ("Ｔｒａｉｎ.ipynb", "train"), ("½.ipynb", "nb_1_2"), ("json.ipynb", "json_notebook"),
    ("random.ipynb", "random_notebook"), ("pytest.ipynb", "pytest_notebook"), ("class.ipynb", "class_notebook"),
    ("01 - Train Model.ipynb", "nb_01_train_model"), ("données.ipynb", "données"),
])
def test_module_names_are_what_python_imports(name: str, module: str) -> None:
    assert module_name(Path(name)) == module


def test_a_name_without_letters_or_digits_is_a_clear_error(
    template_project: Path, run_cli: Callable[..., object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _fresh_project(template_project, tmp_path)
    nbformat.write(NOTEBOOK, str(root / "notebooks" / "😀 -- 😀.ipynb"))
    nbformat.write(NOTEBOOK, str(root / "notebooks" / "train.ipynb"))
    monkeypatch.chdir(root)
    result = run_cli("convert")
    assert result.exit_code == ExitCode.NOTEBOOK  # type: ignore[attr-defined]
    assert "no letter or digit to make a module name from" in result.stderr  # type: ignore[attr-defined]
    assert "Hint: Rename the notebook" in result.stderr  # type: ignore[attr-defined]
    assert (root / "src/demo/train.py").is_file(), "the other notebooks are still converted"
    check = run_cli("convert", "--check")
    assert "Traceback" not in check.stderr and check.exit_code != 0  # type: ignore[attr-defined]


def test_control_characters_of_a_name_are_shown_as_escapes_never_sent_to_the_terminal(
    template_project: Path, run_cli: Callable[..., object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _fresh_project(template_project, tmp_path)
    nbformat.write(NOTEBOOK, str(root / "notebooks" / "e\x1b[2J\x1b]0;owned\x07\rX.ipynb"))  # converts
    nbformat.write(NOTEBOOK, str(root / "notebooks" / "\x1b\x07\u2014.ipynb"))  # refused: no letter
    monkeypatch.chdir(root)
    result = run_cli("convert")
    output = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == ExitCode.NOTEBOOK, output  # type: ignore[attr-defined]
    assert not TERMINAL_CONTROL.search(output)
    assert "notebooks/e\\x1b[2J\\x1b]0;owned\\x07\\rX.ipynb" in result.stderr  # type: ignore[attr-defined]
    assert "\\x1b\\x07\u2014.ipynb" in result.stderr  # type: ignore[attr-defined]
