"""One error hierarchy for the whole library, with every exit code defined here.

The library raises these; only the CLI turns them into ``Error: ...`` / ``Hint: ...`` lines and an
exit status. Anything that is not an :class:`MlpackError` is a bug and keeps its traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented exit codes (docs/errors.md lists them; keep the two in step)."""

    OK = 0
    STALE = 1  # `convert --check`: generated modules are out of date
    USAGE = 2  # bad command-line usage (reported by Typer/Click)
    CHECK_FAILED = 3  # flake8 or pytest failed
    INVALID_INPUT = 4  # bad names, invalid pyproject.toml, bad configuration values
    CONFLICT = 5  # a file the user wrote would be overwritten
    NOTEBOOK = 6  # a notebook could not be converted
    BUILD_FAILED = 7  # building or verifying the sdist/wheel failed
    PUBLISH_FAILED = 8  # upload refused, credentials wrong, index unreachable
    RELEASE_FAILED = 9  # git stopped a release, or the machine did (rolled back); other steps keep their own code
    ENVIRONMENT = 10  # a required tool or file is missing, a directory is not writable
    INTERRUPTED = 130  # Ctrl-C


class MlpackError(Exception):
    """Base of every error a user can cause; carries what went wrong, what to do, and the exit code."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __init__(self, message: str, hint: str | None = None, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class InvalidInput(MlpackError):
    exit_code = ExitCode.INVALID_INPUT


class FileConflict(MlpackError):
    exit_code = ExitCode.CONFLICT


class NotebookError(MlpackError):
    exit_code = ExitCode.NOTEBOOK


class StaleModules(MlpackError):
    exit_code = ExitCode.STALE


class CheckFailed(MlpackError):
    exit_code = ExitCode.CHECK_FAILED


class BuildFailed(MlpackError):
    exit_code = ExitCode.BUILD_FAILED


class SecretInArtifact(BuildFailed):
    """A built sdist or wheel holds a secret; it was removed so that nothing can upload it."""


class PublishFailed(MlpackError):
    exit_code = ExitCode.PUBLISH_FAILED


class ReleaseFailed(MlpackError):
    exit_code = ExitCode.RELEASE_FAILED


class EnvironmentProblem(MlpackError):
    exit_code = ExitCode.ENVIRONMENT


class SeveralErrors(MlpackError):
    """Several errors of one command (one per notebook, say): each is shown, then ``message`` sums them up.

    The exit code is the gravest of theirs, so the one rule for a mixed outcome lives here."""

    def __init__(self, errors: list[MlpackError], summary: str) -> None:
        super().__init__(summary, exit_code=max(error.exit_code for error in errors))
        self.errors = errors


def raise_all(errors: list[MlpackError], summary: str | None) -> None:
    """Nothing when ``errors`` is empty; the error itself when there is one and no summary; else all of them."""
    if not errors:
        return
    if len(errors) == 1 and summary is None:
        raise errors[0]
    raise SeveralErrors(errors, summary or f"{len(errors)} errors")
