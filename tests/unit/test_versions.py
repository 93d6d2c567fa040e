"""The next version: a part bumped or a later version given; never backwards, never nonsense."""

from __future__ import annotations

import pytest

from mlpack_cli.errors import InvalidInput
from mlpack_cli.versions import bump_version


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        ("0.1.0", "patch", "0.1.1"),
        ("0.1.9", "minor", "0.2.0"),
        ("1.4.2", "major", "2.0.0"),
        ("1.2.0rc1", "patch", "1.2.0"),
        ("1.2", "patch", "1.2.1"),
        ("0.1.0", "1.0.0", "1.0.0"),
        ("0.1.0", "v1.0", "1.0"),  # PEP 440 normalises
        ("0.1.0", "0.2.0.post1", "0.2.0.post1"),
    ],
)
def test_bump_version(current: str, bump: str, expected: str) -> None:
    assert bump_version(current, bump) == expected


@pytest.mark.parametrize("bump", ["0.1.0", "0.0.9", "banana", "1.0.0-not-pep440!"])
def test_bump_refuses_going_back_or_nonsense(bump: str) -> None:
    with pytest.raises(InvalidInput):
        bump_version("0.1.0", bump)
