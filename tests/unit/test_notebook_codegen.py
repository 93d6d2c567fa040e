"""Code generation keeps the user's text: comments, quotes, line breaks; only what must change changes."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

from mlpack_cli.notebook.codegen import Generated, generate
from mlpack_cli.notebook.dataflow import ParsedCell, Pipeline, Stage
from mlpack_cli.notebook.outputs import Stored
from mlpack_cli.notebook.dataflow import ASSIGN_TO

MAX_LINE = 100


def cell(number: int, code: str, markdown: str = "") -> ParsedCell:
    return ParsedCell(number, (), code, None, ast.parse(code), code=code, markdown=markdown)


def pipeline(*stages: Stage, imports: list[ast.stmt] | None = None, constants: list[ast.stmt] | None = None,
             helpers: list[ast.stmt] | None = None, **fields: object) -> Pipeline:
    by_name = {s.name: s for s in stages}
    every = [by_name.get(name, Stage(name)) for name in ("load", "preprocess", "train", "evaluate", "export")]
    return Pipeline(imports=imports or [], constants=constants or [], helpers=helpers or [], stages=every,
                    placements={}, **fields)  # type: ignore[arg-type]


def stage(name: str, *cells: ParsedCell, **fields: object) -> Stage:
    return Stage(name, cells=[c.number for c in cells], body=[(c.number, list(c.tree.body)) for c in cells],
                 **fields)  # type: ignore[arg-type]


def convert(pipe: Pipeline, *cells: ParsedCell) -> Generated:
    return generate(pipe, package="demo", module="nb", notebook="nb.ipynb", source_hash="0" * 64,
                    max_line=MAX_LINE, cells=cells)


def function(generated: Generated, name: str) -> ast.FunctionDef:
    return next(n for n in generated.tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def flake8(tmp_path: Path, text: str) -> str:
    path = tmp_path / "generated.py"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "flake8", "--max-line-length", str(MAX_LINE), str(path)],
                          capture_output=True, text=True, check=False)
    return done.stdout


def test_comments_inline_comments_quotes_and_line_breaks_survive(tmp_path: Path) -> None:
    code = (
        "# the training data\n"
        'X, y = make_data("iris",  # which one\n'
        "                 n=10)\n"
        "N = 1000  # samples per class\n"
    )
    load = cell(1, code)
    generated = convert(pipeline(stage("load", load, required=["make_data"])), load)
    assert "    # the training data\n" in generated.module
    assert '    X, y = make_data("iris",  # which one\n                     n=10)\n' in generated.module
    assert "    N = 1000  # samples per class" in generated.module
    assert flake8(tmp_path, generated.module) == ""


def test_comments_indented_into_the_end_of_a_block_stay_in_it(tmp_path: Path) -> None:
    # (commented-out code at the end of a loop; the statement after it is dropped from the stage)
    code = "for k in ks:\n    total = k\n    # print(total)\n\n    # more\n# about the next one\nprint(ks)\n"
    load = cell(1, code)
    kept = Stage("load", cells=[1], body=[(1, [load.tree.body[0]])], required=["ks"])  # (the print is dropped)
    generated = convert(pipeline(kept), load)
    loop = "    for k in ks:\n        total = k  # noqa: F841\n        # print(total)\n\n        # more\n"
    assert loop in generated.module
    assert "# about the next one" not in generated.module  # (the dropped print's own comment)
    assert flake8(tmp_path, generated.module) == ""


def test_multi_line_strings_are_not_re_indented() -> None:
    code = 'query = """select *\n  from t\nwhere x = 1"""\nsql = f"""\n{query}\n"""\n'
    load = cell(1, code)
    generated = convert(pipeline(stage("load", load)), load)
    body = function(generated, "load").body
    values = {s.targets[0].id: s.value for s in body if isinstance(s, ast.Assign)}  # type: ignore[attr-defined]
    assert ast.literal_eval(values["query"]) == "select *\n  from t\nwhere x = 1"
    assert '\n  from t\nwhere x = 1"""' in generated.module


