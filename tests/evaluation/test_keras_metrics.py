"""DiceScore against a NumPy per-image Dice, its conventions, and use in compile."""

import keras
import numpy as np
import pytest

from inside_keras.evaluation.keras_metrics import DiceScore, SoftDiceScore, dice_metrics


def _numpy_dice(truth, pred):
    """Per-image Dice of boolean masks `(N, ...)`: 1 if both empty, 0 if one is."""
    axes = tuple(range(1, truth.ndim))
    inter = (truth & pred).sum(axes)
    total = truth.sum(axes) + pred.sum(axes)
    return np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)


def _result(metric):
    return float(keras.ops.convert_to_numpy(metric.result()))


@pytest.mark.parametrize("shape", [(4, 7, 6, 1), (3, 4, 5, 6, 1)])
def test_binary_is_mean_of_per_image_dice_over_batches(rng, shape):
    truth = rng.random(shape) > 0.5
    probs = rng.random(shape).astype("float32")
    metric = DiceScore()
    metric.update_state(truth[:2].astype("float32"), probs[:2])
    metric.update_state(truth[2:].astype("float32"), probs[2:])
    expected = _numpy_dice(truth, probs >= 0.5).mean()
    assert _result(metric) == pytest.approx(expected, rel=1e-6)


def test_empty_mask_conventions():
    empty = np.zeros((1, 4, 4, 1), "float32")
    full = np.ones((1, 4, 4, 1), "float32")
    both_empty, one_empty = DiceScore(), DiceScore()
    both_empty.update_state(empty, empty + 0.1)
    one_empty.update_state(empty, full)
    assert _result(both_empty) == 1.0
    assert _result(one_empty) == 0.0
    one_empty.update_state(full, full)
    assert _result(one_empty) == 0.5


def test_multiclass_per_class_and_mean(rng):
    classes = 4
    labels = rng.integers(0, classes, (5, 6, 6)).astype("uint8")
    labels[0][labels[0] == 3] = 1  # class 3 absent from image 0
    logits = rng.standard_normal((5, 6, 6, classes)).astype("float32")
    logits[0, ..., 3] = -10.0  # and never predicted there: Dice 1
    predicted = logits.argmax(-1)
    per_class = np.array([_numpy_dice(labels == c, predicted == c).mean() for c in range(classes)])
    for y_true in (labels, labels[..., None]):
        mean = DiceScore(classes)
        mean.update_state(y_true, logits)
        assert _result(mean) == pytest.approx(per_class[1:].mean(), rel=1e-6)
        with_background = DiceScore(classes, include_background=True)
        with_background.update_state(y_true, logits)
        assert _result(with_background) == pytest.approx(per_class.mean(), rel=1e-6)
        for c in range(classes):
            single = DiceScore(classes, class_id=c)
            single.update_state(y_true, logits)
            assert _result(single) == pytest.approx(per_class[c], rel=1e-6)


def test_sample_weight_and_reset(rng):
    truth = (rng.random((3, 5, 5, 1)) > 0.5).astype("float32")
    probs = rng.random((3, 5, 5, 1)).astype("float32")
    per_image = _numpy_dice(truth > 0.5, probs >= 0.5)
    weights = np.array([1.0, 0.0, 3.0], "float32")
    metric = DiceScore()
    metric.update_state(truth, probs, sample_weight=weights)
    assert _result(metric) == pytest.approx((per_image * weights).sum() / 4, rel=1e-6)
    metric.reset_state()
    assert _result(metric) == 0.0


def test_names_config_and_errors():
    assert [m.name for m in dice_metrics(4)] == [
        "dice",
        "dice_1",
        "dice_2",
        "dice_3",
        "dice_soft",
    ]
    assert [m.name for m in dice_metrics(2, include_background=True)] == [
        "dice",
        "dice_0",
        "dice_1",
        "dice_soft",
    ]
    assert [m.name for m in dice_metrics(1)] == ["dice", "dice_soft"]
    for metric in (DiceScore(3, class_id=2, threshold=0.3), SoftDiceScore(3, class_id=1)):
        restored = type(metric).from_config(metric.get_config())
        assert restored.get_config() == metric.get_config()
    with pytest.raises(ValueError, match="`class_id` must be None or an int in \\[0, 2\\]"):
        DiceScore(3, class_id=3)
    with pytest.raises(ValueError, match="num_classes = 2 channels"):
        DiceScore(2).update_state(np.zeros((1, 4, 4)), np.zeros((1, 4, 4, 3)))


def test_usable_in_compile_and_evaluate(rng):
    image = keras.Input((8, 8, 2))
    model = keras.Model(image, keras.layers.Conv2D(3, 1, activation="softmax")(image))
    model.compile(loss="sparse_categorical_crossentropy", metrics=dice_metrics(3))
    x = rng.standard_normal((6, 8, 8, 2)).astype("float32")
    labels = rng.integers(0, 3, (6, 8, 8)).astype("uint8")
    logs = model.evaluate(x, labels, batch_size=4, return_dict=True, verbose=0)
    predicted = model.predict(x, verbose=0).argmax(-1)
    per_class = [_numpy_dice(labels == c, predicted == c).mean() for c in range(3)]
    assert logs["dice_1"] == pytest.approx(per_class[1], rel=1e-5)
    assert logs["dice_2"] == pytest.approx(per_class[2], rel=1e-5)
    assert logs["dice"] == pytest.approx(np.mean(per_class[1:]), rel=1e-5)
