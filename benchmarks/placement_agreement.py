"""How well does `mlpack convert` place cells? Its stages against expert labels of a corpus.

Usage: python benchmarks/placement_agreement.py [--corpus DIR] [--labels TSV] [--disagreements FILE]
                                                [--skip-invalid-cells] [--no-markdown]

The labels (tests/fixtures/labels/corpus_labels.tsv, described in its header) give, for each code
cell of each labelled notebook, the stage an expert would put it in, the secondary stages a mixed
cell also holds, and whether it only plots or builds a model. For every labelled notebook found in
the corpus (default: the nearest ``shared/corpus`` directory above this checkout), this script makes
a project with ``mlpack init``, copies the notebook in, runs ``mlpack convert --dry-run --json`` and
compares the report's stage of each cell with the label. It prints:

- agreement over the scored cells (non-empty code cells of notebooks mlpack converted):
  exact (mlpack's stage of the cell's main part is the labelled stage), strict (it is the
  labelled stage or one of the other stages) and lenient (the stage of any part is). The main
  part of a cell is its largest part in a pipeline stage (load ... export), or, when none is, its
  largest part: so a cell whose displays were dropped and whose imports moved to the module's top
  is placed where the rest of its code went;
- the same over every labelled cell, a rejected notebook's cells counting as misses;
- agreement per labelled stage and the confusion matrix (rows: label, columns: mlpack's stage of
  the main part);
- plot-only cells kept in a stage (a part in load ... export, or the whole cell in helpers), and
  model-building cells with a part in train or evaluate;
- the notebooks mlpack rejected, with its reasons (notebooks of the corpus without code cells have
  no labels; they are converted too, and mlpack should reject them); and the targets.

- the mean of the notebooks' strict agreement, so that one long notebook does not decide alone.

The report's cell numbers count all cells from 1 (as Jupyter shows them, after nbformat upgrades a
version 3 notebook); the labels count code cells from 0, and each cell's first line is compared
with the label's to catch a numbering that does not line up. A split cell appears in the report
once per part, each with the cell's number and its line range ``lines: [first, last]``; an entry
without a range is the whole cell. Every run also writes the disagreements (cells whose strict
placement differs from the label) to a text file, default ``../notes/placement_disagreements.txt``
next to the checkout. Exit status 0, or 2 when nothing could be measured.

``--no-markdown`` measures the same notebooks with every markdown cell removed: many notebooks have
no prose at all, and placement must not depend on it. The labels count code cells, so they apply
unchanged; the report's cell numbers are mapped through the stripped copies. Its disagreements go
to ``placement_disagreements.no-markdown.txt`` unless ``--disagreements`` names a file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = ROOT / "tests" / "fixtures" / "labels" / "corpus_labels.tsv"
DEFAULT_DISAGREEMENTS = ROOT.parent / "notes" / "placement_disagreements.txt"
STAGES = ("load", "preprocess", "train", "evaluate", "export", "helpers", "dropped")
KINDS = ("", "plot", "model")
COLUMNS = ("notebook", "cell", "first_line", "stage", "other_stages", "kind", "reason")
# Report stage names that mean the same as a label's (a module prelude is helpers' imports).
SYNONYMS = {"imports": "helpers", "constants": "helpers", "prelude": "helpers", "skip": "dropped"}
WHOLE_CELL = 1_000_000  # the size of a report entry without a line range
PIPELINE_STAGES = ("load", "preprocess", "train", "evaluate", "export")
TARGETS = {"agreement": 92.0, "plot_kept": 10.0, "model_in_train": 95.0}


@dataclass(frozen=True)
class Label:
    notebook: str
    cell: int  # index among code cells, 0-based
    first_line: str
    stage: str
    others: tuple[str, ...]
    kind: str
    reason: str

    @property
    def accepted(self) -> set[str]:
        return {self.stage, *self.others}


@dataclass
class Part:
    stage: str
    reason: str
    size: int


@dataclass
class Outcome:
    notebook: str
    error: str | None = None  # rejected (or crashed): why
    crashed: bool = False  # mlpack gave no JSON report (a traceback, not a rejection)
    parts: dict[int, list[Part]] = field(default_factory=dict)  # code-cell index -> parts
    first_lines: dict[int, str] = field(default_factory=dict)  # code-cell index -> report's first line
    empty: set[int] = field(default_factory=set)  # code-cell indices of empty cells


def find_corpus() -> Path:
    """The nearest ``shared/corpus`` directory above the checkout (``../shared/corpus`` first)."""
    for parent in ROOT.parents:
        candidate = parent / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "corpus"


def read_labels(path: Path) -> dict[str, list[Label]]:
    """Labels by notebook file name, in cell order; a malformed row stops the run with its line."""
    labels: dict[str, list[Label]] = defaultdict(list)
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            if tuple(fields) != COLUMNS:
                raise SystemExit(f"{path}:{number}: the header row must be {' '.join(COLUMNS)}")
            header_seen = True
            continue
        if len(fields) != len(COLUMNS):
            raise SystemExit(f"{path}:{number}: {len(fields)} columns, expected {len(COLUMNS)}")
        notebook, cell, first, stage, others, kind, reason = fields
        labels[notebook].append(Label(notebook, int(cell), first, stage,
                                      tuple(o for o in others.split(",") if o), kind, reason))
    return labels


def code_cell_indices(notebook: Path) -> tuple[dict[int, int], set[int]]:
    """Cell number as mlpack reports it (1-based among all cells, after nbformat's upgrade of
    version 3 notebooks) -> index among code cells; and the indices of empty code cells."""
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = nbformat.read(str(notebook), as_version=4)
    numbers: dict[int, int] = {}
    empty: set[int] = set()
    for number, cell in enumerate(data.cells, start=1):
        if cell.cell_type == "code":
            index = len(numbers)
            numbers[number] = index
            if not cell.source.strip():
                empty.add(index)
    return numbers, empty


def count_code_cells(notebook: Path) -> int | None:
    """Code cells in ``notebook``; None when nbformat cannot read it."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = nbformat.read(str(notebook), as_version=4)
    except Exception:  # not a notebook: measured only through mlpack's own rejection
        return None
    return sum(1 for cell in data.cells if cell.cell_type == "code")


