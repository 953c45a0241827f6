"""The `inside-keras` command line.

Each sub-command is added by a `register*(subparsers)` function of a module under
`inside_keras.cli` (listed in `COMMANDS`), which adds its parser and sets a
`func(args) -> int` default. Bad input raises `InputError`; it is reported here as one line on
stderr with exit code 2, never as a traceback. So is a missing dependency of the `cli` extra
(`pip install inside-keras` alone gives the layers and models, not the command line's data,
figure and config libraries). Ctrl-C ends any command with one line and exit code 130;
an error of the package itself is one line too, with exit code 1, and its traceback is
shown with `--debug` (which also lets library noise through, `inside_keras.runs.quiet`).
"""

import argparse
import importlib
import os
import sys

from inside_keras import __version__
from inside_keras.cli import command_name, report_interrupted
from inside_keras.errors import InputError
from inside_keras.runs.quiet import (
    catching_ctrl_c,
    interrupted,
    quiet_backend_import,
    raise_if_interrupted,
)

#: Anywhere on the command line: tracebacks of internal errors and library output shown.
DEBUG_FLAG = "--debug"

#: (module under `inside_keras.cli`, register function), in listing order.
COMMANDS = (
    ("datasets", "register_generate"),
    ("datasets", "register_prepare"),
    ("info", "register"),
    ("train", "register"),
    ("evaluate", "register_evaluate"),
    ("evaluate", "register_predict"),
    ("datasets", "register_score"),
    ("reproduce", "register"),
    ("sweep", "register"),
    ("bench", "register"),
)


#: Top-level import names of the `cli` extra's packages (pyproject.toml).
CLI_EXTRA_MODULES = frozenset({"yaml", "pydantic", "scipy", "PIL", "nibabel", "matplotlib", "rich"})


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
    parser.add_argument(
        DEBUG_FLAG,
        action="store_true",
        help="show tracebacks of internal errors and the libraries' own output (also "
        "accepted after the command)",
    )
    subparsers = parser.add_subparsers(
        title="commands", dest="command", parser_class=OneLineArgumentParser
    )
    for module_name, function in COMMANDS:
        module = importlib.import_module(f"inside_keras.cli.{module_name}")
        getattr(module, function)(subparsers)
    return parser


def run(argv):
    """The command line `argv` asks for (`inside_keras.cli.main` calls it); its exit code.

    Bad input (`InputError`) is one line on stderr and exit code 2, so is a missing
    package of the `cli` extra; Ctrl-C at any moment, from parsing on, is one line and
    130, as is any error raised after one (a library interrupted in its middle); any other
    error is one line and 1, its traceback shown with `--debug`.

    TensorFlow's C++ logging (which Keras may load even under another backend) is quiet
    unless `TF_CPP_MIN_LOG_LEVEL` is set (e.g. to 0), and what it prints regardless while
    it loads is silenced (`inside_keras.runs.quiet`), so a command's stderr carries its own
    messages; `--debug` (anywhere on the command line) shows everything.
    """
    debug = DEBUG_FLAG in argv
    argv = [arg for arg in argv if arg != DEBUG_FLAG]
    name = command_name(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not debug:
        quiet_backend_import()
    with catching_ctrl_c():
        try:
            code = _run_command(argv)
            raise_if_interrupted()  # a Ctrl-C a library swallowed still ends the command
            return code
        except InputError as error:
            line = " ".join(str(error).split())  # one line, whatever the input held
            print(f"{name}: error: {line}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return report_interrupted(name)
        except Exception as error:
            if interrupted():  # raised by a library that a Ctrl-C interrupted
                return report_interrupted(name)
            missing = (getattr(error, "name", None) or "").partition(".")[0]
            if isinstance(error, ModuleNotFoundError) and missing in CLI_EXTRA_MODULES:
                print(
                    f"{name}: error: the command line needs the cli extra ({missing} is not "
                    "installed): pip install 'inside-keras[cli]'",
                    file=sys.stderr,
                )
                return 2
            if debug:
                raise
            line = " ".join(f"{type(error).__name__}: {error}".split())[:500]
            print(
                f"{name}: internal error: {line} (run again with --debug for the traceback)",
                file=sys.stderr,
            )
            return 1


def _run_command(argv):
    """Parse `argv` and run the chosen sub-command; its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    return args.func(args) or 0
