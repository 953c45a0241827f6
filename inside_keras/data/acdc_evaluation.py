"""Evaluate ACDC slice predictions the challenge's way: per volume, at the original spacing.

The predicted slices of each patient and phase are put back into a volume on the
source grid (undoing the crop/pad and the in-plane resampling recorded by
`prepare acdc`, labels by nearest neighbour), and compared with the ground truth read
from the source folder: Dice and HD95 (mm, `inside_keras.volume_metrics`) for RV, MYO
and LV at ED and ES, per patient and summarised as mean ± std. When the prepared
spacing is finer than (or equal to) the source's and the crop keeps the heart, the
ground-truth slices of the prepared dataset come back exactly (Dice 1, HD95 0).

Example:

```python
from inside_keras.data.acdc_evaluation import evaluate
from inside_keras.data.prepared import load_prepared, select_split

test = select_split(load_prepared("acdc.npz"), "test")
result = evaluate(model.predict(...), test, "data/acdc")
result.to_csv("acdc_per_patient.csv")
print(result.table())
```
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inside_keras.data.acdc.reader import PHASES, STRUCTURES, read_patient
from inside_keras.data.resample import resample_inplane, window
from inside_keras.errors import InputError
from inside_keras.volume_metrics import dice, hd95

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
#: Row order of the challenge-like table.
TABLE_STRUCTURES = ("LV", "RV", "MYO")
#: Columns of the per-patient CSV.
ROW_FIELDS = ("patient", "phase", "structure", "dice", "hd95_mm")
#: Columns of the summary CSV.
SUMMARY_FIELDS = (
    "phase",
    "structure",
    "dice_mean",
    "dice_std",
    "hd95_mean_mm",
    "hd95_std_mm",
    "volumes",
    "hd95_undefined",
)


def _mean_std(values):
    values = np.asarray([v for v in values if not np.isnan(v)], dtype=np.float64)
    return (float(values.mean()), float(values.std())) if values.size else (np.nan, np.nan)


@dataclass(frozen=True)
class EvaluationResult:
    """Per-patient scores of an ACDC evaluation.

    Attributes:
        rows: one dict per patient, phase and structure with the keys of `ROW_FIELDS`;
            `hd95_mm` is `nan` where exactly one of prediction and truth is empty.
    """

    rows: tuple

    def summary(self):
        """Mean ± std (population) per phase and structure, as dicts of `SUMMARY_FIELDS`.

        Undefined HD95 values (`nan`) are left out of the HD95 statistics and counted in
        `hd95_undefined`.
        """
        summary = []
        for phase in PHASES:
            for structure in TABLE_STRUCTURES:
                rows = [r for r in self.rows if r["phase"] == phase and r["structure"] == structure]
                dice_mean, dice_std = _mean_std([r["dice"] for r in rows])
                hd_mean, hd_std = _mean_std([r["hd95_mm"] for r in rows])
                summary.append(
                    {
                        "phase": phase,
                        "structure": structure,
                        "dice_mean": dice_mean,
                        "dice_std": dice_std,
                        "hd95_mean_mm": hd_mean,
                        "hd95_std_mm": hd_std,
                        "volumes": len(rows),
                        "hd95_undefined": sum(bool(np.isnan(r["hd95_mm"])) for r in rows),
                    }
                )
        return summary

    def to_csv(self, path):
        """Write the per-patient rows (`ROW_FIELDS`) to `path`."""
        _write_csv(path, ROW_FIELDS, self.rows)

    def summary_to_csv(self, path):
        """Write `summary()` (`SUMMARY_FIELDS`) to `path`."""
        _write_csv(path, SUMMARY_FIELDS, self.summary())

    def table(self):
        """The summary as a text table like the challenge's: structures by phase and metric."""
        stats = {(s["phase"], s["structure"]): s for s in self.summary()}
        metrics = (
            ("Dice", "dice_mean", "dice_std", 3),
            ("HD95 (mm)", "hd95_mean_mm", "hd95_std_mm", 2),
        )
        header = ["Structure"] + [f"{phase} {title}" for title, *_ in metrics for phase in PHASES]
        lines = [header]
        for structure in TABLE_STRUCTURES:
            cells = [structure]
            for _, mean_key, std_key, digits in metrics:
                for phase in PHASES:
                    entry = stats[(phase, structure)]
                    mean, std = entry[mean_key], entry[std_key]
                    cells.append(
                        "n/a" if np.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"
                    )
            lines.append(cells)
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        render = [
            " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in lines
        ]
        render.insert(1, "-+-".join("-" * w for w in widths))
        render.append(f"{len({r['patient'] for r in self.rows})} patients, mean ± std per volume")
        undefined = sum(s["hd95_undefined"] for s in stats.values())
        if undefined:
            render.append(
                f"HD95 undefined (one mask empty) for {undefined} volume-structures, left out"
            )
        return "\n".join(render)


