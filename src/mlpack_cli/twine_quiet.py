"""twine in-process, quietly: the library must not print, so twine's output and logs are collected.

Both ``build`` (``twine check --strict``) and ``publish`` (the upload) run twine this way.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def captured_twine_output() -> Iterator[list[str]]:
    """twine prints with rich and logs; the library must not print, so both are collected here."""
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                lines.append(record.getMessage())

    logger = logging.getLogger("twine")
    handler = _Collect(level=logging.WARNING)
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield lines
    finally:
        logger.removeHandler(handler)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])


def twine_check(dists: Sequence[Path]) -> list[str]:
    """``twine check --strict`` through twine's Python API: the problems found, one per line."""
    from twine import exceptions
    from twine.commands.check import check

    try:
        with captured_twine_output() as lines:
            failed = check([str(d) for d in dists], strict=True)
    except exceptions.TwineException as exc:
        return [f"twine check: {exc}"]
    if not failed:
        return []
    return [f"twine check --strict: {line}" for line in lines] or ["twine check --strict failed"]
