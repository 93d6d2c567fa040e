"""The stages, and the evidence that is not code: cell tags, ``# mlpack:`` directives, headings.

Tags (``mlpack:<stage>``, ``mlpack:skip``) and a first-line ``# mlpack: <stage>`` comment are the
strongest evidence. A markdown heading is a weak prior, matched on whole words (``scikit-learn``
is not ``learn``) with the keywords per stage of ``[tool.mlpack.convert.keywords]``; phrases about
splitting the data ("test set", "training data") mean preprocessing, never evaluation. What the
code does is decided in :mod:`mlpack_cli.notebook.placement`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


STAGES = ("load", "preprocess", "train", "evaluate", "export")
PREDICT_TAG = "mlpack:predict"  # marks the inference cells (notebook/inference.py); places nothing
HELPERS = "helpers"
DROPPED = "dropped"
ALL_STAGES = (*STAGES, HELPERS, DROPPED)

DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "load": ("load", "read", "ingest", "download", "fetch", "get the data", "import the data", "import data"),
    "preprocess": (
        "preprocess", "pre-process", "clean", "prepar", "feature", "transform", "split", "wrangl",
        "encod", "scal", "normali", "impute",
    ),
    "train": ("train", "fit", "model", "learn", "tuning", "hyperparameter", "classifier", "regressor"),
    "evaluate": ("evaluat", "metric", "score", "test", "validat", "result", "performance", "predict", "accuracy"),
    "export": ("export", "save", "persist", "serializ", "deploy", "dump", "submission", "store"),
    DROPPED: ("explor", "eda", "visuali", "plot", "inspect", "look at", "summary statistic"),
}

_DIRECTIVE = re.compile(r"^\s*#\s*mlpack\s*:\s*([A-Za-z]+)\s*$")


@dataclass(frozen=True)
class Placement:
    stage: str
    reason: str
    strong: bool = False  # from a tag or a directive: kept even out of order


def stage_for_word(word: str) -> str | None:
    word = word.strip().lower()
    if word == "skip":
        return DROPPED
    return word if word in ALL_STAGES else None


def explicit_placement(tags: Sequence[str], source: str) -> Placement | None:
    """A ``mlpack:<stage>`` tag or a ``# mlpack: <stage>`` first-line comment."""
    for tag in tags:
        if tag.lower().startswith("mlpack:"):
            stage = stage_for_word(tag.split(":", 1)[1])
            if stage:
                return Placement(stage, f"tag {tag}", strong=True)
    first = next((line for line in source.splitlines() if line.strip()), "")
    match = _DIRECTIVE.match(first)
    if match and stage_for_word(match.group(1)):
        return Placement(stage_for_word(match.group(1)) or DROPPED, f"directive {first.strip()}", strong=True)
    return None


def directive_problem(tags: Sequence[str], source: str) -> str | None:
    """A directive or tag that names no stage (a typo deserves an error, not silence): where it is
    in the cell (a tag is the whole cell's; a directive is on a line) and what it says."""
    for tag in tags:
        if (tag.lower().startswith("mlpack:") and not stage_for_word(tag.split(":", 1)[1])
                and tag.lower() != PREDICT_TAG):
            return f"the cell's tag {tag!r}"
    lines = source.splitlines()
    number, first = next(((n, line) for n, line in enumerate(lines, start=1) if line.strip()), (1, ""))
    match = _DIRECTIVE.match(first)
    if match and not stage_for_word(match.group(1)):
        return f"line {number}: the directive {first.strip()!r}"
    return None


