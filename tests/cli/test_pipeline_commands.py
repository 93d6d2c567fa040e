"""A converted project's own command line, run for real in subprocesses from the project root:
``python -m <package>.<module>`` and the console script ``<project> run|list`` that convert declares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit

from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.commands.init import InitSettings, init_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipelines") / "demo"
    init_project(InitSettings(path=root, name="demo", ci="none", example=True))
    assert convert_project(ConvertSettings(root=root)).ok
    return root


def _env(project: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project / "src")}


def python_m(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "demo.houses", *args], cwd=project, env=_env(project),
                          capture_output=True, text=True, check=False, timeout=120)


def console_script(project: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The console script as pip's wrapper runs it: the entry point declared in [project.scripts]."""
    [(name, value)] = tomlkit.parse((project / "pyproject.toml").read_text())["project"]["scripts"].items()
    code = ("import sys\nfrom importlib.metadata import EntryPoint\n"
            f"sys.argv[0] = {name!r}\nsys.exit(EntryPoint({name!r}, {value!r}, 'console_scripts').load()())")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd or project, env=_env(project),
                          capture_output=True, text=True, check=False, timeout=120)


def test_python_m_runs_with_typed_overrides_and_prints_json(project: Path, tmp_path: Path) -> None:
    model = tmp_path / "out" / "model.json"
    model.parent.mkdir()
    done = python_m(project, "--set", "TEST_FRACTION=0.5", "--set", f"MODEL_PATH={model}")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["metrics"]["n_test"] == 30  # half of the 60 houses (the default, 0.25, tests 15)
    assert isinstance(results["slope"], float) and "errors" not in results  # per-flat errors: a step, no result
    assert json.loads(model.read_text()).keys() == {"slope", "intercept"}


def test_help_lists_the_parameters_and_their_defaults(project: Path) -> None:
    done = python_m(project, "--help")
    assert done.returncode == 0
    assert "usage: python -m demo.houses [-h] [--set NAME=VALUE] [--config FILE]" in done.stdout
    for line in ("DATA_PATH      = 'data/houses.csv'  (str)", "TEST_FRACTION  = 0.25  (float)"):
        assert line in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "TEST_FRACTON=0.5"], "--set: unknown parameter 'TEST_FRACTON' (did you mean TEST_FRACTION?); "
                                    "run() takes: DATA_PATH, MODEL_PATH, TEST_FRACTION"),
    (["--set", "TEST_FRACTION=half"], "--set TEST_FRACTION: expected a number (float), got 'half'"),
    (["--config", "absent.toml"], "--config absent.toml: no such file"),
    (["--config", "bad.toml"], "--config bad.toml: not valid TOML: Invalid value (at line 1, column 17)"),
    (["--config", "typed.json"], "--config typed.json: TEST_FRACTION: expected a number (float), got str '0.5'"),
    (["--set"], "argument --set: expected one argument"),
])
def test_bad_options_exit_2_with_a_message_and_no_traceback(project: Path, args: list[str], message: str) -> None:
    (project / "bad.toml").write_text("TEST_FRACTION = \n", encoding="utf-8")
    (project / "typed.json").write_text('{"TEST_FRACTION": "0.5"}', encoding="utf-8")
    done = python_m(project, *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert f"python -m demo.houses: error: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_from_python_refuses_unknown_names(project: Path) -> None:
    code = "from demo.houses import run\nrun(TEST_FRACTION=0.5, NOPE=1)"
    done = subprocess.run([sys.executable, "-c", code], cwd=project, env=_env(project), capture_output=True,
                          text=True, check=False, timeout=120)
    assert "TypeError: run() got an unexpected keyword argument 'NOPE'" in done.stderr


def test_the_console_script_runs_a_pipeline_from_a_config_file_and_set(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "conf.toml"
    model = tmp_path / "model.json"
    config.write_text(f"TEST_FRACTION = 0.4\nMODEL_PATH = {json.dumps(str(model))}\n", encoding="utf-8")
    done = console_script(project, "run", "houses", "--set", "TEST_FRACTION=0.5", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metrics"]["n_test"] == 30  # --set wins over the file's 0.4 (24)
    assert model.is_file()  # the file's MODEL_PATH was used
    alone = console_script(project, "run", "demo.houses", "--config", str(config))
    assert json.loads(alone.stdout)["metrics"]["n_test"] == 24


def test_the_console_script_explains_its_own_errors(project: Path) -> None:
    unknown = console_script(project, "run", "hoses")
    assert unknown.returncode == 2
    assert "demo run: error: unknown pipeline 'hoses' (did you mean houses?); the pipelines are: houses" \
        in unknown.stderr
    bad = console_script(project, "run", "houses", "--set", "TEST_FRACTION=x")
    assert bad.returncode == 2 and "demo run houses: error: --set TEST_FRACTION: expected a number" in bad.stderr
    helped = console_script(project, "run", "houses", "--help")
    assert helped.returncode == 0 and "usage: demo run houses" in helped.stdout and "TEST_FRACTION" in helped.stdout
    nothing = console_script(project)
    assert nothing.returncode == 2 and "usage: demo [-h] COMMAND" in nothing.stderr


def test_list_names_the_converted_pipelines_without_importing_them(project: Path) -> None:
    package = project / "src" / "demo"
    header = (package / "houses.py").read_text().split('"""')[0]  # the mlpack header of a converted module
    (package / "broken.py").write_text(f"{header}raise RuntimeError('imported')\n\n\ndef run():\n    pass\n")
    (package / "helper.py").write_text("def run():\n    pass\n")  # not converted by mlpack: no header
    try:
        done = console_script(project, "list")
    finally:
        (package / "broken.py").unlink()
        (package / "helper.py").unlink()
    assert (done.returncode, done.stdout, done.stderr) == (0, "broken\nhouses\n", "")
