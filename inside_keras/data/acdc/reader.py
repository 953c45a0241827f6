"""Read the published ACDC layout (Automated Cardiac Diagnosis Challenge, MICCAI 2017).

```
<root>/training/patient001/Info.cfg                    ED: 1, ES: 12, Group, Height, NbFrame, Weight
                          patient001_4d.nii.gz         the cine, (H, W, slices, frames)
                          patient001_frame01.nii.gz    the ED frame, (H, W, slices)
                          patient001_frame01_gt.nii.gz its labels: 0 background, 1 RV, 2 MYO, 3 LV
                          patient001_frame12.nii.gz    the ES frame, and its `_gt`
<root>/testing/patient101/...
```

Volumes are used as stored (no reorientation); the spacing comes from the NIfTI header.
Slice index 0 is the first slice in the file (the base in ACDC's ordering). Every
problem is raised as `InputError` naming the file at fault.

Reference: Bernard et al., "Deep Learning Techniques for Automatic MRI Cardiac
Multi-Structures Segmentation and Diagnosis: Is the Problem Solved?", IEEE TMI 2018.
"""

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from inside_keras.data.nifti import load_volume, open_image
from inside_keras.errors import InputError
from inside_keras.runs.limits import read_text

#: Class ids of the ground truth, in order.
LABELS = ("background", "RV", "MYO", "LV")
#: The evaluated structures and their class ids.
STRUCTURES = {"RV": 1, "MYO": 2, "LV": 3}
#: The annotated phases, in the order of `phase` ids (0 ED, 1 ES).
PHASES = ("ED", "ES")
#: The source splits of the published layout.
SOURCE_SPLITS = ("training", "testing")

_PATIENT_FOLDER = re.compile(r"^patient\d+$")
_FRAME_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Frame:
    """One annotated frame of a patient.

    Attributes:
        phase: `"ED"` or `"ES"`.
        number: the 1-based frame number from `Info.cfg`.
        image: float32 `(H, W, slices)`.
        label: uint8 `(H, W, slices)` class ids 0..3.
        spacing: `(row, column, slice)` voxel size in mm.
    """

    phase: str
    number: int
    image: np.ndarray
    label: np.ndarray
    spacing: tuple


@dataclass(frozen=True)
class Patient:
    """A patient folder: its name, `Info.cfg` entries and the ED and ES frames."""

    name: str
    info: dict
    frames: tuple

    def frame(self, phase):
        """The `Frame` of `phase` (`"ED"` or `"ES"`)."""
        return self.frames[PHASES.index(phase)]


