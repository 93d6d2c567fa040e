from __future__ import annotations

import pytest

from mlpack_cli.errors import BuildFailed
from mlpack_cli.reporting import reporter, timed_step, using_reporter


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def info(self, message: str) -> None:
        self.events.append(("info", message))

    def warn(self, message: str) -> None:
        self.events.append(("warn", message))

    def step_started(self, name: str) -> None:
        self.events.append(("start", name))

    def step_finished(self, name: str, seconds: float, ok: bool, detail: str = "") -> None:
        self.events.append(("end", name, ok, detail, seconds >= 0))


def test_a_step_reports_its_start_its_end_and_the_detail_set_inside() -> None:
    with using_reporter(Recorder()) as recorder:
        with timed_step("build") as step:
            step.detail = "demo-0.1.0.whl"
    assert recorder.events == [("start", "build"), ("end", "build", True, "demo-0.1.0.whl", True)]


def test_a_failing_step_is_reported_failed_with_the_first_line_of_the_error() -> None:
    with using_reporter(Recorder()) as recorder:
        with pytest.raises(BuildFailed), timed_step("build"):
            raise BuildFailed("backend failed\nlong log")
    assert recorder.events[-1] == ("end", "build", False, "backend failed", True)


def test_a_step_can_report_through_an_explicit_reporter_and_be_marked_not_ok() -> None:
    recorder = Recorder()
    with timed_step("pytest", via=recorder) as step:
        step.ok, step.detail = False, "1 failed"
    assert recorder.events[-1] == ("end", "pytest", False, "1 failed", True)
    assert step.seconds >= 0


def test_the_default_reporter_is_silent_and_restored() -> None:
    default = reporter()
    with using_reporter(Recorder()):
        assert reporter() is not default
    assert reporter() is default