def test_statements_on_one_line_are_split_and_keep_their_comment() -> None:
    load = cell(1, "a = 1; b = 'two'  # both\n")
    generated = convert(pipeline(stage("load", load, returns=["a", "b"])), load)
    assert "    a = 1\n    b = 'two'  # both\n" in generated.module


def test_renames_change_only_names_that_refer_to_the_notebook_name() -> None:
    code = "train = load_data()  # the split\nmodel.train(train, train=train.size)\nfrom tools import train as t\n"
    load = cell(1, code)
    generated = convert(pipeline(stage("load", load), renamed={"train": "train_"}), load)
    text = ast.unparse(function(generated, "load"))
    assert "train_ = load_data()  # the split" in generated.module
    assert "model.train(train_, train=train_.size)" in text
    assert "from tools import train as t" in text


def test_a_statement_of_its_own_renames_changes_only_its_own_text() -> None:
    from mlpack_cli.notebook import versions

    code = "model = make_model()  # the first try\nmodel.fit(X, y=model)\nmodel = make_model(depth=2)\n"
    train = cell(1, code)
    first, fit, _ = train.tree.body
    versions.apply(first, {"model": "model_1"})
    versions.apply(fit, {"model": "model_1"})
    generated = convert(pipeline(stage("train", train, required=["X", "y", "make_model"])), train)
    assert "model_1 = make_model()  # the first try" in generated.module
    assert "model_1.fit(X, y=model_1)" in generated.module
    assert "model = make_model(depth=2)" in generated.module


def test_an_imported_reserved_name_gets_an_alias() -> None:
    helper = cell(1, "from tools import run\nrun(1)\n")
    generated = convert(pipeline(stage("load", helper), renamed={"run": "run_"}), helper)
    assert "from tools import run as run_\n    run_(1)" in generated.module


def test_helper_globals_become_keyword_parameters_passed_at_every_call(tmp_path: Path) -> None:
    helpers = cell(1, "def scaled(value, *, factor=2):\n"
                      "    # uses the global offset\n"
                      "    return value * factor + offset\n")
    train = cell(2, "offset = 3\nresult = scaled(4)  # first\nprint(scaled(5, factor=3))\n")
    pipe = pipeline(stage("train", train), helpers=list(helpers.tree.body), helper_globals={"scaled": ["offset"]})
    generated = convert(pipe, helpers, train)
    helper = next(n for n in generated.tree.body if isinstance(n, ast.FunctionDef) and n.name == "scaled")
    assert [a.arg for a in helper.args.kwonlyargs] == ["factor", "offset"]
    assert "    # uses the global offset\n" in generated.module
    assert "result = scaled(4, offset=offset)  # first" in generated.module
    assert "print(scaled(5, factor=3, offset=offset))" in generated.module
    assert flake8(tmp_path, generated.module) == ""


def test_a_bare_metric_expression_gets_the_name_analysis_gives_it() -> None:
    evaluate = cell(1, "accuracy_score(y_true,\n               y_pred)  # on the test set\n")
    setattr(evaluate.tree.body[0], ASSIGN_TO, "accuracy")
    pipe = pipeline(stage("evaluate", evaluate, required=["accuracy_score", "y_true", "y_pred"], returns=["accuracy"]),
                    results=[("accuracy", "accuracy")])
    generated = convert(pipe, evaluate)
    assert (
        "    accuracy = accuracy_score(y_true,\n                              y_pred)  # on the test set\n"
    ) in generated.module
    run = function(generated, "run")
    assert isinstance(run.body[-1], ast.Return)
    assert ast.unparse(run.body[-1]) == "return {'accuracy': accuracy}"


