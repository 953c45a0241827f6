"""Overlap and surface-distance metrics on binary NumPy masks (2-D or 3-D).

These are the evaluation metrics of segmentation challenges such as ACDC, computed on
whole volumes at their physical spacing (the Keras training metric lives elsewhere).

Conventions for empty masks (a structure absent from the prediction, the ground
truth, or both):

| prediction | truth  | `dice` | `hd95`  |
|------------|--------|--------|---------|
| empty      | empty  | 1.0    | 0.0     |
| empty      | filled | 0.0    | `nan`   |
| filled     | empty  | 0.0    | `nan`   |

A `nan` HD95 is undefined, not infinite: summaries leave it out of means and count it
separately.
"""

import numpy as np
from scipy import ndimage


def _binary(mask, name):
    mask = np.asarray(mask)
    if mask.ndim not in (2, 3):
        raise ValueError(f"`{name}` must be a 2-D or 3-D mask, got shape {mask.shape}")
    return mask.astype(bool)


def _pair(pred, truth):
    pred, truth = _binary(pred, "pred"), _binary(truth, "truth")
    if pred.shape != truth.shape:
        raise ValueError(f"`pred` shape {pred.shape} differs from `truth` shape {truth.shape}")
    return pred, truth


def dice(pred, truth):
    """Dice coefficient `2 |P ∩ T| / (|P| + |T|)` of two binary masks.

    Args:
        pred: predicted mask, 2-D or 3-D, any dtype (non-zero is foreground).
        truth: ground-truth mask of the same shape.

    Returns:
        A float in [0, 1]: 1.0 when both masks are empty, 0.0 when exactly one is.
    """
    pred, truth = _pair(pred, truth)
    total = pred.sum() + truth.sum()
    if total == 0:
        return 1.0
    return float(2.0 * np.logical_and(pred, truth).sum() / total)


def _surface(mask):
    """Border voxels of a mask: the mask minus its erosion (face connectivity)."""
    return mask ^ ndimage.binary_erosion(mask)


def hd95(pred, truth, spacing):
    """95th percentile Hausdorff distance between two binary masks, in millimetres.

    The surfaces are the masks' border voxels (a voxel of the mask with a face
    neighbour outside it, or on the array's edge). Each border voxel of one mask is
    given its distance to the nearest border voxel of the other, measured at the
    physical `spacing` (`scipy.ndimage.distance_transform_edt(..., sampling=spacing)`).
    The result is the 95th percentile (linear interpolation, as `numpy.percentile`)
    of both directions' distances pooled together, as MedPy's `hd95`.

    Args:
        pred: predicted mask, 2-D or 3-D.
        truth: ground-truth mask of the same shape.
        spacing: voxel size per axis in mm (a sequence as long as the masks' rank, or a
            number for isotropic voxels).

    Returns:
        A float in mm: 0.0 when both masks are empty, `nan` when exactly one is.
    """
    pred, truth = _pair(pred, truth)
    spacing = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (pred.ndim,))
    if not np.all(spacing > 0):
        raise ValueError(f"`spacing` must be positive per axis, got {spacing.tolist()}")
    has_pred, has_truth = pred.any(), truth.any()
    if not (has_pred or has_truth):
        return 0.0
    if not (has_pred and has_truth):
        return float("nan")
    pred_surface, truth_surface = _surface(pred), _surface(truth)
    to_truth = ndimage.distance_transform_edt(~truth_surface, sampling=spacing)
    to_pred = ndimage.distance_transform_edt(~pred_surface, sampling=spacing)
    distances = np.concatenate([to_truth[pred_surface], to_pred[truth_surface]])
    return float(np.percentile(distances, 95))
