"""Colab-only statements are dropped before analysis, each with its cell and line."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from mlpack_cli.notebook.colab import drop_colab


@dataclass
class Cell:
    number: int
    tree: ast.Module


def cells(*sources: str) -> list[Cell]:
    return [Cell(n, ast.parse(textwrap.dedent(s))) for n, s in enumerate(sources, start=1)]


def code(cell: Cell) -> str:
    return ast.unparse(cell.tree)


def test_mount_upload_download_and_their_imports_are_dropped_with_cell_and_line() -> None:
    notebook = cells(
        "import pandas as pd\nfrom google.colab import drive\ndrive.mount('/content/drive')",
        "from google.colab import files\nuploaded = files.upload()\ndf = pd.read_csv('x.csv')",
        "df.to_csv('out.csv')\nfiles.download('out.csv')",
    )
    warnings = drop_colab(notebook)
    assert [code(c) for c in notebook] == ["import pandas as pd", "df = pd.read_csv('x.csv')", "df.to_csv('out.csv')"]
    assert "cell 1, line 3: dropped `drive.mount('/content/drive')`: it works only in Colab" in warnings
    assert any(w.startswith("cell 2, line 2: dropped `uploaded = files.upload()`") and "uploaded is then not set" in w
               for w in warnings)
    assert any(w.startswith("cell 3, line 2: dropped `files.download('out.csv')`") for w in warnings)
    assert any(w.startswith("cell 1, line 2: dropped `from google.colab import drive`") for w in warnings)


def test_aliases_dotted_calls_and_nested_statements() -> None:
    notebook = cells(
        "import google.colab.files as gfiles\nimport google.colab\n"
        "try:\n    from google.colab import auth\n    auth.authenticate_user()\nexcept ImportError:\n    pass\n"
        "google.colab.drive.mount('/d')\ngfiles.download('a')\nx = 1",
    )
    warnings = drop_colab(notebook)
    assert code(notebook[0]) == "try:\n    pass\nexcept ImportError:\n    pass\nx = 1"
    assert len(warnings) == 6


def test_an_import_still_read_by_kept_code_stays_and_says_the_module_needs_colab() -> None:
    notebook = cells("from google.colab import userdata\ntoken = userdata.get('TOKEN')\ndrive_path = '/x'")
    warnings = drop_colab(notebook)
    assert code(notebook[0]).startswith("from google.colab import userdata")  # its value is used: not dropped
    assert warnings == ["kept the google.colab imports of userdata, which kept code reads: "
                        "the module runs only in Colab until that code is changed"]


def test_notebooks_without_colab_are_left_alone() -> None:
    notebook = cells("import files\nfiles.upload()\ndrive.mount('/x')")
    assert drop_colab(notebook) == []
    assert code(notebook[0]) == "import files\nfiles.upload()\ndrive.mount('/x')"


def test_report_lines_come_in_notebook_order() -> None:
    notebook = cells("from google.colab import drive\ndrive.mount('/d')",
                     "from google.colab import files\nfiles.upload()")
    assert [w.split(": ")[0] for w in drop_colab(notebook)] == [
        "cell 1, line 1", "cell 1, line 2", "cell 2, line 1", "cell 2, line 2"]
