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

from mlpack_cli.errors import ExitCode, MlpackError

app = typer.Typer(
    name="mlpack",
    help="Take a repository of Jupyter notebooks to a released wheel and a CI pipeline that ships it.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help and plain "Error:" usage messages, like pip and twine
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
    except (KeyboardInterrupt, typer.Abort):  # Ctrl-C anywhere, or Ctrl-D at a prompt
        sys.stderr.write("Interrupted.\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


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
    name: Annotated[Optional[str], typer.Option(help="Project (distribution) name; default: the directory.")] = None,
    description: Annotated[Optional[str], typer.Option(help="One-line summary for the package metadata.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Author name; default: git config user.name.")] = None,
    email: Annotated[Optional[str], typer.Option(help="Author e-mail; default: git config user.email.")] = None,
    python: Annotated[Optional[str], typer.Option(help="requires-python specifier [default: >=3.10].")] = None,
    license: Annotated[Optional[str], typer.Option(help="SPDX license expression [default: MIT].")] = None,
    ci: Annotated[str, typer.Option(help="CI file to write: gitlab, jenkins, both or none.")] = "gitlab",
    example: Annotated[bool, typer.Option("--example", help="Also write the example notebook and its data.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files and conflicting values.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
) -> None:
    """Scaffold a PEP 621 project (src layout, tests, docs, noxfile, CI) without clobbering your files."""
    with handle_errors():
        from mlpack_cli import console, scaffold

        if _interactive():
            git_name, git_email = scaffold.git_identity(path)
            name = name or typer.prompt("Project name", default=scaffold.default_name(path))
            description = description or typer.prompt("Description", default=scaffold.DEFAULT_DESCRIPTION)
            author = author or typer.prompt("Author", default=git_name or "", show_default=bool(git_name)) or None
            email = email or typer.prompt("E-mail", default=git_email or "", show_default=bool(git_email)) or None
        settings = scaffold.InitSettings(
            path=path, name=name, description=description, author=author, email=email,
            python=python, license=license, ci=ci, example=example, force=force,
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


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="The project (or a folder inside it).")] = Path("."),
    lint_only: Annotated[bool, typer.Option("--lint-only", help="Run flake8 only.")] = False,
    tests_only: Annotated[bool, typer.Option("--tests-only", help="Run pytest only.")] = False,
    isolated: Annotated[bool, typer.Option("--isolated", help="Test the built wheel in a fresh virtualenv.")] = False,
) -> None:
    """Run flake8 and pytest at the same time; exit 3 when either fails."""
    with handle_errors():
        from mlpack_cli import checking, release_output

        if lint_only and tests_only:
            raise typer.BadParameter("--lint-only and --tests-only exclude each other")
        settings = checking.CheckSettings(root=path, lint=not tests_only, tests=not lint_only, isolated=isolated)
        with release_output.check_progress():
            result = checking.run_checks(settings)
        release_output.print_check(result)
        checking.require_ok(result, with_output=False)


@app.command()
def build(
    path: Annotated[Path, typer.Argument(help="The project (or a folder inside it).")] = Path("."),
    outdir: Annotated[Optional[Path], typer.Option("--outdir", "-o", help="Where to put them; default dist/.")] = None,
    no_isolation: Annotated[bool, typer.Option("--no-isolation", help="Build in this environment.")] = False,
    installer: Annotated[Optional[str], typer.Option(help="uv or pip; default uv when available.")] = None,
) -> None:
    """Build the sdist, then the wheel from it; verify both and print their sizes and sha256."""
    with handle_errors():
        from mlpack_cli import building, release_output

        settings = building.BuildSettings(root=path, outdir=outdir, isolation=not no_isolation, installer=installer)
        release_output.print_build(building.build_project(settings))


@app.command()
def publish(
    dists: Annotated[Optional[list[Path]], typer.Argument(help="Files to upload; default: this version's.")] = None,
    repository: Annotated[Optional[str], typer.Option("--repository", "-r", help="A ~/.pypirc section.")] = None,
    repository_url: Annotated[Optional[str], typer.Option(help="The index's upload URL.")] = None,
    index_url: Annotated[Optional[str], typer.Option(help="Its simple API, if not derived from the URL.")] = None,
    username: Annotated[Optional[str], typer.Option("--username", "-u", help="Default: TWINE_USERNAME etc.")] = None,
    config_file: Annotated[Optional[Path], typer.Option(help="The .pypirc to read; default ~/.pypirc.")] = None,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Upload nothing, without error, if the index has these files.")
    ] = False,
) -> None:
    """Upload with twine (password from TWINE_PASSWORD, CI_JOB_TOKEN, .pypirc or keyring)."""
    with handle_errors():
        from mlpack_cli import publishing, release_output

        settings = publishing.PublishSettings(
            root=Path("."), dists=tuple(dists or ()), repository=repository, repository_url=repository_url,
            index_url=index_url, username=username, config_file=config_file, skip_existing=skip_existing,
        )
        release_output.print_publish(publishing.publish(settings))


