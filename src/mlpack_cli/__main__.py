"""Allow ``python -m mlpack_cli``."""

from mlpack_cli.cli import main

main()