def part_size(entry: dict[str, Any]) -> int:
    """Lines in a report entry's part: its ``lines`` range ``[first, last]``; the whole cell (larger
    than any part) when it gives none."""
    lines = entry.get("lines")
    if isinstance(lines, (list, tuple)) and len(lines) == 2 and all(isinstance(n, int) for n in lines):
        return max(1, lines[1] - lines[0] + 1)
    return WHOLE_CELL


def run_convert(project: Path, skip_invalid: bool) -> tuple[dict[str, dict[str, Any]] | None, str]:
    """``mlpack convert --dry-run --json`` in ``project``: the reports by notebook file name, or None
    and the last line mlpack wrote to stderr when it gave no JSON (a crash, not a rejection)."""
    command = [sys.executable, "-m", "mlpack_cli", "convert", "--dry-run", "--json"]
    if skip_invalid:
        command.append("--skip-invalid-cells")
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    try:
        result = json.loads(done.stdout)
        return {Path(r["notebook"]).name: r for r in result["notebooks"]}, ""
    except (ValueError, KeyError, TypeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"no JSON report (exit {done.returncode}): {tail[:200]}"


def outcome_of(notebook: Path, report: dict[str, Any] | None, problem: str) -> Outcome:
    """What the report says of each code cell of ``notebook``."""
    outcome = Outcome(notebook.name)
    if report is None:
        outcome.error, outcome.crashed = problem or "no report for this notebook", True
        return outcome
    if not report.get("ok", False):
        outcome.error = str(report.get("error") or "rejected")
        return outcome
    numbers, outcome.empty = code_cell_indices(notebook)
    for entry in report.get("cells", []):
        index = numbers.get(entry["cell"])
        if index is None:
            outcome.error = f"the report names cell {entry['cell']}, which is not a code cell"
            outcome.crashed = True
            return outcome
        stage = SYNONYMS.get(entry["stage"], entry["stage"])
        outcome.parts.setdefault(index, []).append(Part(stage, str(entry.get("reason", "")), part_size(entry)))
        outcome.first_lines.setdefault(index, str(entry.get("first_line", "")))
    return outcome


def strip_markdown(notebooks: list[Path], directory: Path) -> list[Path]:
    """Copies of ``notebooks`` (same file names) in ``directory`` without their markdown cells;
    a file nbformat cannot read is copied as it is (mlpack's rejection of it is measured)."""
    import nbformat

    directory.mkdir(parents=True, exist_ok=True)
    copies = []
    for notebook in notebooks:
        copy = directory / notebook.name
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = nbformat.read(str(notebook), as_version=4)
                data.cells = [cell for cell in data.cells if cell.cell_type != "markdown"]
                nbformat.write(data, str(copy))
        except Exception:  # not a notebook: measured only through mlpack's own rejection
            shutil.copy(notebook, copy)
        copies.append(copy)
    return copies


def new_project(template: Path, directory: Path, notebooks: list[Path]) -> Path:
    shutil.copytree(template, directory)
    for notebook in notebooks:
        shutil.copy(notebook, directory / "notebooks" / notebook.name)
    return directory


def convert_all(template: Path, work: Path, notebooks: list[Path], skip_invalid: bool) -> list[Outcome]:
    """One ``mlpack convert`` over all the notebooks (each converts on its own, so one project
    holding them all gives the same reports, faster); when that crashes, one project per notebook,
    so that a crash costs only its own notebook."""
    reports, problem = run_convert(new_project(template, work / "all", notebooks), skip_invalid)
    if reports is not None and all(n.name in reports for n in notebooks):
        return [outcome_of(n, reports[n.name], "") for n in notebooks]

    def alone(notebook: Path) -> Outcome:
        found, why = run_convert(new_project(template, work / notebook.stem, [notebook]), skip_invalid)
        return outcome_of(notebook, (found or {}).get(notebook.name), why)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(alone, notebooks))


