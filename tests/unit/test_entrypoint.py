"""What ``convert`` writes so that the pipelines run from the command line: the support module
(written when absent or still mlpack's, kept once edited) and the console script in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from mlpack_cli.converting import ConvertSettings, convert_project, module_name
from mlpack_cli.entrypoint import TOMLI, script_name, support_module_text, support_state
from mlpack_cli.files import Action
from mlpack_cli.scaffold import InitSettings, init_project

SUPPORT = "src/demo/pipelines.py"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    init_project(InitSettings(path=tmp_path / "demo", name="demo", ci="none", example=True))
    return tmp_path / "demo"


def _actions(result: object) -> dict[str, tuple[Action, str]]:
    return {e.path.as_posix(): (e.action, e.note) for e in result.plan.entries}  # type: ignore[attr-defined]


def _pyproject(root: Path) -> dict[str, object]:
    return tomlkit.parse((root / "pyproject.toml").read_text(encoding="utf-8")).unwrap()["project"]  # type: ignore


def test_convert_writes_the_support_module_and_declares_the_console_script(root: Path) -> None:
    result = convert_project(ConvertSettings(root=root))
    assert (root / SUPPORT).read_text(encoding="utf-8") == support_module_text()
    assert _pyproject(root)["scripts"] == {"demo": "demo.pipelines:main"}
    assert TOMLI in _pyproject(root)["dependencies"]  # requires-python >=3.10: tomllib is 3.11+
    assert result.console_script == "demo" and result.warnings == []
    assert result.to_json()["console_script"] == "demo"
    written = (root / "pyproject.toml").read_bytes()
    again = convert_project(ConvertSettings(root=root))
    assert _actions(again)[SUPPORT][0] is Action.UNCHANGED
    assert _actions(again).get("pyproject.toml", (Action.UNCHANGED,))[0] is Action.UNCHANGED
    assert (root / "pyproject.toml").read_bytes() == written


def test_an_edited_support_module_is_kept(root: Path) -> None:
    convert_project(ConvertSettings(root=root))
    edited = (root / SUPPORT).read_text(encoding="utf-8").replace("USAGE_ERROR = 2", "USAGE_ERROR = 64")
    (root / SUPPORT).write_text(edited, encoding="utf-8")
    result = convert_project(ConvertSettings(root=root, force=True))
    assert _actions(result)[SUPPORT] == (Action.SKIPPED, "edited since mlpack wrote it; kept")
    assert (root / SUPPORT).read_text(encoding="utf-8") == edited
    assert result.warnings == []  # the user's own version of mlpack's module: nothing to warn about


def test_a_support_module_an_older_mlpack_wrote_is_refreshed(root: Path) -> None:
    import hashlib

    body = '"""An older support module."""\n'
    header = support_module_text().split("# content: ")[0]
    older = f"{header}# content: {hashlib.sha256(body.encode()).hexdigest()}\n{body}"
    (root / "src/demo").mkdir(parents=True, exist_ok=True)
    (root / SUPPORT).write_text(older, encoding="utf-8")
    assert support_state(root / SUPPORT, support_module_text()) == "outdated"
    result = convert_project(ConvertSettings(root=root))
    assert _actions(result)[SUPPORT][0] is Action.UPDATED
    assert (root / SUPPORT).read_text(encoding="utf-8") == support_module_text()


def test_a_pipelines_module_mlpack_did_not_write_is_kept_and_reported(root: Path) -> None:
    (root / "src/demo").mkdir(parents=True, exist_ok=True)
    (root / SUPPORT).write_text("PIPELINES = ['mine']\n", encoding="utf-8")
    result = convert_project(ConvertSettings(root=root))
    assert (root / SUPPORT).read_text(encoding="utf-8") == "PIPELINES = ['mine']\n"
    assert _actions(result)[SUPPORT] == (Action.SKIPPED, "not written by mlpack; kept")
    assert any(w.startswith(f"{SUPPORT} was not written by mlpack and is kept") for w in result.warnings)


def test_the_users_script_of_the_same_name_is_kept_and_reported(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8").replace(
        "[tool.setuptools", '[project.scripts]\ndemo = "demo.cli:main"  # ours\n\n[tool.setuptools', 1)
    pyproject.write_text(text, encoding="utf-8")
    result = convert_project(ConvertSettings(root=root))
    assert 'demo = "demo.cli:main"  # ours\n' in pyproject.read_text(encoding="utf-8")
    assert result.console_script is None
    [warning] = result.warnings
    assert warning.startswith("pyproject.toml: [project.scripts] already declares demo = 'demo.cli:main'; kept")
    assert "python -m demo.<module>" in warning


def test_dynamic_scripts_are_not_declared_but_said(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        'version = "0.1.0"', 'version = "0.1.0"\ndynamic = ["scripts"]'), encoding="utf-8")
    result = convert_project(ConvertSettings(root=root))
    assert "scripts" not in _pyproject(root)
    assert result.warnings == ["pyproject.toml: [project.scripts] is dynamic, so no console script was declared; "
                               'add demo = "demo.pipelines:main" yourself']


@pytest.mark.parametrize(("requires", "needs_tomli"), [(">=3.11", False), (">=3.10.4", True), ("", True),
                                                       ("~=3.12", False), (">=3.8,<3.13", True)])
def test_tomli_is_declared_only_where_python_has_no_tomllib(root: Path, requires: str, needs_tomli: bool) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        'requires-python = ">=3.10"', f'requires-python = "{requires}"'), encoding="utf-8")
    convert_project(ConvertSettings(root=root))
    assert (TOMLI in _pyproject(root)["dependencies"]) is needs_tomli  # type: ignore[operator]


def test_a_dry_run_writes_neither(root: Path) -> None:
    result = convert_project(ConvertSettings(root=root, dry_run=True))
    assert _actions(result)[SUPPORT][0] is Action.CREATED
    assert "console script demo added" in _actions(result)["pyproject.toml"][1]
    assert not (root / SUPPORT).exists() and "scripts" not in _pyproject(root)


def test_names() -> None:
    assert script_name("My_Project.x") == "my-project-x"
    assert module_name(Path("pipelines.ipynb")) == "pipelines_notebook"  # the support module keeps its name


SERVING = "src/demo/serving.py"


def test_serving_module_and_serve_extra_are_written_and_then_left_alone(root: Path) -> None:
    from mlpack_cli.entrypoint import serving_module_text

    convert_project(ConvertSettings(root=root))
    assert (root / SERVING).read_text(encoding="utf-8") == serving_module_text()
    extra = _pyproject(root)["optional-dependencies"]["serve"]  # type: ignore[index]
    assert sorted(r.partition(">=")[0] for r in extra) == ["prometheus-client", "starlette", "uvicorn"]
    assert all(">=" in r for r in extra)
    edited = (root / SERVING).read_text(encoding="utf-8") + "# mine\n"
    (root / SERVING).write_text(edited, encoding="utf-8")
    result = convert_project(ConvertSettings(root=root, force=True))
    assert _actions(result)[SERVING] == (Action.SKIPPED, "edited since mlpack wrote it; kept")
    assert (root / SERVING).read_text(encoding="utf-8") == edited


def test_the_users_serve_extra_is_kept_and_completed(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    document = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    document["project"]["optional-dependencies"] = {"serve": ["starlette==0.40.0", "gunicorn"]}  # type: ignore[index]
    pyproject.write_text(tomlkit.dumps(document), encoding="utf-8")
    convert_project(ConvertSettings(root=root))
    extra = _pyproject(root)["optional-dependencies"]["serve"]  # type: ignore[index]
    assert extra[:2] == ["starlette==0.40.0", "gunicorn"]  # theirs, unchanged and first
    assert sorted(r.partition(">=")[0] for r in extra[2:]) == ["prometheus-client", "uvicorn"]


def test_dynamic_extras_are_not_declared_but_said(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    document = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    del document["project"]["optional-dependencies"]  # type: ignore[union-attr]
    document["project"]["dynamic"] = ["optional-dependencies"]  # type: ignore[index]
    pyproject.write_text(tomlkit.dumps(document), encoding="utf-8")
    result = convert_project(ConvertSettings(root=root))
    assert "optional-dependencies" not in _pyproject(root)
    assert any("no serve extra was declared" in w for w in result.warnings)
