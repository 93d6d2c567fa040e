"""Progress reporting without printing from the library.

The library calls :func:`reporter` and speaks to whatever the caller installed; by default that is
a silent reporter, so library calls from Python print nothing. The CLI installs one that writes to
the terminal (see :mod:`mlpack_cli.console`). Kept in a ContextVar, as pypa/build does.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Protocol


class Reporter(Protocol):
    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def step_started(self, name: str) -> None: ...

    def step_finished(self, name: str, seconds: float, ok: bool, detail: str = "") -> None: ...


class SilentReporter:
    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def step_started(self, name: str) -> None:
        pass

    def step_finished(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        pass


_current: contextvars.ContextVar[Reporter] = contextvars.ContextVar("mlpack_reporter", default=SilentReporter())


def reporter() -> Reporter:
    return _current.get()


@contextlib.contextmanager
def using_reporter(new: Reporter) -> Iterator[Reporter]:
    token = _current.set(new)
    try:
        yield new
    finally:
        _current.reset(token)
