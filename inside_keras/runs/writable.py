"""Check an output path before a command starts work: a folder where a folder is
expected, a file where a file is, and a place it may write.

    check_folder("runs/a", "--out")      # before training
    check_file("data/x.npz", "--out")    # before preparing
"""

import os
from pathlib import Path

from inside_keras.errors import InputError


def _check_creatable(path, flag):
    """Raise unless the missing `path` can be created: its nearest existing ancestor is
    a folder this process may write in."""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"cannot be made: {ancestor} is a file, not a folder", f"{flag} {path}")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"cannot be made: no permission to write in {ancestor}", f"{flag} {path}")


def check_folder(path, flag):
    """Raise `InputError` naming `flag` unless `path` is a folder, or can be made one.

    Args:
        path: the output folder.
        flag: the option or config key that named it (e.g. `"--out"`).
    """
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise InputError("is a file; expected a folder", f"{flag} {path}")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError("no permission to write in this folder", f"{flag} {path}")
        return
    _check_creatable(path, flag)


def check_file(path, flag):
    """Raise `InputError` naming `flag` unless `path` can be written as a file.

    Args:
        path: the output file.
        flag: the option that named it (e.g. `"--csv"`).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder; expected a file path", f"{flag} {path}")
    if path.exists():
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise InputError("no permission to write in its folder", f"{flag} {path}")
        return
    _check_creatable(path, flag)
