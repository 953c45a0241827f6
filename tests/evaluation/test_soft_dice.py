"""The tensor Dice formula, and the Dice loss and the Dice metric sharing it."""

import keras
import numpy as np
import pytest

from inside_keras.evaluation.keras_metrics import DiceScore
from inside_keras.evaluation.soft_dice import soft_dice
from inside_keras.losses import DiceLoss


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def test_formula_over_given_axes(rng):
    y_true = (rng.random((3, 5, 4, 2)) > 0.5).astype("float32")
    y_pred = rng.random((3, 5, 4, 2)).astype("float32")
    inter, total = (y_true * y_pred).sum((1, 2)), y_true.sum((1, 2)) + y_pred.sum((1, 2))
    expected = (2 * inter + 0.5) / (total + 0.5)
    assert _numpy(soft_dice(y_true, y_pred, (1, 2), smooth=0.5)) == pytest.approx(expected)
    pooled = 2 * (y_true * y_pred).sum() / (y_true.sum() + y_pred.sum())
    assert float(_numpy(soft_dice(y_true, y_pred, None))) == pytest.approx(pooled)


def test_empty_target_and_prediction_score_one():
    empty = np.zeros((2, 3, 3, 1), "float32")
    assert _numpy(soft_dice(empty, empty, (1, 2))).tolist() == [[1.0], [1.0]]
    assert _numpy(soft_dice(empty, empty + 1, (1, 2))).tolist() == [[0.0], [0.0]]


@pytest.mark.parametrize("classes", [1, 3])
def test_loss_and_metric_agree_on_hard_predictions(rng, classes):
    if classes == 1:
        y_true = (rng.random((4, 6, 6, 1)) > 0.5).astype("float32")
        hard = (rng.random((4, 6, 6, 1)) > 0.5).astype("float32")
        y_true[0], hard[0] = 0.0, 0.0  # both empty: Dice 1 for both
    else:
        y_true = rng.integers(0, classes, (4, 6, 6)).astype("uint8")
        hard = np.eye(classes, dtype="float32")[rng.integers(0, classes, (4, 6, 6))]
    metric = DiceScore(classes, include_background=True)
    metric.update_state(y_true, hard)
    dice = float(_numpy(metric.result()))
    loss = float(_numpy(DiceLoss(smooth=0.0)(y_true, hard)))
    assert 0.0 < dice < 1.0
    assert 1.0 - loss == pytest.approx(dice, rel=1e-6)
