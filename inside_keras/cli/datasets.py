"""`generate`, `prepare` and `score`: one sub-command each, with one sub-parser per dataset.

Each dataset module under `inside_keras.cli` (named in `DATASET_MODULES`)
provides `add_prepare_arguments(parser)` and `prepare(args) -> int`, those that
can synthesise their dataset `add_generate_arguments(parser)` and `generate(args) -> int`,
and those that score predictions in their challenge's layout `add_score_arguments(parser)`
and `score(args) -> int`.
Modules must be cheap to import (no Keras import at module level): the parser imports them all.
Data modules name a bad value by its field (`val_fraction`); `flag_names` reports it
under its flag (`--val-fraction`).
"""

import importlib
from contextlib import contextmanager

from inside_keras.errors import InputError

#: Dataset name on the command line -> module under `inside_keras.cli`.
DATASET_MODULES = {"clevr-seg": "clevr_seg", "acdc": "acdc", "folder": "folder"}


@contextmanager
def flag_names(*fields):
    """Re-raise an `InputError` whose source is one of `fields` (option fields such as
    `val_fraction`) with the flag of that field (`--val-fraction`) as its source."""
    try:
        yield
    except InputError as error:
        if error.source not in fields:
            raise
        raise InputError(error.message, f"--{error.source.replace('_', '-')}") from None


def _register(subparsers, command, help_text):
    parser = subparsers.add_parser(command, help=help_text, description=help_text)
    datasets = parser.add_subparsers(
        title="datasets", dest="dataset", required=True, parser_class=type(parser)
    )
    for dataset, module_name in DATASET_MODULES.items():
        module = importlib.import_module(f"inside_keras.cli.{module_name}")
        if not hasattr(module, command):
            continue  # e.g. no `generate folder`: a folder is the user's own data
        sub = datasets.add_parser(dataset, help=f"{command} {dataset}")
        getattr(module, f"add_{command}_arguments")(sub)
        sub.set_defaults(func=getattr(module, command))


def register_generate(subparsers):
    _register(subparsers, "generate", "Write a synthetic dataset in the published layout.")


def register_prepare(subparsers):
    _register(subparsers, "prepare", "Turn a dataset folder into one prepared .npz file.")


def register_score(subparsers):
    _register(subparsers, "score", "Score predicted label files against a dataset's ground truth.")
