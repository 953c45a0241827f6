"""Atomic file writes: a result is either absent, the old file, or the whole new file.

Each write goes to a temporary name in the target's folder (same file system) and is
renamed over the target with `os.replace`, so an interrupted command never leaves a
half-written result behind.
"""

import contextlib
import csv
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; it replaces `path` if the block succeeds.

    The temporary name keeps the target's suffixes (`.keras`, `.nii.gz`: some writers
    choose the format by them).
    On an exception the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".partial{''.join(path.suffixes[-2:])}", dir=path.parent
    )
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path, text):
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path, data):
    """Write `data` as indented JSON (no NaN) to `path` atomically."""
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def write_csv(path, fields, rows):
    """Write `rows` (mappings of `fields`) as CSV with a header to `path` atomically."""
    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
