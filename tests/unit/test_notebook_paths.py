"""Paths: which strings are files the notebook reads or writes, their parameters, re-basing, network."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from mlpack_cli.notebook import stages as st
from mlpack_cli.notebook.codegen import generate
from mlpack_cli.notebook.dataflow import ParsedCell, Pipeline, build_pipeline
from mlpack_cli.notebook.paths import PathReport, is_path_like, parameter_name, parametrize, rebase


def convert(*cells: str | tuple[str, str], notebook_dir: str = "notebooks"
            ) -> tuple[Pipeline, PathReport, list[ParsedCell]]:
    parsed = []
    for number, cell in enumerate(cells, start=1):
        source, heading = (cell, None) if isinstance(cell, str) else cell
        source = textwrap.dedent(source)
        parsed.append(ParsedCell(number, (), source, heading, ast.parse(source), code=source))
    pipeline = build_pipeline(parsed, st.DEFAULT_KEYWORDS)
    return pipeline, parametrize(pipeline, parsed, notebook_dir), parsed


def module_text(pipeline: Pipeline, parsed: list[ParsedCell]) -> str:
    return generate(pipeline, package="demo", module="nb", notebook="notebooks/nb.ipynb", source_hash="0" * 64,
                    cells=parsed).module


def stage(pipeline: Pipeline, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in pipeline.stages if s.name == name)


@pytest.mark.parametrize(("path", "directory", "expected"), [
    ("../data/iris.csv", "notebooks", "data/iris.csv"),
    ("data/iris.csv", "notebooks", "notebooks/data/iris.csv"),
    ("./model.pkl", "notebooks/deep", "notebooks/deep/model.pkl"),
    ("../../shared/x.csv", "notebooks", "../shared/x.csv"),  # outside the project: still from the root
    ("../models/", "notebooks", "models/"),  # the final "/" kept: the notebook may add a file's name
    ("./", "notebooks", "notebooks/"), ("../", "notebooks", "."),
    ("x.csv", ".", "x.csv"),
    ("..\\data\\x.csv", "notebooks", "data/x.csv"),  # written on Windows
    ("/srv/data/x.csv", "notebooks", "/srv/data/x.csv"),  # absolute: as written
    ("~/data/x.csv", "notebooks", "~/data/x.csv"),
    ("C:\\data\\x.csv", "notebooks", "C:\\data\\x.csv"),
])
def test_relative_paths_are_rebased_from_the_notebooks_directory(path: str, directory: str, expected: str) -> None:
    assert rebase(path, directory) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("../data/iris.csv", True), ("model.pkl", True), ("models", True),
    ("https://example.com/x.csv", False), ('{"a": 1}', False), ("data/*.csv", False), ("", False),
    (".", False), ("a\nb", False), ("0.20", True),
])
def test_what_can_name_a_file(value: str, expected: bool) -> None:
    assert is_path_like(value) is expected


def test_parameter_names_say_what_the_path_is_and_are_unique() -> None:
    taken = {"iris_csv", "load"}
    assert parameter_name("../data/iris.csv", False, taken) == "iris_csv_2"
    assert parameter_name("models/model.pkl", False, taken) == "model_pkl"
    assert parameter_name("../models", True, taken) == "models_dir"
    assert parameter_name("output", False, taken) == "output_path"
    assert parameter_name("2024 data.csv", False, taken) == "path_2024_data_csv"
    assert parameter_name("load", False, taken) == "load_path"
    assert parameter_name("class.txt", False, taken) == "class_txt"


def test_a_literal_passed_to_a_reader_becomes_a_rebased_parameter_of_its_stage_and_run() -> None:
    pipeline, report, parsed = convert(
        "import pandas as pd\nimport joblib\nfrom sklearn.tree import DecisionTreeClassifier",
        ("df = pd.read_csv('../data/iris.csv')  # the data", "Load"),
        ("model = DecisionTreeClassifier().fit(df, df)", "Train"),
        ("joblib.dump(model, '../models/model.pkl')", "Export"),
    )
    assert [(p.name, p.default, p.written, p.role) for p in report.parameters] == [
        ("iris_csv", "data/iris.csv", "../data/iris.csv", "input"),
        ("model_pkl", "models/model.pkl", "../models/model.pkl", "output"),
    ]
    assert stage(pipeline, "load").constants == ["iris_csv"]
    assert stage(pipeline, "export").constants == ["model_pkl"]
    text = module_text(pipeline, parsed)
    assert "iris_csv = 'data/iris.csv'\nmodel_pkl = 'models/model.pkl'\n" in text
    assert "df = pd.read_csv(iris_csv)  # the data" in text  # the user's text, only the string changed
    assert "def run(*, iris_csv=iris_csv, model_pkl=model_pkl):" in text
    # the directory the write needs is created first
    made = "pathlib.Path(model_pkl).parent.mkdir(parents=True, exist_ok=True)"
    assert f"{made}\n    joblib.dump(model, model_pkl)" in text
    assert "import pathlib" in text
    compile(text, "nb.py", "exec")


def test_a_constant_holding_a_path_keeps_its_name_and_gets_a_rebased_default() -> None:
    pipeline, report, parsed = convert(
        "from pathlib import Path\nDATA = '../data/houses.csv'\nOUT = 'out.json'\nVERSION = '0.20'",
        ("rows = open(DATA, newline='').read()", "Load"),
        ("Path(OUT).write_text(rows)", "Export"),
    )
    assert [(p.name, p.default, p.role, p.constant) for p in report.parameters] == [
        ("DATA", "data/houses.csv", "input", True), ("OUT", "notebooks/out.json", "output", True),
    ]
    text = module_text(pipeline, parsed)
    assert "DATA = 'data/houses.csv'\nOUT = 'notebooks/out.json'\n" in text  # the user's quotes kept
    assert "Path(OUT).parent.mkdir(parents=True, exist_ok=True)" in text  # Path as the notebook imports it
    assert "import pathlib" not in text


def test_open_modes_and_writers_decide_read_or_written() -> None:
    _, report, _ = convert(
        "import numpy as np\nimport os",
        ("a = np.load('a.npy')\nwith open('notes.txt') as f:\n    n = f.read()\n"
         "with open('log.txt', 'a') as f:\n    f.write(n)\n"
         "os.makedirs('work', exist_ok=True)\nnp.save('work/b.npy', a)\nc = open('work/b.npy', 'rb').read()", "Load"),
    )
    roles = {p.written: (p.role, p.directory) for p in report.parameters}
    assert roles == {"a.npy": ("input", False), "log.txt": ("output", False), "work": ("output", True),
                     "work/b.npy": ("output", False), "notes.txt": ("input", False)}


def test_a_file_read_and_then_written_is_updated() -> None:
    _, report, _ = convert("import pandas as pd", ("df = pd.read_csv('state.csv')\ndf.to_csv('state.csv')", "Load"))
    assert [(p.name, p.role) for p in report.parameters] == [("state_csv", "updated")]


def test_paths_built_from_a_directory_make_it_a_directory_parameter() -> None:
    pipeline, report, parsed = convert(
        "import os\nimport joblib\nfrom pathlib import Path\nimport pandas as pd\nDATA_DIR = '../data'",
        ("train = pd.read_csv(os.path.join(DATA_DIR, 'train.csv'))\nout = Path('../models')", "Load"),
        ("model = fit(train)", "Train"),
        ("joblib.dump(model, out / 'model.pkl')", "Export"),
    )
    found = {p.name: (p.default, p.role, p.directory) for p in report.parameters}
    assert found == {"DATA_DIR": ("data", "input", True), "models_dir": ("models", "output", True)}
    text = module_text(pipeline, parsed)
    assert "out = Path(models_dir)" in text
    # the export stage writes below models_dir: it is created there (a keyword parameter of export too)
    assert "def export(model, out, *, models_dir=models_dir):" in text
    assert "Path(models_dir).mkdir(parents=True, exist_ok=True)\n    joblib.dump(model, out / 'model.pkl')" in text


def test_an_f_string_that_starts_with_a_directory_writes_below_that_directorys_parameter() -> None:
    pipeline, report, parsed = convert(
        "import os\nimport pickle\nfrom datetime import datetime",
        ("os.makedirs('models', exist_ok=True)\nmodel = fit()", "Train"),
        ("stamp = datetime.now().strftime('%H%M')\n"
         "model_path = f\"models/clf_{stamp}.pkl\"  # where it goes\n"
         "with open(model_path, 'wb') as f:\n    pickle.dump(model, f)\n"
         "plot_title = f\"Train/Test {stamp}\"\nprint(plot_title)", "Export"),
    )
    found = {p.name: (p.default, p.role, p.directory) for p in report.parameters}
    assert found == {"models_dir": ("notebooks/models", "output", True)}
    text = module_text(pipeline, parsed)
    # the directory os.makedirs makes is the one the file is written in (both re-based), comment kept
    assert "os.makedirs(models_dir, exist_ok=True)" in text
    assert 'model_path = f"{models_dir}/clf_{stamp}.pkl"  # where it goes' in text
    assert 'plot_title = f"Train/Test {stamp}"' in text  # an f-string no writer gets stays as written


def test_a_directory_written_with_a_final_slash_keeps_it_for_the_names_added_to_it() -> None:
    pipeline, report, parsed = convert(
        "import os",
        ("df = make()", "Load"),
        ("output_path = '../data/features/'\ndf.to_csv(f'{output_path}features.csv', index=False)\n"
         "df.to_csv(f'{output_path}copy.csv')", "Export"),
    )
    found = {p.name: (p.default, p.directory) for p in report.parameters}
    assert found == {"output_path": ("data/features/", True)}  # not "data/featuresfeatures.csv"
    text = module_text(pipeline, parsed)
    assert "output_path = 'data/features/'" in text
    # the files are written below the directory: the directory itself is made, once, not its parent
    assert text.count("Path(output_path).mkdir(parents=True, exist_ok=True)") == 1
    assert "Path(output_path).parent" not in text


def test_a_directory_the_notebook_makes_itself_is_not_made_again_before_each_write() -> None:
    pipeline, _, parsed = convert(
        "import os\nimport joblib",
        ("model = fit()", "Train"),
        ("OUT = '../artifacts'\nos.makedirs(OUT, exist_ok=True)\njoblib.dump(model, os.path.join(OUT, 'm.pkl'))\n"
         "joblib.dump(model, os.path.join(OUT, 'copy.pkl'))", "Export"),
    )
    text = module_text(pipeline, parsed)
    assert "os.makedirs(OUT, exist_ok=True)" in text
    assert "mkdir(" not in text and "import pathlib" not in text


def test_strings_that_are_not_paths_stay_as_they_are() -> None:
    pipeline, report, parsed = convert(
        "import sklearn\nimport pandas as pd\nimport json",
        ("ok = sklearn.__version__ >= '0.20'\ndf = pd.read_json('{\"a\": [1]}')\nd = json.loads('[1]')\n"
         "label = 'model.pkl'\nprint(label)", "Load"),
    )
    assert report.parameters == []
    assert pipeline.path_parameters == []


def test_the_same_literal_twice_is_one_parameter_and_the_constant_of_that_value_wins() -> None:
    _, report, _ = convert(
        "import pandas as pd\nSOURCE = '../x.csv'",
        ("a = pd.read_csv(SOURCE)\nb = pd.read_csv('../x.csv')\nc = pd.read_csv('../y.csv')\n"
         "d = pd.read_csv('../y.csv')", "Load"),
    )
    assert [(p.name, p.default) for p in report.parameters] == [("SOURCE", "x.csv"), ("y_csv", "y.csv")]


def test_absolute_paths_stay_as_written_and_are_reported_not_portable() -> None:
    _, report, _ = convert("import pandas as pd", ("df = pd.read_csv('/srv/data/x.csv')", "Load"))
    (parameter,) = report.parameters
    assert parameter.default == "/srv/data/x.csv" and parameter.absolute
    assert any("absolute path: not portable" in w for w in report.warnings())


def test_urls_and_downloads_are_left_as_they_are_and_need_the_network() -> None:
    pipeline, report, parsed = convert(
        "import pandas as pd\nfrom sklearn.datasets import fetch_openml, load_iris",
        ("df = pd.read_csv('https://example.com/iris.csv')\nX, y = fetch_openml('mnist_784', return_X_y=True)\n"
         "Z = load_iris()", "Load"),
        ("def helper():\n    return 'https://example.com/other'\nfit(X, helper(), df, Z)", "Train"),  # all kept
    )
    assert report.parameters == []
    assert [n.what for n in report.network] == ["https://example.com/iris.csv", "fetch_openml()",
                                                "https://example.com/other"]
    assert pipeline.network[0] == "https://example.com/iris.csv (cell 2, line 1)"
    assert "pd.read_csv('https://example.com/iris.csv')" in module_text(pipeline, parsed)
    assert all("needs the network" in w for w in report.warnings())


def test_a_local_pretrained_directory_is_a_path_and_a_hub_name_is_a_download() -> None:
    _, report, _ = convert(
        "from transformers import AutoModel",
        ("a = AutoModel.from_pretrained('./checkpoint')\nb = AutoModel.from_pretrained('bert-base-uncased')", "Load"),
    )
    assert [p.written for p in report.parameters] == ["./checkpoint"]
    assert [n.what for n in report.network] == ["from_pretrained('bert-base-uncased')"]


def test_the_generated_tests_pass_inputs_outputs_and_the_network_from_the_parameters() -> None:
    pipeline, _, parsed = convert(
        "import pandas as pd\nimport sklearn",
        ("df = pd.read_csv('../data/x.csv')\nold = sklearn.__version__ >= '0.20'", "Load"),
        ("df.to_csv('../out/y.csv')", "Export"),
    )
    tests = generate(pipeline, package="demo", module="nb", notebook="notebooks/nb.ipynb", source_hash="0" * 64,
                     cells=parsed).tests
    namespace: dict[str, object] = {"__file__": "/project/tests/test_nb.py"}
    header = tests[: tests.index("\n\ndef test_")]
    exec(compile(header.replace("from demo import nb\n", "nb = None\n"), "test_nb.py", "exec"), namespace)  # noqa: S102
    assert namespace["INPUTS"] == {"x_csv": "data/x.csv"}  # not '0.20'
    assert namespace["OUTPUTS"] == {"y_csv": "out/y.csv"}
    assert namespace["WRITTEN"] == ["y_csv"] and namespace["NETWORK"] == []


def _module(text: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The generated module, executed (its monitoring does nothing)."""
    import contextlib
    import types

    package = types.ModuleType("demo")
    tracking = types.SimpleNamespace(track=lambda name: contextlib.nullcontext())
    package.monitoring = tracking  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "demo", package)
    module = types.ModuleType("demo.nb")
    exec(compile(text, "nb.py", "exec"), module.__dict__)  # noqa: S102 (the module under test)
    return module


