"""How many times one command parses pyproject.toml: settings are loaded once, at the command's boundary.

Counts every TOML parse mlpack makes in-process (tomlkit's parser; the build backend and the tools
in their subprocesses read it on their own and are not counted) during `mlpack release --dry-run`
on a generated project, against a local stand-in index on 127.0.0.1, and during check, build and
convert on the same project. Each command reads it once; a command that edits it parses it once
more per edit (the text it edits, formatting kept): release bumps the version; convert adds the
notebook's dependencies and the console script. Before settings were loaded once: release 8,
build 3, convert 4.
Usage: python benchmarks/pyproject_reads.py
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGETS = {"release --dry-run": 2, "check": 1, "build": 1, "convert": 3, "convert --check": 1}


class _EmptyIndex(http.server.BaseHTTPRequestHandler):
    """A simple API that knows no project: every version is new."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def make_project(base: Path) -> Path:
    from mlpack_cli.commands.init import InitSettings, init_project

    from mlpack_cli.commands.convert import ConvertSettings, convert_project

    root = base / "readsbench"
    init_project(InitSettings(path=root, name="readsbench", ci="none", example=True))
    convert_project(ConvertSettings(root=root))  # the example notebook's module, so that the release goes through
    identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "--quiet"], ["add", "--all"], [*identity, "commit", "--quiet", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def count_parses(run: Callable[[], object]) -> int:
    from tomlkit.parser import Parser

    original = Parser.parse
    calls = 0

    def counting(self: Parser) -> Any:
        nonlocal calls
        calls += 1
        return original(self)

    Parser.parse = counting  # type: ignore[method-assign]
    try:
        run()
    finally:
        Parser.parse = original  # type: ignore[method-assign]
    return calls


def main() -> int:
    from mlpack_cli.commands.build import BuildSettings, build_project
    from mlpack_cli.commands.check import CheckSettings, run_checks
    from mlpack_cli.commands.convert import ConvertSettings, check_modules, convert_project
    from mlpack_cli.commands.release import ReleaseSettings, release

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EmptyIndex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    os.environ.update(TWINE_USERNAME="bench", TWINE_PASSWORD="bench-password",
                      GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.org",
                      GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.org")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp))
        commands: dict[str, Callable[[], object]] = {
            "release --dry-run": lambda: release(ReleaseSettings(
                root=root, repository_url=url, dry_run=True, isolated_check=True, outdir=Path(tmp) / "dist")),
            "check": lambda: run_checks(CheckSettings(root=root, python=Path(sys.executable), tests=False)),
            "build": lambda: build_project(BuildSettings(root=root, outdir=Path(tmp) / "dist")),
            "convert": lambda: convert_project(ConvertSettings(root=root, dry_run=True)),
            "convert --check": lambda: check_modules(ConvertSettings(root=root)),
        }
        for name, run in commands.items():
            count = count_parses(run)
            ok = count <= TARGETS[name]
            failed |= not ok
            print(f"{name:18} parses pyproject.toml {count} times (target at most {TARGETS[name]})"
                  + ("" if ok else "  <- over target"))
    server.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
