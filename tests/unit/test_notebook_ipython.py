"""IPython syntax: IPython's transformer first, then one rule per magic; no get_ipython survives."""

from __future__ import annotations

import ast

import pytest

from mlpack_cli.notebook.ipython import CellSyntaxError, parse_cell


def code(source: str) -> str:
    return ast.unparse(parse_cell(source).tree)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%matplotlib inline\nimport math", "import math"),
        ("%config InlineBackend.figure_format = 'retina'\nx = 1", "x = 1"),
        ("%load_ext autoreload\n%autoreload 2\nx = 1", "x = 1"),
        ("%time y = f(2)", "y = f(2)"),
        ("%%time\na = 1\nb = a + 1", "a = 1\nb = a + 1"),
        ("%timeit -n 10 -r 3 f(x)", "f(x)"),
        ("%%timeit -n 1\ng(x)", "g(x)"),
        ("%%capture\nmodel.fit(X)", "model.fit(X)"),
        ("%env MODE=fast", "import os\nos.environ['MODE'] = 'fast'"),
        ("%cd data\nx = 1", "import os\nos.chdir('data')\nx = 1"),
        ("%cd '../my data'", "import os\nos.chdir('../my data')"),
        ("len?\nx = 1", "x = 1"),
        ("    x = 1\n    y = 2", "x = 1\ny = 2"),
        ("total = (1 +\n         2)", "total = 1 + 2"),
        ("r = %time compute()", "r = compute()"),
        ("for i in range(3):\n    !echo {i}\n", "for i in range(3):\n    pass"),
    ],
)
def test_magic_rules(source: str, expected: str) -> None:
    assert code(source) == expected


@pytest.mark.parametrize("line", ["%cd", "%cd -", "%cd -b data", "%cd $folder", "%cd ~/data", "%cd {root}"])
def test_a_change_of_directory_only_ipython_can_resolve_is_dropped_with_a_warning(line: str) -> None:
    cell = parse_cell(line + "\nx = 1")
    assert ast.unparse(cell.tree) == "x = 1"
    assert any(w.startswith("dropped line magic %cd") and "relative paths" in w for w in cell.warnings)


@pytest.mark.parametrize("source", ["x = 1\n%cd data\ny = 2", "x = 1\n%env MODE=fast\ny = 2"])
def test_the_statements_a_one_line_magic_becomes_are_on_its_line(source: str) -> None:
    """Warnings name the line of a statement: the one the user wrote, not one of the rewrite's."""
    middle = parse_cell(source).tree.body[1:-1]
    assert middle and {(s.lineno, s.end_lineno) for s in middle} == {(2, 2)}


def test_pip_installs_are_harvested_with_their_specifiers() -> None:
    cell = parse_cell("!pip install -q 'requests>=2.0' --upgrade numpy\n%pip install pyyaml\nx = 1")
    assert cell.requirements == ["requests>=2.0", "numpy", "pyyaml"]
    assert ast.unparse(cell.tree) == "x = 1"
    assert "pip install: harvested into dependencies" in cell.handled


def test_automagic_pip_without_percent_is_understood() -> None:
    cell = parse_cell("pip install scikit-learn\nimport sklearn")
    assert cell.requirements == ["scikit-learn"]
    assert ast.unparse(cell.tree) == "import sklearn"


def test_requirement_files_and_urls_are_warned_about_not_harvested() -> None:
    cell = parse_cell("!pip install -r requirements.txt git+https://example.org/x.git")
    assert cell.requirements == []
    assert any("-r" in w for w in cell.warnings)


@pytest.mark.parametrize(
    ("source", "warning"),
    [
        ("!ls -la", "dropped shell command !ls -la"),
        ("files = !ls", "dropped `files = !ls`"),
        ("%%bash\necho hi", "dropped cell magic %%bash"),
        ("%who", "dropped line magic %who"),
    ],
)
def test_other_ipython_syntax_is_dropped_with_a_warning(source: str, warning: str) -> None:
    cell = parse_cell(source)
    assert cell.tree.body == []
    assert any(w.startswith(warning) for w in cell.warnings), cell.warnings


def test_no_get_ipython_reaches_the_output() -> None:
    source = "x = %who_ls\n%store x\ny = len(get_ipython().user_ns)\nz = 1"
    cell = parse_cell(source)
    assert "get_ipython" not in ast.unparse(cell.tree)
    assert ast.unparse(cell.tree) == "z = 1"