CHDIR_NOTEBOOK = ("import os\nimport pandas as pd", "os.chdir('data')",
                  "df = pd.read_csv('d.csv')\ntotal = int(df['a'].sum())\ndf.to_csv('out.csv')", "print(total)")


def test_after_a_chdir_run_reads_and_writes_the_files_the_notebook_did_at_every_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline, report, parsed = convert(*CHDIR_NOTEBOOK)
    (tmp_path / "notebooks" / "data").mkdir(parents=True)
    (tmp_path / "notebooks" / "data" / "d.csv").write_text("a\n1\n3\n")
    monkeypatch.chdir(tmp_path)
    module = _module(module_text(pipeline, parsed), monkeypatch)
    assert module.run() == {"total": 4}
    assert module.run() == {"total": 4}  # a second run() starts from the project root again
    assert Path.cwd() == tmp_path
    assert (tmp_path / "notebooks" / "data" / "out.csv").exists()
    resolved = {p.name: p.resolved for p in report.parameters}
    assert resolved == {"data_dir": "notebooks/data", "d_csv": "notebooks/data/d.csv",
                        "out_csv": "notebooks/data/out.csv"}
    assert any("os.chdir() in load(): the later relative paths are read from notebooks/data" in line
               for line in report.lines())


def test_a_second_chdir_runs_from_where_the_first_moved() -> None:
    _, report, _ = convert("import os\nimport pandas as pd", "os.chdir('data')\na = pd.read_csv('a.csv')",
                           "os.chdir('../models')\nb = pd.read_csv('b.csv')\nprint(len(a) + len(b))")
    assert {p.written: (p.default, p.resolved) for p in report.parameters} == {
        "data": ("notebooks/data", "notebooks/data"), "a.csv": ("a.csv", "notebooks/data/a.csv"),
        "../models": ("../models", "notebooks/models"), "b.csv": ("b.csv", "notebooks/models/b.csv")}


