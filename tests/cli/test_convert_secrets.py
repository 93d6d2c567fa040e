"""``mlpack convert`` on notebooks holding API keys: moved to the environment or refused, never printed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from typer.testing import Result

from mlpack_cli.errors import ExitCode

NOTEBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "api_keys.ipynb"


def _secrets_of_the_fixture() -> list[str]:
    text = "\n".join(cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells)
    found = re.findall(r"sk-proj-\w+|hf_\w+", text)
    assert len(found) == 2, "the fixture holds one OpenAI key and one Hugging Face token"
    return found


SECRETS = _secrets_of_the_fixture()


@pytest.fixture
def project(tmp_path: Path, run_cli: Callable[..., object], chdir: Callable[[Path], None]) -> Path:
    root = tmp_path / "keys"
    result = run_cli("init", root, "--name", "keys", "--ci", "none")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    (root / "notebooks").mkdir(exist_ok=True)
    shutil.copy(NOTEBOOK, root / "notebooks")
    chdir(root)
    return root


def _files_written(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8", errors="replace")
        for path in root.rglob("*") if path.is_file() and "notebooks" not in path.parts
    }


def test_keys_become_environment_lookups_and_appear_in_no_output_and_no_file(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli("convert")
    assert result.exit_code == 0, result.stderr
    explained = run_cli("convert", "--explain", "--dry-run")
    as_json = run_cli("convert", "--json", "--force")
    outputs = [result.stdout, result.stderr, explained.stdout, explained.stderr, as_json.stdout, as_json.stderr]
    written = _files_written(project)
    for secret in SECRETS:
        assert not [o for o in outputs if secret in o]
        assert not [name for name, text in written.items() if secret in text]
    assert "cell 3, line 2: OpenAI API Key sk…" in result.stderr
    assert "now comes from the environment variable OPENAI_API_KEY" in result.stderr
    warnings = json.loads(as_json.stdout)["notebooks"][0]["warnings"]
    assert any("environment variable HF_TOKEN" in w for w in warnings)
    assert run_cli("convert", "--check").exit_code == 0  # in step: the header hashes the notebook as written
    module = written["src/keys/api_keys.py"]
    assert 'os.environ["OPENAI_API_KEY"]' in module or "os.environ['OPENAI_API_KEY']" in module


def test_the_module_imports_without_the_variables_and_its_generated_tests_pass(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    assert run_cli("convert").exit_code == 0
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "HF_TOKEN")}
    environment["PYTHONPATH"] = str(project / "src")
    run = [sys.executable, "-c", "import keys.api_keys as m; m.run()"]
    missing = subprocess.run(run, cwd=project, env=environment, capture_output=True, text=True, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == "RuntimeError: set the environment variable OPENAI_API_KEY"
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_api_keys.py"],
        cwd=project, env=environment, capture_output=True, text=True, check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert re.search(r"\b\d+ passed\b", tests.stdout) and "skipped" not in tests.stdout


def test_a_key_passed_to_a_call_refuses_the_notebook_without_printing_it(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    notebook = nbformat.read(project / "notebooks" / "api_keys.ipynb", as_version=4)
    notebook.cells[4].source += f'\nclient = dict(api_key="{SECRETS[0]}")'
    nbformat.write(notebook, project / "notebooks" / "api_keys.ipynb")
    for args in (("convert",), ("convert", "--json")):
        result = run_cli(*args)
        assert result.exit_code == ExitCode.NOTEBOOK
        assert "cell 5, line 3: OpenAI API Key sk…" in result.stdout + result.stderr
        assert "passed to dict()" in result.stdout + result.stderr
        assert SECRETS[0] not in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    assert not (project / "src" / "keys" / "api_keys.py").exists()


def test_a_key_on_the_first_line_of_a_cell_is_not_shown_in_the_cell_table(
    project: Path, run_cli: Callable[..., Result]
) -> None:
    notebook = nbformat.read(project / "notebooks" / "api_keys.ipynb", as_version=4)
    notebook.cells.insert(2, nbformat.v4.new_code_cell(f'HF_TOKEN_2 = "{SECRETS[1]}"'))
    nbformat.write(notebook, project / "notebooks" / "api_keys.ipynb")
    result = run_cli("convert", "--json")
    assert result.exit_code == 0, result.stderr
    cells = json.loads(result.stdout)["notebooks"][0]["cells"]
    shown = [c["first_line"] for c in cells if c["cell"] == 3]  # the cell as converted, one entry per part
    assert shown[0] == "import os" and all("HF_TOKEN_2 =" not in line for line in shown)
    assert SECRETS[1] not in result.stdout + result.stderr
    explained = run_cli("convert", "--explain", "--dry-run", "--force")
    assert "where each cell went" in explained.stdout and SECRETS[1] not in explained.stdout + explained.stderr


def test_run_hands_back_no_secret(project: Path, run_cli: Callable[..., Result]) -> None:
    assert run_cli("convert").exit_code == 0
    environment = {**os.environ, "OPENAI_API_KEY": "sk-proj-dummyvalue1234", "HF_TOKEN": "hf_dummytoken5678",
                   "PYTHONPATH": str(project / "src")}
    code = "import keys.api_keys as m; print(repr(m.run()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=project, env=environment, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    returned = done.stdout.strip().splitlines()[-1]
    assert "'score'" in returned  # (the results run() returns, printed as a dict)
    assert "dummyvalue1234" not in returned and "dummytoken5678" not in returned
