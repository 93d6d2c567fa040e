"""The ``mlpack`` command: a thin Typer layer over the library.

Each command parses options, calls one library function inside :func:`handle_errors`, and prints
the result. Heavy modules (nbconvert, build, twine, jinja2, flake8, rich) are imported inside the
commands, so ``mlpack --help`` and ``mlpack --version`` stay fast.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from mlpack_cli.errors import MlpackError

app = typer.Typer(
    name="mlpack",
    help="Take a repository of Jupyter notebooks to a released wheel and a CI pipeline that ships it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
    context_settings={"help_option_names": ["-h", "--help"]},
)


@contextlib.contextmanager
def handle_errors() -> Iterator[None]:
    """Turn our errors into ``Error:``/``Hint:`` lines and the error's exit code; install the reporter."""
    from mlpack_cli import console
    from mlpack_cli.reporting import using_reporter

    try:
        with using_reporter(console.ConsoleReporter()):
            yield
    except MlpackError as error:
        console.print_error(error)
        raise typer.Exit(int(error.exit_code)) from None


def _version(value: bool) -> None:
    if value:
        from mlpack_cli import __version__

        typer.echo(f"mlpack {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", help="Show the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Take a repository of Jupyter notebooks to a released wheel and a CI pipeline that ships it."""


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Directory to turn into a project (created if missing).")] = Path("."),
    name: Annotated[Optional[str], typer.Option(help="Project (distribution) name; default: the directory name.")] = None,
    description: Annotated[Optional[str], typer.Option(help="One-line summary for the package metadata.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Author name; default: git config user.name.")] = None,
    email: Annotated[Optional[str], typer.Option(help="Author e-mail; default: git config user.email.")] = None,
    python: Annotated[str, typer.Option(help="requires-python specifier.")] = ">=3.10",
    license: Annotated[str, typer.Option(help="SPDX license expression.")] = "MIT",
    ci: Annotated[str, typer.Option(help="CI file to write: gitlab, jenkins, both or none.")] = "gitlab",
    example: Annotated[bool, typer.Option("--example", help="Also write the example notebook and its data.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files and conflicting values.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
) -> None:
    """Scaffold a PEP 621 project (src layout, tests, docs, noxfile, CI) without clobbering your files."""
    with handle_errors():
        from mlpack_cli import console, scaffold

        git_name, git_email = scaffold.git_identity(path)
        if _interactive():
            name = name or typer.prompt("Project name", default=scaffold.default_name(path))
            description = description or typer.prompt("Description", default=scaffold.DEFAULT_DESCRIPTION)
            author = author or typer.prompt("Author", default=git_name or "", show_default=bool(git_name)) or None
            email = email or typer.prompt("E-mail", default=git_email or "", show_default=bool(git_email)) or None
        settings = scaffold.InitSettings(
            path=path, name=name, description=description, author=author or git_name,
            email=email or git_email, python=python, license=license, ci=ci, example=example, force=force,
        )
        result = scaffold.init_project(settings, dry_run=dry_run)
        console.print_plan(result.plan, title=f"mlpack init {result.root}", dry_run=dry_run)
        for conflict in result.conflicts:
            console.warn(
                f"pyproject.toml: {conflict.key} is {conflict.theirs!r}; mlpack would set {conflict.ours!r}. "
                "Kept yours (use --force to replace)."
            )
        if not result.plan.changed:
            console.info(f"Nothing to change: {result.root} is already set up.")
        elif not dry_run:
            console.info(f"Project {result.name!r} (import name {result.package!r}) is ready in {result.root}.")


def main() -> None:
    app(prog_name="mlpack")
