"""Local modules a notebook imports: found as its import finds them, copied, imports rewritten."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
import tomlkit

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.notebook import localmods
from mlpack_cli.notebook.codegen import is_edited, parse_header
from mlpack_cli.notebook.dataflow import ParsedCell
from mlpack_cli.commands.init import InitSettings, init_project


def cells(*sources: str) -> list[ParsedCell]:
    return [ParsedCell(n, (), s, None, ast.parse(s), code=s) for n, s in enumerate(sources, start=1)]


def never_external(name: str) -> bool:
    return name in sys.stdlib_module_names


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- the search path ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "value"), [
    ("'lib'", "lib"),
    ("os.path.join('..', 'lib')", os.path.join("..", "lib")),
    ("os.path.abspath(os.path.join('..'))", ".."),
    ("str(Path('..') / 'src')", os.path.join("..", "src")),
    ("Path.cwd().parent", os.path.join(".", "..")),
    ("os.path.dirname(os.getcwd())", ""),
    ("os.pardir", ".."),
])
def test_path_values_of_literals_are_worked_out(expression: str, value: str) -> None:
    assert localmods.path_value(ast.parse(expression, mode="eval").body, {}) == value


@pytest.mark.parametrize("expression", ["input()", "os.environ['LIB']", "f'{x}/lib'", "Path(here)"])
def test_a_path_that_is_not_made_of_literals_is_unknown(expression: str) -> None:
    assert localmods.path_value(ast.parse(expression, mode="eval").body, {}) is None


def test_inserted_directories_come_first_and_appended_ones_after_installed_packages(tmp_path: Path) -> None:
    setups = localmods.find_setups(cells(
        "import sys\nsys.path.append('..')\nsys.path.insert(0, 'lib')",
        "here = 'vendor'",
        "sys.path.extend([here, 'more'])\nsys.path.insert(0, input())",
    ))
    assert [s.directories for s in setups] == [[Path("..")], [Path("lib")], [Path("vendor"), Path("more")], None]
    assert [s.front for s in setups] == [False, True, False, True]
    absolute = [localmods.PathSetup(s.cell, s.statement, [tmp_path / d for d in s.directories or []], s.front)
                for s in setups]
    search, front = localmods.search_path(tmp_path, absolute)
    assert search[:front] == [tmp_path / "lib", tmp_path]
    assert search[front:] == [tmp_path / "..", tmp_path / "vendor", tmp_path / "more"]


# -- finding the modules -----------------------------------------------------------------------------


def test_modules_beside_the_notebook_and_packages_on_its_sys_path_are_found_with_what_they_import(
    tmp_path: Path,
) -> None:
    write(tmp_path / "nb" / "utils.py", "import helpers\nimport yaml\n")
    write(tmp_path / "nb" / "helpers.py", "from . import nothing\n")  # relative: not looked for
    write(tmp_path / "lib" / "mylib" / "__init__.py", "from .core import ZERO\n")
    write(tmp_path / "lib" / "mylib" / "core.py", "ZERO = 0\n")
    write(tmp_path / "lib" / "mylib" / "__pycache__" / "core.py", "")
    write(tmp_path / "lib" / "mylib" / "notes.txt", "only .py files are copied")
    found = localmods.find_local_modules(
        cells("import sys\nsys.path.insert(0, '../lib')\nimport utils, json", "import mylib.core as c"),
        tmp_path / "nb", exclude=set(), external=lambda n: n in sys.stdlib_module_names or n == "yaml",
    )
    assert sorted(found.copied) == ["helpers", "mylib", "utils"]
    assert found.copied["mylib"].origin == tmp_path / "lib" / "mylib"
    assert sorted(found.copied["mylib"].files) == ["mylib/__init__.py", "mylib/core.py"]
    assert found.copied["utils"].files == {"utils.py": tmp_path / "nb" / "utils.py"}
    assert found.imports == {"yaml"}  # what the copies import from elsewhere: their dependencies
    assert found.missing == {}


def test_an_appended_directory_loses_to_an_installed_package_and_a_written_module_is_not_looked_for(
    tmp_path: Path,
) -> None:
    write(tmp_path / "lib" / "requests.py", "")
    write(tmp_path / "nb" / "features.py", "")
    found = localmods.find_local_modules(
        cells("import sys\nsys.path.append('../lib')\nimport requests\nimport features"),
        tmp_path / "nb", exclude={"features"}, external=lambda n: n in {"requests", "sys"},
    )
    assert found.copied == {}


def test_an_inserted_directory_comes_before_an_installed_package(tmp_path: Path) -> None:
    write(tmp_path / "nb" / "lib" / "requests.py", "")
    found = localmods.find_local_modules(
        cells("import sys\nsys.path.insert(0, 'lib')\nimport requests"),
        tmp_path / "nb", exclude=set(), external=lambda n: n in {"requests", "sys"},
    )
    assert list(found.copied) == ["requests"]


def test_a_directory_without_init_is_a_namespace_package(tmp_path: Path) -> None:
    write(tmp_path / "tools" / "text.py", "")
    found = localmods.find_local_modules(cells("from tools.text import clean"), tmp_path, exclude=set(),
                                         external=never_external)
    assert found.copied["tools"].files == {"tools/text.py": tmp_path / "tools" / "text.py"}


def test_a_missing_import_is_missing_only_where_the_notebook_looks_for_its_own_modules(tmp_path: Path) -> None:
    plain = localmods.find_local_modules(cells("import nowhere"), tmp_path, exclude=set(), external=never_external)
    assert plain.missing == {}  # may well come from an index
    looked = localmods.find_local_modules(cells("import sys\nsys.path.append('..')\nimport nowhere"), tmp_path,
                                          exclude=set(), external=never_external)
    assert looked.missing == {"nowhere": [tmp_path, tmp_path.parent]}


def test_a_local_module_that_is_not_python_3_is_named_with_its_line(tmp_path: Path) -> None:
    write(tmp_path / "old.py", "x = 1\nprint 'hello'\n")
    with pytest.raises(localmods.LocalModuleError, match=r"old\.py, line 2: .*not valid Python 3"):
        localmods.find_local_modules(cells("import old"), tmp_path, exclude=set(), external=never_external)


def test_clashes_are_modules_the_package_has_and_standard_library_names(tmp_path: Path) -> None:
    write(tmp_path / "monitoring.py", "")
    write(tmp_path / "json.py", "")
    write(tmp_path / "utils.py", "")
    found = localmods.find_local_modules(cells("import monitoring, json, utils"), tmp_path, exclude=set(),
                                         external=never_external)
    assert sorted(found.copied) == ["json", "monitoring", "utils"]  # json.py beside it wins, as in Jupyter
    assert localmods.clashes(found, {"monitoring"}) == ["json", "monitoring"]


# -- rewriting ---------------------------------------------------------------------------------------


def test_the_notebooks_imports_of_local_modules_name_the_package_wherever_they_are() -> None:
    parsed = cells(
        "import utils\nimport utils as u, numpy\nfrom utils import f\nimport mylib.sub as s\nimport mylib.sub\n"
        "from mylib.sub import g\nfrom . import rel\nimport utilsx\n",
        "def helper():\n    from utils import f\n    return f()\n",
    )
    localmods.rewrite_cells(parsed, {"utils", "mylib"}, "demo")
    assert ast.unparse(parsed[0].tree).splitlines() == [
        "from demo import utils", "from demo import utils as u", "import numpy", "from demo.utils import f",
        "import demo.mylib.sub as s", "from demo import mylib", "import demo.mylib.sub",
        "from demo.mylib.sub import g", "from . import rel", "import utilsx",
    ]
    assert "from demo.utils import f" in ast.unparse(parsed[1].tree)


def test_the_sys_path_set_up_that_only_served_copied_modules_is_dropped_with_its_imports(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "featlib.py", "")
    parsed = cells(
        "import os\nimport sys\nos.environ['A'] = '1'\nsys.path.insert(0, os.path.join('lib'))\nimport featlib",
        "module_path = os.path.abspath('lib')\nif module_path not in sys.path:\n    sys.path.append(module_path)",
    )
    found = localmods.find_local_modules(parsed, tmp_path, exclude=set(), external=never_external)
    assert localmods.drop_setups(parsed, found) == [1, 2]
    assert ast.unparse(parsed[0].tree).splitlines() == ["import os", "os.environ['A'] = '1'", "import featlib"]
    assert parsed[1].tree.body == []


def test_the_sys_path_set_up_stays_when_an_import_is_missing_or_the_directory_served_nothing(
    tmp_path: Path,
) -> None:
    write(tmp_path / "lib" / "featlib.py", "")
    missing = cells("import sys\nsys.path.insert(0, 'lib')\nimport featlib\nimport gone")
    found = localmods.find_local_modules(missing, tmp_path, exclude=set(), external=never_external)
    assert localmods.drop_setups(missing, found) == [] and len(missing[0].tree.body) == 4
    unused = cells("import sys\nsys.path.insert(0, 'lib')\nsys.path.append('..')\nimport featlib")
    found = localmods.find_local_modules(unused, tmp_path, exclude=set(), external=lambda n: n == "sys")
    assert localmods.drop_setups(unused, found) == [1]
    assert ast.unparse(unused[0].tree).splitlines() == ["import sys", "sys.path.append('..')", "import featlib"]


def test_copies_keep_their_text_and_name_the_package_in_their_imports(tmp_path: Path) -> None:
    write(tmp_path / "utils.py",
          "# -*- coding: latin-1 -*-\n\"\"\"Helpers.\"\"\"\nimport mylib.sub  # loads sub\nimport os, mylib\n"
          "from mylib import (\n    core,  # the core\n)\nfrom .x import y\n\n\ndef f():\n    import mylib as m\n"
          "    return m\n")
    write(tmp_path / "mylib" / "__init__.py", "from mylib.core import ZERO\r\n")
    write(tmp_path / "mylib" / "core.py", "ZERO = 0\n")
    found = localmods.find_local_modules(cells("import utils"), tmp_path, exclude=set(), external=never_external)
    files = localmods.copied_files(found, "demo", lambda p: p.relative_to(tmp_path).as_posix(), 79)
    assert sorted(files) == ["mylib/__init__.py", "mylib/core.py", "utils.py"]
    text = files["utils.py"]
    header = parse_header(text)
    assert header is not None and header.notebook == "utils.py" and not is_edited(text)
    assert header.source == __import__("hashlib").sha256((tmp_path / "utils.py").read_bytes()).hexdigest()
    assert text.splitlines()[4:] == [  # an encoding cookie below line 2 is inert: the copy is UTF-8
        "# -*- coding: latin-1 -*-", '"""Helpers."""',
        "from demo import mylib", "import demo.mylib.sub  # loads sub  # noqa: F401",
        "import os  # noqa: F401", "from demo import mylib  # noqa: F401,F811",
        "from demo.mylib import (  # noqa: F401", "    core,  # the core", ")", "from .x import y  # noqa: F401",
        "", "", "def f():", "    from demo import mylib as m", "    return m",
    ]
    assert files["mylib/__init__.py"].endswith("\nfrom demo.mylib.core import ZERO  # noqa: F401\n")


# -- in convert --------------------------------------------------------------------------------------


def project(root: Path) -> Path:
    init_project(InitSettings(path=root, name="demo", ci="none", example=False))
    return root


def notebook(root: Path, name: str, *sources: str) -> Path:
    path = root / "notebooks" / name
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_convert_copies_local_modules_and_the_pipeline_runs_without_the_notebooks_directory(tmp_path: Path) -> None:
    root = project(tmp_path / "demo")
    write(root / "notebooks" / "utils.py", "import statistics\nimport yaml\nfrom mylib import core\n\n\n"
          "def mean(xs):\n    return statistics.mean(xs) + core.OFFSET\n")
    write(root / "notebooks" / "lib" / "mylib" / "__init__.py", "")
    write(root / "notebooks" / "lib" / "mylib" / "core.py", "OFFSET = 10\n")
    notebook(root, "stats.ipynb", "import sys\nsys.path.insert(0, 'lib')\nfrom utils import mean",
             "# mlpack: evaluate\naverage = mean([1, 2, 3])")
    (report,) = convert_project(ConvertSettings(root=root)).reports
    assert report.ok, report.error
    assert report.copied == ["notebooks/lib/mylib -> src/demo/mylib/ (2 files)",
                             "notebooks/utils.py -> src/demo/utils.py"]
    module = (root / "src" / "demo" / "stats.py").read_text()
    assert "sys.path" not in module and "from demo.utils import mean" in module
    dependencies = tomlkit.parse((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "pyyaml" in [d.split(">")[0] for d in dependencies]  # what the copy imports is declared
    lint = subprocess.run([sys.executable, "-m", "flake8", "--config", str(root / ".flake8"), "src"],
                          cwd=root, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout  # the copies too: the project's `mlpack check` lints them
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ran = subprocess.run(
        [sys.executable, "-c", "import json, sys; sys.modules['yaml'] = type(sys)('yaml')\n"
         "from demo.stats import run; print(json.dumps(run()))"],
        cwd=elsewhere, env={**os.environ, "PYTHONPATH": str(root / "src")}, capture_output=True, text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1]) == {"average": 12}


def test_a_changed_local_module_refreshes_its_copy_and_an_edited_copy_is_a_conflict(tmp_path: Path) -> None:
    root = project(tmp_path / "demo")
    original = write(root / "notebooks" / "utils.py", "VALUE = 1\n")
    notebook(root, "uses.ipynb", "import utils", "value = utils.VALUE")
    assert convert_project(ConvertSettings(root=root)).ok
    copy = root / "src" / "demo" / "utils.py"
    original.write_text("VALUE = 2\n")
    result = convert_project(ConvertSettings(root=root))
    assert result.ok and copy.read_text().endswith("\nVALUE = 2\n")
    copy.write_text(copy.read_text() + "EXTRA = 3\n")  # the user edits the copy ...
    assert convert_project(ConvertSettings(root=root)).ok  # ... kept while its original is the same
    assert copy.read_text().endswith("EXTRA = 3\n")
    original.write_text("VALUE = 4\n")  # ... and a conflict once the original changes
    (report,) = convert_project(ConvertSettings(root=root)).reports
    assert [(c.path, c.state) for c in report.conflicts] == [("src/demo/utils.py", "edited")]
    assert copy.read_text().endswith("EXTRA = 3\n")
    forced = convert_project(ConvertSettings(root=root, force=True))
    assert forced.ok and copy.read_text().endswith("\nVALUE = 4\n")


def test_a_local_module_named_like_a_module_of_the_package_is_an_error_for_its_notebook(tmp_path: Path) -> None:
    root = project(tmp_path / "demo")
    write(root / "notebooks" / "monitoring.py", "")
    write(root / "notebooks" / "json.py", "")
    write(root / "notebooks" / "train.py", "")
    notebook(root, "a.ipynb", "import monitoring\nx = 1")
    notebook(root, "b.ipynb", "import json\nx = json.dumps(1)")
    notebook(root, "c.ipynb", "import train\nx = train.f")
    notebook(root, "train.ipynb", "x = 1")
    result = convert_project(ConvertSettings(root=root))
    errors = {r.notebook: r.error for r in result.failed}
    assert errors == {
        "notebooks/a.ipynb": "notebooks/a.ipynb: the local module 'monitoring' (notebooks/monitoring.py) would "
                             "become demo.monitoring, which has the name of a module mlpack writes itself",
        "notebooks/b.ipynb": "notebooks/b.ipynb: the local module 'json' (notebooks/json.py) would become "
                             "demo.json, which has the name of a standard-library module",
        "notebooks/c.ipynb": "notebooks/c.ipynb: the local module 'train' (notebooks/train.py) has the name of "
                             "another notebook's module",
    }
    assert all(r.hint and "Rename the local module" in r.hint for r in result.failed)
    assert [r.notebook for r in result.reports if r.ok] == ["notebooks/train.ipynb"]
    assert not (root / "src" / "demo" / "json.py").exists()


def test_a_missing_local_module_is_reported_with_the_paths_searched_and_not_declared(tmp_path: Path) -> None:
    root = project(tmp_path / "demo")
    notebook(root, "lost.ipynb", "import sys\nsys.path.append('../shared')\nimport helpers_05_08\n"
             "x = helpers_05_08.f()")
    result = convert_project(ConvertSettings(root=root))
    (report,) = result.reports
    assert report.ok, report.error
    assert ("local module 'helpers_05_08' not found (searched notebooks, shared): not copied into the package, "
            "and not declared as a dependency") in report.warnings
    assert report.unresolved_imports == [] and result.dependencies_added == []
    assert not [w for w in report.warnings if w.startswith("local modules reached")]
    assert "sys.path.append('../shared')" in (root / "src" / "demo" / "lost.py").read_text()


def test_check_finds_a_copy_whose_local_file_changed_and_prune_removes_a_copy_whose_file_is_gone(
    tmp_path: Path,
) -> None:
    from mlpack_cli.commands.convert import check_modules

    root = project(tmp_path / "demo")
    write(root / "notebooks" / "utils.py", "VALUE = 1\n")
    write(root / "notebooks" / "tools" / "text.py", "WORD = 'a'\n")
    notebook(root, "uses.ipynb", "import utils\nfrom tools import text", "value = (utils.VALUE, text.WORD)")
    assert convert_project(ConvertSettings(root=root)).ok
    assert check_modules(ConvertSettings(root=root)).ok
    (root / "notebooks" / "utils.py").write_text("VALUE = 2\n")
    found = check_modules(ConvertSettings(root=root))
    assert [(s.notebook, s.module, s.state) for s in found.stale] == [
        ("notebooks/utils.py", "src/demo/utils.py", "changed")]
    (root / "notebooks" / "tools" / "text.py").unlink()
    (root / "notebooks" / "uses.ipynb").unlink()
    notebook(root, "other.ipynb", "x = 1")
    result = convert_project(ConvertSettings(root=root, prune=True))
    assert "src/demo/tools/text.py" in result.pruned
    assert not (root / "src" / "demo" / "tools" / "text.py").exists()
    assert (root / "src" / "demo" / "utils.py").exists()  # its local file is still there


def test_the_projects_own_package_reached_through_src_is_not_copied(tmp_path: Path) -> None:
    root = project(tmp_path / "demo")
    write(root / "src" / "demo" / "shapes.py", "SIDES = 4\n")
    notebook(root, "own.ipynb", "import sys\nsys.path.insert(0, '../src')\nfrom demo.shapes import SIDES",
             "sides = SIDES")
    (report,) = convert_project(ConvertSettings(root=root)).reports
    assert report.ok, report.error
    assert report.copied == [] and not (root / "src" / "demo" / "demo").exists()
    assert "from demo.shapes import SIDES" in (root / "src" / "demo" / "own.py").read_text()


def test_the_cli_prints_a_line_per_copy_and_a_clash_as_error_and_hint(
    tmp_path: Path, run_cli: Callable[..., Any], chdir: Callable[[Path], None],
) -> None:
    root = project(tmp_path / "demo")
    write(root / "notebooks" / "utils.py", "VALUE = 1\n")
    write(root / "notebooks" / "sub" / "monitoring.py", "")
    notebook(root, "good.ipynb", "import utils", "value = utils.VALUE")
    (root / "notebooks" / "sub" / "bad.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import monitoring\nx = monitoring.track")])))
    chdir(root)
    result = run_cli("convert")
    assert result.exit_code == 6
    assert "notebooks/good.ipynb: copied the local module notebooks/utils.py -> src/demo/utils.py" in result.stdout
    assert ("Error: notebooks/sub/bad.ipynb: the local module 'monitoring' (notebooks/sub/monitoring.py) would "
            "become demo.monitoring, which has the name of a module mlpack writes itself") in result.stderr
    assert "Hint: Rename the local module 'monitoring' (and the imports of it)." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_local_module_with_a_secret_or_bad_syntax_fails_its_notebook_and_is_not_copied(tmp_path: Path) -> None:
    root = project(tmp_path / "demo")
    key = "AKIA" + "QWERTYUIOPASDFGH"  # an AWS access key id, split so that no scanner flags this file
    write(root / "notebooks" / "keys.py", f"import os\n\nAWS_KEY = '{key}'\n")
    write(root / "notebooks" / "old.py", "x = 1\nprint 'hi'\n")
    notebook(root, "aws.ipynb", "import keys\nk = keys.AWS_KEY")
    notebook(root, "legacy.ipynb", "import old\nx = old.x")
    result = convert_project(ConvertSettings(root=root))
    errors = {r.notebook: (r.error, r.hint) for r in result.failed}
    error, hint = errors["notebooks/aws.ipynb"]
    assert error.startswith("notebooks/aws.ipynb: imports a local module that cannot be copied into the package: "
                            "notebooks/keys.py, line 3: AWS Access Key ")
    assert key not in error and "a secret is never copied into the package" in error
    assert "environment variable" in hint
    error, hint = errors["notebooks/legacy.ipynb"]
    assert error.endswith("notebooks/old.py, line 2: Missing parentheses in call to 'print'. Did you mean "
                          "print(...)?: not valid Python 3")
    assert not (root / "src" / "demo" / "keys.py").exists() and not (root / "src" / "demo" / "old.py").exists()
