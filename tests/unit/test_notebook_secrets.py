"""Secrets in cells: what detect-secrets (and our two plugins) find, masking, moving, refusing."""

from __future__ import annotations

import ast
import random
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpack_cli.errors import NotebookError
from mlpack_cli.notebook.ipython import parse_cell
from mlpack_cli.notebook.reader import Cell
from mlpack_cli.notebook.secrets import (
    GUARD_MESSAGE,
    detect,
    environment_variables,
    mask,
    protect,
    protect_cells,
)

_RNG = random.Random(20261201)


def token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """A random token with upper, lower and digits (secrets are made here, never written in a file)."""
    while True:
        value = "".join(_RNG.choices(alphabet, k=length))
        kinds = [str.isupper, str.islower, str.isdigit]
        if all(any(map(kind, value)) for kind in kinds if any(map(kind, alphabet))):
            return value


OPENAI = "sk-proj-" + token(48)
OPENAI_LEGACY = "sk-" + token(20) + "T3BlbkFJ" + token(20)
HF = "hf_" + token(34, string.ascii_letters)
AWS = "AKIA" + "".join(_RNG.choices(string.ascii_uppercase + "234567", k=16))
GITHUB = "ghp_" + token(36)
PASSWORD = "Tr0ub4dor&3-" + token(6)
BASE64 = token(40, string.ascii_letters + string.digits + "+/")
URL_PASSWORD = token(14)


# -- finding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "value"),
    [
        (f'OPENAI_API_KEY = "{OPENAI}"', "OpenAI API Key", OPENAI),
        (f'key = "{OPENAI_LEGACY}"', "OpenAI Token", OPENAI_LEGACY),
        (f"login('{HF}')", "Hugging Face Token", HF),
        (f'aws_access_key_id = "{AWS}"', "AWS Access Key", AWS),
        (f'gh = "{GITHUB}"', "GitHub Token", GITHUB),  # the plugin reports "ghp": widened to the token
        (f'password = "{PASSWORD}"', "Secret Keyword", PASSWORD),
        (f'blob = "{BASE64}"', "Base64 High Entropy String", BASE64),
        (f'url = "https://ada:{URL_PASSWORD}@example.org/simple/"', "Basic Auth Credentials", URL_PASSWORD),
        ('KEY = """-----BEGIN RSA PRIVATE KEY-----', "Private Key", "-----BEGIN RSA PRIVATE KEY-----"),
    ],
)
def test_each_kind_of_secret_is_found_with_its_value(line: str, kind: str, value: str) -> None:
    (found,) = detect(line + "\n")
    assert (found.line, found.kind, found.value) == (1, kind, value)


def test_a_key_passed_to_a_call_is_found_although_detect_secrets_filters_such_lines_by_default() -> None:
    found = detect(f'client = OpenAI(api_key="{OPENAI}")\n')
    assert [f.value for f in found] == [OPENAI]


def test_our_plugins_find_what_detect_secrets_own_miss() -> None:
    from detect_secrets.plugins.openai import OpenAIDetector

    assert not list(OpenAIDetector().analyze_string(OPENAI)), "detect-secrets now finds sk-proj keys itself"
    low_entropy_hf = "hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH"  # below the high-entropy limit
    assert [f.kind for f in detect(f'login("{low_entropy_hf}")\n')] == ["Hugging Face Token"]


@pytest.mark.parametrize(
    "line",
    [
        'model = AutoModel.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")',
        'df = pd.read_csv("data/houses_2024-v2.csv")',
        'expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',  # a sha256
        'revision = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"',  # a commit id
        'run_id = "123e4567-e89b-12d3-a456-426614174000"',
        'password = os.environ["PASSWORD"]',
        "api_key = get_api_key()",
        'api_key = "<your key here>"',
        "from sklearn.model_selection import train_test_split",
        'server = "10.0.0.1"',
        "withCredentials(passwordVariable: 'TWINE_PASSWORD')",  # the name of a variable
        'print("log in at https://user:password@host/ or https://user:***@host/")',  # placeholders
        'OPENAI_API_KEY = "sk-..."',
    ],
)
def test_ordinary_notebook_lines_are_not_secrets(line: str) -> None:
    assert detect(line + "\n") == []


