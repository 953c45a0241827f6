"""Score ACDC predictions in the challenge's submission layout against the source labels.

A submission is a folder of label volumes, one per patient and phase:

```
DIR/patient001_ED.nii.gz     class ids 0 background, 1 RV, 2 MYO, 3 LV,
DIR/patient001_ES.nii.gz     on the grid of the patient's ED (ES) frame
...
```

(`.nii` is read where no `.nii.gz` exists). Every patient of the source split
(`<source>/<split>/patientNNN/`, `inside_keras.data.acdc.reader`), or with
`only_predicted` every one with a file in the folder, must have both files;
each is scored against the `_gt` volume of the frame `Info.cfg` names for its phase by
`inside_keras.evaluation.acdc.scores.score_volume`, at the reference's spacing. Other
files in the folder are not read; `ignored_files` lists them.

A prediction must lie on its reference's grid: the same shape, the same voxel spacing
and the same voxel-to-world affine (to `GEOMETRY_TOLERANCE_MM`). A missing file, a
mismatch, or labels outside 0..3 are raised as `InputError` naming the file (and so the
patient). `write_submission` writes prepared slice predictions in this layout.
"""

from pathlib import Path

import numpy as np

from inside_keras.data.acdc.reader import (
    PHASES,
    check_labels,
    frame_path,
    patient_folders,
    read_ground_truth,
    read_info,
)
from inside_keras.data.nifti import load_volume
from inside_keras.errors import InputError
from inside_keras.evaluation.acdc.scores import score_volume
from inside_keras.runs.atomic import atomic_path

#: Largest difference of spacing or affine entries (mm) between prediction and reference.
GEOMETRY_TOLERANCE_MM = 1e-3


def prediction_path(folder, patient, phase):
    """`folder/<patient>_<phase>.nii.gz`, or `.nii` if only that exists."""
    path = Path(folder) / f"{patient}_{phase}.nii.gz"
    uncompressed = path.with_suffix("")
    return uncompressed if not path.exists() and uncompressed.exists() else path


def expected_files(predictions, patients):
    """The prediction file of each patient folder and phase, checked to exist.

    Returns:
        `{(patient, phase): path}`.

    Raises:
        InputError: `predictions` is not a folder, or a file is missing (the first one
            named, with the count of the others).
    """
    predictions = Path(predictions)
    if not predictions.is_dir():
        raise InputError(
            "no such folder; expected patientNNN_ED.nii.gz and patientNNN_ES.nii.gz files",
            predictions,
        )
    paths = {
        (folder.name, phase): prediction_path(predictions, folder.name, phase)
        for folder in patients
        for phase in PHASES
    }
    missing = [path for path in paths.values() if not path.is_file()]
    if missing:
        others = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(
            f"missing prediction{others}; every patient of the source split needs "
            "patientNNN_ED.nii.gz and patientNNN_ES.nii.gz",
            missing[0],
        )
    return paths


def ignored_files(predictions, paths):
    """Names of the entries in `predictions` that are not among the scored `paths`."""
    scored = {path.name for path in paths.values()}
    return sorted(entry.name for entry in Path(predictions).iterdir() if entry.name not in scored)


def check_geometry(patient, phase, prediction, reference, path):
    """Raise `InputError` naming `path` unless `prediction` lies on `reference`'s grid
    (shape, spacing, affine; both `inside_keras.data.nifti.Volume`)."""
    where = f"{patient} {phase}:"
    if prediction.data.shape != reference.data.shape:
        raise InputError(
            f"{where} shape {prediction.data.shape} differs from the reference's "
            f"{reference.data.shape}",
            path,
        )
    if not np.allclose(prediction.spacing, reference.spacing, rtol=0, atol=GEOMETRY_TOLERANCE_MM):
        raise InputError(
            f"{where} voxel spacing {_rounded(prediction.spacing)} mm differs from the "
            f"reference's {_rounded(reference.spacing)} mm",
            path,
        )
    if not np.allclose(prediction.affine, reference.affine, rtol=0, atol=GEOMETRY_TOLERANCE_MM):
        raise InputError(
            f"{where} affine {_rounded(prediction.affine)} differs from the reference's "
            f"{_rounded(reference.affine)}; write predictions with the reference's header",
            path,
        )


