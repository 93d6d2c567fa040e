from __future__ import annotations

import pytest

from mlpack_cli.errors import InvalidInput
from mlpack_cli.project_names import import_name_for, validate_import_name, validate_project_name


@pytest.mark.parametrize("name", ["churn", "Churn-Model", "a", "x.y_z-2", "9lives"])
def test_valid_project_names(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize("name", ["", "-lead", "trail-", "has space", "ünï", "a/b", "semi;colon"])
def test_invalid_project_names_get_a_hint(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_project_name(name)
    assert "PEP 508" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("project", "package"), [("Churn-Model.v2", "churn_model_v2"), ("my__pkg", "my_pkg"), ("ABC", "abc")]
)
def test_import_name_for(project: str, package: str) -> None:
    assert import_name_for(project) == package


@pytest.mark.parametrize(
    ("name", "reason"),
    [("class", "keyword"), ("match", "keyword"), ("json", "standard-library"), ("9lives", "import name"),
     ("tests", "reserved"), ("mlpack", "reserved"), ("ﬁle", "reads it as 'file'"), ("Ｍｏｄｅｌ", "reads it as 'Model'")],

)
def test_unusable_import_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_import_name(name)
    assert reason in caught.value.message


@pytest.mark.parametrize("name", ["os", "class", "tests"])
def test_a_refused_import_name_says_both_places_it_can_come_from(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_import_name(name)
    assert "--name, or [tool.mlpack] package in pyproject.toml" in (raised.value.hint or "")
