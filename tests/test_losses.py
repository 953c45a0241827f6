"""Segmentation losses against NumPy and Keras's own losses."""

import keras
import numpy as np
import pytest

from inside_keras.losses import (
    LOSSES,
    DiceCrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    get_loss,
)


def _value(loss, y_true, y_pred):
    return float(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def _binary(rng, shape=(3, 6, 5, 1)):
    y_true = (rng.random(shape) > 0.6).astype("float32")
    y_pred = rng.uniform(0.01, 0.99, shape).astype("float32")
    return y_true, y_pred


def _multiclass(rng, shape=(3, 6, 5), classes=4):
    labels = rng.integers(0, classes, shape).astype("uint8")
    logits = rng.standard_normal((*shape, classes))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return labels, probs.astype("float32"), np.eye(classes, dtype="float32")[labels]


def _numpy_dice_loss(one_hot, probs, smooth):
    axes = tuple(range(1, one_hot.ndim - 1))
    inter = (one_hot * probs).sum(axes)
    total = one_hot.sum(axes) + probs.sum(axes)
    return np.mean(1 - ((2 * inter + smooth) / (total + smooth)).mean(-1))


@pytest.mark.parametrize("shape", [(3, 6, 5, 1), (2, 3, 4, 5, 1)])
def test_binary_dice_matches_numpy(rng, shape):
    y_true, y_pred = _binary(rng, shape)
    expected = _numpy_dice_loss(y_true.astype(float), y_pred.astype(float), 1.0)
    assert _value(DiceLoss(), y_true, y_pred) == pytest.approx(expected, rel=1e-5)


def test_dice_without_smoothing_is_keras_dice_per_image(rng):
    y_true, y_pred = _binary(rng)
    keras_dice = keras.losses.Dice(axis=(1, 2, 3))
    assert _value(DiceLoss(smooth=0.0), y_true, y_pred) == pytest.approx(
        _value(keras_dice, y_true, y_pred), rel=1e-5
    )


def test_dice_empty_target_and_prediction_is_zero():
    zeros = np.zeros((2, 4, 4, 1), "float32")
    assert _value(DiceLoss(), zeros, zeros) == pytest.approx(0.0)
    assert _value(DiceLoss(), zeros + 1, zeros + 1) == pytest.approx(0.0)


def test_multiclass_target_forms_agree(rng):
    labels, probs, one_hot = _multiclass(rng)
    expected = _numpy_dice_loss(one_hot.astype(float), probs.astype(float), 1.0)
    for y_true in (labels, labels[..., None], one_hot):
        assert _value(DiceLoss(), y_true, probs) == pytest.approx(expected, rel=1e-5)


def test_focal_uses_keras_focal(rng):
    y_true, y_pred = _binary(rng)
    assert _value(FocalLoss(), y_true, y_pred) == pytest.approx(
        _value(keras.losses.BinaryFocalCrossentropy(), y_true, y_pred), rel=1e-5
    )
    labels, probs, one_hot = _multiclass(rng)
    expected = _value(keras.losses.CategoricalFocalCrossentropy(), one_hot, probs)
    assert _value(FocalLoss(), labels, probs) == pytest.approx(expected, rel=1e-5)


def test_dice_cross_entropy_is_the_sum(rng):
    y_true, y_pred = _binary(rng)
    expected = _value(keras.losses.BinaryCrossentropy(), y_true, y_pred) + _value(
        DiceLoss(), y_true, y_pred
    )
    assert _value(get_loss("bce_dice"), y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    labels, probs, _ = _multiclass(rng)
    expected = _value(keras.losses.SparseCategoricalCrossentropy(), labels, probs) + _value(
        DiceLoss(), labels, probs
    )
    assert _value(get_loss("ce_dice"), labels, probs) == pytest.approx(expected, rel=1e-5)
    weighted = DiceCrossEntropyLoss(ce_weight=0.0, dice_weight=2.0)
    assert _value(weighted, labels, probs) == pytest.approx(
        2 * _value(DiceLoss(), labels, probs), rel=1e-5
    )


def test_get_loss_by_name():
    assert sorted(LOSSES) == ["bce_dice", "ce_dice", "dice", "focal"]
    for name, cls in LOSSES.items():
        loss = get_loss(name)
        assert isinstance(loss, cls) and loss.name == name
    assert get_loss("focal", gamma=1.0).gamma == 1.0


def test_unknown_loss_lists_names():
    with pytest.raises(ValueError, match="'tversky'.*dice, focal, bce_dice, ce_dice"):
        get_loss("tversky")


def test_invalid_argument():
    with pytest.raises(ValueError, match="`smooth` must be a number >= 0, got -1"):
        DiceLoss(smooth=-1)


@pytest.mark.parametrize("name", list(LOSSES))
def test_serialisation_round_trip(rng, name):
    loss = get_loss(name)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == loss.get_config()
    y_true, y_pred = _binary(rng)
    assert _value(restored, y_true, y_pred) == pytest.approx(_value(loss, y_true, y_pred))
