"""The prepared-dataset format: one `.npz` file every training command reads.

Arrays (all readable with `allow_pickle=False`):

- `x` float32 `(N, H, W, C)`, or `(N, D, H, W, C)` for volumes: images in [0, 1]
  (CLEVR-Seg) or normalised (ACDC, your own data);
- `y` float32 `(N, *spatial, 1)` in {0, 1} for binary tasks, or uint8 `(N, *spatial)`
  class ids;
- `z` float32 `(N, K)`: the condition;
- `split` unicode `(N,)` in {train, val, test}; `name` unicode `(N,)`;
- optional extra per-sample arrays (CLEVR-Seg: `condition`, `condition_value`; ACDC:
  `patient`, `phase`, `slice_index`, `slice_position`, ...); flip augmentation picks the
  dataset's rule by them (`inside_keras.data.batching.augmentation_for`);
- optional `metadata`: one JSON text (a 0-d unicode array) describing the whole dataset,
  e.g. the condition encoding of `prepare folder`; read with `load_metadata`, never part
  of the arrays `load_prepared` returns.

Files are written atomically: to a temporary file in the target folder, then
renamed, so a failed or interrupted preparation leaves nothing at the target. Their
members are stored uncompressed, so `load_prepared(path, mmap=True)` can map `x` and
`y` from the file instead of reading them (`inside_keras.data.mapped`): a dataset
larger than memory trains with little memory.
"""

import zipfile
from pathlib import Path

import numpy as np

from inside_keras.data.mapped import Rows, blocks, map_member
from inside_keras.errors import InputError
from inside_keras.runs.atomic import atomic_path

REQUIRED = ("x", "y", "z", "split", "name")
#: The per-pixel arrays, mapped by `load_prepared(..., mmap=True)`; the others (one
#: value or short vector a sample) are read.
MAPPED = ("x", "y")
#: The member holding the dataset's metadata (JSON text).
METADATA = "metadata"
SPLITS = ("train", "val", "test")


def validate(arrays, source="dataset"):
    """Check shapes, dtypes, finite values and splits of prepared arrays; raise
    `InputError` if wrong. Values are checked a block of rows at a time (`blocks`), so a
    memory-mapped `x` is never read into memory whole."""
    missing = [key for key in REQUIRED if key not in arrays]
    if missing:
        raise InputError(
            f"missing arrays {missing}; a prepared dataset has {list(REQUIRED)}", source
        )
    x, y, z = arrays["x"], arrays["y"], arrays["z"]
    n = len(x)
    if x.ndim not in (4, 5) or x.dtype != np.float32:
        raise InputError(
            f"`x` must be float32 (N, H, W, C) or (N, D, H, W, C), got {x.dtype} {x.shape}",
            source,
        )
    spatial = x.shape[:-1]
    binary = y.dtype == np.float32 and y.ndim == x.ndim and y.shape[-1] == 1
    labels = y.dtype == np.uint8 and y.ndim == x.ndim - 1
    if not (binary or labels) or y.shape[: len(spatial)] != spatial:
        raise InputError(
            f"`y` must be float32 (N, *spatial, 1) or uint8 (N, *spatial) matching x "
            f"{x.shape}, got {y.dtype} {y.shape}",
            source,
        )
    if z.ndim != 2 or z.dtype != np.float32 or len(z) != n:
        raise InputError(f"`z` must be float32 (N={n}, K), got {z.dtype} {z.shape}", source)
    for key in ("x", "y", "z"):
        if arrays[key].dtype == np.float32:
            count = sum(int((~np.isfinite(block)).sum()) for block in blocks(arrays[key]))
            if count:
                raise InputError(f"`{key}` has {count} NaN or infinite values", source)
    for key, array in arrays.items():
        if len(array) != n:
            raise InputError(f"`{key}` has {len(array)} entries, expected N={n}", source)
    bad = sorted(set(np.unique(arrays["split"]).tolist()) - set(SPLITS))
    if bad:
        raise InputError(f"`split` has values {bad}; allowed: {list(SPLITS)}", source)


def save_prepared(path, metadata=None, **arrays):
    """Validate and write `arrays` to `path` atomically (temporary file, then rename).

    Args:
        path: target `.npz` path.
        metadata: optional JSON-able mapping describing the dataset (`load_metadata`).
        **arrays: `x`, `y`, `z`, `split`, `name` and optional extras.

    Raises:
        InputError: bad arrays, or a file that cannot be written (the OS's reason).
    """
    import json

    validate(arrays, source=path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    members = {key: np.asarray(value) for key, value in arrays.items()}
    if metadata is not None:
        members[METADATA] = np.array(json.dumps(metadata))
    try:
        with atomic_path(path) as temporary, open(temporary, "wb") as stream:
            np.savez(stream, **members)
    except OSError as error:
        raise InputError(f"cannot write here ({error.strerror})", path) from None


def is_prepared(path):
    """Whether `path` is a prepared dataset (an `.npz` holding every `REQUIRED` array),
    judged from its member names without reading the arrays."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return all(f"{key}.npy" in names for key in REQUIRED)


def load_prepared(path, mmap=False):
    """Read and validate a prepared dataset; returns a dict of arrays.

    Args:
        path: the prepared `.npz` file.
        mmap: map `x` and `y` (`MAPPED`) from the file, read-only, instead of reading
            them: they take memory only where a batch reads them (see
            `inside_keras.data.mapped`). `select_split` keeps them mapped.

    Raises:
        InputError: the file is missing, not an `.npz`, or not in the format; with
            `mmap`, `x` or `y` stored compressed (the message says how to rewrite it).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such prepared dataset (create one with `inside-keras prepare`)", path)
    if not zipfile.is_zipfile(path):
        raise InputError("not a .npz archive (a zip written by `inside-keras prepare`)", path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {
                key: map_member(path, key) if mmap and key in MAPPED else archive[key]
                for key in archive.files
                if key != METADATA
            }
    except (OSError, ValueError) as error:
        raise InputError(f"not a readable .npz archive ({error})", path) from None
    validate(arrays, source=path)
    return arrays


def load_metadata(path):
    """The `metadata` mapping of a prepared dataset ({} if it has none).

    Raises:
        InputError: the file is not an `.npz` or its metadata is not a JSON mapping.
    """
    import json

    try:
        with np.load(path, allow_pickle=False) as archive:
            if METADATA not in archive.files:
                return {}
            metadata = json.loads(str(archive[METADATA]))
    except (OSError, ValueError) as error:
        raise InputError(f"unreadable metadata ({error})", path) from None
    if not isinstance(metadata, dict):
        raise InputError("its metadata is not a JSON mapping", path)
    return metadata


def split_counts(splits):
    """`"train N, val N, test N"`: the samples of each split in a `split` array."""
    return ", ".join(f"{name} {int((splits == name).sum())}" for name in SPLITS)


def select_split(arrays, split):
    """The samples of one split (`train`, `val` or `test`) as a dict of arrays.

    A memory-mapped array (`load_prepared(..., mmap=True)`) is not copied: its split is
    a `Rows` view that reads the rows a batch indexes."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; allowed: {list(SPLITS)}", "split")
    keep = np.flatnonzero(arrays["split"] == split)
    return {
        key: Rows(value, keep) if isinstance(value, np.memmap) else value[keep]
        for key, value in arrays.items()
    }
