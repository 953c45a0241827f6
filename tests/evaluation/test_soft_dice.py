"""The tensor Dice formulas: `soft_dice`, shared by the Dice loss and the Dice metric;
`epsilon_dice`, the authors' soft Dice, against their formula written out in NumPy."""

import keras
import numpy as np
import pytest

from inside_keras.evaluation.keras_metrics import DiceScore, SoftDiceScore
from inside_keras.evaluation.soft_dice import epsilon_dice, epsilon_dice_per_image, soft_dice
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


def _authors_dice(y_true, y_pred):
    """`inside/metrics.py` of jacenkow/inside, in float64 NumPy: per image
    `2 sum(y p) / (sum(y + p) + K.epsilon())` over axes (1, 2, 3), then the mean."""
    y_true, y_pred = np.float64(y_true), np.float64(y_pred)
    numerator = 2 * (y_true * y_pred).sum(axis=(1, 2, 3))
    denominator = (y_true + y_pred).sum(axis=(1, 2, 3))
    return numerator / (denominator + 1e-7)


def test_epsilon_dice_hand_made_cases():
    y = np.zeros((4, 2, 2, 1), "float32")
    p = np.zeros((4, 2, 2, 1), "float32")
    # image 0: empty target, empty prediction: 0, not 1
    y[1, 0, 0] = 1.0  # image 1: one object pixel predicted 0.25, nothing else: 0.4
    p[1, 0, 0] = 0.25
    y[2] = 1.0  # image 2: all object, predicted 1 everywhere: 1 (up to epsilon)
    p[2] = 1.0
    p[3] = 0.5  # image 3: empty target, prediction 0.5 everywhere: 0
    expected = [0.0, 0.5 / 1.25, 8 / (8 + 1e-7), 0.0]
    assert _numpy(epsilon_dice(y, p, (1, 2, 3))) == pytest.approx(expected, abs=1e-7)
    assert _authors_dice(y, p) == pytest.approx(expected, abs=1e-7)
    metric = SoftDiceScore()
    metric.update_state(y[:2], p[:2])
    metric.update_state(y[2:], p[2:])
    assert float(_numpy(metric.result())) == pytest.approx(np.mean(expected), abs=1e-6)
    assert epsilon_dice_per_image(p, y, (1,), batch_size=3) == pytest.approx(expected, abs=1e-7)


def test_soft_dice_metric_is_the_authors_mean_over_images(rng):
    y_true = (rng.random((7, 9, 8, 1)) > 0.7).astype("float32")
    y_true[2] = 0.0
    y_pred = rng.random((7, 9, 8, 1)).astype("float32")
    metric = SoftDiceScore()
    metric.update_state(y_true[:4], y_pred[:4])  # batches of unequal size
    metric.update_state(y_true[4:], y_pred[4:])
    expected = _authors_dice(y_true, y_pred).mean()
    assert float(_numpy(metric.result())) == pytest.approx(expected, rel=1e-5)


def test_soft_dice_of_several_classes_averages_the_foreground(rng):
    labels = rng.integers(0, 3, (5, 6, 6)).astype("uint8")
    logits = rng.standard_normal((5, 6, 6, 3))
    probs = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype("float32")
    one_hot = np.eye(3)[labels]
    per_class = np.stack(
        [_authors_dice(one_hot[..., c : c + 1], probs[..., c : c + 1]) for c in range(3)], -1
    )
    metric = SoftDiceScore(3)
    metric.update_state(labels, probs)
    assert float(_numpy(metric.result())) == pytest.approx(per_class[:, 1:].mean(), rel=1e-5)
    assert epsilon_dice_per_image(probs, labels, (1, 2)) == pytest.approx(
        per_class[:, 1:].mean(axis=1), rel=1e-5
    )