def test_the_names_only_ipython_would_set_are_recorded_with_their_line() -> None:
    source = "x = %who_ls\n%store x\n%store -r a b\ny = len(get_ipython().user_ns)\nz = 1"
    assert parse_cell(source).ipython_binds == [
        ("x", 1, "x = %who_ls"), ("a", 3, "%store -r a b"), ("b", 3, "%store -r a b"),
        ("y", 4, "y = len(get_ipython().user_ns)")]  # `%store x` saves: it sets nothing
    captured = parse_cell("%%capture --no-stderr out\n%store -r c\nprint(1)")
    assert captured.ipython_binds == [("out", 1, "%%capture --no-stderr out"), ("c", 2, "%store -r c")]


def test_python2_print_is_rewritten_and_reported() -> None:
    cell = parse_cell("x = 1  # one\nprint x\n")
    assert cell.code == "x = 1  # one\nprint(x)\n"
    assert cell.warnings == ["rewrote a Python 2 print statement (line 2)"]


def test_python2_print_that_cannot_be_fixed_is_reported_with_line_and_text() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse_cell("x = 1\nprint x y\n")
    assert (caught.value.line, caught.value.text) == (2, "print x y")
    assert caught.value.message == "Python 2 print statement"


def test_writefile_python_module_is_collected_and_other_files_still_written() -> None:
    module = parse_cell("%%writefile features.py\ndef f(x):\n    return x\n")
    assert module.modules == {"features": "def f(x):\n    return x\n"} and module.tree.body == []
    data = parse_cell("%%writefile -a notes.txt\nhello\n")
    namespace: dict[str, object] = {}
    assert "open('notes.txt', 'a'" in ast.unparse(data.tree)
    assert data.modules == {} and namespace == {}


def test_cell_magic_body_keeps_its_own_text_and_positions() -> None:
    cell = parse_cell("%%time\n# fit it\nmodel = 1  # inline\n")
    assert cell.code == "# fit it\nmodel = 1  # inline\n"
    assert cell.tree.body[0].lineno == 2


def test_unfinished_assignment_is_reported() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse_cell("a = 1\nx = # TODO\n")
    assert caught.value.line == 2
    assert caught.value.text == "x = # TODO"


def test_statements_valid_only_inside_functions_are_invalid() -> None:
    with pytest.raises(CellSyntaxError, match="outside function"):
        parse_cell("return 5")


def test_syntax_error_inside_a_cell_magic_points_at_the_notebook_line() -> None:
    with pytest.raises(CellSyntaxError) as caught:
        parse_cell("%%time\nok = 1\nbad = (\n")
    assert caught.value.line >= 2


@pytest.mark.parametrize(
    "source",
    ["!pip -q install 'diffusers[training]' mlflow", "%pip -q install diffusers[training] mlflow",
     "!pip install --upgrade --quiet diffusers[training] mlflow 2>&1 > /dev/null",
     "!python -m pip install -U diffusers[training] && pip install mlflow"],
)
def test_pip_options_before_and_after_install_are_read_like_pip(source: str) -> None:
    cell = parse_cell(source)
    assert cell.requirements == ["diffusers[training]", "mlflow"]
    assert cell.warnings == []


def test_other_pip_commands_are_dropped_with_a_warning() -> None:
    cell = parse_cell("!pip list\n%pip freeze")
    assert cell.requirements == []
    assert [w.split(" (")[0] for w in cell.warnings] == ["dropped !pip list ...", "dropped %pip freeze ..."]


def test_a_name_bound_to_get_ipython_follows_the_magic_rules_in_later_cells() -> None:
    shells: set[str] = set()
    first = parse_cell("ip = get_ipython()\nip.run_line_magic('matplotlib', 'inline')\nx = 1", shells=shells)
    assert ast.unparse(first.tree) == "x = 1" and shells == {"ip"}
    later = parse_cell("ip.magic('load_ext autoreload')\nip.run_line_magic('env', 'MODE=fast')\ny = 2",
                       shells=shells)
    assert ast.unparse(later.tree) == "import os\nos.environ['MODE'] = 'fast'\ny = 2"
    assert "%load_ext: dropped" in later.handled and not later.warnings
    # without the binding, `ip` is just a name of the notebook
    assert ast.unparse(parse_cell("ip.magic('x')").tree) == "ip.magic('x')"


