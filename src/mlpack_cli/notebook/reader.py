"""Read a notebook file into plain cells, or say precisely why it is not a Python notebook.

nbformat does the reading: version 3 notebooks are upgraded to version 4 and what it can repair
(missing cell ids) is repaired and reported. Anything that stops conversion of the whole notebook
(not JSON, not a notebook, another kernel, no code at all) is a :class:`NotebookError`.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlpack_cli.errors import NotebookError

TAG_PREFIX = "mlpack:"


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all cells, as Jupyter shows them
    kind: str  # "code", "markdown" or "raw"
    source: str
    tags: tuple[str, ...] = ()
    # the stored execution (not part of what conversion reads: see Notebook.source_hash)
    execution_count: int | None = field(default=None, compare=False)
    outputs: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    @property
    def first_line(self) -> str:
        for line in self.source.splitlines():
            if line.strip():
                return line.strip()
        return ""


@dataclass
class Notebook:
    path: Path
    cells: list[Cell]
    kernel: str
    repairs: list[str] = field(default_factory=list)

    @property
    def code_cells(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.kind == "code"]

    @property
    def source_hash(self) -> str:
        """Hash of what conversion reads (cell kinds, sources, tags): re-running the notebook,
        which only changes outputs and execution counts, does not make its module stale."""
        return source_hash([(c.kind, c.source, list(c.tags)) for c in self.cells])


def source_hash(payload: Any) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_notebook(path: Path, display: str | None = None) -> Notebook:
    """Read ``path``; ``display`` is the name used in messages (relative to the project)."""
    import nbformat
    from nbformat.reader import NotJSONError
    from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning

    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"{name}: cannot be read: {exc.strerror or exc}", hint="Check the path.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(
            f"{name}: not a notebook (the file is binary, not UTF-8 JSON{_sniff(raw)})",
            hint="Pass .ipynb files saved by Jupyter, or remove this file from the notebooks directory.",
        ) from None
    try:
        data = nbformat.reader.reads(text)  # type: ignore[no-untyped-call]  # nbformat is untyped
    except NotJSONError as exc:
        detail = _json_problem(text)
        raise NotebookError(
            f"{name}: not a notebook (not valid JSON: {detail})",
            hint="Open it in Jupyter and save it again, or remove it from the notebooks directory.",
        ) from exc
    except Exception as exc:  # nbformat raises assorted errors on JSON that is not a notebook
        raise NotebookError(
            f"{name}: not a notebook ({_shape_problem(text) or _short(exc)})",
            hint="A notebook is JSON with 'cells', 'metadata' and 'nbformat' keys.",
        ) from exc
    repairs: list[str] = []
    version = data.get("nbformat")
    if not isinstance(version, int) or version < 3 or "cells" not in data and "worksheets" not in data:
        raise NotebookError(
            f"{name}: not a notebook (no 'nbformat' version 3 or 4 with cells)",
            hint="A notebook is JSON with 'cells', 'metadata' and 'nbformat' keys.",
        )
    if version > 4:
        raise NotebookError(
            f"{name}: nbformat {version} is newer than this mlpack understands",
            hint="Upgrade mlpack-cli, or save the notebook as nbformat 4 from Jupyter.",
        )
    try:
        if version == 3:
            data = nbformat.convert(data, 4)  # type: ignore[no-untyped-call]  # nbformat is untyped
            repairs.append("upgraded from nbformat 3 to 4")
        with warnings.catch_warnings():
            # normalize() warns about the very cell ids it adds or replaces; the repair is reported instead
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            warnings.simplefilter("ignore", DuplicateCellId)
            changes, _ = nbformat.validator.normalize(_id_skeleton(data), relax_add_props=True)
    except Exception as exc:
        raise NotebookError(
            f"{name}: not a valid notebook ({_short(exc)})",
            hint="Open it in Jupyter and save it again.",
        ) from exc
    if changes:
        repairs.append(f"repaired by nbformat: {changes} missing or invalid field(s), e.g. cell ids")
    kernel = _check_kernel(name, data.get("metadata") or {})
    cells = _cells(name, data.get("cells"))
    if not any(cell.kind == "code" and cell.source.strip() for cell in cells):
        raise NotebookError(
            f"{name}: the notebook has no code ({_no_code_detail(cells)})",
            hint="Add the pipeline's code to code cells, or remove this notebook from the notebooks directory.",
        )
    return Notebook(path=path, cells=cells, kernel=kernel, repairs=repairs)


def _id_skeleton(data: Any) -> dict[str, Any]:
    """What nbformat's ``normalize`` reads of a notebook: its version and each cell's id.

    ``normalize`` deep-copies the notebook it is given and repairs only the cell ids (missing or
    repeated) on the copy; given this skeleton it counts the same repairs and raises the same errors
    (a cell that is not an object stays as it is), without copying every output of every cell.
    The cell ids are never read here, so the repaired copy is not needed.
    """
    skeleton = {key: data[key] for key in ("nbformat", "nbformat_minor", "cells") if key in data}
    cells = skeleton.get("cells")
    if isinstance(cells, list):
        skeleton["cells"] = [({"id": cell["id"]} if "id" in cell else {}) if isinstance(cell, dict) else cell
                             for cell in cells]
    return skeleton


def _no_code_detail(cells: list[Cell]) -> str:
    kinds = sorted({cell.kind for cell in cells})
    if not cells:
        return "it has no cells"
    if "code" not in kinds:
        return f"its {len(cells)} cell(s) are all {' or '.join(kinds)}"
    return "every code cell is empty"


def _cells(name: str, raw_cells: Any) -> list[Cell]:
    if not isinstance(raw_cells, list):
        raise NotebookError(f"{name}: not a notebook ('cells' is not a list)", hint="Save it again from Jupyter.")
    cells: list[Cell] = []
    for number, raw in enumerate(raw_cells, start=1):
        if not isinstance(raw, dict):
            raise NotebookError(f"{name}: cell {number} is not a JSON object", hint="Save it again from Jupyter.")
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        if not isinstance(source, str):
            raise NotebookError(f"{name}: cell {number} has no text source", hint="Save it again from Jupyter.")
        metadata = raw.get("metadata") or {}
        tags = metadata.get("tags") if isinstance(metadata, dict) else None
        cell_tags = tuple(t.strip() for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
        count = raw.get("execution_count")
        outputs = raw.get("outputs")
        cells.append(Cell(number, str(raw.get("cell_type", "code")), source.replace("\r\n", "\n"), cell_tags,
                          execution_count=_kernel_count(count),
                          outputs=tuple(o for o in outputs if isinstance(o, dict))
                          if isinstance(outputs, list) else ()))
    return cells


def _kernel_count(count: object) -> int | None:
    """A cell's saved execution count, or None: a kernel counts from 1, so 0 (what some exporters,
    Colab's among them, write into every cell of a notebook never run) says no cell ran."""
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None


