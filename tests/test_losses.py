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
    assert sorted(LOSSES) == ["bce_dice", "ce_dice", "dice", "focal", "focal_sum"]
    for name, cls in LOSSES.items():
        loss = get_loss(name)
        assert isinstance(loss, cls) and loss.name == name
    assert get_loss("focal", gamma=1.0).gamma == 1.0


def test_unknown_loss_lists_names():
    with pytest.raises(ValueError, match="'tversky'.*dice, focal, focal_sum, bce_dice, ce_dice"):
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


def _tfa_sigmoid_focal_sum(y_true, y_pred, alpha=0.25, gamma=2.0):
    """TF-Addons 0.6's `sigmoid_focal_crossentropy` (from_logits False) on TF 2.0's
    `K.binary_crossentropy`, in NumPy, summed over every axis (in float64): the value
    whose gradient the authors' GradientTape loop takes. Element-wise in float32, as
    TensorFlow ran it: at a saturated prediction `1 - clip(p)` is float32's 1.19e-7."""
    y_true, y_pred = np.float32(y_true), np.float32(y_pred)
    eps = np.float32(1e-7)
    output = np.clip(y_pred, eps, 1 - eps)
    ce = -(y_true * np.log(output + eps) + (1 - y_true) * np.log(1 - output + eps))
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    alpha_factor = y_true * alpha + (1 - y_true) * (1 - alpha)
    modulating_factor = (1 - p_t) ** gamma
    return np.sum(np.float64(alpha_factor * modulating_factor * ce))


def _full_spec_loss():
    from inside_keras.reproduce.spec import built_in_spec, load_reproduction

    return load_reproduction(built_in_spec("clevr-seg", quick=False)).base_config().training.loss


@pytest.mark.parametrize("shape", [(4, 7, 6, 1), (2, 3, 4, 5, 1)])
def test_focal_sum_is_tfa_focal_summed(rng, shape):
    y_true, y_pred = _binary(rng, shape)
    y_pred = rng.random(shape).astype("float32")  # the whole of (0, 1), saturated values too
    y_pred.flat[:3] = [0.0, 1.0, 1e-9]
    y_true[0] = 0.0  # an empty mask
    name = _full_spec_loss()
    assert name == "focal_sum"
    expected = _tfa_sigmoid_focal_sum(y_true, y_pred)
    assert _value(get_loss(name), y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    empty = np.zeros_like(y_true)
    assert _value(get_loss(name), empty, y_pred) == pytest.approx(
        _tfa_sigmoid_focal_sum(empty, y_pred), rel=1e-5
    )


def test_focal_sum_weights_foreground_by_alpha():
    ones, half = np.ones((1, 2, 2, 1), "float32"), np.full((1, 2, 2, 1), 0.5, "float32")
    per_pixel = 0.5**2 * -np.log(0.5 + 1e-7)
    loss = get_loss("focal_sum")
    assert _value(loss, ones, half) == pytest.approx(4 * 0.25 * per_pixel, rel=1e-6)
    assert _value(loss, ones * 0, half) == pytest.approx(4 * 0.75 * per_pixel, rel=1e-6)


def test_focal_sum_of_classes_sums_channels(rng):
    labels, probs, one_hot = _multiclass(rng)
    expected = _tfa_sigmoid_focal_sum(one_hot, probs)
    assert _value(get_loss("focal_sum"), labels, probs) == pytest.approx(expected, rel=1e-5)


def test_focal_sum_pixel_metric_is_the_mean_per_pixel(rng):
    y_true, y_pred = _binary(rng, (6, 5, 4, 1))
    metric = get_loss("focal_sum").pixel_metric()
    metric.update_state(y_true[:4], y_pred[:4])
    metric.update_state(y_true[4:], y_pred[4:])
    expected = _tfa_sigmoid_focal_sum(y_true, y_pred) / y_true.size
    assert metric.name == "pixel_loss"
    assert float(keras.ops.convert_to_numpy(metric.result())) == pytest.approx(expected, rel=1e-5)


def test_the_config_knows_which_losses_report_a_pixel_loss():
    from inside_keras.config import PIXEL_LOSSES

    assert tuple(n for n, c in LOSSES.items() if hasattr(c, "pixel_metric")) == PIXEL_LOSSES
