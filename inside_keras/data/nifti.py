"""Load one NIfTI volume with the checks every reader needs: rank, size, spacing, finite.

Every failure (missing file, unreadable or truncated archive, wrong rank, a header
shape of more than `MAX_VOLUME_VOXELS` voxels, non-finite voxels, non-positive
spacing) is raised as `InputError` naming the file, so the command line reports it as
one line. The shape is checked from the header, before any voxel is read. Voxels that
are NaN or infinite are refused, not repaired: one `inf` would turn the z-score
normalisation of its whole frame into NaN and -inf.
"""

import math
import zlib
from dataclasses import dataclass

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError

from inside_keras.errors import InputError
from inside_keras.runs.limits import hint, limit

#: Most voxels a volume may have (a 4-D cine included): 1 GiB as float32. ACDC's
#: largest cines have about 20 million.
MAX_VOLUME_VOXELS = 1 << 28

#: What nibabel raises for files it cannot read (truncated gzip streams raise EOFError).
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error, ImageFileError, HeaderDataError)

#: How the checks describe each accepted rank.
_RANK_NAMES = {3: "a 3-D volume (H, W, slices)", 4: "a 4-D cine (H, W, slices, frames)"}


@dataclass(frozen=True)
class Volume:
    """A loaded volume: `data` float32 as stored on disk (no reorientation), the voxel
    size in mm of its spatial axes, from the header's zooms, and the `(4, 4)`
    voxel-to-world `affine` nibabel gives it (the sform, else the qform, else one
    made of the zooms)."""

    data: np.ndarray
    spacing: tuple
    affine: np.ndarray


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
        InputError: the file is missing or unreadable, has another rank, more than
            `MAX_VOLUME_VOXELS` voxels or a non-positive spacing.
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
    voxels = math.prod(image.shape)
    bound = limit("MAX_VOLUME_VOXELS", MAX_VOLUME_VOXELS)
    if voxels > bound:
        raise InputError(
            f"header shape {image.shape} is {voxels} voxels, more than the limit of {bound}; "
            f"{hint('MAX_VOLUME_VOXELS')}",
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
        InputError: the file is missing or unreadable, has another rank, more than
            `MAX_VOLUME_VOXELS` voxels, NaN or infinite voxels, or a non-positive spacing.
    """
    image, spacing = open_image(path, ndim)
    try:
        data = image.get_fdata(dtype=np.float32)
    except READ_ERRORS as error:
        raise _unreadable(path, error) from None
    if not np.isfinite(data).all():
        nan, infinite = int(np.isnan(data).sum()), int(np.isinf(data).sum())
        counts = [f"{n} {kind} voxels" for n, kind in ((nan, "NaN"), (infinite, "infinite")) if n]
        raise InputError(f"{' and '.join(counts)}; expected finite intensities", path)
    return Volume(data=data, spacing=spacing, affine=np.asarray(image.affine, dtype=np.float64))
