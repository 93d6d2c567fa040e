"""The maintained tables: import names to distributions, last releases for older Pythons."""

from __future__ import annotations

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from mlpack_cli.notebook.distributions import (
    IMPORT_NAMES, LAST_RELEASE_FOR_PYTHON, distribution_for, last_release_for, notebook_only,
)


def test_every_entry_is_an_import_name_and_a_canonical_distribution_name() -> None:
    assert list(IMPORT_NAMES) == sorted(IMPORT_NAMES, key=str)  # kept sorted, so a reader finds an entry
    for module, distribution in IMPORT_NAMES.items():
        assert all(part.isidentifier() for part in module.split(".")), module
        assert distribution == canonicalize_name(distribution), distribution


@pytest.mark.parametrize(
    ("module", "distribution"),
    [("sklearn.svm", "scikit-learn"), ("google.protobuf.message", "protobuf"),
     ("google.cloud.storage", "google-cloud-storage"),
     ("google.cloud", None), ("numpy", "numpy"), ("surely_not_listed", None)],
)
def test_the_longest_listed_prefix_names_the_distribution(module: str, distribution: str | None) -> None:
    assert distribution_for(module) == distribution


def test_colab_is_notebook_only_and_nothing_else_is() -> None:
    assert notebook_only("google.colab.drive") == "google.colab"
    assert notebook_only("google.colab") == "google.colab"
    assert notebook_only("google.colabx") is None
    assert notebook_only("google.cloud") is None


def test_last_releases_are_versions_that_never_rise_for_an_older_python() -> None:
    for distribution, releases in LAST_RELEASE_FOR_PYTHON.items():
        assert distribution == canonicalize_name(distribution)
        versions = [Version(releases[minor]) for minor in sorted(releases)]
        assert versions == sorted(versions), distribution  # an older Python never has a newer last release
        assert all(len(v.release) == 2 for v in versions)
    assert last_release_for("numpy", 10) == "2.2"
    assert last_release_for("numpy", 14) is None
    assert last_release_for("surely-not-listed", 10) is None
