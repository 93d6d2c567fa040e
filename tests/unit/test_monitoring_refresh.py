"""``monitoring.py`` stays current: init, convert and ci refresh it while unedited and keep an edited one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mlpack_cli.commands import ci
from mlpack_cli.commands.convert import ConvertSettings, convert_project
from mlpack_cli.entrypoint import support_state
from mlpack_cli.files import Action
from mlpack_cli.commands.init import InitSettings, init_project

MODULE = "src/demo/monitoring.py"


def _init(root: Path) -> object:
    return init_project(InitSettings(path=root, name="demo", ci="none", example=True))


def _convert(root: Path) -> object:
    return convert_project(ConvertSettings(root=root))


def _ci(root: Path) -> object:
    return ci.write_ci(root, "gitlab")


COMMANDS = {"init": _init, "convert": _convert, "ci": _ci}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    _init(tmp_path / "demo")
    return tmp_path / "demo"


def _entry(result: object) -> tuple[Action, str]:
    (entry,) = [e for e in result.plan.entries if e.path.as_posix() == MODULE]  # type: ignore[attr-defined]
    return entry.action, entry.note


def _older(body: str) -> str:
    """What an older mlpack wrote: the same header, another body, the hash of that body."""
    header = ci.render_monitoring("demo").split("# content: ")[0]
    return f"{header}# content: {hashlib.sha256(body.encode()).hexdigest()}\n{body}"


def test_the_module_carries_the_hash_of_its_body() -> None:
    text = ci.render_monitoring("demo")
    first, second, third, body = text.split("\n", 3)
    assert first.startswith("# Written by mlpack: ") and "docs/monitoring.md" in first
    assert third == f"# content: {hashlib.sha256(body.encode()).hexdigest()}"
    assert "def track(" in body
    compile(text, MODULE, "exec")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unedited_older_module_is_upgraded(root: Path, command: str) -> None:
    module = root / MODULE
    module.write_text(_older('"""Monitoring hooks of an older mlpack."""\n'), encoding="utf-8")
    assert support_state(module, ci.render_monitoring("demo")) == "outdated"
    result = COMMANDS[command](root)
    assert _entry(result) == (Action.UPDATED, "regenerated: this version of mlpack writes it differently")
    assert module.read_text(encoding="utf-8") == ci.render_monitoring("demo")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_edited_module_is_kept_with_a_note(root: Path, command: str) -> None:
    module = root / MODULE
    edited = module.read_text(encoding="utf-8").replace("def track(", "def track(  # tuned for our service\n", 1)
    module.write_text(edited, encoding="utf-8")
    result = COMMANDS[command](root)
    assert _entry(result) == (Action.SKIPPED, "edited since mlpack wrote it; kept")
    assert module.read_text(encoding="utf-8") == edited


@pytest.mark.parametrize("command", COMMANDS)
def test_a_module_without_the_header_is_kept_unless_it_is_ours(root: Path, command: str) -> None:
    module = root / MODULE
    body = ci.render_monitoring("demo").split("\n", 3)[3]
    module.write_text(body, encoding="utf-8")  # as mlpack wrote it before the header: given the header
    assert _entry(COMMANDS[command](root))[0] is Action.UPDATED
    assert module.read_text(encoding="utf-8") == ci.render_monitoring("demo")

    module.write_text("def track(name):\n    ...\n", encoding="utf-8")  # the user's own
    assert _entry(COMMANDS[command](root)) == (Action.SKIPPED, ci.MONITORING_KEPT)
    assert module.read_text(encoding="utf-8") == "def track(name):\n    ...\n"


def test_a_current_module_is_left_unchanged(root: Path) -> None:
    before = (root / MODULE).read_bytes()
    runs: list[Callable[[Path], object]] = [_convert, _ci, _init]
    for run in runs:
        assert _entry(run(root))[0] is Action.UNCHANGED
    assert (root / MODULE).read_bytes() == before


def test_init_force_replaces_an_edited_module(root: Path) -> None:
    (root / MODULE).write_text("# mine\n", encoding="utf-8")
    result = init_project(InitSettings(path=root, name="demo", ci="none", example=True, force=True))
    assert _entry(result)[0] is Action.REPLACED
    assert (root / MODULE).read_text(encoding="utf-8") == ci.render_monitoring("demo")
