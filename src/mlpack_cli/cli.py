"""The ``mlpack`` command: a thin Typer layer over the library.

Each command parses options into settings, calls its library function in :mod:`mlpack_cli.commands`
and hands the result to its presenter in :mod:`mlpack_cli.output`. The one error handler,
:meth:`_Group.invoke`, is around every command: our errors become ``Error:``/``Hint:`` lines and the
exit code the error carries (:mod:`mlpack_cli.errors` decides them all). Heavy modules (build,
twine, jinja2, nbformat, libcst, rich) are imported inside the commands, so ``mlpack --help`` and
``mlpack --version`` stay fast.

No ``from __future__ import annotations`` here: Typer reads every command's options from its
annotations, and annotations kept as strings are compiled and evaluated anew, several times per
command, whenever the command tree is built: that costs more than all the rest of ``mlpack --help``.
"""

import enum
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from mlpack_cli.errors import ExitCode, MlpackError


class _Command(TyperCommand):
    """Help that shows an argument by its metavar alone (``DIR``), not also as a Python type (``<list[Path]>``)."""

    def get_params(self, ctx: Any) -> list[Any]:  # ctx: typer's own click Context
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperArgument) and param.metavar:
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        return params


class _Group(TyperGroup):
    """The one error handler: around every command, whatever it runs."""

    def invoke(self, ctx: Any) -> Any:  # ctx: typer's own click Context
        """Our errors become ``Error:``/``Hint:`` lines and the error's exit code; the reporter is installed."""
        from mlpack_cli.output.console import ConsoleReporter, print_error
        from mlpack_cli.reporting import using_reporter

        try:
            with using_reporter(ConsoleReporter()):
                return super().invoke(ctx)
        except MlpackError as error:
            for each in getattr(error, "errors", ()):  # SeveralErrors: each one, then the summary
                print_error(each)
            print_error(error)
            raise typer.Exit(int(error.exit_code)) from None
        except (KeyboardInterrupt, typer.Abort):  # Ctrl-C anywhere, or Ctrl-D at a prompt
            sys.stderr.write("Interrupted.\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


app = typer.Typer(
    name="mlpack",
    cls=_Group,
    help="Take a repository of Jupyter notebooks to a released wheel and a CI pipeline that ships it.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish and PowerShell
    rich_markup_mode=None,  # plain help and plain "Error:" usage messages, like pip and twine
    pretty_exceptions_show_locals=False,  # locals may hold credentials
    context_settings={
        "help_option_names": ["-h", "--help"],
        # The root's flags that were not given are False rather than None: Typer (0.29) converts a
        # None through pydantic, which `mlpack COMMAND --help` would otherwise import for nothing.
        "default_map": {"help": False, "install_completion": False, "show_completion": False},
    },
)


class CiFile(str, enum.Enum):
    gitlab = "gitlab"
    jenkins = "jenkins"
    both = "both"
    none = "none"


class PipelineKind(str, enum.Enum):
    gitlab = "gitlab"
    jenkins = "jenkins"
    both = "both"


class Installer(str, enum.Enum):
    uv = "uv"
    pip = "pip"


class DeploymentTier(str, enum.Enum):  # GitLab's environment tiers
    production = "production"
    staging = "staging"
    testing = "testing"
    development = "development"
    other = "other"


# Every command takes these; --json implies a quiet stdout (the report is the only thing printed there).
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and errors.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Also print the tools' full output.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
ProjectPath = Annotated[Path, typer.Argument(metavar="PATH", help="The project (or a folder inside it).")]


def _verbosity(quiet: bool, verbose: bool, as_json: bool = False) -> None:
    """Set the console's verbosity for this command; --json implies a quiet stdout."""
    from mlpack_cli.output.console import Verbosity, set_verbosity

    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose exclude each other")
    set_verbosity(Verbosity.QUIET if quiet or as_json else Verbosity.VERBOSE if verbose else Verbosity.NORMAL)


def _show_version() -> None:
    from mlpack_cli import __version__

    typer.echo(f"mlpack {__version__}")


def _version(value: bool) -> None:
    if value:
        _show_version()
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


@app.command(cls=_Command)
def init(
    path: Annotated[
        Path, typer.Argument(metavar="DIR", help="Directory to turn into a project (created if missing).")
    ] = Path("."),
    name: Annotated[
        Optional[str], typer.Option(metavar="NAME", help="Project (distribution) name; default: the directory.")
    ] = None,
    description: Annotated[
        Optional[str], typer.Option(metavar="TEXT", help="One-line summary for the package metadata.")
    ] = None,
    author: Annotated[
        Optional[str], typer.Option(metavar="NAME", help="Author name; default: git config user.name.")
    ] = None,
    email: Annotated[
        Optional[str], typer.Option(metavar="EMAIL", help="Author e-mail; default: git config user.email.")
    ] = None,
    python: Annotated[
        Optional[str], typer.Option(metavar="SPECIFIER", help="requires-python specifier [default: >=3.10].")
    ] = None,
    license: Annotated[
        Optional[str], typer.Option(metavar="SPDX", help="SPDX license expression [default: MIT].")
    ] = None,
    ci: Annotated[CiFile, typer.Option(help="CI file to write.", case_sensitive=False)] = CiFile.gitlab,
    example: Annotated[bool, typer.Option("--example", help="Also write the example notebook and its data.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files and conflicting values.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Scaffold a PEP 621 project (src layout, tests, docs, noxfile, CI) without clobbering your files."""
    _verbosity(quiet, verbose)
    from mlpack_cli.commands import init as initializing
    from mlpack_cli.output import init as output

    if _interactive():
        from mlpack_cli.git import identity

        git_name, git_email = identity(path)
        name = name or typer.prompt("Project name", default=initializing.default_name(path))
        description = description or typer.prompt("Description", default=initializing.DEFAULT_DESCRIPTION)
        author = author or typer.prompt("Author", default=git_name or "", show_default=bool(git_name)) or None
        email = email or typer.prompt("E-mail", default=git_email or "", show_default=bool(git_email)) or None
    settings = initializing.InitSettings(
        path=path, name=name, description=description, author=author, email=email,
        python=python, license=license, ci=ci.value, example=example, force=force,
    )
    output.show(initializing.init_project(settings, dry_run=dry_run), dry_run=dry_run)


@app.command(cls=_Command)
def convert(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(metavar="NOTEBOOK|DIR", help="Notebooks or directories (default: [tool.mlpack] notebooks)."),
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
    as_json: AsJson = False,
    skip_invalid_cells: Annotated[
        bool, typer.Option(
            "--skip-invalid-cells", help="Keep cells that are not valid Python as commented-out TODO code."
        )
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Turn notebooks into pipeline modules (load, preprocess, train, evaluate, export) with tests."""
    _verbosity(quiet, verbose, as_json)
    from mlpack_cli.commands import convert as converting
    from mlpack_cli.output import convert as output

    settings = converting.ConvertSettings(
        root=Path.cwd(), paths=list(paths or []), force=force, skip_invalid_cells=skip_invalid_cells,
        dry_run=dry_run or explain, prune=prune,
    )
    if check:
        found = converting.check_modules(settings)
        output.show_check(found, as_json=as_json)
        converting.raise_for_check(found)
        return
    result = converting.convert_project(settings)
    output.show(result, explain=explain, as_json=as_json)
    converting.raise_for_failures(result)  # after the good notebooks were written and shown


@app.command(cls=_Command)
def check(
    path: ProjectPath = Path("."),
    lint_only: Annotated[bool, typer.Option("--lint-only", help="Run flake8 only.")] = False,
    tests_only: Annotated[bool, typer.Option("--tests-only", help="Run pytest only.")] = False,
    isolated: Annotated[bool, typer.Option("--isolated", help="Test the built wheel in a fresh virtualenv.")] = False,
    as_json: AsJson = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Run flake8 and pytest at the same time; exit 3 when either fails."""
    _verbosity(quiet, verbose, as_json)
    from mlpack_cli.commands import check as checking
    from mlpack_cli.output import check as output

    if lint_only and tests_only:
        raise typer.BadParameter("--lint-only and --tests-only exclude each other")
    settings = checking.CheckSettings(root=path, lint=not tests_only, tests=not lint_only, isolated=isolated)
    with output.progress():
        result = checking.run_checks(settings)
    output.show(result, as_json=as_json)
    checking.require_ok(result, with_output=False)


@app.command(cls=_Command)
def build(
    path: ProjectPath = Path("."),
    outdir: Annotated[
        Optional[Path], typer.Option("--outdir", "-o", metavar="DIR", help="Where to put them; default dist/.")
    ] = None,
    no_isolation: Annotated[bool, typer.Option("--no-isolation", help="Build in this environment.")] = False,
    installer: Annotated[
        Optional[Installer], typer.Option(help="Installer of the build environment; default uv when available.")
    ] = None,
    as_json: AsJson = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Build the sdist, then the wheel from it; verify both and print their sizes and sha256."""
    _verbosity(quiet, verbose, as_json)
    from mlpack_cli.commands import build as building
    from mlpack_cli.output import build as output

    settings = building.BuildSettings(root=path, outdir=outdir, isolation=not no_isolation,
                                      installer=installer.value if installer else None)
    output.show(building.build_project(settings), as_json=as_json)


@app.command(cls=_Command)
def publish(
    dists: Annotated[
        Optional[list[Path]], typer.Argument(metavar="DIST", help="Files to upload; default: this version's.")
    ] = None,
    repository: Annotated[
        Optional[str], typer.Option("--repository", "-r", metavar="SECTION", help="A ~/.pypirc section.")
    ] = None,
    repository_url: Annotated[Optional[str], typer.Option(metavar="URL", help="The index's upload URL.")] = None,
    index_url: Annotated[
        Optional[str], typer.Option(metavar="URL", help="Its simple API, if not derived from the URL.")
    ] = None,
    username: Annotated[
        Optional[str], typer.Option("--username", "-u", metavar="NAME", help="Default: TWINE_USERNAME etc.")
    ] = None,
    config_file: Annotated[
        Optional[Path], typer.Option(metavar="FILE", help="The .pypirc to read; default ~/.pypirc.")
    ] = None,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Upload nothing, without error, if the index has these files.")
    ] = False,
    as_json: AsJson = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Upload with twine (password from TWINE_PASSWORD, CI_JOB_TOKEN, .pypirc, keyring or Trusted Publishing)."""
    _verbosity(quiet, verbose, as_json)
    from mlpack_cli.commands import publish as publishing
    from mlpack_cli.output import publish as output

    settings = publishing.PublishSettings(
        root=Path("."), dists=tuple(dists or ()), repository=repository, repository_url=repository_url,
        index_url=index_url, username=username, config_file=config_file, skip_existing=skip_existing,
    )
    output.show(publishing.publish(settings), as_json=as_json)


@app.command(cls=_Command)
def release(
    path: ProjectPath = Path("."),
    bump: Annotated[
        str, typer.Option(metavar="patch|minor|major|VERSION", help="The part to bump, or the new version.")
    ] = "patch",
    repository: Annotated[
        Optional[str], typer.Option("--repository", "-r", metavar="SECTION", help="A ~/.pypirc section.")
    ] = None,
    repository_url: Annotated[Optional[str], typer.Option(metavar="URL", help="The index's upload URL.")] = None,
    index_url: Annotated[
        Optional[str], typer.Option(metavar="URL", help="Its simple API, if not derived from the URL.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Every step but the upload and the tag.")] = False,
    no_tag: Annotated[bool, typer.Option("--no-tag", help="Commit the bump but make no tag.")] = False,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty", help="Release from a tree with changes.")] = False,
    isolated: Annotated[bool, typer.Option("--isolated", help="Run the tests against the built wheel.")] = False,
    as_json: AsJson = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Clean tree, notebooks in sync, bump, check, build, verify, publish, tag; rolled back on failure."""
    _verbosity(quiet, verbose, as_json)
    from mlpack_cli.commands import release as releasing
    from mlpack_cli.output import release as output

    settings = releasing.ReleaseSettings(
        root=path, bump=bump, repository=repository, repository_url=repository_url, index_url=index_url,
        dry_run=dry_run, tag=not no_tag, allow_dirty=allow_dirty, isolated_check=isolated,
    )
    output.show(releasing.release(settings), as_json=as_json)


@app.command("ci", cls=_Command)
def ci_command(
    kind: Annotated[PipelineKind, typer.Argument(help="Pipeline to write.", case_sensitive=False)],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The project (any directory inside it).")] = Path("."),
    python_image: Annotated[Optional[str], typer.Option(metavar="IMAGE", help="Image the jobs run in.")] = None,
    index: Annotated[
        Optional[str],
        typer.Option(metavar="gitlab|pypi|testpypi|URL", help="Where the publish job uploads."),
    ] = None,
    image: Annotated[
        Optional[str], typer.Option(metavar="REPOSITORY", help="Image repository; GitLab: $CI_REGISTRY_IMAGE.")
    ] = None,
    environment: Annotated[Optional[str], typer.Option(metavar="NAME", help="Deploy environment name.")] = None,
    environment_url: Annotated[
        Optional[str], typer.Option(metavar="URL", help="URL of the deployed environment.")
    ] = None,
    deployment_tier: Annotated[
        Optional[DeploymentTier], typer.Option(help="GitLab's tier of the environment.", case_sensitive=False)
    ] = None,
    container: Annotated[Optional[bool], typer.Option("--container/--no-container", help="Image + smoke jobs.")] = None,
    deploy: Annotated[Optional[bool], typer.Option("--deploy/--no-deploy", help="Deploy job.")] = None,
    monitor: Annotated[Optional[bool], typer.Option("--monitor/--no-monitor", help="Webhook job.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace generated files you have edited.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show changes and diffs; write nothing.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write .gitlab-ci.yml and/or Jenkinsfile (and a Dockerfile) from tool.mlpack.ci in pyproject.toml."""
    _verbosity(quiet, verbose)
    from mlpack_cli.commands import ci
    from mlpack_cli.output import ci as output

    overrides = {
        "python-image": python_image, "index": index, "image": image, "environment": environment,
        "environment-url": environment_url,
        "deployment-tier": deployment_tier.value if deployment_tier else None, "container": container,
        "deploy": deploy, "monitor": monitor,
    }
    result = ci.write_ci(path, kind.value, overrides, force=force, dry_run=dry_run)
    output.show(result, kind=kind.value, dry_run=dry_run)
    if dry_run:  # the real run would stop here: so does the dry run, with the same exit code
        result.refuse_dropped_edits(dry_run=True)


@app.command(cls=_Command)
def quickstart(
    path: Annotated[
        Path, typer.Argument(metavar="DIR", help="A new directory for the example project.")
    ] = Path("mlpack-quickstart"),
    name: Annotated[Optional[str], typer.Option(metavar="NAME", help="Project name; default: the directory.")] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Example notebook to installed wheel: init, convert, check, build, install, run; prints the metrics."""
    _verbosity(quiet, verbose)
    from mlpack_cli.commands import quickstart as starting
    from mlpack_cli.output import quickstart as output

    output.show(starting.quickstart(starting.QuickstartSettings(path=path, name=name)))


_VERSION_ONLY = (["--version"], ["-V"])


def main() -> None:
    """The ``mlpack`` command. ``mlpack --version`` alone is answered before Typer builds any command."""
    if sys.argv[1:] in _VERSION_ONLY and "_MLPACK_COMPLETE" not in os.environ:  # not shell completion
        _show_version()
        return
    app(prog_name="mlpack")
