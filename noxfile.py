"""Developer tasks for mlpack itself: `nox -s lint`, `nox -s tests`, `nox -s build`, `nox -s benchmarks`.

The same sessions `mlpack init` writes for a project, plus mypy in lint and a benchmarks session
(docs/development.md lists the differences).
"""

import glob

import nox

nox.options.sessions = ["lint", "tests"]


@nox.session
def lint(session):
    session.install("flake8>=7", "mypy>=1.10", "types-flake8", "types-pyflakes", "-e", ".")
    session.run("flake8", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy")


PYTHONS = ["3.10", "3.11", "3.12", "3.13"]  # every version requires-python and the classifiers admit


@nox.session(python=PYTHONS)
def tests(session):
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def build(session):
    session.install("build>=1.2", "twine>=6")
    session.run("python", "-m", "build")
    session.run("twine", "check", "--strict", *glob.glob("dist/*"))


@nox.session
def benchmarks(session):
    session.install("-e", ".")
    for script in sorted(glob.glob("benchmarks/*.py")):
        session.run("python", script)