def test_the_words_read_off_a_pattern_are_in_every_match_of_it() -> None:
    from mlpack_cli.notebook.secrets import _required_words

    assert _required_words(re.compile(r"(?:A3T[A-Z0-9]|AKIA|ASIA)[0-9A-Z]{16}")) == (
        [["A"], ["3T", "KIA", "SIA"]], False)
    assert _required_words(re.compile(r"db_?key|passwd|pwd|contraseña", re.IGNORECASE)) == (
        [["key", "pwd", "passwd", "contrase"]], True)  # a word of each branch; no letter outside ASCII
    assert _required_words(re.compile(r"(?!x)\d+[^a]")) is None  # nothing that must occur
    assert _required_words(re.compile(r"(?i:key)x")) is None  # scoped flags are not read


@pytest.mark.parametrize("text", [
    f'a = 1\nkey = "{OPENAI}"\nprint(a)', f"x = 'AKIA'\nAWS = '{AWS}'", "plain = 1\nprint(plain)\n",
    "ApI_KeY = 'x'\nPASSWORD = 'y'", "CONTRASE\u00d1A = 'z'\nx = '\u017fecret'", "API_\u212aEY = 'k'",
])
def test_the_prefilter_narrowed_to_a_text_answers_as_it_does_for_each_line(text: str) -> None:
    """(The last two: letters re matches ignoring case that str.lower() does not map to ASCII.)"""
    from mlpack_cli.notebook.secrets import _configured_prefilter

    prefilter = _configured_prefilter()
    narrowed = prefilter.narrowed(text)
    lines = text.split("\n")
    assert [bool(narrowed(line)) for line in lines] == [bool(prefilter(line)) for line in lines]
    assert any(map(prefilter, lines)) == ("plain" not in text)
    within = prefilter.narrowed(f"{text}\nCONTRASE\u00d1A = 1")  # narrowed to a notebook, then to its cell
    assert [bool(within.narrowed(text)(line)) for line in lines] == [bool(prefilter(line)) for line in lines]


def test_every_occurrence_is_reported_by_line_even_of_a_value_seen_before() -> None:
    source = f'KEY = "{OPENAI}"\nx = 1\nclient = OpenAI(api_key="{OPENAI}")\n'
    assert [f.line for f in detect(source)] == [1, 3]


def test_the_inline_and_the_next_line_pragma_allowlist_a_line_only() -> None:
    source = (
        f'TOKEN = "{HF}"  # pragma: allowlist secret\n'
        "# pragma: allowlist nextline secret\n"
        f'OTHER = "{OPENAI}"\n'
        f'AGAIN = "{HF}"\n'
    )
    assert [(f.line, f.value) for f in detect(source)] == [(4, HF)]


# -- masking --------------------------------------------------------------------------------------------


def test_mask_shows_two_characters_at_each_end_of_a_long_value() -> None:
    assert mask(OPENAI) == f"sk…{OPENAI[-2:]}"
    assert mask("hunter2") == "…"
    assert mask("12345678") == "1…8"


@given(st.text(min_size=1, max_size=80))
def test_mask_never_shows_more_than_four_characters(value: str) -> None:
    shown = mask(value).replace("…", "", 1)
    assert len(shown) <= 4
    assert len(shown) <= len(value) // 2  # and never half of a short value


# -- moving ---------------------------------------------------------------------------------------------


def test_a_name_assignment_becomes_a_checked_environment_lookup_and_nothing_else_changes() -> None:
    source = (
        "import pandas as pd   # data\n"
        "\n"
        "# the team's key\n"
        f"OPENAI_API_KEY = '{OPENAI}'  # rotate me\n"
        "frame = pd.DataFrame( {'a': [1,2]} )\n"
    )
    result = protect(source)
    assert result.source == (
        "import pandas as pd   # data\n"
        "\n"
        "import os\n"
        "# the team's key\n"
        'if "OPENAI_API_KEY" not in os.environ:\n'
        '    raise RuntimeError("set the environment variable OPENAI_API_KEY")\n'
        "OPENAI_API_KEY = os.environ[\"OPENAI_API_KEY\"]  # rotate me\n"
        "frame = pd.DataFrame( {'a': [1,2]} )\n"
    )
    (finding,) = result.findings
    assert (finding.line, finding.kind, finding.variable) == (4, "OpenAI API Key", "OPENAI_API_KEY")
    assert OPENAI not in repr(result.findings)


