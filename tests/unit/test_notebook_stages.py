"""Evidence that is not code: cell tags, ``# mlpack:`` directives and headings (whole words)."""

from __future__ import annotations

import pytest

from mlpack_cli.notebook import stages as st


def test_tag_names_a_stage() -> None:
    placement = st.explicit_placement(("mlpack:export",), "df = pd.read_csv('x.csv')")
    assert placement == st.Placement("export", "tag mlpack:export", strong=True)


def test_directive_comment_names_a_stage() -> None:
    placement = st.explicit_placement((), "# mlpack: train\ndf = pd.read_csv('x.csv')")
    assert placement is not None and (placement.stage, placement.strong) == ("train", True)


def test_skip_tag_means_dropped() -> None:
    assert st.explicit_placement(("mlpack:skip",), "model.fit(X, y)").stage == "dropped"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("heading", "stage"),
    [
        ("Loading the data", "load"),
        ("Data cleaning", "preprocess"),
        ("Train and evaluate", "train"),
        ("Model evaluation", "evaluate"),  # "model" names the topic; "evaluation" the step
        ("Evaluation of the model", "evaluate"),
        ("Save the model", "export"),
        ("Fitting the model", "train"),
        ("Explore the data", "dropped"),
        ("Hyperparameter tuning", "train"),
    ],
)
def test_heading_keywords(heading: str, stage: str) -> None:
    assert st.stage_from_heading(heading, st.DEFAULT_KEYWORDS) == stage


@pytest.mark.parametrize(
    ("heading", "stage"),
    [
        ("Create a test set", "preprocess"),  # making a test set is preparing data, not evaluating
        ("Train/test split", "preprocess"),
        ("The training data", "preprocess"),
        ("Building a regression tree in scikit-learn", None),  # scikit-learn is not "learn"
        ("Ready to go", None),  # "ready" is not "read"
        ("Predictions on the test data", "evaluate"),
        ("Feature importance", "evaluate"),  # what a trained model learned, not feature engineering
        ("Coefficients (feature influence)", "evaluate"),
        ("Interpreting the coefficients", "evaluate"),
        ("Feature engineering", "preprocess"),
        ("Pearson correlation coefficients", None),  # a view of the data
        ("Saving Model and model weights", "export"),  # "saving" is "save" + "-ing"
        ("Scoring the models", "evaluate"),
        ("Storing the predictions", "export"),
    ],
)
def test_headings_match_whole_words_and_data_phrases(heading: str, stage: str | None) -> None:
    assert st.stage_from_heading(heading, st.DEFAULT_KEYWORDS) == stage


def test_keywords_are_configurable_per_stage() -> None:
    keywords = st.heading_keywords({"train": ["lernen"], "skip": ["scratch"]})
    assert st.stage_from_heading("Modell lernen", keywords) == "train"
    assert st.stage_from_heading("Scratch pad", keywords) == "dropped"
    assert st.stage_from_heading("Train", keywords) is None


def test_a_directive_naming_no_stage_is_a_problem() -> None:
    assert st.directive_problem((), "# mlpack: trian\nx = 1") == "line 1: the directive '# mlpack: trian'"
    assert st.directive_problem((), "\n# mlpack: trian\nx = 1") == "line 2: the directive '# mlpack: trian'"
    assert st.directive_problem(("mlpack:evaluat",), "x = 1") == "the cell's tag 'mlpack:evaluat'"
    assert st.directive_problem(("mlpack:evaluate",), "x = 1") is None


def test_headings_are_read_from_markdown() -> None:
    assert st.headings("# Title\n\ntext\n\n## Train the model ##\n") == ["Title", "Train the model"]


def test_the_notebooks_title_is_its_first_level_one_heading_above_the_code_when_no_other_follows() -> None:
    assert st.title([("markdown", "# Scoring prompts\nWhat it does."), ("code", "import os"),
                     ("markdown", "## Load"), ("code", "x = 1")]) == "Scoring prompts"
    # level-1 headings used as sections: the first is a section too
    assert st.title([("markdown", "# Load the data"), ("code", "x = 1"), ("markdown", "# Train")]) is None
    # a first heading below the first code cell, or of a lower level, is no title
    assert st.title([("code", "x = 1"), ("markdown", "# Evaluate")]) is None
    assert st.title([("markdown", "## Evaluate"), ("code", "x = 1")]) is None