def test_dropped_nested_statements_leave_pass_and_keep_their_comments(tmp_path: Path) -> None:
    code = ("for i in range(3):\n    # show it\n    plt.plot(i)\n"
            "for j in range(2):\n    plt.plot(j)  # noisy\n    total = j\n")
    train = cell(1, code)
    generated = convert(pipeline(stage("train", train, returns=["total"]), drop_nested={(1, 3), (1, 5)}), train)
    assert "    for i in range(3):\n        # show it\n        pass\n" in generated.module
    assert "    for j in range(2):\n        total = j\n" in generated.module
    assert "plt" not in generated.module
    assert flake8(tmp_path, generated.module) == ""


def test_a_statement_whose_text_no_longer_means_its_node_is_unparsed() -> None:
    load = cell(1, "# how many\nsize = 10  # rows\n")
    load.tree.body[0].value = ast.Constant(20)  # type: ignore[attr-defined]  # analysis changed the node
    generated = convert(pipeline(stage("load", load, returns=["size"])), load)
    assert "    # how many\n    size = 20\n" in generated.module
    assert "size = 10" not in generated.module


def test_synthesized_statements_are_unparsed() -> None:
    node = ast.Assign(targets=[ast.Name("summary", ast.Store())], value=ast.Dict([ast.Constant("a")],
                      [ast.Name("a", ast.Load())]), lineno=0)
    pipe = pipeline(Stage("evaluate", cells=[1], body=[(1, [node])], required=["a"], returns=["summary"]))
    generated = convert(pipe, cell(1, "a\n"))
    assert "    summary = {'a': a}\n" in generated.module


def test_an_unused_assignment_stays_an_assignment(tmp_path: Path) -> None:
    train = cell(1, "clf = model.fit(X, y)\n")
    generated = convert(pipeline(stage("train", train, required=["model", "X", "y"])), train)
    assert "    clf = model.fit(X, y)  # noqa: F841\n" in generated.module
    assert flake8(tmp_path, generated.module) == ""


def test_the_stage_docstring_is_the_markdown_whatever_it_holds(tmp_path: Path) -> None:
    markdown = 'Load the data\n\nA "quoted" word, a backslash \\ and \\n, three quotes """, a CR\r here.\n  indented  '
    load = cell(1, "x = 1\n")
    generated = convert(pipeline(stage("load", load, doc=markdown)), load)
    docstring = ast.get_docstring(function(generated, "load"))
    assert docstring == inspect.cleandoc(markdown)
    assert flake8(tmp_path, generated.module) == ""


def test_a_long_paragraph_of_the_docstring_is_wrapped_at_words(tmp_path: Path) -> None:
    paragraph = " ".join(f"word{n}" for n in range(60)) + " https://example.org/" + "x" * 120
    load = cell(1, "x = 1\n")
    generated = convert(pipeline(stage("load", load, doc=f"Load\n\n{paragraph}")), load)
    docstring = ast.get_docstring(function(generated, "load")) or ""
    heading, body = docstring.split("\n\n")
    assert heading == "Load" and " ".join(body.split()) == paragraph  # the same words, in order
    lines = generated.module.split("\n")
    inside = [line for line in lines if "word" in line]
    assert len(inside) > 1 and all(len(line) <= 100 for line in inside)
    assert flake8(tmp_path, generated.module) == ""  # (the unbreakable address carries its noqa)


def test_a_stage_without_markdown_gets_a_generic_docstring() -> None:
    load = cell(4, "x = 1\n")
    generated = convert(pipeline(stage("load", load)), load)
    assert ast.get_docstring(function(generated, "load")) == "Load stage, from notebook cell 4."


def test_a_comment_only_cell_is_kept_in_its_stage() -> None:
    notes = cell(2, "# TODO: tune the depth\n# (it overfits)\n")
    load = cell(1, "x = 1\n")
    pipe = pipeline(Stage("load", cells=[1, 2], body=[(1, list(load.tree.body)), (2, [])]))
    generated = convert(pipe, load, notes)
    assert "    # notebook cell 2\n    # TODO: tune the depth\n    # (it overfits)\n" in generated.module


