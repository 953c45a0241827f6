"""The CLEVR-Seg scores: the per-image test Dice of binary predictions, and the
authors' soft Dice of the probabilities beside it."""

import numpy as np

from inside_keras.evaluation.masks import dice_scores
from inside_keras.evaluation.predict import to_labels, truth_labels
from inside_keras.evaluation.soft_dice import epsilon_dice_per_image


def scores(probabilities, arrays):
    """Mean ± std over images of two per-image Dice of sigmoid outputs.

    Args:
        probabilities: `(N, H, W, 1)` sigmoid outputs for the samples `arrays`.
        arrays: prepared CLEVR-Seg samples (with their targets `y`).

    Returns:
        `{"dice", "dice_std"}`: the Dice of the masks thresholded at 0.5 (empty and
        empty scores 1), and `{"dice_soft", "dice_soft_std"}`: the authors' reported
        Dice (`inside/metrics.py` of jacenkow/inside), `2 sum(y p) / (sum(y + p) + 1e-7)`
        of the unthresholded probabilities (empty and empty scores 0); population std.
    """
    dice = dice_scores(to_labels(probabilities), truth_labels(arrays), classes=(1,))
    soft = epsilon_dice_per_image(probabilities, arrays["y"], classes=(1,))
    return {
        "dice": dice["dice"],
        "dice_std": float(np.std(dice["per_image"])),
        "dice_soft": float(soft.mean()),
        "dice_soft_std": float(np.std(soft)),
    }