@app.command()
def release(
    path: Annotated[Path, typer.Argument(help="The project (or a folder inside it).")] = Path("."),
    bump: Annotated[str, typer.Option(help="patch, minor, major or a version such as 2.0.0.")] = "patch",
    repository: Annotated[Optional[str], typer.Option("--repository", "-r", help="A ~/.pypirc section.")] = None,
    repository_url: Annotated[Optional[str], typer.Option(help="The index's upload URL.")] = None,
    index_url: Annotated[Optional[str], typer.Option(help="Its simple API, if not derived from the URL.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Every step but the upload and the tag.")] = False,
    no_tag: Annotated[bool, typer.Option("--no-tag", help="Commit the bump but make no tag.")] = False,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty", help="Release from a tree with changes.")] = False,
    isolated: Annotated[bool, typer.Option("--isolated", help="Run the tests against the built wheel.")] = False,
) -> None:
    """Clean tree, notebooks in sync, bump, check, build, verify, publish, tag; rolled back on failure."""
    with handle_errors():
        from mlpack_cli import release as releasing
        from mlpack_cli import release_output

        settings = releasing.ReleaseSettings(
            root=path, bump=bump, repository=repository, repository_url=repository_url, index_url=index_url,
            dry_run=dry_run, tag=not no_tag, allow_dirty=allow_dirty, isolated_check=isolated,
        )
        release_output.print_release(releasing.release(settings))


@app.command("ci")
def ci_command(
    kind: Annotated[str, typer.Argument(help="Pipeline to write: gitlab, jenkins or both.")],
    path: Annotated[Path, typer.Argument(help="The project (any directory inside it).")] = Path("."),
    python_image: Annotated[Optional[str], typer.Option(help="Image the jobs run in.")] = None,
    index: Annotated[Optional[str], typer.Option(help="Publish to: gitlab, pypi, testpypi or an upload URL.")] = None,
    image: Annotated[Optional[str], typer.Option(help="Image repository; GitLab: $CI_REGISTRY_IMAGE.")] = None,
    environment: Annotated[Optional[str], typer.Option(help="Deploy environment name.")] = None,
    environment_url: Annotated[Optional[str], typer.Option(help="URL of the deployed environment.")] = None,
    deployment_tier: Annotated[Optional[str], typer.Option(help="production, staging, testing, ...")] = None,
    container: Annotated[Optional[bool], typer.Option("--container/--no-container", help="Image + smoke jobs.")] = None,
    deploy: Annotated[Optional[bool], typer.Option("--deploy/--no-deploy", help="Deploy job.")] = None,
    monitor: Annotated[Optional[bool], typer.Option("--monitor/--no-monitor", help="Webhook job.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace generated files you have edited.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show changes and diffs; write nothing.")] = False,
) -> None:
    """Write .gitlab-ci.yml and/or Jenkinsfile (and a Dockerfile) from tool.mlpack.ci in pyproject.toml."""
    with handle_errors():
        from mlpack_cli import ci, console
        from mlpack_cli.redaction import redact_url

        overrides = {
            "python-image": python_image, "index": index, "image": image, "environment": environment,
            "environment-url": environment_url, "deployment-tier": deployment_tier, "container": container,
            "deploy": deploy, "monitor": monitor,
        }
        result = ci.write_ci(path, kind, overrides, force=force, dry_run=dry_run)
        console.print_plan(result.plan, title=f"mlpack ci {kind} {result.root}", dry_run=dry_run)
        for difference in result.differences if dry_run else ():
            typer.echo(redact_url(difference.diff))
        if dry_run:  # the real run would stop here: so does the dry run, with the same exit code
            result.refuse_dropped_edits(dry_run=True)


@app.command()
def quickstart(
    path: Annotated[Path, typer.Argument(help="A new directory for the example project.")] = Path("mlpack-quickstart"),
    name: Annotated[Optional[str], typer.Option(help="Project name; default: the directory name.")] = None,
) -> None:
    """Example notebook to installed wheel: init, convert, check, build, install, run; prints the metrics."""
    with handle_errors():
        from mlpack_cli import quickstart as starting
        from mlpack_cli import release_output

        result = starting.quickstart(starting.QuickstartSettings(path=path, name=name))
        release_output.print_quickstart(result)


@app.command()
def convert(
    paths: Annotated[
        Optional[list[Path]], typer.Argument(help="Notebooks or directories (default: [tool.mlpack] notebooks).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace generated files even if you edited them.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 listing stale or orphaned modules.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove unedited generated files whose notebook no longer exists.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show which stage each cell went to, and why; writes nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    skip_invalid_cells: Annotated[
        bool, typer.Option(
            "--skip-invalid-cells", help="Keep cells that are not valid Python as commented-out TODO code."
        )
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
) -> None:
    """Turn notebooks into pipeline modules (load, preprocess, train, evaluate, export) with tests."""
    with handle_errors():
        from mlpack_cli import convert_output
        from mlpack_cli.converting import ConvertSettings, check_modules, convert_project

        settings = ConvertSettings(
            root=Path.cwd(), paths=list(paths or []), force=force, skip_invalid_cells=skip_invalid_cells,
            dry_run=dry_run or explain, prune=prune,
        )
        if check:
            convert_output.finish_check(check_modules(settings), as_json=as_json)
            return
        result = convert_project(settings)
        convert_output.print_result(result, explain=explain, as_json=as_json)
        convert_output.raise_for_failures(result)


def main() -> None:
    app(prog_name="mlpack")
