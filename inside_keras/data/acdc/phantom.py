"""Synthetic ACDC look-alikes, written in the published layout (see `acdc.reader`).

Each patient is a short-axis cine stack: a left-ventricular (LV) cavity, the myocardium
(MYO) ring around it and a right-ventricular (RV) crescent beside the septum, inside a
body with lungs. The structures shrink from the base (slice 0) to the apex (the RV
fades out first) and follow a smooth cardiac cycle: from end-diastole (ED, frame 1) the
LV cavity contracts towards end-systole (ES) while the myocardium thickens (its area
is kept), and relaxes back. Intensities look like cine SSFP MRI (bright blood, dark
myocardium and lungs): blurred slightly, multiplied by a smooth bias field, given
Gaussian noise and taken in magnitude, stored as int16. Per patient, the diagnostic
group changes the heart (dilated, hypertrophic, infarcted, abnormal RV), and the matrix
size (128-192 px), pixel spacing (1.3-1.9 mm), slice thickness (5-10 mm), slice count
(6-21) and frame count (10-15) vary.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

#: Heart shape per ACDC group: (LV radius scale, wall thickness scale,
#: ES/ED LV radius, RV size scale, ES/ED RV size).
GROUPS = {
    "NOR": (1.0, 1.0, 0.62, 1.0, 0.72),
    "MINF": (1.15, 0.85, 0.82, 1.0, 0.75),
    "DCM": (1.3, 0.8, 0.88, 1.0, 0.8),
    "HCM": (0.85, 1.6, 0.5, 0.9, 0.7),
    "RV": (0.95, 1.0, 0.65, 1.3, 0.9),
}

#: Mean intensities of air, body, lung, blood, myocardium and epicardial fat.
INTENSITY = {"air": 0.01, "body": 0.32, "lung": 0.06, "blood": 0.85, "myo": 0.2, "fat": 0.7}
#: Standard deviation of the Gaussian noise (magnitude images: its absolute value).
_NOISE = 0.03
#: Class id of epicardial fat while drawing (background in the labels).
_FAT = 4
#: Background tissue ids (indices into air, body, lung of `INTENSITY`).
_AIR, _BODY, _LUNG = 0, 1, 2


@dataclass(frozen=True)
class PhantomPatient:
    """One synthetic patient.

    Attributes:
        cine: int16 `(H, W, slices, frames)`.
        labels: uint8 `(H, W, slices, frames)` class ids 0..3 of every frame.
        spacing: `(row, column, slice)` voxel size in mm.
        info: the `Info.cfg` entries (`ED`, `ES`, `Group`, `Height`, `NbFrame`, `Weight`).
    """

    cine: np.ndarray
    labels: np.ndarray
    spacing: tuple
    info: dict


def contraction(n_frames, es_frame):
    """Per frame, 0 at ED (frame 1), 1 at ES, smoothly back towards 0 at the last frame."""
    frames = np.arange(n_frames, dtype=np.float64)
    es = es_frame - 1
    systole = 0.5 * (1 - np.cos(np.pi * frames / es))
    diastole = 0.5 * (1 + np.cos(np.pi * (frames - es) / (n_frames - es)))
    return np.where(frames <= es, systole, diastole)


def _smooth_field(rng, shape, sigma, amplitude):
    """Gaussian-filtered white noise with standard deviation `amplitude`, float32."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return (amplitude * field / (field.std() or 1.0)).astype(np.float32)


def _anatomy(rng, group, shape, spacing, n_frames, es_frame):
    """Class ids `(H, W, slices, frames)` (labels plus `_FAT`) and the in-plane tissue ids."""
    height, width, n_slices = shape
    lv_scale, wall_scale, lv_es, rv_scale, rv_es = GROUPS[group]
    rows = (np.arange(height) - height / 2 - rng.uniform(-8, 8) / spacing[0]) * spacing[0]
    cols = (np.arange(width) - width / 2 - rng.uniform(-8, 8) / spacing[1]) * spacing[1]
    y, x = np.meshgrid(rows.astype(np.float32), cols.astype(np.float32), indexing="ij")
    stretch = rng.uniform(0.92, 1.08)
    radius = np.hypot(y / stretch, x * stretch)
    angle = math.pi + rng.uniform(-0.4, 0.4)  # RV on the image's left
    along = x * math.cos(angle) + y * math.sin(angle)
    across = -x * math.sin(angle) + y * math.cos(angle)

    position = np.linspace(0, 1, n_slices, dtype=np.float32)[:, None]  # base 0 .. apex 1
    squeeze = contraction(n_frames, es_frame).astype(np.float32)[None, :]
    taper = 1 - 0.72 * position**2
    endo_ed = 24 * lv_scale * rng.uniform(0.9, 1.1) * taper
    wall_ed = 8 * wall_scale * rng.uniform(0.9, 1.1) * (1 - 0.3 * position)
    endo = endo_ed * (1 - (1 - lv_es) * squeeze)
    epi = np.sqrt(endo**2 + (endo_ed + wall_ed) ** 2 - endo_ed**2)  # constant wall area
    rv_size = np.clip(1 - 0.9 * position**1.5, 0, None) * (1 - (1 - rv_es) * squeeze)
    rv_long = 1.3 * (endo_ed[0, 0] + wall_ed[0, 0]) * rv_scale * rv_size
    rv_short = 0.75 * (endo_ed[0, 0] + wall_ed[0, 0]) * rv_scale * rv_size + 1e-6
    rv_centre = 0.6 * (endo_ed[0, 0] + wall_ed[0, 0]) + 0.5 * rv_short

    grid = np.s_[:, :, None, None]
    lv = radius[grid] < endo
    myo = ~lv & (radius[grid] < epi)
    in_rv = ((along[grid] - rv_centre) / rv_short) ** 2 + (across[grid] / rv_long) ** 2 < 1
    rv = in_rv & (radius[grid] >= epi + 1.0)
    fat = (radius[grid] < epi + 3.0) & ~in_rv
    classes = np.select([lv, myo, rv, fat], [3, 2, 1, _FAT], 0).astype(np.uint8)
    outer = endo_ed[0, 0] + wall_ed[0, 0]  # LV outer radius at the base, ED
    lungs = (np.hypot((along + 1.6 * outer + 28) / 26, across / 48) < 1) | (
        np.hypot((along - 2.2 * outer - 20) / 24, (across - 10) / 50) < 1
    )
    body = np.hypot(y / (0.46 * height * spacing[0]), x / (0.6 * width * spacing[1])) < 1
    tissue = np.select([lungs & body & ~in_rv[:, :, 0, 0], body], [_LUNG, _BODY], _AIR)
    return classes, tissue


