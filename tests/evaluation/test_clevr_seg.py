"""The CLEVR-Seg scores: mean ± std of the per-image Dice, thresholded and soft."""

import numpy as np
import pytest

from inside_keras.evaluation.clevr_seg import scores


def test_mean_and_std_of_per_image_dice():
    y = np.zeros((3, 2, 2, 1), np.float32)
    y[0, 0, :] = 1.0  # 2 pixels
    y[1, 0, 0] = 1.0  # 1 pixel; image 2 is empty
    p = np.zeros((3, 2, 2, 1), np.float32)
    p[0, 0, 0] = 0.9  # thresholded: Dice 2 / 3; soft: 2 * 0.9 / (2 + 0.9)
    p[0, 0, 1] = 0.25  # below the threshold; soft: adds 0.25 to both sums
    p[1, 1, 1] = 0.8  # thresholded: Dice 0; soft: 0 / (1 + 0.8)
    # image 2: empty target and prediction: thresholded 1, soft 0 (the authors' formula)
    result = scores(p, {"y": y})
    hard = [2 / 3, 0.0, 1.0]
    soft = [2 * (0.9 + 0.25) / (2 + 0.9 + 0.25 + 1e-7), 0.0, 0.0]
    assert result == pytest.approx(
        {
            "dice": np.mean(hard),
            "dice_std": np.std(hard),
            "dice_soft": np.mean(soft),
            "dice_soft_std": np.std(soft),
        }
    )
