"""Cell placement: tags, directives, exploration, headings, calls, in that order of strength."""

from __future__ import annotations

import ast

import pytest

from mlpack_cli.notebook import stages as st


def evidence(source: str, heading: str | None = None, tags: tuple[str, ...] = (), number: int = 1) -> st.CellEvidence:
    return st.CellEvidence(number, tags, source, heading, ast.parse(source).body, False)


def place(*cells: st.CellEvidence) -> list[tuple[str, str]]:
    return [(p.stage, p.reason) for p in st.place_cells(cells, st.DEFAULT_KEYWORDS)]


def test_tag_beats_everything() -> None:
    cell = evidence("df = pd.read_csv('x.csv')", heading="Load", tags=("mlpack:export",))
    assert place(cell) == [("export", "tag mlpack:export")]


def test_directive_comment_beats_heading_and_calls() -> None:
    cell = evidence("# mlpack: train\ndf = pd.read_csv('x.csv')", heading="Load")
    assert place(cell) == [("train", "directive # mlpack: train")]


def test_skip_tag_drops_a_cell() -> None:
    assert place(evidence("model.fit(X, y)", tags=("mlpack:skip",)))[0][0] == "dropped"


@pytest.mark.parametrize(
    "source",
    ["df.head()", "df", "print(df.shape)", "plt.plot(x, y)", "sns.histplot(df)", "len(rows)",
     "for c in cols:\n    print(c)", "fig, ax = plt.subplots()"],
)
def test_exploration_is_dropped_even_under_a_stage_heading(source: str) -> None:
    assert place(evidence(source, heading="Train the model"))[0] == (
        "dropped", "exploration: only displays, prints or plots"
    )


@pytest.mark.parametrize(
    ("heading", "stage"),
    [("Loading the data", "load"), ("Data cleaning", "preprocess"), ("Train and evaluate", "train"),
     ("Model evaluation", "train"), ("Evaluation of the model", "evaluate"), ("Save the model", "export")],
)
def test_heading_keywords_first_match_wins(heading: str, stage: str) -> None:
    assert st.stage_from_heading(heading, st.DEFAULT_KEYWORDS) == stage


@pytest.mark.parametrize(
    ("source", "stage", "call"),
    [
        ("df = pd.read_csv('a.csv')", "load", "read_csv"),
        ("X_train, X_test = train_test_split(X)", "preprocess", "train_test_split"),
        ("model.fit(X, y)", "train", "fit"),
        ("model.fit(X, y)\nacc = accuracy_score(y, model.predict(X))", "evaluate", "accuracy_score"),
        ("joblib.dump(model, 'm.pkl')", "export", "dump"),
        ("with open('out.txt', 'w') as f:\n    f.write(s)", "export", "open"),
    ],
)
def test_calls_decide_without_other_evidence(source: str, stage: str, call: str) -> None:
    assert place(evidence(source)) == [(stage, f"calls {call}()")]


def test_weak_evidence_never_moves_back_a_stage() -> None:
    cells = [evidence("model.fit(X, y)", number=1), evidence("more = pd.read_csv('b.csv')", number=2)]
    assert place(*cells)[1] == ("train", "calls read_csv(); kept in train to keep the order")


def test_cells_without_evidence_continue_the_current_stage() -> None:
    cells = [evidence("model.fit(X, y)", number=1), evidence("z = 1 + 2", number=2)]
    assert place(*cells)[1] == ("train", "continues train")


def test_keywords_are_configurable_per_stage() -> None:
    keywords = st.heading_keywords({"train": ["lernen"], "skip": ["scratch"]})
    assert st.stage_from_heading("Modell lernen", keywords) == "train"
    assert st.stage_from_heading("Scratch pad", keywords) == "dropped"
    assert st.stage_from_heading("Train", keywords) is None


def test_a_directive_naming_no_stage_is_a_problem() -> None:
    assert st.directive_problem((), "# mlpack: trian\nx = 1") == "directive '# mlpack: trian'"
    assert st.directive_problem(("mlpack:evaluat",), "x = 1") == "tag 'mlpack:evaluat'"
    assert st.directive_problem(("mlpack:evaluate",), "x = 1") is None


def test_helpers_tag_on_a_cell_that_runs_code_keeps_it_in_its_stage() -> None:
    cells = [evidence("model.fit(X, y)", number=1), evidence("z = compute()", tags=("mlpack:helpers",), number=2)]
    assert place(*cells)[1] == ("train", "tag mlpack:helpers, but it runs code: kept in train")
