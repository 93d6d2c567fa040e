from __future__ import annotations

import enum
import re
from pathlib import Path

from mlpack_cli.errors import ExitCode, FileConflict, MlpackError

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_exit_codes_are_distinct() -> None:
    # iterating an Enum skips aliases, so a duplicate value would hide there: enum.unique sees them
    assert enum.unique(ExitCode) is ExitCode
    assert len(ExitCode.__members__) == len(ExitCode)


def test_every_exit_code_is_documented_with_its_number() -> None:
    rows = dict(re.findall(r"^\| (\d+) \| `([A-Z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))
    assert rows == {str(code.value): code.name for code in ExitCode}


def test_error_carries_message_hint_and_code() -> None:
    error = FileConflict("x exists", hint="use --force")
    assert (str(error), error.hint, error.exit_code) == ("x exists", "use --force", ExitCode.CONFLICT)
    override = MlpackError("stale", exit_code=ExitCode.STALE)
    assert override.exit_code == ExitCode.STALE
