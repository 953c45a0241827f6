"""Hand-built ACDC label volumes with scores worked out by hand.

One patient at 1.37 x 1.37 x 10 mm, shape (12, 12, 4); class ids 1 RV, 2 MYO, 3 LV.

ED:
- LV, shifted in-plane: the reference is a 4 x 4 x 2 block (rows 1-4, columns 1-4,
  slices 1-2), the prediction the same block one column further (columns 2-5). Two
  slices thick, every voxel is a border voxel. Prediction to reference: 24 voxels at 0,
  the 8 of column 5 at 1.37 mm; reference to prediction: the same, column 1.
- RV, shifted by one slice: the reference is 3 x 4 x 2 (rows 1-3, columns 7-10, slices
  0-1), the prediction slices 1-2. Both directions: 12 voxels at 0, 12 at 10 mm.
- MYO, eroded: the reference is a 5 x 5 x 3 block (rows 6-10, columns 1-5, slices 0-2),
  66 border voxels (all but the 3 x 3 core of slice 1); the prediction is that core,
  9 border voxels. Prediction to reference: 8 voxels one step in-plane from the
  reference's ring (1.37 mm), the centre two steps (2.74 mm; the slices above and below
  are 10 mm away). Reference to prediction: in slice 1 the ring, 12 edge voxels at
  1.37 mm and 4 corners at 1.37 sqrt(2); in slices 0 and 2 each, 9 voxels above or below
  the core at 10 mm, 12 edge voxels at sqrt(10^2 + 1.37^2) and 4 corners at
  sqrt(10^2 + 2 * 1.37^2).
ES:
- LV in the reference only, MYO in the prediction only, no RV in either.
"""

import math

import numpy as np

SPACING = (1.37, 1.37, 10.0)
SHAPE = (12, 12, 4)
VOXEL_ML = 1.37 * 1.37 * 10.0 / 1000.0
LV, MYO, RV = 3, 2, 1
NAN = float("nan")


def volumes():
    """`{phase: (prediction, reference)}` uint8 label volumes of the one patient."""
    ed_pred, ed_ref = np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.uint8)
    ed_ref[1:5, 1:5, 1:3] = LV
    ed_pred[1:5, 2:6, 1:3] = LV
    ed_ref[1:4, 7:11, 0:2] = RV
    ed_pred[1:4, 7:11, 1:3] = RV
    ed_ref[6:11, 1:6, 0:3] = MYO
    ed_pred[7:10, 2:5, 1] = MYO
    es_pred, es_ref = np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.uint8)
    es_ref[2:4, 2:4, 1:3] = LV  # 8 voxels
    es_pred[7:9, 2:4, 1] = MYO  # 4 voxels
    return {"ED": (ed_pred, ed_ref), "ES": (es_pred, es_ref)}


def _distances(values):
    """`hd`, `hd95`, `assd` of the pooled surface distances `values` (both directions)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    return {"hd": values.max(), "hd95": np.percentile(values, 95), "assd": values.mean()}


def expected_rows():
    """`{(phase, structure): row}`: the scores worked out in the module docstring."""
    step, corner = 1.37, 1.37 * math.sqrt(2)
    above_edge, above_corner = math.hypot(10, step), math.sqrt(100 + 2 * step**2)
    lv = [0.0] * 48 + [step] * 16
    rv = [0.0] * 24 + [10.0] * 24
    myo_pred = [step] * 8 + [2 * step]
    myo_ref = [step] * 12 + [corner] * 4 + 2 * ([10.0] * 9 + [above_edge] * 12 + [above_corner] * 4)
    rows = {
        ("ED", "LV"): {"dice": 2 * 24 / 64, **_distances(lv), "pred": 32, "ref": 32},
        ("ED", "RV"): {"dice": 2 * 12 / 48, **_distances(rv), "pred": 24, "ref": 24},
        ("ED", "MYO"): {"dice": 2 * 9 / (9 + 75), **_distances(myo_pred + myo_ref)}
        | {"pred": 9, "ref": 75},
        ("ES", "LV"): {"dice": 0.0, "hd": NAN, "hd95": NAN, "assd": NAN, "pred": 0, "ref": 8},
        ("ES", "RV"): {"dice": 1.0, "hd": 0.0, "hd95": 0.0, "assd": 0.0, "pred": 0, "ref": 0},
        ("ES", "MYO"): {"dice": 0.0, "hd": NAN, "hd95": NAN, "assd": NAN, "pred": 4, "ref": 0},
    }
    for row in rows.values():
        row["volume_ml_pred"] = row.pop("pred") * VOXEL_ML
        row["volume_ml_ref"] = row.pop("ref") * VOXEL_ML
    return rows
