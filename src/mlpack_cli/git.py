"""Every git command mlpack runs, in one place: the tree's state, identity, commit time, commit and tag.

Git is optional for ``init``, ``build`` and ``quickstart`` (they do less without it) and required by
``release``, whose failures name the git command and its own words.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlpack_cli.errors import EnvironmentProblem, ReleaseFailed


def run(cwd: Path | None, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str] | None:
    """Run git without raising for its exit status; None when git is not installed or cannot start.
    Output that is not UTF-8 (git stores bytes) is shown with U+FFFD rather than failing."""
    executable = shutil.which("git")
    if executable is None:
        return None
    try:
        return subprocess.run([executable, *args], cwd=cwd, capture_output=True, encoding="utf-8",
                              errors="replace", timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` for a release; its error output becomes the message."""
    done = run(root, *args)
    if done is None:
        raise EnvironmentProblem("git is not installed",
                                 hint="A release needs git for the clean-tree check and the tag.")
    if done.returncode != 0:
        raise ReleaseFailed(f"git {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def dirty_files(root: Path) -> list[str]:
    try:
        return [line for line in git(root, "status", "--porcelain", "--untracked-files=normal").splitlines() if line]
    except ReleaseFailed as exc:
        raise ReleaseFailed(f"{root} is not a git repository (or git cannot read it)",
                            hint="Run `git init` and commit, so the release can be tagged.") from exc


NO_REMOTE_NOTE = "this repository has no git remote: add one with `git remote add origin <url>`, then push"


def push_command(root: Path, tag: str | None) -> tuple[str, str | None]:
    """The command that pushes the release commit (and tag), and a note when there is no remote to name."""
    remotes = git(root, "remote").split()
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else "<remote>")
    command = f"git push {remote} HEAD" + (f" {tag}" if tag else "")
    return command, None if remotes else NO_REMOTE_NOTE


def succeeds(root: Path, *args: str) -> bool:
    try:
        git(root, *args)
    except ReleaseFailed:
        return False
    return True


def identity(cwd: Path) -> tuple[str | None, str | None]:
    """``user.name`` and ``user.email`` from git config, when git is there and has them."""

    def get(key: str) -> str | None:
        done = run(cwd if cwd.is_dir() else None, "config", "--get", key, timeout=10)
        return (done.stdout.strip() or None) if done is not None else None

    return get("user.name"), get("user.email")


def last_commit_epoch(root: Path) -> int | None:
    """Seconds since the epoch of the last commit that touched ``root``'s repository, if any."""
    done = run(root, "log", "-1", "--format=%ct")
    text = done.stdout.strip() if done is not None else ""
    return int(text) if done is not None and done.returncode == 0 and text.isdigit() else None


def commit_everything(root: Path, message: str) -> str | None:
    """A new repository at ``root`` with every file in a first commit; what went wrong, or None."""
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", message]):
        done = run(root, *args)
        if done is None:
            return "git is not installed"
        if done.returncode != 0:
            return f"git {args[0]} failed ({done.stderr.strip() or done.stdout.strip()})"
    return None
