"""Turn ACDC patient folders into prepared 2-D slices conditioned on phase and position.

Per patient and annotated phase (ED, ES): the frame is normalised (z-score over the
volume), resampled in-plane to `spacing` mm (image linear, labels nearest; axes within
1 % of it are left alone), centre cropped or padded to `size x size` (padding is
background: intensity 0 before normalisation, label 0), and cut into one sample per
slice. The condition `z` concatenates, in the order of `condition`:

- `phase`: one-hot `[ED, ES]`;
- `position`: `slice_index / (n_slices - 1)` (0 for a single slice), or with
  `position="bins"` one-hot `[base, mid, apex]` for positions in `[0, 1/3)`,
  `[1/3, 2/3)`, `[2/3, 1]`.

Besides `x`, `y`, `z`, `split` and `name`, each sample carries `patient`, `phase`
(0 ED, 1 ES), `slice_index`, `slice_position`, and the geometry needed to put a
prediction back at the original spacing (`inside_keras.evaluation.acdc.slices`):
`source_shape` (H, W), `source_spacing` (row, column, slice mm), `pixel_spacing`
(row, column mm of `x`), `resampled_shape` and `offset` (where the window starts in the
resampled slice; negative when padded). With `folds`, each sample also carries its
patient's cross-validation `fold` (see `PrepareOptions`).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from inside_keras.data.acdc.reader import PHASES, patient_folders, read_patient
from inside_keras.data.resample import centred_start, resample, scale_factors, window
from inside_keras.data.resample import resampled_shape as new_shape
from inside_keras.data.splits import (
    check_fractions,
    fold_splits,
    split_groups,
    stratified_folds,
)
from inside_keras.errors import InputError
from inside_keras.runs.limits import check_image_size

#: Condition components, in their default order.
CONDITIONS = ("phase", "position")
#: How the slice position is encoded.
POSITION_ENCODINGS = ("continuous", "bins")
#: Names of the position bins.
POSITION_BINS = ("base", "mid", "apex")


@dataclass(frozen=True)
class PrepareOptions:
    """Options of `prepare_acdc` (the `inside-keras prepare acdc` flags).

    Attributes:
        spacing: in-plane pixel size of the prepared slices, in mm.
        size: height and width of the prepared slices, in pixels.
        condition: components of `z`, in order, from `CONDITIONS`.
        position: `"continuous"` or `"bins"`.
        val_fraction: share of patients for validation.
        test_fraction: share of patients for testing.
        seed: seed of the patient split.
        skip_bad: skip (and count) patients whose files are bad instead of failing.
        folds: None, or the number of cross-validation folds: each patient gets a
            `fold` (`inside_keras.data.splits.stratified_folds` by its `Info.cfg`
            Group), and the split holds fold 0 out as `test`, with `val_fraction` of
            the other patients as `val` (`fold_splits`); `test_fraction` is not used.
    """

    spacing: float = 1.25
    size: int = 128
    condition: tuple = CONDITIONS
    position: str = "continuous"
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    seed: int = 0
    skip_bad: bool = False
    folds: int | None = None

    def __post_init__(self):
        if not (math.isfinite(self.spacing) and self.spacing > 0):
            raise InputError(
                f"must be a positive finite number of mm, got {self.spacing}", "spacing"
            )
        if self.size < 1:
            raise InputError(f"must be a positive number of pixels, got {self.size}", "size")
        check_image_size(self.size, self.size, "size")
        check_fractions(self.val_fraction, self.test_fraction)
        if self.seed < 0:
            raise InputError(f"must be at least 0, got {self.seed}", "seed")
        if self.folds is not None and self.folds < 2:
            raise InputError(f"must be at least 2, got {self.folds}", "folds")
        unknown = [name for name in self.condition if name not in CONDITIONS]
        if unknown or not self.condition or len(set(self.condition)) != len(self.condition):
            raise InputError(
                f"got {list(self.condition)}; choose distinct components from {list(CONDITIONS)}",
                "condition",
            )
        if self.position not in POSITION_ENCODINGS:
            raise InputError(
                f"got {self.position!r}; allowed: {list(POSITION_ENCODINGS)}", "position"
            )


@dataclass
class PreparedACDC:
    """The result of `prepare_acdc`: the arrays to save and the patients left out.

    Attributes:
        arrays: the prepared-dataset arrays (see the module docstring).
        skipped: `(patient folder, reason)` of each patient skipped with `skip_bad`.
    """

    arrays: dict
    skipped: list = field(default_factory=list)


def slice_position(index, n_slices):
    """`index / (n_slices - 1)`: 0 at the first slice, 1 at the last (0 if only one)."""
    return index / (n_slices - 1) if n_slices > 1 else 0.0


def condition_vector(phase, position, options):
    """The condition `z` of one slice: see the module docstring."""
    parts = []
    for name in options.condition:
        if name == "phase":
            parts.append(np.eye(len(PHASES))[PHASES.index(phase)])
        elif options.position == "bins":
            parts.append(np.eye(len(POSITION_BINS))[min(int(position * 3), 2)])
        else:
            parts.append([position])
    return np.concatenate(parts).astype(np.float32)


def intensity_stats(image):
    """Mean and standard deviation of a volume (std 1 for a constant volume)."""
    std = float(image.std())
    return float(image.mean()), (std if std > 0 else 1.0)


def _frame_samples(patient, frame, options):
    """One dict of per-sample values per slice of `frame`."""
    in_plane, target = frame.spacing[:2], (options.spacing, options.spacing)
    rows, columns = new_shape(frame.image.shape, in_plane, target)
    check_image_size(columns, rows, "spacing")
    image = resample(frame.image, in_plane, target, order=1)
    label = resample(frame.label, in_plane, target, order=0)
    pixel_spacing = tuple(
        source * factor
        for source, factor in zip(in_plane, scale_factors(in_plane, target), strict=True)
    )
    resampled_shape, start = image.shape[:2], centred_start(image.shape, options.size)
    shape = (options.size, options.size)
    mean, std = intensity_stats(frame.image)
    image = (window(image, start, shape, fill=0.0) - mean) / std
    label = window(label, start, shape, fill=0)
    n_slices = frame.image.shape[2]
    for index in range(n_slices):
        position = slice_position(index, n_slices)
        yield {
            "x": image[:, :, index, None],
            "y": label[:, :, index],
            "z": condition_vector(frame.phase, position, options),
            "name": f"{patient.name}_{frame.phase}_slice{index:02d}",
            "patient": patient.name,
            "phase": PHASES.index(frame.phase),
            "slice_index": index,
            "slice_position": position,
            "source_shape": frame.image.shape[:2],
            "source_spacing": frame.spacing,
            "pixel_spacing": pixel_spacing,
            "resampled_shape": resampled_shape,
            "offset": start,
        }


#: dtype of each prepared array, in the order they are saved.
_DTYPES = {
    "x": np.float32,
    "y": np.uint8,
    "z": np.float32,
    "split": str,
    "name": str,
    "patient": str,
    "phase": np.int32,
    "slice_index": np.int32,
    "slice_position": np.float32,
    "source_shape": np.int32,
    "source_spacing": np.float32,
    "pixel_spacing": np.float32,
    "resampled_shape": np.int32,
    "offset": np.int32,
}


def prepare_acdc(root, split="training", options=None, progress=None):
    """Prepare the ED and ES slices of every patient in `root/split`.

    Args:
        root: the ACDC folder holding `training/` (and `testing/`).
        split: the source split to read, `"training"` or `"testing"`.
        options: a `PrepareOptions` (defaults if None).
        progress: optional callable `progress(done, total)` called after each patient.

    Returns:
        A `PreparedACDC`; save its `arrays` with `save_prepared`.

    Raises:
        InputError: a bad patient folder (unless `options.skip_bad`), or none usable.
    """
    options = options or PrepareOptions()
    folders = patient_folders(root, split)
    by_patient, strata, skipped = {}, {}, []
    for done, folder in enumerate(folders, start=1):
        try:
            patient = read_patient(folder)
        except InputError as error:
            if not options.skip_bad:
                raise
            skipped.append((folder, str(error)))
        else:
            strata[patient.name] = patient.info.get("Group", "")
            by_patient[patient.name] = [
                sample
                for frame in patient.frames
                for sample in _frame_samples(patient, frame, options)
            ]
        if progress is not None:
            progress(done, len(folders))
    if not by_patient:
        raise InputError(f"none of {len(folders)} patient folders is usable", folders[0].parent)
    if options.folds is None:
        fold_of = None
        splits = split_groups(
            list(by_patient), options.val_fraction, options.test_fraction, options.seed
        )
    else:
        fold_of = stratified_folds(strata, options.folds, options.seed)
        splits = fold_splits(fold_of, 0, options.val_fraction, options.seed)
    samples = [
        dict(sample, split=splits[name])
        for name, patient_samples in by_patient.items()
        for sample in patient_samples
    ]
    arrays = {
        key: np.array([sample[key] for sample in samples], dtype=dtype)
        for key, dtype in _DTYPES.items()
    }
    if fold_of is not None:
        arrays["fold"] = np.array([fold_of[name] for name in arrays["patient"]], np.int32)
    return PreparedACDC(arrays=arrays, skipped=skipped)
