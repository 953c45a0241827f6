"""Evaluate ACDC slice predictions the challenge's way: per volume, at the original spacing.

The predicted slices of each patient and phase are put back into a volume on the
source grid: their class probabilities go through the crop/pad and the in-plane
resampling recorded by `prepare acdc` backwards (linearly where that upsamples), and
the argmax is taken there (`predicted_volumes`, which `predict` writes too). They are
compared with the ground truth read from the source folder by the one ACDC scorer
(`inside_keras.evaluation.acdc.scores`: Dice, HD, HD95 and ASSD in mm, volumes) for RV,
MYO and LV at ED and ES, per patient; the challenge table (`challenge_markdown`) is its
Dice and HD95 as mean ± std. When the prepared spacing is finer than (or equal to) the
source's and the crop keeps the heart, the ground-truth slices of the prepared dataset
come back exactly (Dice 1, HD95 0).

Example:

```python
from inside_keras.data.prepared import load_prepared, select_split
from inside_keras.evaluation.acdc.slices import challenge_markdown, evaluate

test = select_split(load_prepared("acdc.npz"), "test")
result = evaluate(model.predict(...), test, "data/acdc")
result.to_csv("acdc_per_patient.csv")  # the columns of `inside-keras score acdc`
print("\n".join(challenge_markdown(result.challenge())))
```
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inside_keras.data.acdc.reader import LABELS, PHASES, STRUCTURES, read_patient
from inside_keras.data.resample import resample, scale_factors, window
from inside_keras.errors import InputError
from inside_keras.evaluation.acdc.scores import SCORE_FIELDS, TABLE_STRUCTURES, score_volume
from inside_keras.evaluation.acdc.summary import metric_summary
from inside_keras.evaluation.masks import dice_scores
from inside_keras.evaluation.predict import to_labels, truth_labels
from inside_keras.runs.atomic import write_csv

#: Per-sample arrays of a prepared ACDC dataset that evaluation needs.
GEOMETRY_KEYS = (
    "patient",
    "phase",
    "slice_index",
    "source_shape",
    "source_spacing",
    "pixel_spacing",
    "resampled_shape",
    "offset",
)
#: Statistics of one phase and structure in the challenge table.
CHALLENGE_FIELDS = (
    "dice_mean",
    "dice_std",
    "hd95_mean_mm",
    "hd95_std_mm",
    "volumes",
    "hd95_undefined",
)
#: Columns of the summary CSV.
SUMMARY_FIELDS = ("phase", "structure", *CHALLENGE_FIELDS)


def _number(value):
    """A number for JSON: counts stay int, NaN becomes None."""
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if np.isnan(value) else value


@dataclass(frozen=True)
class EvaluationResult:
    """Per-patient scores of an ACDC evaluation.

    Attributes:
        rows: the score rows (`inside_keras.evaluation.acdc.scores.SCORE_FIELDS`), one
            per patient, phase and structure; distances are `nan` where exactly one of
            prediction and truth is empty.
    """

    rows: tuple

    def summary(self):
        """Mean ± std (population) of Dice and HD95 per phase and structure, as dicts of
        `SUMMARY_FIELDS` (a view of `inside_keras.evaluation.acdc.summary.metric_summary`).

        Undefined HD95 values (`nan`) are left out of the HD95 statistics and counted in
        `hd95_undefined`.
        """
        table = metric_summary(self.rows, ("dice", "hd95"))
        summary = []
        for phase in PHASES:
            for structure in TABLE_STRUCTURES:
                dice, hd95 = table[phase][structure]["dice"], table[phase][structure]["hd95"]
                summary.append(
                    {
                        "phase": phase,
                        "structure": structure,
                        "dice_mean": dice["mean"],
                        "dice_std": dice["std"],
                        "hd95_mean_mm": hd95["mean"],
                        "hd95_std_mm": hd95["std"],
                        "volumes": dice["n"],
                        "hd95_undefined": hd95["undefined"],
                    }
                )
        return summary

    def challenge(self):
        """The challenge table, JSON-ready: `{phase: {structure: {CHALLENGE_FIELDS}}}`.

        Statistics without any defined value (`nan`) are None.
        """
        table = {phase: {} for phase in PHASES}
        for entry in self.summary():
            table[entry["phase"]][entry["structure"]] = {
                field: _number(entry[field]) for field in CHALLENGE_FIELDS
            }
        return table

    def to_csv(self, path):
        """Write the per-patient rows (`SCORE_FIELDS`, as `scores.csv` of `score acdc`)
        to `path`."""
        write_csv(path, SCORE_FIELDS, self.rows)

    def summary_to_csv(self, path):
        """Write `summary()` (`SUMMARY_FIELDS`) to `path`."""
        write_csv(path, SUMMARY_FIELDS, self.summary())


def _mean_std_cell(mean, std, digits):
    return "n/a" if mean is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def challenge_markdown(challenge):
    """The challenge table as Markdown lines: structures by phase and metric, then notes.

    Args:
        challenge: `EvaluationResult.challenge()` (or that dict read back from JSON).

    Returns:
        The table's lines, a line with the patient count and, when some HD95 values
        are undefined, a line saying how many were left out.
    """
    header = ["Structure"] + [f"{phase} Dice" for phase in PHASES]
    header += [f"{phase} HD95 (mm)" for phase in PHASES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for structure in TABLE_STRUCTURES:
        cells = [structure]
        for mean_key, std_key, digits in (
            ("dice_mean", "dice_std", 3),
            ("hd95_mean_mm", "hd95_std_mm", 2),
        ):
            for phase in PHASES:
                entry = challenge[phase][structure]
                cells.append(_mean_std_cell(entry[mean_key], entry[std_key], digits))
        lines.append("| " + " | ".join(cells) + " |")
    volumes = challenge[PHASES[0]][TABLE_STRUCTURES[0]]["volumes"]
    lines += ["", f"{volumes} patients, mean ± std per volume."]
    cells = [cell for phase in challenge.values() for cell in phase.values()]
    undefined = sum(cell["hd95_undefined"] for cell in cells)
    if undefined:
        lines.append(
            f"HD95 undefined (one mask empty) for {undefined} volume-structures, left out."
        )
    return lines


def class_probabilities(predictions, n):
    """Predictions as float32 `(N, H, W, C)` class probabilities, `C >= 2`.

    Args:
        predictions: `(N, H, W, C)` softmax outputs; `(N, H, W, 1)` sigmoid outputs
            (a binary task: `[1 - p, p]`); or `(N, H, W)` class ids 0..3 (one-hot).
        n: the number of samples expected.

    Raises:
        InputError: another shape.
    """
    predictions = np.asarray(predictions)
    if predictions.ndim == 3 and len(predictions) == n:
        return np.eye(len(LABELS), dtype=np.float32)[predictions.astype(np.intp)]
    if predictions.ndim != 4 or len(predictions) != n:
        raise InputError(
            f"expected (N={n}, H, W) class ids or (N, H, W, C) class probabilities, "
            f"got {predictions.shape}",
            "predictions",
        )
    predictions = predictions.astype(np.float32)
    if predictions.shape[-1] == 1:
        return np.concatenate([1.0 - predictions, predictions], axis=-1)
    return predictions


def interpolation_order(pixel_spacing, source_spacing):
    """The interpolation order of the way back from prepared pixels to source pixels.

    1 (linear) where the prepared pixels are coarser than the source's on an axis: the
    way back upsamples, and interpolated probabilities give smoother, truer borders
    than repeated labels (nnU-Net's way; it matters for the thin myocardium). 0
    (nearest) otherwise: each source pixel then takes the probabilities of the prepared
    pixel nearest its centre, which is the pixel `prepare acdc` gave its label to, so a
    perfect prediction comes back exactly. Linear there would blend four prepared pixels
    and, for a prepared grid finer by a factor below sqrt(2), can let two neighbouring
    classes outweigh a staircase corner's own: the weight of the right class is only
    bounded below by `(factor / 2)^2`.
    """
    factors = scale_factors(pixel_spacing, source_spacing)
    return 1 if any(factor < 1.0 for factor in factors) else 0


def to_source_slice(probabilities, arrays, index):
    """One prepared slice's class probabilities `(H, W, C)` put back on its source grid.

    Undoes `prepare acdc`'s crop/pad (where the crop cut the resampled slice, the
    background gets probability 1) and its in-plane resampling (`interpolation_order`).

    Returns:
        float32 `(H0, W0, C)` on the source slice's grid.
    """
    shape = arrays["resampled_shape"][index]
    canvas = np.stack(
        [
            window(probabilities[..., c], -arrays["offset"][index], shape, fill=float(c == 0))
            for c in range(probabilities.shape[-1])
        ],
        axis=-1,
    )
    pixel_spacing, source_spacing = arrays["pixel_spacing"][index], arrays["source_spacing"][index]
    return resample(
        canvas,
        pixel_spacing,
        source_spacing[:2],
        order=interpolation_order(pixel_spacing, source_spacing[:2]),
        shape=tuple(int(n) for n in arrays["source_shape"][index]),
    )


def reassemble(probabilities, arrays, indices, n_slices):
    """The label volume of the predicted slices `indices` of one volume on its source grid.

    Args:
        probabilities: `(N, H, W, C)` class probabilities of all samples.
        arrays: the prepared arrays of the same N samples.
        indices: the samples of one patient and phase.
        n_slices: the slice count of the source volume.

    Returns:
        uint8 `(H0, W0, n_slices)`: per source pixel the class of highest probability
        after the way back (`to_source_slice`).
    """
    found = sorted(int(arrays["slice_index"][i]) for i in indices)
    if found != list(range(n_slices)):
        first = indices[0]
        raise InputError(
            f"{arrays['patient'][first]} {PHASES[arrays['phase'][first]]}: predictions cover "
            f"slices {found}, the volume has slices 0..{n_slices - 1}",
            "predictions",
        )
    volume = None
    for i in indices:
        labels = to_source_slice(probabilities[i], arrays, i).argmax(axis=-1)
        if volume is None:
            volume = np.zeros(labels.shape + (n_slices,), dtype=np.uint8)
        volume[:, :, arrays["slice_index"][i]] = labels
    return volume


def predicted_volumes(predictions, arrays, source, split="training"):
    """Yield `(patient, phase, frame, volume)`: predictions back on each source grid.

    The one way back from prepared slices to source volumes: `predict` writes these
    volumes, `evaluate` and `reproduce acdc` score them.

    Args:
        predictions: `(N, H, W, C)` class probabilities (softmax; a sigmoid's
            `(N, H, W, 1)` counts as binary) or `(N, H, W)` class ids for the N samples
            of `arrays` (`class_probabilities`).
        arrays: prepared ACDC arrays of those samples, with every slice of each
            patient and phase they hold.
        source: the ACDC root that was prepared (holding `split/patientNNN/`).
        split: the source split, `"training"` or `"testing"`.

    Yields:
        The patient name, the phase (`"ED"`/`"ES"`), the source `Frame` (image, label,
        spacing, frame number) and the uint8 predicted label volume on the frame's grid
        (`reassemble`).

    Raises:
        InputError: missing geometry arrays, predictions of the wrong shape, missing
            slices, or a source volume that no longer matches the prepared geometry.
    """
    missing = [key for key in GEOMETRY_KEYS if key not in arrays]
    if missing:
        raise InputError(
            f"missing arrays {missing}; prepare the dataset with `inside-keras prepare acdc`",
            "prepared dataset",
        )
    probabilities = class_probabilities(predictions, len(arrays["patient"]))
    for patient_name in sorted(set(arrays["patient"].tolist())):
        patient = read_patient(Path(source) / split / patient_name)
        for phase_id, phase in enumerate(PHASES):
            indices = np.flatnonzero(
                (arrays["patient"] == patient_name) & (arrays["phase"] == phase_id)
            )
            if not indices.size:
                continue
            frame = patient.frame(phase)
            if tuple(arrays["source_shape"][indices[0]]) != frame.label.shape[:2]:
                raise InputError(
                    f"{patient_name} {phase}: shape {frame.label.shape[:2]} differs from the "
                    f"prepared {tuple(arrays['source_shape'][indices[0]])}",
                    Path(source) / split / patient_name,
                )
            yield (
                patient_name,
                phase,
                frame,
                reassemble(probabilities, arrays, indices, frame.label.shape[2]),
            )


def evaluate(predictions, arrays, source, split="training"):
    """Score slice predictions per patient and phase against the source ground truth.

    Args:
        predictions, arrays, source, split: as for `predicted_volumes`.

    Returns:
        An `EvaluationResult`.

    Raises:
        InputError: as for `predicted_volumes`.
    """
    rows = []
    for patient_name, phase, frame, volume in predicted_volumes(predictions, arrays, source, split):
        rows += score_volume(patient_name, phase, volume, frame.label, frame.spacing)
    return EvaluationResult(rows=tuple(rows))


def _mean_defined(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def volume_scores(rows):
    """The headline scores of per-volume score rows, a JSON-ready dict.

    Args:
        rows: score rows (`inside_keras.evaluation.acdc.scores.SCORE_FIELDS`) of every
            scored patient at ED and ES.

    Returns:
        A dict, HD95 values undefined for every volume (a structure never predicted)
        being None:

            dice, dice_std   mean Dice over the 3 structures x 2 phases (each the
                             mean over volumes); std over volumes of their mean
                             structure Dice
            hd95_mm          mean HD95 over the structures and phases where it is
                             defined
            structures       {RV|MYO|LV: {dice, hd95_mm}}, means over both phases
            phases           {ED|ES: {dice, hd95_mm}}, means over the three structures
            challenge        `EvaluationResult.challenge()`: the challenge table
    """
    challenge = EvaluationResult(rows=tuple(rows)).challenge()
    volumes = {}
    for row in rows:
        volumes.setdefault((row["patient"], row["phase"]), []).append(row["dice"])

    def mean_of(cells, field):
        return _mean_defined([challenge[phase][structure][field] for phase, structure in cells])

    every = [(p, s) for p in PHASES for s in TABLE_STRUCTURES]
    return {
        "dice": mean_of(every, "dice_mean"),
        "dice_std": float(np.std([np.mean(d) for d in volumes.values()])),
        "hd95_mm": mean_of(every, "hd95_mean_mm"),
        "structures": {
            structure: {
                "dice": mean_of([(p, structure) for p in PHASES], "dice_mean"),
                "hd95_mm": mean_of([(p, structure) for p in PHASES], "hd95_mean_mm"),
            }
            for structure in TABLE_STRUCTURES
        },
        "phases": {
            phase: {
                "dice": mean_of([(phase, s) for s in TABLE_STRUCTURES], "dice_mean"),
                "hd95_mm": mean_of([(phase, s) for s in TABLE_STRUCTURES], "hd95_mean_mm"),
            }
            for phase in PHASES
        },
        "challenge": challenge,
    }


def slice_dice(predictions, arrays):
    """`(N,)` per-slice foreground Dice (mean over RV, MYO, LV) of slice predictions on
    the prepared grid (`predictions` as for `predicted_volumes`)."""
    probabilities = class_probabilities(predictions, len(arrays["patient"]))
    labels = to_labels(probabilities)
    return dice_scores(labels, truth_labels(arrays), tuple(STRUCTURES.values()))["per_image"]


def scores(predictions, arrays, source, split="training"):
    """The scores of slice predictions on ACDC, a JSON-ready dict.

    Args:
        predictions, arrays, source, split: as for `predicted_volumes`.

    Returns:
        `volume_scores` of the per-volume scores (`evaluate`), with `slice_dice`: the
        mean per-slice foreground Dice on the prepared grid.

    Raises:
        InputError: as for `predicted_volumes`.
    """
    probabilities = class_probabilities(predictions, len(arrays["patient"]))
    result = evaluate(probabilities, arrays, source, split)
    per_slice = slice_dice(probabilities, arrays)
    return {**volume_scores(result.rows), "slice_dice": float(per_slice.mean())}
