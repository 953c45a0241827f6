"""A folder of images and a folder of label maps, matched by case.

Images and label maps are matched by file stem: `case7.png` with `case7.png`,
`case7.nii.gz` with `case7.nii.gz`, and the nnU-Net naming, `case7_0000.nii.gz`,
`case7_0001.nii.gz` (channels 0, 1) with `case7.nii.gz`. Formats: PNG, JPEG and TIFF
(2-D, grey or RGB) through Pillow; NIfTI (2-D or 3-D, several channels on a 4th axis or
in `_000K` files) through nibabel.

Arrays keep the on-disk axis order: images `(H, W, C)` or `(H, W, D, C)` float32, label
maps `(H, W)` or `(H, W, D)` int64. NIfTI files also give their voxel spacing and
affine; image and label map of a case must agree on both.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inside_keras.errors import InputError

#: File suffixes read through Pillow (2-D rasters).
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
#: File suffixes read through nibabel.
NIFTI_SUFFIXES = (".nii", ".nii.gz")
#: Largest NIfTI image read, in voxels (checked on the header, before reading).
MAX_VOXELS = 512 * 1024 * 1024
_CHANNEL = re.compile(r"^(?P<case>.+)_(?P<channel>\d{4})$")


def split_name(path):
    """`(stem, suffix)` of an image file (`.nii.gz` counted as one suffix), or None if
    its format is not one the reader takes."""
    name = Path(path).name
    for suffix in (*NIFTI_SUFFIXES, *RASTER_SUFFIXES):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return None


@dataclass
class Case:
    """One case: its image files (one per channel, in channel order) and label map.

    Attributes:
        case_id: the case's name (the label map's stem).
        images: image files, channel 0 first.
        label: the label map file, or None (prediction on new cases).
    """

    case_id: str
    images: list = field(default_factory=list)
    label: Path | None = None


def _listing(folder, what):
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no such folder of {what}", folder)
    files = {}
    for path in sorted(folder.iterdir()):
        parts = split_name(path) if path.is_file() else None
        if parts is not None:
            files[parts[0]] = path
    if not files:
        suffixes = ", ".join((*RASTER_SUFFIXES, *NIFTI_SUFFIXES))
        raise InputError(f"holds no {what} (files ending {suffixes})", folder)
    return files


def find_cases(images, labels=None):
    """The cases of an image folder, each with its label map from `labels`.

    Args:
        images: the folder of images.
        labels: the folder of label maps (None: images only, for prediction).

    Returns:
        A list of `Case`, sorted by id.

    Raises:
        InputError: an empty folder, an image without a label map or a label map
            without an image (naming the case), a gap in a case's channel numbers.
    """
    image_files = _listing(images, "images")
    label_files = _listing(labels, "label maps") if labels is not None else {}
    cases = {}
    for stem, path in image_files.items():
        match = _CHANNEL.match(stem)
        case_id, channel = stem, 0
        if match and (labels is None or match["case"] in label_files or stem not in label_files):
            case_id, channel = match["case"], int(match["channel"])
        cases.setdefault(case_id, {})[channel] = path
    found = []
    for case_id, channels in sorted(cases.items()):
        if sorted(channels) != list(range(len(channels))):
            raise InputError(
                f"case {case_id!r} has channel files {sorted(channels)}; expected _0000 to "
                f"_{len(channels) - 1:04d}",
                images,
            )
        label = label_files.get(case_id)
        if labels is not None and label is None:
            raise InputError(f"case {case_id!r} has no label map in {labels}", images)
        found.append(Case(case_id, [channels[c] for c in sorted(channels)], label))
    orphans = sorted(set(label_files) - set(cases))
    if orphans:
        raise InputError(f"label maps without an image: {orphans[:5]}", labels)
    return found


@dataclass
class Loaded:
    """A case read from disk.

    Attributes:
        image: float32 `(H, W, C)` or `(H, W, D, C)`.
        label: int64 `(H, W)` or `(H, W, D)`, or None.
        spacing: voxel size in mm of the spatial axes (1.0 each for rasters).
        affine: the NIfTI affine (4x4), or None for rasters.
    """

    image: np.ndarray
    label: np.ndarray | None
    spacing: tuple
    affine: np.ndarray | None


def _read_raster(path, labels):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if labels:
                if image.mode not in ("1", "L", "P", "I", "I;16"):
                    raise InputError(
                        f"a label map must be a grey or palette image of class ids, got "
                        f"mode {image.mode}",
                        path,
                    )
                return np.asarray(image).astype(np.int64)
            if image.mode not in ("L", "RGB", "I", "I;16", "F"):
                image = image.convert("RGB")
            pixels = np.asarray(image).astype(np.float32)
    except UnidentifiedImageError:
        raise InputError("not a readable image", path) from None
    except Image.DecompressionBombError as error:
        raise InputError(f"too large an image ({error})", path) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"unreadable image ({error})", path) from None
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _read_nifti(path):
    import nibabel as nib

    from inside_keras.data.nifti import READ_ERRORS

    try:
        image = nib.load(path)
        voxels = int(np.prod(image.shape, dtype=np.int64))
        if voxels > MAX_VOXELS:
            raise InputError(
                f"its header claims {image.shape} = {voxels} voxels; at most {MAX_VOXELS} are read",
                path,
            )
        data = np.asarray(image.dataobj, dtype=np.float32)
    except READ_ERRORS as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise InputError(f"not a readable NIfTI file ({reason})", path) from None
    if data.ndim not in (2, 3, 4):
        raise InputError(
            f"expected a 2-D, 3-D or 4-D (channels last) array, got {data.shape}", path
        )
    spatial = min(data.ndim, 3)
    spacing = tuple(float(z) for z in image.header.get_zooms()[:spatial])
    if not all(np.isfinite(z) and z > 0 for z in spacing):
        raise InputError(f"voxel spacing {spacing} from the header must be positive", path)
    return data, spacing, np.asarray(image.affine, dtype=np.float64)


def _read(path, labels):
    """`(array, spacing, affine)` of one file; rasters have spacing 1.0 and no affine."""
    if split_name(path)[1] in NIFTI_SUFFIXES:
        return _read_nifti(path)
    array = _read_raster(path, labels)
    return array, (1.0, 1.0), None


def read_case(case):
    """Read a case's channels and label map, and check that they agree.

    Raises:
        InputError: unreadable files, non-finite intensities, label maps that are not
            non-negative integers, channels or label maps whose shape, spacing or
            affine differ from the first channel's (naming the case).
    """
    channels, spacing, affine = [], None, None
    for path in case.images:
        data, file_spacing, file_affine = _read(path, labels=False)
        if not np.isfinite(data).all():
            raise InputError(
                f"{int((~np.isfinite(data)).sum())} voxels are NaN or infinite; expected "
                "finite intensities",
                path,
            )
        if split_name(path)[1] in NIFTI_SUFFIXES:
            data = data[..., None] if data.ndim in (2, 3) else data
        if channels:
            _check_same(case, path, channels[0].shape[:-1], data.shape[:-1], "shape")
            _check_geometry(case, path, spacing, file_spacing, affine, file_affine)
        else:
            spacing, affine = file_spacing, file_affine
        channels.append(data)
    image = np.concatenate(channels, axis=-1)
    label = None
    if case.label is not None:
        data, label_spacing, label_affine = _read(case.label, labels=True)
        if not np.isfinite(data).all() or (data < 0).any() or (data != np.round(data)).any():
            raise InputError("a label map must hold non-negative integer class ids", case.label)
        _check_same(case, case.label, image.shape[:-1], data.shape, "shape")
        _check_geometry(case, case.label, spacing, label_spacing, affine, label_affine)
        label = data.astype(np.int64)
    return Loaded(image=image, label=label, spacing=spacing, affine=affine)


def _check_same(case, path, expected, got, what):
    if tuple(expected) != tuple(got):
        raise InputError(
            f"case {case.case_id!r}: {what} {tuple(got)} differs from the image's "
            f"{tuple(expected)}",
            path,
        )


def _check_geometry(case, path, spacing, other_spacing, affine, other_affine):
    if (affine is None) != (other_affine is None):
        raise InputError(f"case {case.case_id!r}: mixes NIfTI and 2-D image files", path)
    if not np.allclose(spacing, other_spacing, rtol=1e-4):
        _check_same(case, path, spacing, other_spacing, "spacing")
    if affine is not None and not np.allclose(affine, other_affine, atol=1e-3):
        raise InputError(f"case {case.case_id!r}: its affine differs from the image's", path)
