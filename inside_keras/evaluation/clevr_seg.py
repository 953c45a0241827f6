"""The CLEVR-Seg score: the per-image test Dice, as the paper reports it."""

import numpy as np

from inside_keras.evaluation.masks import dice_scores
from inside_keras.evaluation.predict import truth_labels


def scores(labels, arrays):
    """Mean ± std over images of the per-image Dice of binary predictions.

    Args:
        labels: `(N, H, W)` predicted {0, 1} masks of the samples `arrays`.
        arrays: prepared CLEVR-Seg samples (with their targets `y`).

    Returns:
        `{"dice": mean, "dice_std": population std}` over the N images.
    """
    dice = dice_scores(labels, truth_labels(arrays), classes=(1,))
    return {"dice": dice["dice"], "dice_std": float(np.std(dice["per_image"]))}