def test_set_up_before_imports_keeps_notebook_order(tmp_path: Path) -> None:
    prelude = cell(1, "import os\nimport sys\n# the backend first\nos.environ['KERAS_BACKEND'] = 'jax'\n"
                      "import keras  # after the backend\nsys.path.insert(0, 'lib')\nimport mylib\n")
    train = cell(2, "model = keras.Model(mylib.layers())\n")
    pipe = pipeline(stage("train", train, returns=[]), imports=list(prelude.tree.body))
    generated = convert(pipe, prelude, train)
    text = generated.module
    order = [text.index(s) for s in ("import os", "os.environ['KERAS_BACKEND'] = 'jax'",
                                     "import keras  # after the backend", "sys.path.insert(0, 'lib')",
                                     "import mylib")]
    assert order == sorted(order)
    assert "# the backend first\nos.environ" in text
    assert flake8(tmp_path, text) == ""


def test_imports_alone_are_grouped_and_sorted() -> None:
    prelude = cell(1, "import pandas as pd\nimport os\nfrom sklearn import tree\n")
    train = cell(2, "model = tree.DecisionTreeClassifier(pd, os)\n")
    generated = convert(pipeline(stage("train", train), imports=list(prelude.tree.body)), prelude, train)
    expected = "import os\n\nimport pandas as pd\nfrom sklearn import tree\n\nfrom demo import monitoring\n"
    assert expected in generated.module


def test_notebook_style_is_kept_and_the_module_still_passes_flake8(tmp_path: Path) -> None:
    code = (
        "#no space\n"
        "data=load( 'a',1 )   # one space missing\n"
        "l = [1,2,\n"
        "  3]\n"
        "if data :\n"
        "  value = data+1\n"
        "result = compute(first_argument=1, second_argument=2, third_argument=3, fourth_argument=4, fifth=5)\n"
        "total = 1 + \\\n"
        "    2\n"
    )
    load = cell(1, code)
    generated = convert(pipeline(stage("load", load, required=["load", "compute"])), load)
    lines = generated.module.split("\n")
    assert any(line.startswith("    #no space  # noqa: ") for line in lines)
    assert any(line.startswith("    data=load( 'a',1 )   # one space missing  # noqa: ") for line in lines)
    assert any(line.startswith("      value = data+1") for line in lines)
    assert flake8(tmp_path, generated.module) == ""


def test_run_returns_the_results_dict_and_stages_pass_values_on() -> None:
    train = cell(1, "model = fit(1)\n")
    evaluate = cell(2, "score = model.score(2)\nr2 = r2_score(3, 4)\n")
    pipe = pipeline(stage("train", train, returns=["model"], required=["fit"]),
                    stage("evaluate", evaluate, inputs=["model"], returns=["score", "r2"], required=["r2_score"]),
                    results=[("score", "score"), ("r2", "r2")])
    generated = convert(pipe, train, evaluate)
    run = ast.unparse(function(generated, "run"))
    assert "model = train(fit)" in run
    assert ast.unparse(ast.parse("score, r2 = evaluate(model, r2_score)")) in run  # as this Python unparses it
    assert run.endswith("return {'score': score, 'r2': r2}")


def test_without_results_run_falls_back_to_the_single_result() -> None:
    evaluate = cell(1, "evaluation = 0.5\n")
    pipe = pipeline(stage("evaluate", evaluate, returns=["evaluation"]), result="evaluation")
    assert ast.unparse(function(convert(pipe, evaluate), "run")).endswith("return evaluation")


def test_without_cells_every_statement_is_unparsed_with_its_comments() -> None:
    load = cell(1, "x = 1\n")
    generated = generate(pipeline(stage("load", load, returns=["x"])), package="demo", module="nb", notebook="nb.ipynb",
                         source_hash="0" * 64)
    assert "    x = 1\n" in generated.module