def _rounded(values):
    return np.round(np.asarray(values, dtype=np.float64), 4).tolist()


def predicted_patients(predictions, patients):
    """The patient folders of `patients` with a prediction file of either phase in
    `predictions`.

    Raises:
        InputError: `predictions` is not a folder, or holds no file of any of them.
    """
    predictions = Path(predictions)
    if not predictions.is_dir():
        raise InputError(
            "no such folder; expected patientNNN_ED.nii.gz and patientNNN_ES.nii.gz files",
            predictions,
        )
    chosen = [
        folder
        for folder in patients
        if any(prediction_path(predictions, folder.name, phase).is_file() for phase in PHASES)
    ]
    if not chosen:
        raise InputError(
            f"no patientNNN_ED.nii.gz or patientNNN_ES.nii.gz of any of the {len(patients)} "
            f"patients of the source split ({patients[0].name} ... {patients[-1].name})",
            predictions,
        )
    return chosen


def score_submission(predictions, source, split="training", progress=None, only_predicted=False):
    """Score a prediction folder against every patient of an ACDC source split.

    Args:
        predictions: the folder of `patientNNN_ED.nii.gz` and `patientNNN_ES.nii.gz`.
        source: the ACDC root holding `split/patientNNN/`.
        split: `"training"` or `"testing"`.
        progress: optional `update(done, total)` called after each patient.
        only_predicted: score only the patients of the split with a prediction file
            (`predicted_patients`), e.g. the test patients of a prepared dataset; each
            of them still needs both phases.

    Returns:
        `(rows, ignored)`: the score rows (`acdc_scores.SCORE_FIELDS`), by patient,
        phase and structure, and the names of the entries of `predictions` not scored.

    Raises:
        InputError: naming the file at fault: the source's (as
            `inside_keras.data.acdc.reader` raises them) or a prediction that is
            missing, unreadable, not 3-D, off the reference's grid or with labels
            outside 0..3. Every file is checked to exist before any is read.
    """
    patients = patient_folders(source, split)
    if only_predicted:
        patients = predicted_patients(predictions, patients)
    paths = expected_files(predictions, patients)
    rows = []
    for done, folder in enumerate(patients, 1):
        info = read_info(folder / "Info.cfg")
        for phase in PHASES:
            reference = read_ground_truth(folder, phase, info[phase])
            path = paths[(folder.name, phase)]
            prediction = load_volume(path, ndim=3)
            check_geometry(folder.name, phase, prediction, reference, path)
            labels = check_labels(prediction.data, path)
            rows += score_volume(folder.name, phase, labels, reference.data, reference.spacing)
        if progress is not None:
            progress(done, len(patients))
    return rows, ignored_files(predictions, paths)


def write_submission(predictions, arrays, source, split, folder):
    """Write slice predictions as label volumes in the submission layout, atomically.

    Each patient and phase of `arrays` goes back onto its source frame's grid
    (`inside_keras.evaluation.acdc.predicted_volumes`) and is saved as
    `folder/<patient>_<phase>.nii.gz`, uint8 class ids, with the header of the frame's
    image file (affine, qform and sform with their codes, voxel spacing, units).

    Args:
        predictions, arrays, source, split: as for `predicted_volumes`.
        folder: an existing folder.

    Returns:
        The written paths, by patient and phase.

    Raises:
        InputError: as for `predicted_volumes`.
    """
    import nibabel

    from inside_keras.evaluation.acdc.slices import predicted_volumes

    paths = []
    for patient, phase, frame, volume in predicted_volumes(predictions, arrays, source, split):
        image = nibabel.load(frame_path(Path(source) / split / patient, frame.number))
        written = type(image)(volume, image.affine, image.header)
        written.set_data_dtype(np.uint8)
        path = Path(folder) / f"{patient}_{phase}.nii.gz"
        with atomic_path(path) as temporary:
            nibabel.save(written, temporary)
        paths.append(path)
    return paths