def _write_csv(path, fields, rows):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _class_ids(predictions, n):
    """Predictions as `(N, H, W)` class ids: from ids, `(N, H, W, 1)` ids or class scores."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 4:
        predictions = predictions[..., 0] if predictions.shape[-1] == 1 else predictions.argmax(-1)
    if predictions.ndim != 3 or len(predictions) != n:
        raise InputError(
            f"expected (N={n}, H, W) class ids or (N, H, W, 4) scores, got {predictions.shape}",
            "predictions",
        )
    return predictions.astype(np.uint8)


def reassemble(predictions, arrays, indices, n_slices):
    """Put the predicted slices `indices` of one volume back on its source grid.

    Args:
        predictions: `(N, H, W)` class ids of all samples.
        arrays: the prepared arrays of the same N samples.
        indices: the samples of one patient and phase.
        n_slices: the slice count of the source volume.

    Returns:
        uint8 `(H0, W0, n_slices)` on the source grid.
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
        canvas = window(predictions[i], -arrays["offset"][i], arrays["resampled_shape"][i])
        back = resample_inplane(
            canvas,
            arrays["pixel_spacing"][i],
            arrays["source_spacing"][i][:2],
            order=0,
            shape=tuple(int(n) for n in arrays["source_shape"][i]),
        )
        if volume is None:
            volume = np.zeros(back.shape + (n_slices,), dtype=np.uint8)
        volume[:, :, arrays["slice_index"][i]] = back
    return volume


def predicted_volumes(predictions, arrays, source, split="training"):
    """Yield `(patient, phase, frame, volume)`: predictions back on each source grid.

    Args:
        predictions: `(N, H, W)` class ids or `(N, H, W, 4)` class scores for the N
            samples of `arrays`.
        arrays: prepared ACDC arrays of those samples, with every slice of each
            patient and phase they hold.
        source: the ACDC root that was prepared (holding `split/patientNNN/`).
        split: the source split, `"training"` or `"testing"`.

    Yields:
        The patient name, the phase (`"ED"`/`"ES"`), the source `Frame` (image, label,
        spacing) and the uint8 predicted label volume on the frame's grid.

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
    predictions = _class_ids(predictions, len(arrays["patient"]))
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
            yield patient_name, phase, frame, reassemble(
                predictions, arrays, indices, frame.label.shape[2]
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
    for patient_name, phase, frame, volume in predicted_volumes(
        predictions, arrays, source, split
    ):
        for structure in TABLE_STRUCTURES:
            pred, truth = volume == STRUCTURES[structure], frame.label == STRUCTURES[structure]
            rows.append(
                {
                    "patient": patient_name,
                    "phase": phase,
                    "structure": structure,
                    "dice": dice(pred, truth),
                    "hd95_mm": hd95(pred, truth, frame.spacing),
                }
            )
    return EvaluationResult(rows=tuple(rows))
