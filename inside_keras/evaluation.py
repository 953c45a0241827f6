"""Evaluating a trained model on one split of a prepared dataset.

Dice is computed per image on thresholded (binary) or arg-max (multi-class)
predictions with `inside_keras.volume_metrics.dice`, then averaged: the per-image
mean the field reports. For ACDC, `inside_keras.data.acdc_evaluation` adds the
challenge's volume-level Dice and HD95 at the original spacing.
"""

import numpy as np

from inside_keras.volume_metrics import dice

#: Samples per predict call: bounded memory on large test splits.
PREDICT_BATCH = 32


def predict_arrays(model, arrays, batch_size=PREDICT_BATCH):
    """Model outputs for the prepared samples `arrays` (dict with `x`, `z`)."""
    return model.predict(
        {"image": arrays["x"], "condition": arrays["z"]}, batch_size=batch_size, verbose=0
    )


def to_labels(probabilities):
    """Binary masks `(N, H, W)` from sigmoid outputs, or class ids from softmax outputs."""
    if probabilities.shape[-1] == 1:
        return (probabilities[..., 0] > 0.5).astype(np.uint8)
    return np.argmax(probabilities, axis=-1).astype(np.uint8)


def truth_labels(arrays):
    """Ground truth of prepared samples as `(N, H, W)` uint8 labels."""
    y = arrays["y"]
    return (y[..., 0] > 0.5).astype(np.uint8) if y.dtype == np.float32 else y


def dice_scores(labels, truths, num_classes):
    """Per-image Dice, `{"dice": mean over foreground classes, "dice_<c>": per class}`.

    Args:
        labels: `(N, H, W)` predicted labels.
        truths: `(N, H, W)` true labels.
        num_classes: 1 for binary tasks, else the number of classes (0 = background).

    Returns:
        Dict of float means and `"per_image"`, the `(N,)` mean foreground Dice.
    """
    classes = [1] if num_classes == 1 else list(range(1, num_classes))
    per_class = np.array(
        [[dice(p == c, t == c) for c in classes] for p, t in zip(labels, truths, strict=True)]
    ).reshape(len(labels), len(classes))
    scores = {"dice": float(per_class.mean()) if len(labels) else float("nan")}
    if num_classes > 1:
        scores.update({f"dice_{c}": float(per_class[:, i].mean()) for i, c in enumerate(classes)})
    scores["per_image"] = per_class.mean(axis=1)
    return scores