def test_a_chdir_the_conversion_cannot_follow_is_a_warning_with_its_cell_and_line() -> None:
    _, report, _ = convert("import os\nimport pandas as pd\nfolder = input()",
                           "if folder:\n    os.chdir(folder)\ndf = pd.read_csv('d.csv')\nprint(len(df))")
    [warning] = [w for w in report.warnings() if "chdir" in w]
    assert warning.startswith("cell 2, line 2: os.chdir() in load() moves to a folder the conversion cannot follow")


@pytest.mark.parametrize("helpers", [
    "def go(folder):\n    os.chdir(folder)",
    "def enter(folder):\n    os.chdir(folder)\n\ndef go(folder):\n    enter(folder)",  # through another function
])
def test_a_function_of_the_notebook_that_changes_directory_is_a_move_it_cannot_follow(
        helpers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its call moves the working directory as os.chdir() does: run() returns where it started,
    and the report says the later paths may name other files."""
    pipeline, report, parsed = convert(f"import os\nimport pandas as pd\n\n{helpers}",
                                       "go('data')\ndf = pd.read_csv('d.csv')\nprint(len(df))")
    [warning] = [w for w in report.warnings() if "chdir" in w]
    assert warning.startswith("cell 2, line 1: go(), which calls os.chdir(), in load() moves to a folder the "
                              "conversion cannot follow")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a\n1\n")
    monkeypatch.chdir(tmp_path)
    _module(module_text(pipeline, parsed), monkeypatch).run()
    assert Path.cwd() == tmp_path


def test_a_function_that_never_changes_directory_is_no_move() -> None:
    _, report, _ = convert("import os\nimport pandas as pd\n\ndef where():\n    return os.getcwd()",
                           "df = pd.read_csv('d.csv')\nprint(len(df), where())")
    assert not [w for w in report.warnings() if "chdir" in w]


def test_a_path_read_before_and_after_a_chdir_is_a_warning() -> None:
    _, report, _ = convert("import os\nimport pandas as pd", "a = pd.read_csv('d.csv')\nos.chdir('data')",
                           "b = pd.read_csv('d.csv')\nprint(len(a) + len(b))")
    assert any(w.startswith("cell 2, line 1: 'd.csv' is used before and after os.chdir()") for w in report.warnings())


@pytest.mark.parametrize(("made", "warned"), [
    ("name = os.path.join(OUT, f'{i}.txt')", True), ("name = f'{OUT}/{i}.txt'", True),
    ("name = OUT + '/' + str(i)", True),
    ("name = open(os.path.join(OUT, f'{i}.txt')).read()", False),  # what the file holds: no path
])
def test_a_result_spelled_from_a_rebased_path_is_reported(made: str, warned: bool) -> None:
    pipeline, report, _ = convert(
        "import os\nOUT = 'out'\nos.makedirs(OUT, exist_ok=True)",
        "for i in range(2):\n    with open(os.path.join(OUT, f'{i}.txt'), 'w') as f:\n        f.write(str(i))",
        f"for i in range(2):\n    {made}\nprint(name)",
    )
    found = [w for w in report.warnings() if "run() returns name" in w]
    assert found == ([
        "cell 3, line 1: run() returns name, made from the path OUT: it is 'notebooks/out' from the project "
        "root where the notebook wrote 'out' from its own directory, so the value differs as text though it "
        "names the same file"] if warned else []), report.warnings()