def test_a_run_magic_is_recorded_for_the_caller() -> None:
    cell = parse_cell("%run lib/helpers.py\nx = helper(1)")
    assert cell.runs == ["%run lib/helpers.py"]
    assert ast.unparse(cell.tree) == "x = helper(1)"


def test_a_definition_registering_a_magic_is_dropped_and_other_decorated_ones_stay() -> None:
    cell = parse_cell("from IPython.core import magic\n"
                      "@magic.register_cell_magic\ndef backend(line, cell):\n    get_ipython().run_cell(cell)\n"
                      "@register_line_magic('lm')\ndef lm(line):\n    return line\n"
                      "@functools.cache\ndef kept(x):\n    return x\n")
    assert ast.unparse(cell.tree) == "from IPython.core import magic\n\n@functools.cache\ndef kept(x):\n    return x"
    assert [h for h in cell.handled if "IPython magic" in h] == [
        "the definition of the IPython magic %%backend: dropped (magics run only in IPython; the cells using it "
        "follow the magic rules)",
        "the definition of the IPython magic %lm: dropped (magics run only in IPython; the cells using it "
        "follow the magic rules)"]
    assert not cell.warnings  # (the run_cell inside it is no statement of the module's)


def test_a_magic_registered_in_plain_python_is_dropped_too() -> None:
    """No ``get_ipython`` anywhere in the cell: the definition is still notebook tooling (its
    decorator raises NameError outside IPython, at the module's import)."""
    cell = parse_cell("from IPython.core.magic import register_cell_magic\n"
                      "@register_cell_magic\ndef shout(line, cell):\n    return cell.upper()\n")
    assert ast.unparse(cell.tree) == "from IPython.core.magic import register_cell_magic"
    assert any("IPython magic %%shout: dropped" in h for h in cell.handled)


def test_cell_magic_file_is_ipythons_alias_of_writefile() -> None:
    module = parse_cell("%%file type_util.py\nclass TypeUtil:\n    pass\n")
    assert module.modules == {"type_util": "class TypeUtil:\n    pass\n"} and module.tree.body == []
    assert not module.warnings
    data = parse_cell("%%file tests/test_it.py\nx = 1\n")
    assert "open('tests/test_it.py', 'w'" in ast.unparse(data.tree)


@pytest.mark.parametrize(("source", "names"), [
    ("%%R -i df -o fit,coefs -w 5\nfit <- lm(y ~ x, df)", ["fit", "coefs"]),
    ("%%bash --out listing --err=errors\nls", ["listing", "errors"]),
    ("%R -o total total <- sum(1:10)", ["total"]),
    ("%%R -i df\nsummary(df)", []),
    ("%%html\n<b>-o x</b>", []),
])
def test_dropped_magics_that_set_names_say_so(source: str, names: list[str]) -> None:
    """A later cell reading such a name is refused as needing a running IPython, not made a parameter."""
    assert [name for name, _, _ in parse_cell(source).ipython_binds] == names


@pytest.mark.parametrize(("source", "names"), [
    ("%timeit x = f(2)", "x"),
    ("%timeit -n 3 a, b = g()", "a, b"),
    ("%%timeit\nfor i in range(3):\n    total = i\n", "i, total"),
])
def test_what_timed_code_binds_is_warned_about(source: str, names: str) -> None:
    """IPython times the code inside a function: its bindings never reach the notebook, run()'s do."""
    cell = parse_cell(source)
    assert [w for w in cell.warnings if f"binds {names} only inside IPython's timer" in w]


@pytest.mark.parametrize("source", ["%timeit f(2)", "%time x = f(2)", "%%time\nx = 1", "%%timeit -n 1\ng(x)"])
def test_timing_that_binds_nothing_or_keeps_its_bindings_warns_nothing(source: str) -> None:
    assert not parse_cell(source).warnings


def test_the_set_up_code_of_a_timed_cell_is_reported_dropped() -> None:
    cell = parse_cell("%%timeit -n 2 data = make()\ndata.sum()")
    assert ast.unparse(cell.tree) == "data.sum()"
    assert any("set-up code 'data = make()' is dropped" in w for w in cell.warnings)
