"""Load one NIfTI volume with the checks every reader needs: rank, NaN, spacing.

Every failure (missing file, unreadable or truncated archive, wrong rank, NaN voxels,
non-positive spacing) is raised as `InputError` naming the file, so the command line
reports it as one line.
"""

import zlib
from dataclasses import dataclass

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError

from inside_keras.errors import InputError

#: What nibabel raises for files it cannot read (truncated gzip streams raise EOFError).
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error, ImageFileError, HeaderDataError)

#: How the checks describe each accepted rank.
_RANK_NAMES = {3: "a 3-D volume (H, W, slices)", 4: "a 4-D cine (H, W, slices, frames)"}


@dataclass(frozen=True)
class Volume:
    """A loaded volume: `data` float32 as stored on disk (no reorientation) and the
    voxel size in mm of its spatial axes, from the header's zooms."""

    data: np.ndarray
    spacing: tuple


def _unreadable(path, error):
    reason = " ".join(str(error).split()) or type(error).__name__  # one line
    return InputError(f"not a readable NIfTI file ({reason})", path)


def open_image(path, ndim):
    """Open a NIfTI file's header (no voxel data read) and check its rank and spacing.

    Args:
        path: the file.
        ndim: the rank the file must have: 3 for a frame or label volume, 4 for a cine.

    Returns:
        `(image, spacing)`: the nibabel image (data not loaded yet) and the voxel size in
        mm of its (at most three) spatial axes, from the header's zooms.

    Raises:
        InputError: the file is missing or unreadable, has another rank or a
            non-positive spacing.
    """
    if ndim not in _RANK_NAMES:
        raise ValueError(f"`ndim` must be one of {sorted(_RANK_NAMES)}, got {ndim!r}")
    try:
        image = nib.load(path)
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    if len(image.shape) != ndim:
        raise InputError(
            f"expected {_RANK_NAMES[ndim]}, got a {len(image.shape)}-D array of shape "
            f"{image.shape}",
            path,
        )
    if not hasattr(image.header, "get_zooms"):
        raise InputError(f"a {type(image).__name__} has no voxel spacing; expected NIfTI", path)
    zooms = image.header.get_zooms()
    spacing = tuple(float(zoom) for zoom in zooms[: min(ndim, 3)])
    if not all(np.isfinite(zoom) and zoom > 0 for zoom in spacing):
        raise InputError(f"voxel spacing {spacing} from the header must be positive", path)
    return image, spacing


def load_volume(path, ndim):
    """Read a NIfTI file (`.nii` or `.nii.gz`) as float32 and check it.

    The array keeps the on-disk axis order (ACDC: `(H, W, slices[, frames])`); the
    header's scaling is applied. The spacing is taken from the header's zooms of the
    (at most three) spatial axes.

    Args:
        path: the file.
        ndim: the rank the file must have: 3 for a frame or label volume, 4 for a cine.

    Returns:
        A `Volume`.

    Raises:
        InputError: the file is missing or unreadable, has another rank, contains NaN
            voxels or a non-positive spacing.
    """
    image, spacing = open_image(path, ndim)
    try:
        data = image.get_fdata(dtype=np.float32)
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    nan_count = int(np.isnan(data).sum())
    if nan_count:
        raise InputError(f"{nan_count} NaN voxels; expected finite intensities", path)
    return Volume(data=data, spacing=spacing)