def test_the_moved_code_reads_the_variable_and_fails_clearly_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    code = compile(protect(f'api_key = "{PASSWORD}"\n').source, "<cell>", "exec")
    monkeypatch.setenv("API_KEY", "from-the-environment")
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert namespace["api_key"] == "from-the-environment"
    monkeypatch.delenv("API_KEY")
    with pytest.raises(RuntimeError, match="set the environment variable API_KEY"):
        exec(code, {})


def test_an_environment_assignment_becomes_a_check_that_the_variable_is_set() -> None:
    source = f'import os\nos.environ["HF_TOKEN"] = "{HF}"\nos.environ.setdefault("AWS_KEY", "{AWS}")\n'
    result = protect(source)
    assert result.source == (
        "import os\n"
        'if "HF_TOKEN" not in os.environ:\n'
        '    raise RuntimeError("set the environment variable HF_TOKEN")\n'
        'if "AWS_KEY" not in os.environ:\n'
        '    raise RuntimeError("set the environment variable AWS_KEY")\n'
    )
    assert [f.variable for f in result.findings] == ["HF_TOKEN", "AWS_KEY"]


def test_a_nested_annotated_assignment_keeps_its_indentation_and_crlf_line_endings() -> None:
    source = f"def connect():\r\n  if True:\r\n    token: str = '{HF}'\r\n  return token\r\n"
    result = protect(source)
    assert result.source == (
        "def connect():\r\n  if True:\r\n"
        "    import os\r\n"
        '    if "TOKEN" not in os.environ:\r\n'
        '      raise RuntimeError("set the environment variable TOKEN")\r\n'
        '    token: str = os.environ["TOKEN"]\r\n'
        "  return token\r\n"
    )


def test_a_cell_with_magics_is_moved_in_ipythons_translation_which_parse_cell_accepts() -> None:
    result = protect(f'%matplotlib inline\npassword = "{PASSWORD}"\n')
    assert [f.variable for f in result.findings] == ["PASSWORD"]
    assert PASSWORD not in result.source
    code = parse_cell(result.source)
    assert code.handled == ["%matplotlib: dropped"]
    assert "os.environ['PASSWORD']" in ast.unparse(code.tree)


def test_a_cell_without_secrets_is_returned_as_it_is() -> None:
    source = "x = 1  # one\n%time y = x\n"
    assert protect(source).source is source


@pytest.mark.parametrize(
    ("source", "where"),
    [
        (f'client = OpenAI(api_key="{OPENAI}")', "passed to OpenAI()"),
        (f'headers = {{"Authorization": "Bearer {OPENAI}"}}', "in a dict"),
        (f'auth = f"Bearer {OPENAI}-{{n}}"', "in an f-string"),
        (f'index = "https://ada:{URL_PASSWORD}@example.org/simple/"', "in a longer string such as a URL"),
        (f'AUTH = "Bearer {OPENAI}"', "in a longer string such as a URL"),
        (f"keys = ['{HF}']", "in a list"),
        (f'if user == "admin" and token == "{OPENAI}":\n    pass', "in a comparison"),
        (f"# my key is {OPENAI}\nx = 1", "in a comment"),
        (f'KEY = "{OPENAI}"  # {OPENAI}', "in a comment"),
        (f'if True: KEY = "{OPENAI}"', "on a line with other statements"),
        (f'A = B = "{OPENAI}"', "not assigned to a plain name"),
        (f'config["key"] = "{OPENAI}"', "not assigned to a plain name"),
        (f'KEY = b"{OPENAI}"', "not assigned to a plain name"),
        (f"%env OPENAI_API_KEY={OPENAI}", "in an IPython magic or shell command"),
        (f"!curl -H 'Authorization: Bearer {OPENAI}' https://example.org", "in an IPython magic or shell command"),
        (f'%%time\nKEY = "{OPENAI}"', "in a cell that a cell magic"),
    ],
)
def test_a_secret_that_cannot_be_moved_is_refused_and_the_source_kept(source: str, where: str) -> None:
    result = protect(source)
    assert result.source == source
    assert result.refused and all(not f.moved for f in result.findings)
    assert where in result.refused[0].where


def test_an_allowlisted_secret_is_left_where_it_is() -> None:
    source = f'client = OpenAI(api_key="{OPENAI}")  # pragma: allowlist secret\n'
    assert protect(source).source == source
    assert protect(source).findings == []


# -- cells of a notebook --------------------------------------------------------------------------------


