"""The console primitives every presenter uses: JSON even when quiet, plans as tables, errors as plain lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from mlpack_cli.errors import InvalidInput
from mlpack_cli.files import Action, FilePlan, PlannedFile
from mlpack_cli.output import console


def test_json_is_written_even_when_quiet_and_redacted(printed: Callable[[], tuple[str, str]]) -> None:
    console.set_verbosity(console.Verbosity.QUIET)
    console.info("not shown")
    console.print_json({"index": "https://u:s3cret@example.org/simple/", "paths": [Path("a/b")]})
    out, _ = printed()
    assert json.loads(out) == {"index": "https://u:***@example.org/simple/", "paths": ["a/b"]}


def test_quiet_keeps_warnings(printed: Callable[[], tuple[str, str]]) -> None:
    console.set_verbosity(console.Verbosity.QUIET)
    console.warn("disk almost full")
    assert printed() == ("", "Warning: disk almost full\n")


def test_a_plan_is_a_table_sorted_by_path_with_directories_marked(
    tmp_path: Path, printed: Callable[[], tuple[str, str]],
) -> None:
    plan = FilePlan(tmp_path, [PlannedFile(Path("src/x.py"), Action.UPDATED, b"x", "kept your edits"),
                               PlannedFile(Path("docs"), Action.CREATED, is_dir=True)])
    console.print_plan(plan, title="mlpack demo", dry_run=False)
    lines = printed()[0].splitlines()
    assert lines[0] == "mlpack demo"
    docs, source = (next(i for i, line in enumerate(lines) if name in line) for name in ("docs/", "src/x.py"))
    assert docs < source
    assert "updated" in lines[source] and "kept your edits" in lines[source]


def test_markup_in_a_message_is_printed_as_written(printed: Callable[[], tuple[str, str]]) -> None:
    console.info("a [bold]literal[/bold] name")
    assert printed()[0] == "a [bold]literal[/bold] name\n"


def test_an_error_is_two_plain_lines(printed: Callable[[], tuple[str, str]]) -> None:
    console.print_error(InvalidInput("bad name 'x y'", hint="Use letters, digits and - or _."))
    assert printed()[1] == "Error: bad name 'x y'\nHint: Use letters, digits and - or _.\n"
