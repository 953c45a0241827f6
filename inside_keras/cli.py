"""The `inside-keras` command line.

Each sub-command is added by a `register*(subparsers)` function of a module under
`inside_keras.commands` (listed in `COMMANDS`), which adds its parser and sets a
`func(args) -> int` default. Bad input raises `InputError`; it is reported here as one line on
stderr with exit code 2, never as a traceback. So is a missing dependency of the `cli` extra
(`pip install inside-keras` alone gives the layers and models, not the command line's data,
figure and config libraries). Ctrl-C ends any command with one line and exit code 130;
an error of the package itself is one line too, with exit code 1, and its traceback is
shown with `--debug` (which also lets library noise through, `inside_keras.quiet`).
"""

import argparse
import importlib
import os
import sys

from inside_keras import __version__
from inside_keras.errors import InputError
from inside_keras.quiet import catching_ctrl_c, quiet_backend_import, raise_if_interrupted

#: Anywhere on the command line: tracebacks of internal errors and library output shown.
DEBUG_FLAG = "--debug"

#: (module under `inside_keras.commands`, register function), in listing order.
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
        module = importlib.import_module(f"inside_keras.commands.{module_name}")
        getattr(module, function)(subparsers)
    return parser


def main(argv=None):
    """Entry point of the `inside-keras` console script; returns the exit code.

    TensorFlow's C++ logging (which Keras may load even under another backend) is quiet
    unless `TF_CPP_MIN_LOG_LEVEL` is set (e.g. to 0), and what it prints regardless while
    it loads is silenced (`inside_keras.quiet`), so a command's stderr carries its own
    messages; `--debug` (anywhere on the command line) shows everything.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    argv = [arg for arg in argv if arg != DEBUG_FLAG]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not debug:
        quiet_backend_import()
    with catching_ctrl_c():
        try:
            code = _run_command(argv, debug)
        except ModuleNotFoundError as error:
            missing = _missing_extra(error)
            if missing is None:
                raise
            print(
                f"inside-keras: error: the command line needs the cli extra ({missing} is not "
                "installed): pip install 'inside-keras[cli]'",
                file=sys.stderr,
            )
            return 2
    return code


def _missing_extra(error):
    """The `cli` extra's package whose absence raised `error`, or None."""
    if isinstance(error, ModuleNotFoundError):
        name = (error.name or "").partition(".")[0]
        if name in CLI_EXTRA_MODULES:
            return name
    return None


def _run_command(argv, debug=False):
    """Parse `argv` and run the chosen sub-command; `InputError` becomes exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    name = f"inside-keras {args.command}"
    try:
        code = args.func(args) or 0
        raise_if_interrupted()  # a Ctrl-C a library swallowed still ends the command
        return code
    except InputError as error:
        line = " ".join(str(error).split())  # one line, whatever the input held
        print(f"{name}: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if debug or _missing_extra(error):
            raise  # a missing extra is reported by `main`
        line = " ".join(f"{type(error).__name__}: {error}".split())[:500]
        print(
            f"{name}: internal error: {line} (run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