def test_protect_cells_reports_moves_and_refuses_naming_notebook_cell_line_and_masked_value() -> None:
    cells = [
        Cell(1, "markdown", f"A key in prose is not code: {OPENAI}"),
        Cell(2, "code", f'KEY = "{OPENAI}"'),
        Cell(3, "code", "x = 1"),
    ]
    cleaned, warnings = protect_cells(cells, "notebooks/keys.ipynb")
    # prose becomes a docstring of the module: the key is masked there, not moved
    assert [c.source for c in cleaned][::2] == [f"A key in prose is not code: sk…{OPENAI[-2:]}", "x = 1"]
    assert OPENAI not in cleaned[1].source and cleaned[1].number == 2
    assert warnings == [
        f"cell 2, line 1: OpenAI API Key sk…{OPENAI[-2:]} now comes from the environment variable KEY: "
        "set it where the module runs",
        f"cell 1, line 1: OpenAI API Key sk…{OPENAI[-2:]} in the text was masked in the module: remove it "
        "from the notebook, and rotate it if it is real",
    ]
    bad = [*cells, Cell(4, "code", f"x = 2\nclient = OpenAI(api_key='{OPENAI}')")]
    with pytest.raises(NotebookError) as caught:
        protect_cells(bad, "notebooks/keys.ipynb")
    error = caught.value
    assert error.message.startswith("notebooks/keys.ipynb: holds a secret mlpack will not write into the module")
    assert f"cell 4, line 2: OpenAI API Key sk…{OPENAI[-2:]} passed to OpenAI()" in error.message
    assert "environment variable" in (error.hint or "") and "# pragma: allowlist secret" in (error.hint or "")
    assert OPENAI not in error.message + (error.hint or "")


# -- the generated tests --------------------------------------------------------------------------------


def test_environment_variables_are_read_back_from_the_checks_only() -> None:
    moved = ast.parse(protect(f'def f():\n    TOKEN = "{HF}"\n    return TOKEN\nPWD = "{PASSWORD}"\n').source)
    lookalike = ast.parse('import os\nif "OTHER" not in os.environ:\n    raise RuntimeError("no")\n')
    assert environment_variables([*moved.body, *lookalike.body]) == ["PWD", "TOKEN"]
    assert GUARD_MESSAGE.format(name="X").startswith("set the environment variable ")


def test_environment_variables_are_found_in_every_kind_of_block() -> None:
    code = (f'class C:\n    def f(self):\n        try:\n            pass\n'
            f'        except ValueError:\n'
            f'            A_TOKEN = "{HF}"\n        finally:\n            pass\n'
            f'for i in range(2):\n    pass\nelse:\n    with open("f") as f:\n        PWD = "{PASSWORD}"\n'
            f'match 1:\n    case 1:\n        if True:\n            pass\n        else:\n'
            f'            SECRET = "{OPENAI}"\n')
    moved = ast.parse(protect(code).source)
    assert environment_variables(moved.body) == ["A_TOKEN", "PWD", "SECRET"]


def test_two_different_secrets_that_would_share_one_variable_are_refused() -> None:
    cells = [Cell(1, "code", f'api_key = "{OPENAI}"'), Cell(2, "code", f'API_KEY = "{OPENAI_LEGACY}"')]
    with pytest.raises(NotebookError, match=r"cell 2, line 1: .* would share the environment variable API_KEY"):
        protect_cells(cells, "nb.ipynb")
    same = [Cell(1, "code", f'api_key = "{OPENAI}"'), Cell(2, "code", f'API_KEY = "{OPENAI}"')]
    assert len(protect_cells(same, "nb.ipynb")[1]) == 2


def test_a_secret_in_a_markdown_cell_is_masked_in_the_text_that_becomes_a_docstring() -> None:
    key = "sk-proj-" + "Q7vX2mK9pL4sT8wZ1nB6cF3hJ5yR0dG2aE"  # pragma: allowlist secret
    cells = [
        Cell(1, "markdown", f"## Train\nThe key we used: {key}\nThen fit."),
        Cell(2, "code", "rows = [1, 2]"),
    ]
    protected, warnings = protect_cells(cells, "notebooks/train.ipynb")
    assert key not in protected[0].source
    assert protected[0].source == "## Train\nThe key we used: sk…aE\nThen fit."
    assert protected[1] == cells[1]
    assert len(warnings) == 1 and "cell 1, line 2: OpenAI API Key sk…aE in the text was masked" in warnings[0]
    assert key not in warnings[0]
