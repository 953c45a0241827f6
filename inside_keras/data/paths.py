"""Where datasets live: `data/` beside the current directory, or `$INSIDE_KERAS_DATA`."""

import os
from pathlib import Path

#: Environment variable that overrides the default dataset root.
DATA_ROOT_ENV = "INSIDE_KERAS_DATA"


def data_root(environ=None):
    """The dataset root: `$INSIDE_KERAS_DATA` if set, else `./data`."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(DATA_ROOT_ENV) or "data")
