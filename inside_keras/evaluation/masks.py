"""Overlap and surface-distance metrics on binary NumPy masks (2-D or 3-D), and the
per-image Dice of label maps built on the same Dice.

These are the metrics of segmentation challenges such as ACDC, computed at the
masks' physical spacing. The Keras Dice metric and the Dice loss share another
formula, on tensors (`inside_keras.evaluation.soft_dice`).

Surface distances follow MedPy (`medpy.metric.binary`): a mask's surface is its
border voxels (a voxel of the mask with a face neighbour outside it, or on the
array's edge); each border voxel of one mask is given its distance to the nearest
border voxel of the other, measured at the physical `spacing`.

Conventions for empty masks (a structure absent from the prediction, the ground
truth, or both):

| prediction | truth  | `dice` | `hausdorff`, `hd95`, `assd`, `surface_metrics` |
|------------|--------|--------|------------------------------------------------|
| empty      | empty  | 1.0    | 0.0                                            |
| empty      | filled | 0.0    | `nan`                                          |
| filled     | empty  | 0.0    | `nan`                                          |

A `nan` distance is undefined, not infinite: summaries leave it out of means and
count it separately.
"""

import numpy as np


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


def dice_scores(labels, truths, classes):
    """Per-image Dice of label maps for each class in `classes`, and their means.

    Args:
        labels: `(N, *spatial)` predicted labels (class ids, or {0, 1} masks).
        truths: `(N, *spatial)` true labels.
        classes: the class ids scored, e.g. `(1,)` for a binary task, `(1, 2, 3)` for
            the foreground of a 4-class task.

    Returns:
        A dict: `"dice"`, the mean over images of each image's mean Dice over
        `classes` (`nan` without images); `"dice_<c>"`, the mean Dice of class `c`
        when `classes` holds more than one; `"per_image"`, the `(N,)` mean Dice over
        `classes` of each image.
    """
    per_class = np.array(
        [[dice(p == c, t == c) for c in classes] for p, t in zip(labels, truths, strict=True)]
    ).reshape(len(labels), len(classes))
    scores = {"dice": float(per_class.mean()) if len(labels) else float("nan")}
    if len(classes) > 1:
        scores.update({f"dice_{c}": float(per_class[:, i].mean()) for i, c in enumerate(classes)})
    scores["per_image"] = per_class.mean(axis=1)
    return scores


def surface_distances(pred, truth, spacing):
    """Distances in mm from each border voxel of one mask to the other mask's border.

    Args:
        pred: predicted mask, 2-D or 3-D.
        truth: ground-truth mask of the same shape.
        spacing: voxel size per axis in mm (a sequence as long as the masks' rank, or
            a number for isotropic voxels).

    Returns:
        `(pred_to_truth, truth_to_pred)`, two 1-D float arrays (one value per border
        voxel of `pred`, of `truth`); None when either mask is empty.

    Both masks are first cut to the bounding box of their union. Outside it neither
    mask has a voxel, and the erosion counts what lies beyond the array as outside, so
    the borders and distances stay the same while the distance transforms cover the
    structures, not the whole image.
    """
    from scipy import ndimage

    pred, truth = _pair(pred, truth)
    spacing = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (pred.ndim,))
    if not np.all(spacing > 0):
        raise ValueError(f"`spacing` must be positive per axis, got {spacing.tolist()}")
    if not (pred.any() and truth.any()):
        return None
    (box,) = ndimage.find_objects((pred | truth).astype(np.uint8))
    pred, truth = pred[box], truth[box]
    pred_surface = pred ^ ndimage.binary_erosion(pred)
    truth_surface = truth ^ ndimage.binary_erosion(truth)
    to_truth = ndimage.distance_transform_edt(~truth_surface, sampling=spacing)
    to_pred = ndimage.distance_transform_edt(~pred_surface, sampling=spacing)
    return to_truth[pred_surface], to_pred[truth_surface]


#: How each distance metric reduces the two directions' surface distances `(a, b)`.
_REDUCTIONS = {
    "hd": lambda a, b: max(a.max(), b.max()),
    "hd95": lambda a, b: np.percentile(np.concatenate([a, b]), 95),
    "assd": lambda a, b: np.concatenate([a, b]).mean(),
}


def surface_metrics(pred, truth, spacing):
    """Hausdorff distance, HD95 and ASSD in mm from one computation of the surface
    distances (see `hausdorff`, `hd95` and `assd` for each definition).

    Args:
        pred, truth, spacing: as for `surface_distances`.

    Returns:
        A dict `{"hd", "hd95", "assd"}` of floats in mm: all 0.0 when both masks are
        empty, all `nan` when exactly one is.
    """
    distances = surface_distances(pred, truth, spacing)
    if distances is None:
        both_empty = not (np.any(pred) or np.any(truth))
        return dict.fromkeys(_REDUCTIONS, 0.0 if both_empty else float("nan"))
    return {name: float(reduce(*distances)) for name, reduce in _REDUCTIONS.items()}


def hausdorff(pred, truth, spacing):
    """Hausdorff distance (the largest surface distance, both directions) in mm, as
    MedPy's `hd`.

    Args:
        pred, truth, spacing: as for `surface_distances`.

    Returns:
        A float in mm: 0.0 when both masks are empty, `nan` when exactly one is.
    """
    return surface_metrics(pred, truth, spacing)["hd"]


def hd95(pred, truth, spacing):
    """95th percentile Hausdorff distance in mm, as MedPy's `hd95`.

    The 95th percentile (linear interpolation, as `numpy.percentile`) of both
    directions' surface distances pooled together.

    Args:
        pred, truth, spacing: as for `surface_distances`.

    Returns:
        A float in mm: 0.0 when both masks are empty, `nan` when exactly one is.
    """
    return surface_metrics(pred, truth, spacing)["hd95"]


def assd(pred, truth, spacing):
    """Average symmetric surface distance in mm: the mean of both directions' surface
    distances pooled together, as MedPy 0.5's `assd`.

    Every border voxel of either mask counts once, so the direction with more border
    voxels weighs more. MedPy 0.4 and some challenge scripts average the two directed
    means instead (`(mean(a) + mean(b)) / 2`); the two agree when both surfaces have
    as many border voxels, or the same mean distance.

    Args:
        pred, truth, spacing: as for `surface_distances`.

    Returns:
        A float in mm: 0.0 when both masks are empty, `nan` when exactly one is.
    """
    return surface_metrics(pred, truth, spacing)["assd"]