def execution_order_problem(cells: list[Cell]) -> str | None:
    """What the saved execution counts say when the cells did not run top to bottom: the outputs
    (and the values the user saw) may come from another order than the module's, which is the
    notebook's order, as "Restart & Run All" runs it."""
    ran = [c for c in cells if c.kind == "code" and c.source.strip() and c.execution_count is not None]
    for above, below in zip(ran, ran[1:]):
        if below.execution_count < above.execution_count:  # type: ignore[operator]
            return (f"cells were executed out of order: cell {below.number} (execution count "
                    f"{below.execution_count}) ran before cell {above.number} above it (execution count "
                    f"{above.execution_count}); the module runs the cells top to bottom, so its results "
                    "can differ from the outputs saved in the notebook: check them with Restart & Run All")
    return None


def _check_kernel(name: str, metadata: dict[str, Any]) -> str:
    spec, info = (value if isinstance(value, dict) else {}  # (a malformed entry says nothing of the kernel)
                  for value in (metadata.get("kernelspec"), metadata.get("language_info")))
    language = str(spec.get("language") or info.get("name") or "python")
    kernel = str(spec.get("name") or spec.get("display_name") or language)
    if not language.lower().startswith("python"):
        shown = spec.get("display_name") or kernel
        raise NotebookError(
            f"{name}: the kernel is {shown!r} (language {language!r}), not Python",
            hint="mlpack converts Python notebooks only; remove this one from the notebooks directory.",
        )
    return kernel


def _sniff(raw: bytes) -> str:
    signatures = {b"\x89PNG": "PNG image", b"\xff\xd8\xff": "JPEG image", b"%PDF": "PDF", b"PK\x03\x04": "zip archive"}
    for magic, kind in signatures.items():
        if raw.startswith(magic):
            return f"; it looks like a {kind}"
    return ""


def _json_problem(text: str) -> str:
    if not text.strip():
        return "the file is empty"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        line = text.splitlines()[exc.lineno - 1] if exc.lineno - 1 < len(text.splitlines()) else ""
        return f"{exc.msg} at line {exc.lineno}: {line.strip()[:60]!r}"
    return "unreadable"


def _shape_problem(text: str) -> str | None:
    """What makes valid JSON not a notebook, when it can be said plainly (only called on failure)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        kinds = {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
        shown = "null" if data is None else kinds.get(type(data), type(data).__name__)
        return f"the file holds a JSON {shown}, not an object with 'cells'"
    if "nbformat" not in data:
        return "no 'nbformat' key: this JSON is not a notebook"
    version = data["nbformat"]
    if not isinstance(version, int) or isinstance(version, bool):
        return (f"'nbformat' is {json.dumps(version)[:40]}, not a whole number: write \"nbformat\": 4 "
                "(without quotes) in the file, or save it again from Jupyter")
    for key in ("metadata", "cells", "worksheets"):
        if key in data and not isinstance(data[key], dict if key == "metadata" else list):
            return f"{key!r} is not a JSON {'object' if key == 'metadata' else 'list'}"
    cells = data.get("cells") or []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
            return f"cell {number} {'metadata ' if isinstance(cell, dict) else ''}is not a JSON object"
    return None


def _short(exc: Exception) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    return text[:160] or type(exc).__name__