def test_comments_written_with_sorted_imports_stay_above_them() -> None:
    prelude = cell(1, "# numerics\nimport numpy as np  # fast\nimport os\n")
    train = cell(2, "x = np.zeros(os.cpu_count())\n")
    made_anew = ast.Import(names=list(prelude.tree.body[0].names))  # type: ignore[attr-defined]
    pipe = pipeline(stage("train", train, returns=["x"]), imports=[made_anew, prelude.tree.body[1]])
    generated = convert(pipe, prelude, train)
    assert "import os\n\n# numerics\n# fast\nimport numpy as np\n" in generated.module


def test_statements_from_inside_a_block_are_dedented_but_their_strings_are_not(tmp_path: Path) -> None:
    main = cell(1, 'if __name__ == "__main__":\n    # run it\n    x = f(1,\n          2)\n    s = """a\n    b"""\n')
    inner = main.tree.body[0].body  # type: ignore[attr-defined]  # analysis unwraps the block
    pipe = pipeline(Stage("load", cells=[1], body=[(1, inner)], required=["f"], returns=["x", "s"]))
    generated = convert(pipe, main)
    assert '    # run it\n    x = f(1,\n          2)\n    s = """a\n    b"""\n' in generated.module
    assert flake8(tmp_path, generated.module) == ""


def test_a_decorated_helper_keeps_its_decorator_and_comments() -> None:
    helpers = cell(1, "import functools\n\n\n# cached\n@functools.lru_cache(maxsize=None)  # forever\ndef f(n):\n"
                      "    return n\n")
    train = cell(2, "y = f(3)\n")
    pipe = pipeline(stage("train", train, returns=["y"]), imports=[helpers.tree.body[0]],
                    helpers=[helpers.tree.body[1]])
    generated = convert(pipe, helpers, train)
    assert "\n\n# cached\n@functools.lru_cache(maxsize=None)  # forever\ndef f(n):\n    return n\n" in generated.module


def test_an_edited_statement_keeps_its_multi_line_string_as_it_is() -> None:
    load = cell(1, 'train = f("""a\n  b""",  # text\n          2)\n')
    generated = convert(pipeline(stage("load", load, required=["f"], returns=["train_"]),
                                 renamed={"train": "train_"}), load)
    assert '    train_ = f("""a\n  b""",  # text\n              2)' in generated.module  # (now unaligned: noqa)


def test_characters_str_splitlines_breaks_at_stay_and_noqa_still_lands_right(tmp_path: Path) -> None:
    load = cell(1, "x = 'a\u2028b'  # c\x0cd\u2029e\nl = x\n")
    generated = convert(pipeline(stage("load", load, returns=["l"])), load)
    assert "    x = 'a\u2028b'  # c\x0cd\u2029e\n    l = x  # noqa: E741\n" in generated.module
    assert flake8(tmp_path, generated.module) == ""


# -- the generated tests -------------------------------------------------------------------------


def shown_pipeline() -> tuple[Pipeline, list[ParsedCell]]:
    load = cell(1, "rows = [1, 2, 3]")
    evaluate = cell(2, "total = sum(rows)\nprint(f'total: {total}, mean: {total / 3:.2f}')")
    pipe = pipeline(stage("load", load, returns=["rows"]),
                    stage("evaluate", evaluate, inputs=["rows"], returns=["total"]), results=[("total", "total")])
    return pipe, [load, evaluate]


def stdout(text: str) -> tuple[dict[str, str], ...]:
    return ({"output_type": "stream", "name": "stdout", "text": text},)


def assigned(tests: str, name: str) -> object:
    """The literal value the generated tests assign to ``name``."""
    node = next(n for n in ast.parse(tests).body if isinstance(n, ast.Assign)
                and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name)
    return ast.literal_eval(node.value)


