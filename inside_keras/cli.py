"""The `inside-keras` command line.

Each sub-command is added by a `register*(subparsers)` function of a module under
`inside_keras.commands` (listed in `COMMANDS`), which adds its parser and sets a
`func(args) -> int` default. Bad input raises `InputError`; it is reported here as one line on
stderr with exit code 2, never as a traceback.
"""

import argparse
import importlib
import sys

from inside_keras import __version__
from inside_keras.errors import InputError

#: (module under `inside_keras.commands`, register function), in listing order.
COMMANDS = (
    ("datasets", "register_generate"),
    ("datasets", "register_prepare"),
    ("train", "register"),
    ("evaluate", "register_evaluate"),
    ("evaluate", "register_predict"),
    ("reproduce", "register"),
    ("sweep", "register"),
    ("bench", "register"),
)


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    """The top-level parser with every registered sub-command."""
    parser = OneLineArgumentParser(
        prog="inside-keras",
        description=(
            "Condition segmentation networks on non-imaging information with INSIDE, FiLM "
            "and Guide Me (Keras 3; choose the backend with KERAS_BACKEND)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"inside-keras {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", parser_class=OneLineArgumentParser
    )
    for module_name, function in COMMANDS:
        module = importlib.import_module(f"inside_keras.commands.{module_name}")
        getattr(module, function)(subparsers)
    return parser


def main(argv=None):
    """Entry point of the `inside-keras` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except InputError as error:
        print(f"inside-keras {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
