"""Hand-built ACDC folders in the published layout, written with nibabel directly.

Independent of `inside_keras.data.acdc.phantom`, so the reader is checked against files
this project's writer did not produce.
"""

from pathlib import Path

import nibabel as nib
import numpy as np

#: (H, W, slices) and voxel size of the hand-built volumes.
SHAPE = (20, 24, 5)
SPACING = (1.5, 1.5, 8.0)
#: 1-based frame numbers written in Info.cfg.
ED, ES = 1, 3


def save_nifti(array, path, spacing=SPACING):
    zooms = (tuple(spacing) + (1.0,) * np.ndim(array))[: np.ndim(array)]
    image = nib.Nifti1Image(np.asarray(array), np.diag((zooms + (1.0,) * 3)[:3] + (1.0,)))
    image.header.set_zooms(zooms)
    nib.save(image, str(path))


def labels(shape, shrink):
    """Class ids: a LV disc, a MYO ring, a RV block, shrinking with the slice index."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    volume = np.zeros(shape, dtype=np.uint8)
    for index in range(shape[2]):
        radius = max(1.0, 6.0 - shrink * index)
        distance = np.hypot(rows - 10, cols - 14)
        volume[..., index][distance < radius + 2] = 2
        volume[..., index][distance < radius] = 3
        volume[2 : 8 - min(index, 4), 2:6, index] = 1
    return volume


def write_patient(root, number, shape=SHAPE, spacing=SPACING, seed=0):
    """Write `root/training/patientNNN/` with Info.cfg, a 4-D cine, ED/ES frames and `_gt`."""
    rng = np.random.default_rng(seed + number)
    name = f"patient{number:03d}"
    folder = Path(root) / "training" / name
    folder.mkdir(parents=True)
    (folder / "Info.cfg").write_text(
        f"ED:   {ED}\nES :{ES}\n\nGroup: NOR\nHeight: 180.0\nNbFrame: 4\nWeight: 70\nNote: x\n"
    )
    cine = rng.uniform(0, 400, size=shape + (4,)).astype(np.int16)
    save_nifti(cine, folder / f"{name}_4d.nii.gz", spacing)
    for frame, shrink in ((ED, 0.5), (ES, 1.0)):
        save_nifti(cine[..., frame - 1], folder / f"{name}_frame{frame:02d}.nii.gz", spacing)
        save_nifti(labels(shape, shrink), folder / f"{name}_frame{frame:02d}_gt.nii.gz", spacing)
    return folder


def write_dataset(root, patients=3):
    """Write `patients` hand-built patients; returns the root."""
    for number in range(1, patients + 1):
        write_patient(root, number)
    return Path(root)