def test_generated_tests_compare_run_with_what_the_notebook_showed(tmp_path: Path) -> None:
    pipe, cells = shown_pipeline()
    outputs = {1: Stored(1), 2: Stored(2, stdout("total: 6, mean: 2.00\n"))}
    generated = generate(pipe, package="demo", module="nb", notebook="nb.ipynb", source_hash="0" * 64,
                         max_line=MAX_LINE, cells=cells, outputs=outputs)
    assert assigned(generated.tests, "SHOWN") == {"total": (6, 0.0, 0.0)}
    assert "# cell 2: print(f'total: {total}, mean: {total / 3:.2f}')" in generated.tests
    functions = {n.name for n in ast.parse(generated.tests).body if isinstance(n, ast.FunctionDef)}
    assert "test_run_returns_what_the_notebook_showed" in functions
    assert not functions & {"test_stage_signature", "test_run_signature", "test_stages_return_what_later_stages_read"}
    assert "CONTRACT" not in generated.tests
    assert generated.notes == []
    assert flake8(tmp_path, generated.tests) == ""


def test_without_shown_values_each_stage_is_tested_against_what_later_stages_read(tmp_path: Path) -> None:
    pipe, cells = shown_pipeline()
    generated = generate(pipe, package="demo", module="nb", notebook="nb.ipynb", source_hash="0" * 64,
                         max_line=MAX_LINE, cells=cells, outputs={1: Stored(None), 2: Stored(None)})
    assert assigned(generated.tests, "CONTRACT") == {"load": [("rows", ["evaluate"])],
                                                     "evaluate": [("total", ["run"])]}
    assert "SHOWN" not in generated.tests and "def test_stages_return_what_later_stages_read(" in generated.tests
    assert generated.notes == ["no regression test: the notebook has no stored outputs "
                               "(run it top to bottom and save it to get one)"]
    assert flake8(tmp_path, generated.tests) == ""


def test_a_shown_value_that_looks_like_a_secret_never_reaches_the_tests() -> None:
    load = cell(1, "token = 'ghp_' + 'x' * 36")
    evaluate = cell(2, "print(token)")
    pipe = pipeline(stage("load", load, returns=["token"]), stage("evaluate", evaluate, inputs=["token"]),
                    results=[("token", "token")])
    secret = "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"
    generated = generate(pipe, package="demo", module="nb", notebook="nb.ipynb", source_hash="0" * 64,
                         max_line=MAX_LINE, cells=[load, evaluate],
                         outputs={1: Stored(1), 2: Stored(2, stdout(secret + "\n"))})
    assert secret not in generated.tests and "SHOWN" not in generated.tests


def generated_project(tmp_path: Path, imports: str) -> Path:
    """A package ``demo`` whose module ``nb`` (``imports``, then one stage) was generated, with its tests."""
    from mlpack_cli.templating import render

    prelude = cell(1, imports)
    only = cell(2, "value = 1")
    generated = convert(pipeline(stage("evaluate", only), imports=list(prelude.tree.body)), prelude, only)
    package = tmp_path / "src" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "monitoring.py").write_text(render("module/monitoring.py.j2", package="demo"))
    (package / "nb.py").write_text(generated.module)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_nb.py").write_text(generated.tests)
    (tmp_path / "tests" / "test_other.py").write_text("def test_other():\n    assert 1 + 1 == 2\n")
    return tmp_path


def run_pytest(root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(root / "src"), "PATH": "", "HOME": str(root)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests"],
                          cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_a_missing_third_party_module_skips_only_its_test_module(tmp_path: Path) -> None:
    done = run_pytest(generated_project(tmp_path, "import package_not_installed_here"))
    assert done.returncode == 0, done.stdout
    assert "nb cannot be imported: module 'package_not_installed_here' is missing" in done.stdout
    assert "1 passed, 1 skipped" in done.stdout  # test_other.py still ran


def test_a_missing_module_of_the_package_itself_is_an_error_not_a_skip(tmp_path: Path) -> None:
    done = run_pytest(generated_project(tmp_path, "import demo.helpers_gone"))
    assert done.returncode != 0 and "skipped" not in done.stdout, done.stdout
    assert "ModuleNotFoundError: No module named 'demo.helpers_gone'" in done.stdout