def read_info(path):
    """Parse an `Info.cfg`: `key: value` lines, tolerant of spaces, case and extra keys.

    The file is read no further than `inside_keras.runs.limits.MAX_TEXT_BYTES`.

    Returns:
        A dict of the entries as strings, with `ED` and `ES` as 1-based ints and
        `Height` and `Weight`, where present, as floats.

    Raises:
        InputError: the file is missing, too large or not UTF-8 text; `ED`/`ES` is
            missing or not a positive integer; `Height`/`Weight` is not a positive
            finite number.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("missing Info.cfg; expected `ED: <frame>` and `ES: <frame>` lines", path)
    info = {}
    for line in read_text(path, "an Info.cfg file").splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip():
            info[key.strip()] = value.strip()
    for phase in PHASES:
        matches = [key for key in info if key.upper() == phase]
        if not matches:
            raise InputError(
                f"no `{phase}` entry; expected `ED: <frame>` and `ES: <frame>` "
                f"(found keys {_short(sorted(info))})",
                path,
            )
        value = info.pop(matches[0])
        if not _FRAME_NUMBER.fullmatch(value) or int(value) < 1:
            raise InputError(f"`{phase}` must be a 1-based frame number, got {_short(value)}", path)
        info[phase] = int(value)
    for key in ("Height", "Weight"):
        if key in info:
            info[key] = _positive_number(info[key], key, path)
    return info


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _positive_number(text, key, path):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"`{key}` must be a positive number, got {_short(text)}", path)
    return value


def frame_path(folder, number, ground_truth=False):
    """The file of frame `number` in a patient folder (`.nii.gz`, or `.nii` if only that exists)."""
    folder = Path(folder)
    stem = f"{folder.name}_frame{number:02d}{'_gt' if ground_truth else ''}"
    path = folder / f"{stem}.nii.gz"
    uncompressed = folder / f"{stem}.nii"
    return uncompressed if not path.exists() and uncompressed.exists() else path


def check_labels(label, path):
    """Class ids 0..3 as uint8, or `InputError` naming the values found outside."""
    values = np.unique(label)
    bad = values[(values != np.round(values)) | (values < 0) | (values >= len(LABELS))]
    if bad.size:
        shown = ", ".join(f"{value:g}" for value in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise InputError(
            f"labels must be class ids 0..3 (0 background, 1 RV, 2 MYO, 3 LV); found {shown}",
            path,
        )
    return label.astype(np.uint8)


def read_ground_truth(folder, phase, number):
    """Read the `_gt` label volume of one annotated frame of a patient folder.

    Returns:
        A `Volume` (`inside_keras.data.nifti`) whose `data` are uint8 class ids 0..3.

    Raises:
        InputError: naming the file: missing, unreadable, not 3-D, labels outside 0..3.
    """
    path = frame_path(folder, number, True)
    if not path.is_file():
        raise InputError(f"missing {phase} ground truth (Info.cfg {phase}: {number})", path)
    label = load_volume(path, ndim=3)
    return replace(label, data=check_labels(label.data, path))


def read_frame(folder, phase, number):
    """Read one annotated frame (image and `_gt`) of a patient folder as a `Frame`."""
    image_path = frame_path(folder, number)
    if not image_path.is_file():
        raise InputError(f"missing {phase} frame (Info.cfg {phase}: {number})", image_path)
    label = read_ground_truth(folder, phase, number)
    image = load_volume(image_path, ndim=3)
    if label.data.shape != image.data.shape:
        raise InputError(
            f"label shape {label.data.shape} differs from image shape {image.data.shape} "
            f"of {image_path.name}",
            frame_path(folder, number, True),
        )
    return Frame(
        phase=phase, number=number, image=image.data, label=label.data, spacing=image.spacing
    )


def cine_path(folder):
    """The 4-D cine file `patientNNN_4d.nii.gz` of a patient folder."""
    folder = Path(folder)
    return folder / f"{folder.name}_4d.nii.gz"


def check_cine(folder, info):
    """Check the 4-D cine's header, if the folder has one: rank 4, frames for ED and ES.

    Only the header is read (the cine is not needed to prepare slices), so damage
    inside its voxel data goes unnoticed here.
    """
    path = cine_path(folder)
    if not path.exists():
        return
    image, _ = open_image(path, ndim=4)
    frames = image.shape[3]
    for phase in PHASES:
        if info[phase] > frames:
            raise InputError(
                f"Info.cfg has {phase}: {info[phase]} but the cine has {frames} frames", path
            )


def read_patient(folder):
    """Read a patient folder: `Info.cfg`, then the ED and ES frames with their labels.

    The 4-D cine's header is checked when the file is present (`check_cine`).

    Raises:
        InputError: naming the file at fault (missing `Info.cfg` or entry, missing frame
            or `_gt`, unreadable NIfTI, wrong rank, too many voxels, NaN or infinite
            voxels, shape mismatch, labels outside 0..3, a cine without the ED or ES frame).
    """
    folder = Path(folder)
    info = read_info(folder / "Info.cfg")
    check_cine(folder, info)
    frames = tuple(read_frame(folder, phase, info[phase]) for phase in PHASES)
    return Patient(name=folder.name, info=info, frames=frames)


def read_cine(folder):
    """The 4-D cine `patientNNN_4d.nii.gz` of a patient folder as a `Volume`."""
    path = cine_path(folder)
    if not path.is_file():
        raise InputError("missing 4-D cine", path)
    return load_volume(path, ndim=4)


def patient_folders(root, split="training"):
    """The `patientNNN` folders of `root/split`, sorted by name.

    Raises:
        InputError: `split` is not a published split, or the folder holds no patient.
    """
    if split not in SOURCE_SPLITS:
        raise InputError(f"unknown source split {split!r}; allowed: {list(SOURCE_SPLITS)}", "split")
    folder = Path(root) / split
    if not folder.is_dir():
        raise InputError(
            "no such folder; expected the published layout <root>/training/patientNNN/", folder
        )
    folders = sorted(p for p in folder.iterdir() if p.is_dir() and _PATIENT_FOLDER.match(p.name))
    if not folders:
        raise InputError("no patientNNN folders in it", folder)
    return folders
