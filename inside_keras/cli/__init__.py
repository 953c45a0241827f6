"""The `inside-keras` command line: `main` (the entry point, errors as one line) and one
module per sub-command, each a thin adapter from flags to the package's functions."""

import sys


def main(argv=None):
    """Entry point of the `inside-keras` console script; returns the exit code.

    Runs `inside_keras.cli.entry_point.run`, imported here: this module imports nothing
    else, so that a Ctrl-C from the first moment of a command, while the command line
    itself is still being imported, ends it with one line and exit code 130 too.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from inside_keras.cli.entry_point import run

        return run(argv)
    except KeyboardInterrupt:  # before (or after) `run` catches it itself
        return report_interrupted(command_name(argv))


def report_interrupted(name):
    """Say on stderr that the command `name` was interrupted (Ctrl-C); its exit code, 130."""
    print(f"{name}: interrupted", file=sys.stderr)
    return 130


def command_name(argv):
    """How messages name the command `argv` runs, known before parsing: `inside-keras`
    and its first argument that is not an option (the top level's options take no
    value)."""
    return " ".join(["inside-keras", *[arg for arg in argv if not arg.startswith("-")][:1]])
