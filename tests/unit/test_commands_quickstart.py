"""The record quickstart posts to the served model: the features of the example row, never the target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlpack_cli.commands.quickstart import example_request
from mlpack_cli.errors import EnvironmentProblem

ROW = {"size_m2": "117", "rooms": "2", "price_k": "281.8"}


def test_the_request_holds_the_columns_the_model_reads_as_numbers(tmp_path: Path) -> None:
    model = tmp_path / "dist" / "model.json"
    model.parent.mkdir()
    (tmp_path / "dist" / "model.json.mlpack.json").write_text(
        json.dumps({"columns": {"size_m2": "number", "rooms": "number"}, "form": "rows"}))
    assert example_request(ROW, model) == {"size_m2": 117, "rooms": 2}  # not price_k, the target


def test_without_the_captured_columns_it_says_which_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="model.json.mlpack.json") as raised:
        example_request(ROW, tmp_path / "model.json")
    assert "run() writes it beside the model" in (raised.value.hint or "")
