"""What ``mlpack release`` prints after its steps: the outcome, how to install, what to push; or why a
real release would have stopped."""

from __future__ import annotations

import json
from collections.abc import Callable

from mlpack_cli.commands.release import ReleaseResult, StepRecord
from mlpack_cli.output import release as output


def test_a_release_says_what_was_released_how_to_install_and_what_to_push(
    printed: Callable[[], tuple[str, str]],
) -> None:
    result = ReleaseResult("demo", "0.1.0", "0.1.1", dry_run=False, tag="v0.1.1",
                           install_command="pip install --index-url https://u:pw@example.org/simple/ demo==0.1.1",
                           push_command="git push origin HEAD v0.1.1")
    output.show(result)
    lines = printed()[0].splitlines()
    assert lines == ["Released demo 0.1.1.",
                     "Install it with: pip install --index-url https://u:***@example.org/simple/ demo==0.1.1",
                     "Push the release commit and tag: git push origin HEAD v0.1.1"]


def test_a_dry_run_lists_what_would_stop_the_real_release(printed: Callable[[], tuple[str, str]]) -> None:
    result = ReleaseResult("demo", "0.1.0", "0.1.1", dry_run=True,
                           preflight_problems=["no username for https://example.org/legacy/"])
    output.show(result)
    out = printed()[0]
    assert "every step ran, but a real release would stop at pre-flight" in out
    assert "  no username for https://example.org/legacy/" in out.splitlines()
    assert "all steps passed" not in out


def test_a_clean_dry_run_says_all_steps_passed(printed: Callable[[], tuple[str, str]]) -> None:
    output.show(ReleaseResult("demo", "0.1.0", "0.1.1", dry_run=True))
    assert printed()[0].splitlines() == ["Dry run of demo 0.1.0 -> 0.1.1: all steps passed."]


def test_the_json_report_has_the_documented_keys(
    printed: Callable[[], tuple[str, str]], json_schema: Callable[[str, object], tuple[set[str], set[str]]],
) -> None:
    result = ReleaseResult("demo", "0.1.0", "0.1.1", dry_run=True, steps=[StepRecord("check", 1.5, "ok", "fine")])
    output.show(result, as_json=True)
    report = json.loads(printed()[0])
    documented, present = json_schema("release.md", report)
    assert documented and documented <= present, documented - present
    assert report["steps"] == [{"name": "check", "status": "ok", "seconds": 1.5, "detail": "fine"}]
