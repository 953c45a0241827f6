"""File names taken from data (sample names, patient ids) made safe to write under `--out`.

A prepared file's `name` or `patient` values come from the user's data; written as they
are, `../../x` or `/etc/x` would land outside the output folder. `OutputNames` reduces
each to letters, digits, `.`, `_` and `-`, keeps names unique, and checks that every
path lies inside the folder.
"""

import re
from pathlib import Path

from inside_keras.errors import InputError

#: Longest file-name stem written.
MAX_STEM = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(name):
    """`name` reduced to a file-name stem: path parts joined by `_` (`.` and `..` dropped),
    other unsafe characters `_`, no leading dot; `unnamed` if nothing is left."""
    parts = [part for part in re.split(r"[\\/]+", str(name)) if part not in ("", ".", "..")]
    stem = _UNSAFE.sub("_", "_".join(parts)).lstrip(".")[:MAX_STEM]
    return stem or "unnamed"


class OutputNames:
    """Unique, safe paths inside `folder` for names taken from data.

    Args:
        folder: the output folder.
    """

    def __init__(self, folder):
        self.folder = Path(folder).resolve()
        self.stems = {}

    def stem(self, name, key=None):
        """The safe stem of `name` for the item `key` (default: the name itself): the same
        for the same key, different for different keys."""
        key = str(name) if key is None else key
        if key not in self.stems:
            stem, taken = safe_stem(name), set(self.stems.values())
            unique, count = stem, 1
            while unique in taken:
                count += 1
                unique = f"{stem}_{count}"
            self.stems[key] = unique
        return self.stems[key]

    def path(self, name, suffix, key=None):
        """`folder/<safe stem of name><suffix>` for item `key` (see `stem`); InputError if
        it would leave `folder`."""
        path = (self.folder / f"{self.stem(name, key)}{suffix}").resolve()
        if path.parent != self.folder:
            raise InputError(f"name {str(name)[:60]!r} would write outside the folder", self.folder)
        return path
