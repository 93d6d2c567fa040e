"""Star imports: what they bring in, read from the module's source without running it, and the
notebook's star imports rewritten to import what the notebook uses."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from mlpack_cli.notebook import cst
from mlpack_cli.notebook.dataflow import ParsedCell
from mlpack_cli.notebook.starimports import (
    KEEP_IMPORT, MAX_DEPTH, STAR_NAMES, Locator, Resolver, expand, has_star_import,
)
from mlpack_cli.notebook.usertext import Edits, Sources


def write(root: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def resolver(root: Path) -> Resolver:
    """Modules looked for in ``root`` only (as a local directory, or an installed site-packages)."""
    return Resolver(Locator(path=[str(root)]))


def cells(*sources: str) -> list[ParsedCell]:
    found = []
    for number, source in enumerate(sources, start=1):
        code = textwrap.dedent(source).strip("\n") + "\n"
        found.append(ParsedCell(number, (), code, None, ast.parse(code), code=code))
    return found


# -- the resolver ------------------------------------------------------------------------------


def test_a_literal_all_is_what_it_brings_in(tmp_path: Path) -> None:
    write(tmp_path, {"helpers.py": """
        __all__ = ["scale", "_hidden_but_listed"]
        __all__ += ["LIMIT"]
        def scale(x): return x
        def other(x): return x
        LIMIT = 3
        _hidden_but_listed = 1
        """})
    found = resolver(tmp_path).provided("helpers")
    assert found.names == {"scale", "_hidden_but_listed", "LIMIT"}
    assert found.complete and found.found and not found.effects


def test_without_all_its_public_top_level_bindings(tmp_path: Path) -> None:
    write(tmp_path, {"shapes.py": "__all__ = ['Any']\nAny = object\nOther = 1\n", "helpers.py": """
        import numpy as np
        import os.path
        from collections import OrderedDict as Ordered
        from shapes import *
        try:
            import ujson as json
        except ImportError:
            import json
        if __name__ == "__main__":
            MAIN_ONLY = 1
        A, (B, C) = 1, (2, 3)
        D: int = 4
        E: int
        def f(): pass
        async def g(): pass
        class K: pass
        _private = 5
        gone = 6
        del gone
        """})
    found = resolver(tmp_path).provided("helpers")
    assert {"np", "os", "Ordered", "json", "A", "B", "C", "D", "f", "g", "K", "Any"} <= found.names
    assert not {"MAIN_ONLY", "E", "_private", "gone", "__all__", "Other"} & found.names
    assert found.complete


def test_a_nested_star_import_is_followed_and_a_relative_one_in_its_package(tmp_path: Path) -> None:
    write(tmp_path, {
        "kit/__init__.py": "from .core import *\nfrom .extra import tool\n",
        "kit/core.py": "__all__ = ['alpha']\nalpha = 1\nbeta = 2\n",
        "kit/extra.py": "def tool(): pass\n",
    })
    found = resolver(tmp_path).provided("kit")
    assert found.names == {"alpha", "tool", "extra"}  # importing kit.extra makes it a name of kit
    assert found.complete


def test_a_cycle_of_star_imports_ends(tmp_path: Path) -> None:
    write(tmp_path, {"ping.py": "from pong import *\ndef ping(): pass\n",
                     "pong.py": "from ping import *\ndef pong(): pass\n"})
    found = resolver(tmp_path).provided("ping")
    assert found.names == {"ping", "pong"} and found.complete


def test_star_imports_nested_too_deeply_leave_it_unresolved(tmp_path: Path) -> None:
    depth = MAX_DEPTH + 2
    write(tmp_path, {f"m{i}.py": f"from m{i + 1} import *\nname{i} = {i}\n" for i in range(depth)})
    write(tmp_path, {f"m{depth}.py": "last = 1\n"})
    found = resolver(tmp_path).provided("m0")
    assert "name0" in found.names and not found.complete
    assert "too deeply" in found.reason


def test_unparseable_compiled_and_missing_modules_are_unresolved(tmp_path: Path) -> None:
    write(tmp_path, {"broken.py": "def f(:\n"})
    broken = resolver(tmp_path).provided("broken")
    assert not broken.found and not broken.complete and "does not parse (line 1" in broken.reason
    missing = resolver(tmp_path).provided("not_there_at_all")
    assert not missing.complete and missing.reason == "not installed here"
    compiled = Resolver(Locator()).provided("math")
    assert not compiled.complete and not compiled.names
    assert "compiled" in compiled.reason or "built into Python" in compiled.reason


def test_a_computed_all_gives_the_bindings_it_is_not_sure_of(tmp_path: Path) -> None:
    write(tmp_path, {"dyn.py": "from other import names\n__all__ = list(names)\nvalue = 1\n"})
    found = resolver(tmp_path).provided("dyn")
    assert found.names == {"names", "value"} and not found.complete and "computed" in found.reason


def test_an_installed_package_is_read_without_running_its_init(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "boom/__init__.py": "raise RuntimeError('importing boom runs its __init__')\n",
        "boom/tools/__init__.py": "raise RuntimeError('importing boom.tools runs its __init__')\n",
        "boom/tools/hammer.py": "__all__ = ['hit']\ndef hit(): pass\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RuntimeError):  # what importing would do
        __import__("boom.tools.hammer")
    for name in [n for n in sys.modules if n.startswith("boom")]:
        monkeypatch.delitem(sys.modules, name)
    found = Resolver(Locator()).provided("boom.tools.hammer")  # on sys.path, as the import finds it
    assert found.names == {"hit"} and found.complete
    assert not [n for n in sys.modules if n.startswith("boom")]


def test_top_level_code_counts_as_an_effect(tmp_path: Path) -> None:
    write(tmp_path, {"quiet.py": "X = [1, 2]\ndef f(): pass\n", "loud.py": "print('hello')\n",
                     "configured.py": "import os\nLEVEL = os.environ.get('LEVEL')\n"})
    assert not resolver(tmp_path).provided("quiet").effects
    assert resolver(tmp_path).provided("loud").effects
    assert resolver(tmp_path).provided("configured").effects


def test_a_local_module_is_looked_for_where_the_notebook_finds_it(tmp_path: Path) -> None:
    write(tmp_path, {"lib/feats.py": "__all__ = ['ratio']\ndef ratio(a, b): return a / b\n"})
    locator = Locator(roots={"feats": [tmp_path / "lib"]}, texts={"written": "K = 1\n"}, package="pkg")
    assert locator.as_written("pkg.feats") == "feats" and locator.as_written("pkg.other") == "pkg.other"
    assert Resolver(locator).provided("pkg.feats").names == {"ratio"}
    assert Resolver(locator).provided("pkg.written").names == {"K"}


# -- the notebook's star imports ----------------------------------------------------------------


def test_a_resolved_star_import_imports_what_the_notebook_reads(tmp_path: Path) -> None:
    write(tmp_path, {"helpers.py": "__all__ = ['scale', 'shift', 'LIMIT', 'unused']\n"
                                   "def scale(x): pass\ndef shift(x): pass\nLIMIT = 1\nunused = 2\n"})
    notebook = cells("import os\nfrom helpers import *  # the helpers", "shift = 0\ny = scale(LIMIT) + shift")
    lines = expand(notebook, resolver(tmp_path))
    node = notebook[0].tree.body[1]
    assert isinstance(node, ast.ImportFrom) and [a.name for a in node.names] == ["LIMIT", "scale"]
    assert getattr(node, STAR_NAMES) == ("LIMIT", "scale")
    assert lines == ["cell 1, line 2: from helpers import * became an explicit import of what the notebook uses "
                     "of it: LIMIT, scale"]


def test_a_name_a_resolved_import_provides_again_is_its_own(tmp_path: Path) -> None:
    write(tmp_path, {"helpers.py": "value = 1\n"})
    notebook = cells("value = 0\nfrom helpers import *", "print(value)")  # the import rebinds value
    expand(notebook, resolver(tmp_path))
    assert [a.name for a in notebook[0].tree.body[1].names] == ["value"]


def test_an_unresolved_star_import_gets_the_names_nothing_binds(tmp_path: Path) -> None:
    notebook = cells(
        "from compiled_thing import *",
        "def area(r):\n    return pi * r ** 2 * factor\n",
        "factor = 2\nprint(len(In), _, display, sqrt(area(1)), factor)",
    )
    (line,) = expand(notebook, resolver(tmp_path))
    assert [a.name for a in notebook[0].tree.body[0].names] == ["pi", "sqrt"]  # not factor, In, _, display, len
    assert line.startswith("cell 1, line 1: from compiled_thing import *: cannot read what it brings in without "
                           "running it (not installed here); the names the notebook reads and sets nowhere are "
                           "taken from it: pi, sqrt")
    assert "guess" not in line


def test_a_module_known_in_part_gives_what_its_source_shows_and_is_warned_about_the_rest(tmp_path: Path) -> None:
    write(tmp_path, {"dyn.py": "from other import names\n__all__ = list(names)\ndef sum(values): return 0\n"})
    notebook = cells("from dyn import *", "total = sum([1, 2]) + mystery")
    (line,) = expand(notebook, resolver(tmp_path))
    assert [a.name for a in notebook[0].tree.body[0].names] == ["mystery", "sum"]  # sum: the module's, as in Python
    assert line == ("cell 1, line 1: from dyn import * became an explicit import of what the notebook uses of it: "
                    "mystery, sum; mystery not among what its source shows (its __all__ is computed when it is "
                    "imported), but the notebook sets it nowhere; check them")


def test_several_unresolved_star_imports_give_the_names_to_the_last_one_as_a_guess(tmp_path: Path) -> None:
    write(tmp_path, {"known.py": "__all__ = ['known']\nknown = 1\n"})
    notebook = cells("from first_unknown import *\nfrom second_unknown import *\nfrom known import *",
                     "print(known, mystery)")
    lines = expand(notebook, resolver(tmp_path))
    first, second, known = notebook[0].tree.body
    assert isinstance(first, ast.Import) and getattr(first.names[0], KEEP_IMPORT)  # it may still do something
    assert [a.name for a in second.names] == ["mystery"] and [a.name for a in known.names] == ["known"]
    assert "kept as `import first_unknown`" in lines[0]
    assert "a guess for mystery: another star import could provide them" in lines[1]


def test_a_star_import_nothing_is_used_of_is_dropped_when_importing_it_does_nothing_else(tmp_path: Path) -> None:
    write(tmp_path, {"quiet.py": "def f(): pass\n", "loud.py": "print('hi')\ndef g(): pass\n"})
    notebook = cells("from quiet import *\nfrom loud import *\nx = 1")
    lines = expand(notebook, resolver(tmp_path))
    body = notebook[0].tree.body
    assert isinstance(body[0], ast.Import) and body[0].names[0].name == "loud" and len(body) == 2
    assert lines[0] == "cell 1, line 1: from quiet import *: the notebook uses nothing it provides: dropped"


def test_a_star_import_in_a_block_is_rewritten_there(tmp_path: Path) -> None:
    write(tmp_path, {"fast.py": "def go(): pass\n"})
    notebook = cells("try:\n    from fast import *\nexcept ImportError:\n    def go(): pass\n", "go()")
    expand(notebook, resolver(tmp_path))
    assert ast.unparse(notebook[0].tree).splitlines()[1] == "    from fast import go"


def test_cells_without_a_star_import_are_told_apart_by_their_text() -> None:
    assert has_star_import(cells("from a import *"))
    assert has_star_import(cells("from a import \\\n    *"))
    assert not has_star_import(cells("import a\nx = 2 * 3"))


# -- the rewrite keeps the user's text ----------------------------------------------------------


def test_explicit_imports_keep_comments_and_layout() -> None:
    code = "try:\n    from a import *  # fast\nexcept ImportError:  # slow\n    from b import *\n"
    assert cst.explicit_imports(code, [("x", "y"), ("z",)]) == (
        "try:\n    from a import x, y  # fast\nexcept ImportError:  # slow\n    from b import z\n")
    assert cst.explicit_imports("from a import *\n", [("x",), ("y",)]) is None  # not the star imports written


def test_the_generated_text_of_a_rewritten_star_import_is_the_users_with_the_names(tmp_path: Path) -> None:
    write(tmp_path, {"helpers.py": "def scale(x): pass\nLIMIT = 1\n"})
    notebook = cells("# set-up first\nfrom helpers import *  # our helpers\ny = scale(LIMIT)")
    expand(notebook, resolver(tmp_path))
    piece = Sources(notebook, Edits()).piece(notebook[0].tree.body[0])
    assert piece.text == "# set-up first\nfrom helpers import LIMIT, scale  # our helpers"
    assert piece.kept_text


# -- through convert ----------------------------------------------------------------------------


def test_convert_keeps_an_unresolved_star_import_nothing_is_used_of_and_drops_a_quiet_one(tmp_path: Path) -> None:
    import subprocess

    import nbformat

    from mlpack_cli.commands.convert import ConvertSettings, convert_project
    from mlpack_cli.commands.init import InitSettings, init_project

    root = tmp_path / "demo"
    init_project(InitSettings(path=root, name="demo", ci="none", example=False))
    (root / "notebooks/quiet.py").write_text("def unused():\n    return 1\n")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from somewhere_unknown.core import *  # sets things up\nfrom quiet import *"),
        nbformat.v4.new_code_cell("values = [3, 1, 2]\nlargest = max(values)"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "notebooks/setup.ipynb")
    (report,) = convert_project(ConvertSettings(root=root)).reports
    assert report.ok, report.error
    assert ("cell 1, line 1: from somewhere_unknown.core import *: the notebook uses nothing it provides; kept as "
            "`import somewhere_unknown.core`, since importing it runs its code") in report.warnings
    assert "cell 1, line 2: from quiet import *: the notebook uses nothing it provides: dropped" in report.warnings
    assert "somewhere-unknown" in report.dependencies
    module = (root / "src/demo/setup.py").read_text()
    assert "# sets things up\nimport somewhere_unknown.core  # noqa: F401\n" in module
    assert "quiet" not in module and "import *" not in module
    lint = subprocess.run([sys.executable, "-m", "flake8", "--config", str(root / ".flake8"), "src/demo/setup.py"],
                          cwd=root, capture_output=True, text=True, check=False)
    assert (lint.returncode, lint.stdout) == (0, "")


def test_placement_and_dataflow_see_the_names_bound_by_the_import(tmp_path: Path) -> None:
    from mlpack_cli.notebook.dataflow import build_pipeline
    from mlpack_cli.notebook.stages import DEFAULT_KEYWORDS

    write(tmp_path, {"helpers.py": "FACTOR = 3\ndef scale(x):\n    return x * FACTOR\n"})
    notebook = cells("from helpers import *", "def grow(v):\n    return scale(v) + FACTOR\n",
                     "from sklearn.datasets import load_iris\nX, y = load_iris(return_X_y=True)\nbig = grow(X)")
    expand(notebook, resolver(tmp_path))
    pipeline = build_pipeline(notebook, DEFAULT_KEYWORDS)
    imported = {a.name for s in pipeline.imports if isinstance(s, ast.ImportFrom) and s.module == "helpers"
                for a in s.names}
    assert imported == {"FACTOR", "scale"}
    assert not pipeline.helper_globals.get("grow")  # module-level names, not globals passed in
    assert [h.name for h in pipeline.helpers if isinstance(h, ast.FunctionDef)] == ["grow"]
    assert not pipeline.required


def test_names_a_package_takes_from_public_modules_are_imported_from_them(tmp_path: Path) -> None:
    write(tmp_path, {
        "kit/__init__.py": "import json as js\nfrom kit.plots import *\nfrom ._maths import *\nfrom os import getcwd\n",
        "kit/plots.py": "__all__ = ['draw']\ndef draw(): pass\n",
        "kit/_maths.py": "def add(a, b): return a + b\n",
        "os.py": "def getcwd(): pass\n",
    })
    notebook = cells("from kit import *  # all of it", "draw()\nprint(add(1, 2), js.dumps(getcwd()))")
    (line,) = expand(notebook, resolver(tmp_path))
    written = [ast.unparse(s) for s in notebook[0].tree.body]
    assert written == ["from kit import add", "from kit.plots import draw", "from os import getcwd",
                       "import json as js"]
    assert line.endswith("add, draw, getcwd, js (draw from kit.plots; getcwd from os; js from json)")
    piece = Sources(notebook, Edits()).piece(notebook[0].tree.body[0])  # (add: from kit's private module)
    assert piece.text == "from kit import add  # all of it"
