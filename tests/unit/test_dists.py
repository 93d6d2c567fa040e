from __future__ import annotations

import pytest
from packaging.version import Version

from mlpack_cli.dists import parse_dist_filename


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("My_Project-1.0.2-py3-none-any.whl", ("my-project", Version("1.0.2"), "wheel")),
        ("my_project-1.0.2.tar.gz", ("my-project", Version("1.0.2"), "sdist")),
        ("my_project-2.0rc1.zip", ("my-project", Version("2.0rc1"), "sdist")),
    ],
)
def test_names_are_normalised_and_versions_parsed(filename: str, expected: tuple[str, Version, str]) -> None:
    assert parse_dist_filename(filename) == expected


@pytest.mark.parametrize("filename", ["README.md", "demo-1.0.egg", "demo.tar.gz", "demo-1.0-py3.whl"])
def test_anything_else_is_a_value_error(filename: str) -> None:
    with pytest.raises(ValueError):
        parse_dist_filename(filename)
