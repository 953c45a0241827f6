"""The `inside-keras` command line: `main` (the entry point, errors as one line) and one
module per sub-command, each a thin adapter from flags to the package's functions."""

from inside_keras.cli.entry_point import main

__all__ = ["main"]