def main_part(parts: list[Part]) -> Part:
    """The part that says where a cell went: its largest part in a pipeline stage; when it has none,
    its largest part (helpers or dropped). Displays and plots dropped from a cell that also computes,
    and imports or definitions moved to the module's top, do not decide the placement of the rest."""
    placed = [p for p in parts if p.stage not in ("helpers", "dropped")]
    return max(placed or parts, key=lambda p: p.size)  # the first of equal sizes


def plot_kept(parts: list[Part]) -> bool:
    """Whether plotting code of a plot-only cell is kept: a part in a pipeline stage, or the whole
    cell in helpers (a helpers part of a split cell is an import moved to the module's top)."""
    return any(p.stage in PIPELINE_STAGES for p in parts) or (len(parts) == 1 and parts[0].stage == "helpers")


def pct(count: int, total: int) -> str:
    return f"{100 * count / total:5.1f}% ({count}/{total})" if total else "    - (0/0)"


def verdict(value: float | None, target: float, at_least: bool) -> str:
    if value is None:
        return "n/a"
    met = value >= target if at_least else value <= target
    return "met" if met else "NOT met"


def measure(labels: dict[str, list[Label]], outcomes: list[Outcome]) -> tuple[list[str], list[str]]:
    """The printed summary and the disagreement list."""
    count: Counter[str] = Counter()  # scored, exact, strict, lenient, all, plot, plot_kept, model, model_ok, unreported
    agreed_by_stage: Counter[str] = Counter()
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    by_notebook: dict[str, tuple[int, int]] = {}
    mismatched: list[str] = []
    disagreements: list[str] = []
    for outcome in outcomes:
        nonempty = [label for label in labels[outcome.notebook]
                    if label.cell not in outcome.empty and label.first_line]
        count["all"] += len(nonempty)
        if outcome.error:
            continue
        agreed_here = 0
        for label in nonempty:
            count["scored"] += 1
            count["plot"] += label.kind == "plot"
            count["model"] += label.kind == "model"
            parts = outcome.parts.get(label.cell)
            if not parts:
                count["unreported"] += 1
                confusion[label.stage]["(unreported)"] += 1
                disagreements.append(_disagreement(label, "(not in the report)"))
                continue
            shown = outcome.first_lines.get(label.cell, "")
            if shown[:60].rstrip() != label.first_line.rstrip():
                mismatched.append(f"{label.notebook} cell {label.cell}: label {label.first_line!r}, "
                                  f"report {shown[:60]!r}")
            main = main_part(parts)
            stages = {p.stage for p in parts}
            ok = main.stage in label.accepted
            confusion[label.stage][main.stage] += 1
            agreed_by_stage[label.stage] += ok
            agreed_here += ok
            count["exact"] += main.stage == label.stage
            count["strict"] += ok
            count["lenient"] += bool(stages & label.accepted)
            count["plot_kept"] += label.kind == "plot" and plot_kept(parts)
            count["model_ok"] += label.kind == "model" and bool(stages & {"train", "evaluate"})
            if not ok:
                disagreements.append(_disagreement(label, ", ".join(f"{p.stage} ({p.reason})" for p in parts)))
        by_notebook[outcome.notebook] = (agreed_here, len(nonempty))

    def rate(part: str, whole: str) -> float | None:
        return 100 * count[part] / count[whole] if count[whole] else None

    rejected = [o for o in outcomes if o.error and not o.crashed]
    crashed = [o for o in outcomes if o.crashed]
    lines = [f"labelled notebooks measured: {len(outcomes)}; converted {len(outcomes) - len(rejected) - len(crashed)}, "
             f"rejected {len(rejected)}, crashed {len(crashed)}",
             f"scored cells (non-empty code cells of converted notebooks): {count['scored']}"
             + (f"; {count['unreported']} missing from mlpack's report" if count["unreported"] else ""),
             f"numbering check: {count['scored'] - count['unreported'] - len(mismatched)} of "
             f"{count['scored'] - count['unreported']} reported cells show the labelled first line",
             "",
             f"{'':36}{'value':<22}target",
             f"{'agreement, exact (main part)':36}{pct(count['exact'], count['scored']):<22}",
             f"{'agreement, strict (main part)':36}{pct(count['strict'], count['scored']):<22}"
             f">= {TARGETS['agreement']:.0f}%  {verdict(rate('strict', 'scored'), TARGETS['agreement'], True)}",
             f"{'agreement, lenient (any part)':36}{pct(count['lenient'], count['scored']):<22}",
             f"{'strict, mean of the notebooks':36}{_mean_rate(by_notebook):<22}",
             f"{'strict, rejected notebooks as misses':36}{pct(count['strict'], count['all']):<22}",
             f"{'plot-only cells kept in a stage':36}{pct(count['plot_kept'], count['plot']):<22}"
             f"<= {TARGETS['plot_kept']:.0f}%  {verdict(rate('plot_kept', 'plot'), TARGETS['plot_kept'], False)}",
             f"{'model cells in train or evaluate':36}{pct(count['model_ok'], count['model']):<22}"
             f">= {TARGETS['model_in_train']:.0f}%  "
             f"{verdict(rate('model_ok', 'model'), TARGETS['model_in_train'], True)}",
             "",
             "per labelled stage (strict agreement; then counts by mlpack's stage of the main part)"]
    columns = list(STAGES) + sorted({c for row in confusion.values() for c in row} - set(STAGES))
    lines.append(f"  {'label':<11}{'agree':>18}" + "".join(f"{c[:10]:>11}" for c in columns))
    for stage in STAGES:
        row = confusion.get(stage, Counter())
        if row:
            lines.append(f"  {stage:<11}{pct(agreed_by_stage[stage], sum(row.values())):>18}"
                         + "".join(f"{row.get(c, 0):>11}" for c in columns))
    lines += ["", "per notebook (strict agreement)"]
    for outcome in outcomes:
        if outcome.error:
            shown = "CRASHED" if outcome.crashed else "REJECTED"
            lines.append(f"  {shown:>18}  {outcome.notebook}: {outcome.error[:200]}")
        else:
            lines.append(f"  {pct(*by_notebook[outcome.notebook]):>18}  {outcome.notebook}")
    if mismatched:
        lines += ["", f"WARNING: {len(mismatched)} cell(s) whose first line differs from the label "
                      "(the cell numbering may not line up):"]
        lines += [f"  {m}" for m in mismatched[:10]]
    return lines, disagreements


