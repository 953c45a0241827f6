"""The prepared-dataset format: one `.npz` file every training command reads.

Arrays (all readable with `allow_pickle=False`):

- `x` float32 `(N, H, W, C)`: images in [0, 1] (CLEVR-Seg) or normalised (ACDC);
- `y` float32 `(N, H, W, 1)` in {0, 1} for binary tasks, or uint8 `(N, H, W)` class ids;
- `z` float32 `(N, K)`: the condition;
- `split` unicode `(N,)` in {train, val, test}; `name` unicode `(N,)`;
- optional extra per-sample arrays (CLEVR-Seg: `condition`, `condition_value`; ACDC:
  `patient`, `phase`, `slice_index`, `slice_position`, ...); flip augmentation picks the
  dataset's rule by them (`inside_keras.data.batching.augmentation_for`).

Files are written atomically: to a temporary file in the target folder, then
renamed, so a failed or interrupted preparation leaves nothing at the target.
"""

import zipfile
from pathlib import Path

import numpy as np

from inside_keras.atomic import atomic_path
from inside_keras.errors import InputError

REQUIRED = ("x", "y", "z", "split", "name")
SPLITS = ("train", "val", "test")


def validate(arrays, source="dataset"):
    """Check shapes, dtypes, finite values and splits of prepared arrays; raise
    `InputError` if wrong."""
    missing = [key for key in REQUIRED if key not in arrays]
    if missing:
        raise InputError(
            f"missing arrays {missing}; a prepared dataset has {list(REQUIRED)}", source
        )
    x, y, z = arrays["x"], arrays["y"], arrays["z"]
    n = len(x)
    if x.ndim != 4 or x.dtype != np.float32:
        raise InputError(f"`x` must be float32 (N, H, W, C), got {x.dtype} {x.shape}", source)
    binary = y.dtype == np.float32 and y.ndim == 4 and y.shape[-1] == 1
    labels = y.dtype == np.uint8 and y.ndim == 3
    if not (binary or labels) or y.shape[:3] != x.shape[:3]:
        raise InputError(
            f"`y` must be float32 (N, H, W, 1) or uint8 (N, H, W) matching x {x.shape}, "
            f"got {y.dtype} {y.shape}",
            source,
        )
    if z.ndim != 2 or z.dtype != np.float32 or len(z) != n:
        raise InputError(f"`z` must be float32 (N={n}, K), got {z.dtype} {z.shape}", source)
    for key in ("x", "y", "z"):
        if arrays[key].dtype == np.float32 and not np.isfinite(arrays[key]).all():
            count = int((~np.isfinite(arrays[key])).sum())
            raise InputError(f"`{key}` has {count} NaN or infinite values", source)
    for key, array in arrays.items():
        if len(array) != n:
            raise InputError(f"`{key}` has {len(array)} entries, expected N={n}", source)
    bad = sorted(set(np.unique(arrays["split"]).tolist()) - set(SPLITS))
    if bad:
        raise InputError(f"`split` has values {bad}; allowed: {list(SPLITS)}", source)


def save_prepared(path, **arrays):
    """Validate and write `arrays` to `path` atomically (temporary file, then rename).

    Args:
        path: target `.npz` path.
        **arrays: `x`, `y`, `z`, `split`, `name` and optional extras.
    """
    validate(arrays, source=path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary, open(temporary, "wb") as stream:
        np.savez(stream, **{key: np.asarray(value) for key, value in arrays.items()})


def load_prepared(path):
    """Read and validate a prepared dataset; returns a dict of arrays.

    Raises:
        InputError: the file is missing, not an `.npz`, or not in the format.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such prepared dataset (create one with `inside-keras prepare`)", path)
    if not zipfile.is_zipfile(path):
        raise InputError("not a .npz archive (a zip written by `inside-keras prepare`)", path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise InputError(f"not a readable .npz archive ({error})", path) from None
    validate(arrays, source=path)
    return arrays


def select_split(arrays, split):
    """The samples of one split (`train`, `val` or `test`) as a dict of arrays."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; allowed: {list(SPLITS)}", "split")
    keep = arrays["split"] == split
    return {key: value[keep] for key, value in arrays.items()}
