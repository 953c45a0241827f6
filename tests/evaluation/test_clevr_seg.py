"""The CLEVR-Seg score: mean ± std of the per-image Dice."""

import numpy as np
import pytest

from inside_keras.evaluation.clevr_seg import scores


def test_mean_and_std_of_per_image_dice():
    y = np.zeros((3, 2, 2, 1), np.float32)
    y[0, 0, :] = 1.0  # 2 pixels
    y[1, 0, 0] = 1.0  # 1 pixel; image 2 is empty
    labels = np.zeros((3, 2, 2), np.uint8)
    labels[0, 0, 0] = 1  # Dice 2 / 3
    labels[1, 1, 1] = 1  # Dice 0; image 2 empty in both: Dice 1
    result = scores(labels, {"y": y})
    per_image = [2 / 3, 0.0, 1.0]
    assert result == pytest.approx({"dice": np.mean(per_image), "dice_std": np.std(per_image)})