def _mean_rate(by_notebook: dict[str, tuple[int, int]]) -> str:
    """Unweighted mean of the notebooks' agreement, so that one long notebook does not decide alone."""
    rates = [agreed / total for agreed, total in by_notebook.values() if total]
    return f"{100 * sum(rates) / len(rates):5.1f}% ({len(rates)} notebooks)" if rates else "    -"


def _disagreement(label: Label, placed: str) -> str:
    wanted = label.stage + (f" (also {','.join(label.others)})" if label.others else "")
    kind = f" [{label.kind}]" if label.kind else ""
    return (f"{label.notebook}\tcode cell {label.cell}\t{label.first_line}\n"
            f"    label: {wanted}{kind}: {label.reason}\n    mlpack: {placed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="directory of the labelled notebooks")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--disagreements", type=Path, default=DEFAULT_DISAGREEMENTS)
    parser.add_argument("--skip-invalid-cells", action="store_true", help="pass --skip-invalid-cells to convert")
    parser.add_argument("--no-markdown", action="store_true",
                        help="measure the notebooks with every markdown cell removed")
    options = parser.parse_args(argv)
    if options.no_markdown and options.disagreements == DEFAULT_DISAGREEMENTS:
        options.disagreements = DEFAULT_DISAGREEMENTS.with_name("placement_disagreements.no-markdown.txt")
    corpus = options.corpus or find_corpus()
    labels = read_labels(options.labels)
    present = sorted(name for name in labels if (corpus / name).is_file())
    missing = sorted(set(labels) - set(present))
    others = sorted(p.name for p in corpus.glob("*.ipynb") if p.name not in labels)
    codeless = [name for name in others if count_code_cells(corpus / name) == 0]
    unlabelled = [name for name in others if name not in codeless]
    if not present:
        print(f"no labelled notebook found in {corpus}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "template"
        init = subprocess.run([sys.executable, "-m", "mlpack_cli", "init", str(template), "--name", "bench",
                               "--ci", "none"], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if init.returncode != 0:
            print(f"mlpack init failed (exit {init.returncode}): {init.stderr.strip()[-500:]}")
            return 2
        measured = [corpus / name for name in present + codeless]
        if options.no_markdown:
            measured = strip_markdown(measured, work / "no-markdown")
        outcomes = convert_all(template, work, measured, options.skip_invalid_cells)
    expected_rejections = outcomes[len(present):]
    outcomes = outcomes[:len(present)]
    print(f"corpus: {corpus}")
    print(f"labels: {options.labels}")
    if options.no_markdown:
        print("mode: no markdown (every markdown cell removed before converting)")
    if missing:
        print(f"labelled but not in the corpus: {', '.join(missing)}")
    if unlabelled:
        print(f"in the corpus but not labelled (not measured): {', '.join(unlabelled)}")
    lines, disagreements = measure(labels, outcomes)
    print("\n".join(lines))
    if expected_rejections:
        print("notebooks without code cells (nothing to label; mlpack should reject them)")
        for outcome in expected_rejections:
            verdict_text = f"rejected: {outcome.error[:160]}" if outcome.error else "NOT rejected"
            print(f"  {outcome.notebook}: {verdict_text}")
    options.disagreements.parent.mkdir(parents=True, exist_ok=True)
    summary = "".join(f"# {line}\n" for line in lines[:12])
    options.disagreements.write_text(
        f"# placement disagreements: {len(disagreements)} cell(s); label = expert, mlpack = convert's report"
        + (" (notebooks without markdown)" if options.no_markdown else "") + "\n"
        + summary + "\n".join(disagreements) + "\n", encoding="utf-8")
    print(f"\ndisagreements: {len(disagreements)} written to {options.disagreements}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
