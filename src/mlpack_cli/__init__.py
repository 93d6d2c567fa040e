"""mlpack: take a repository of Jupyter notebooks to a released wheel and a CI pipeline."""

from __future__ import annotations

__all__ = ["__version__"]

# The one place mlpack's version is written: pyproject.toml reads it from here (a dynamic version,
# setuptools' `attr:`), so `mlpack --version` needs no scan of the installed distributions.
__version__ = "0.1.0"
