"""Progress reporting without printing from the library.

The library calls :func:`reporter` and speaks to whatever the caller installed; by default that is
a silent reporter, so library calls from Python print nothing. The CLI installs one that writes to
the terminal (see :mod:`mlpack_cli.output.console`). Kept in a ContextVar, as pypa/build does.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass
class Step:
    """A step in progress: the code inside sets ``detail`` (and ``ok``); ``seconds`` is filled in at the end."""

    name: str
    detail: str = ""
    ok: bool = True
    seconds: float = 0.0


@contextlib.contextmanager
def timed_step(name: str, via: Reporter | None = None) -> Iterator[Step]:
    """Report a step as it starts and as it ends, with its time; a raised error marks it failed.

    ``via`` passes the reporter explicitly to worker threads, which do not see the caller's ContextVar.
    """
    target = via or reporter()
    step = Step(name)
    target.step_started(name)
    started = time.perf_counter()
    try:
        yield step
    except BaseException as error:
        step.seconds, step.ok = time.perf_counter() - started, False
        target.step_finished(name, step.seconds, False, _failure_detail(error))
        raise
    step.seconds = time.perf_counter() - started
    target.step_finished(name, step.seconds, step.ok, step.detail)


def _failure_detail(error: BaseException) -> str:
    from mlpack_cli.errors import MlpackError

    if isinstance(error, MlpackError):
        return error.message.splitlines()[0] if error.message else ""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return type(error).__name__