def _intensities(rng, classes, tissue):
    """The cine as float32 MRI-like intensities around 0..1 (before scaling to int16)."""
    height, width = classes.shape[:2]
    lut = np.array(
        [0, INTENSITY["blood"], INTENSITY["myo"], INTENSITY["blood"], INTENSITY["fat"]],
        dtype=np.float32,
    )
    levels = np.array([INTENSITY[name] for name in ("air", "body", "lung")], dtype=np.float32)
    background = levels[tissue] + (tissue != _AIR) * _smooth_field(rng, (height, width), 3, 0.05)
    image = lut[classes] + (classes == 0) * background[:, :, None, None].astype(np.float32)
    image = ndimage.gaussian_filter(image, sigma=(0.7, 0.7, 0, 0))
    rows, cols = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    a, b, c = rng.uniform(-0.25, 0.25, size=3)
    image *= np.exp(a * rows + b * cols + c * rows * cols).astype(np.float32)[:, :, None, None]
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(_NOISE)
    return np.abs(image)


def make_patient(rng, group, pixel_spacing=None):
    """Draw one `PhantomPatient` of diagnostic `group` (a key of `GROUPS`).

    Args:
        rng: a `numpy.random.Generator`.
        group: the diagnostic group, a key of `GROUPS`.
        pixel_spacing: the in-plane pixel size in mm; drawn from 1.3-1.9 mm if None.
    """
    height, width = (int(n) for n in rng.integers(16, 25, size=2) * 8)
    drawn = round(float(rng.uniform(1.3, 1.9)), 4)
    pixel = drawn if pixel_spacing is None else float(pixel_spacing)
    thickness = float(rng.choice([5.0, 6.5, 7.0, 8.0, 10.0]))
    n_slices = int(np.clip(round(rng.uniform(70, 100) / thickness), 6, 21))
    n_frames = int(rng.integers(10, 16))
    es_frame = 1 + round(n_frames * rng.uniform(0.3, 0.42))
    spacing = (pixel, pixel, thickness)
    classes, tissue = _anatomy(rng, group, (height, width, n_slices), spacing, n_frames, es_frame)
    image = _intensities(rng, classes, tissue)
    cine = np.round(image * rng.uniform(300, 700)).astype(np.int16)
    labels = np.where(classes == _FAT, 0, classes).astype(np.uint8)
    info = {
        "ED": 1,
        "ES": es_frame,
        "Group": group,
        "Height": round(float(rng.uniform(150, 195)), 1),
        "NbFrame": n_frames,
        "Weight": round(float(rng.uniform(50, 110)), 1),
    }
    return PhantomPatient(cine=cine, labels=labels, spacing=spacing, info=info)


def _save(array, spacing, path):
    image = nib.Nifti1Image(array, np.diag(list(spacing[:3]) + [1.0]))
    image.header.set_zooms(spacing)
    image.header.set_xyzt_units("mm", "sec")
    nib.save(image, path)


def write_patient(patient, folder):
    """Write a `PhantomPatient` as a published-layout patient folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = folder.name
    (folder / "Info.cfg").write_text("".join(f"{k}: {v}\n" for k, v in patient.info.items()))
    _save(patient.cine, patient.spacing + (1.0,), folder / f"{name}_4d.nii.gz")
    for phase in ("ED", "ES"):
        number = patient.info[phase]
        frame = f"{name}_frame{number:02d}"
        _save(patient.cine[..., number - 1], patient.spacing, folder / f"{frame}.nii.gz")
        _save(patient.labels[..., number - 1], patient.spacing, folder / f"{frame}_gt.nii.gz")


def generate_acdc(out, patients=20, seed=0, progress=None):
    """Write `patients` phantoms to `out/training/patient001...`, groups in ACDC's rotation.

    Args:
        out: the dataset root to write.
        patients: how many patients.
        seed: the seed; patient `i` draws from `numpy.random.default_rng([seed, i])`, so
            a patient does not depend on how many are generated.
        progress: optional callable `progress(done, total)` called after each patient.

    Returns:
        The patient folders written.
    """
    groups = list(GROUPS)
    folders = []
    for index in range(patients):
        rng = np.random.default_rng([seed, index])
        folder = Path(out) / "training" / f"patient{index + 1:03d}"
        write_patient(make_patient(rng, groups[index % len(groups)]), folder)
        folders.append(folder)
        if progress is not None:
            progress(index + 1, patients)
    return folders
