"""Score a predicted ACDC label volume against its reference, per structure.

`score_volume` is the one scorer of ACDC segmentations. `inside-keras score acdc`
(prediction files in the challenge's layout, `inside_keras.evaluation.acdc.submission`)
and `inside-keras evaluate` and `reproduce acdc` (prepared slices put back on the source
grid, `inside_keras.evaluation.acdc.slices`) all call it. For RV, MYO and LV it gives the Dice,
the Hausdorff distance, HD95 and ASSD in mm at the volume's spacing (surfaces and
empty-mask conventions of `inside_keras.evaluation.masks`) and both volumes in ml.

Example:

```python
from inside_keras.evaluation.acdc.scores import score_volume

rows = score_volume("patient001", "ED", predicted_ids, reference_ids, (1.37, 1.37, 10.0))
rows[0]  # {"patient", "phase", "structure": "LV", "dice", "hd", ..., "volume_ml_ref"}
```
"""

import numpy as np

from inside_keras.data.acdc.reader import STRUCTURES
from inside_keras.evaluation.masks import dice, surface_metrics

#: The structures in the order of the rows (the challenge table's order).
TABLE_STRUCTURES = ("LV", "RV", "MYO")
#: The overlap and distance metrics of a row (distances in mm).
METRICS = ("dice", "hd", "hd95", "assd")
#: The columns of a row (`scores.csv`).
SCORE_FIELDS = ("patient", "phase", "structure", *METRICS, "volume_ml_pred", "volume_ml_ref")


def score_volume(patient, phase, prediction, reference, spacing):
    """Score one predicted label volume against its reference, per structure.

    Args:
        patient: the patient's name, e.g. `"patient001"`.
        phase: `"ED"` or `"ES"`.
        prediction: `(H, W, S)` predicted class ids (0 background, 1 RV, 2 MYO, 3 LV).
        reference: `(H, W, S)` reference class ids on the same grid.
        spacing: `(row, column, slice)` voxel size in mm.

    Returns:
        One dict of `SCORE_FIELDS` per structure of `TABLE_STRUCTURES`: `dice`, `hd`
        (symmetric Hausdorff distance, mm), `hd95` (mm), `assd` (mm, the mean of both
        directions' surface distances pooled), `volume_ml_pred` and `volume_ml_ref` (voxel
        count times the voxel volume). Distances are 0 when the structure is absent from
        both volumes and `nan` when it is absent from one.

    Raises:
        ValueError: the two volumes differ in shape.
    """
    prediction, reference = np.asarray(prediction), np.asarray(reference)
    if prediction.shape != reference.shape:
        raise ValueError(
            f"prediction shape {prediction.shape} differs from reference shape {reference.shape}"
        )
    voxel_ml = float(np.prod(spacing)) / 1000.0
    rows = []
    for structure in TABLE_STRUCTURES:
        pred, ref = prediction == STRUCTURES[structure], reference == STRUCTURES[structure]
        rows.append(
            {
                "patient": patient,
                "phase": phase,
                "structure": structure,
                "dice": dice(pred, ref),
                **surface_metrics(pred, ref, spacing),
                "volume_ml_pred": int(pred.sum()) * voxel_ml,
                "volume_ml_ref": int(ref.sum()) * voxel_ml,
            }
        )
    return rows