def heading_keywords(config: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """Defaults, with any stage's list replaced by ``[tool.mlpack.convert.keywords]``."""
    keywords = dict(DEFAULT_KEYWORDS)
    for stage, words in (config or {}).items():
        key = DROPPED if stage == "skip" else stage
        if key in keywords and isinstance(words, (list, tuple)):
            keywords[key] = tuple(str(w).lower() for w in words)
    return keywords


_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def headings(markdown: str) -> list[str]:
    return [m.group(2).strip() for m in _HEADING.finditer(markdown)]


def title(cells: Sequence[tuple[str, str]]) -> str | None:
    """The notebook's title, (kind, source) of its cells: its first heading when that is a level-1
    heading above every code cell and no other level-1 heading follows ("# Titanic: predicting
    survival", "# Scoring prompts"). It names what the notebook is about, not a stage of it."""
    found: list[tuple[int, str, bool]] = []  # (level, text, above every code cell)
    code_seen = False
    for kind, source in cells:
        if kind == "markdown":
            found += [(len(m.group(1)), m.group(2).strip(), not code_seen) for m in _HEADING.finditer(source)]
        elif kind == "code" and source.strip():
            code_seen = True
    if not found or found[0][0] != 1 or not found[0][2] or any(level == 1 for level, _, _ in found[1:]):
        return None
    return found[0][1]


# Phrases about the data, whatever stage word they hold: a test set is made when preprocessing.
_DATA_PHRASES = re.compile(
    r"(?<![\w-])(train(ing)?|test(ing)?|validation|hold-?out|dev)[ _/-]*(and[ _/-]*)?"
    r"(test[ _/-]*)?(set|sets|data|dataset|datasets|split|splits|samples?)\b|\btrain[ _/-]*test\b"
)
# Phrases about what a trained model learned: a model's statistics, shown as its results.
_MODEL_PHRASES = re.compile(
    r"\bfeature[ _-]*(importances?|influences?|weights?|contributions?)\b|(?<!correlation )\bcoefficients?\b"
)
_WEAK = frozenset({"model", "learn"})  # name a topic more than a step: any other stage word wins


def stage_from_heading(heading: str, keywords: Mapping[str, Sequence[str]]) -> str | None:
    """The stage a heading names: its first keyword that starts a whole word (not a part of a
    hyphenated word); "model" and "learn" only when no other keyword appears."""
    text = heading.lower()
    if _DATA_PHRASES.search(text) and "preprocess" in keywords:
        text = _DATA_PHRASES.sub(" preprocess ", text)
    if _MODEL_PHRASES.search(text) and "evaluate" in keywords:
        text = _MODEL_PHRASES.sub(" evaluate ", text)
    pattern, words = _heading_pattern(tuple((stage, tuple(w)) for stage, w in keywords.items()))
    if not words:
        return None
    weak: str | None = None
    for match in pattern.finditer(text):
        stage, word = words[match.lastindex - 1] if match.lastindex else (None, "")
        if stage is None:
            continue
        if word in _WEAK:
            weak = weak or stage
            continue
        return stage
    return weak


@functools.lru_cache(maxsize=8)
def _heading_pattern(
    keywords: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[re.Pattern[str], list[tuple[str, str]]]:
    """One search for every keyword, each at the start of a word (a hyphen joins words: the
    ``learn`` of ``scikit-learn`` is no word of its own), group N being the Nth keyword; a short
    keyword takes only the usual endings (``read`` is not ``ready``)."""
    words = [(stage, word) for stage, group in keywords for word in group]
    alternatives = "|".join(f"({_inflected(word)})" for _, word in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![-])"), words


_ENDINGS = r"(?:s|es|ed|d|ing|ting|ning|ling|er|ers|ion|ions|ation|ations|ised|ized|ise|ize|ment)?(?![a-z])"


def _inflected(word: str) -> str:
    """A keyword's pattern: a short one with the usual endings, and one ending in "e" also with
    "-ing" in its place (``save`` -> "saving", ``score`` -> "scoring", ``store`` -> "storing")."""
    if len(word) > 5 or not word.isalpha():
        return re.escape(word)
    if word.endswith("e"):
        return f"(?:{re.escape(word)}{_ENDINGS}|{re.escape(word[:-1])}ing(?![a-z]))"
    return f"{re.escape(word)}{_ENDINGS}"
