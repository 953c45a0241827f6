"""The task from the model's output shape; labels; attention maps from `has_attention`."""

import keras
import numpy as np
import pytest

from inside_keras.errors import InputError
from inside_keras.evaluation.predict import (
    Task,
    attention_maps,
    check_inputs,
    task_of,
    to_labels,
    truth_labels,
)
from inside_keras.models import unet


def _unet(num_classes, conditioning="inside"):
    return unet((8, 8, 1), num_classes, 2, depth=1, base_filters=2, conditioning=conditioning)


def _arrays(n=3):
    rng = np.random.default_rng(0)
    return {
        "x": rng.random((n, 8, 8, 1), dtype=np.float32),
        "z": np.eye(2, dtype=np.float32)[rng.integers(0, 2, n)],
    }


@pytest.mark.parametrize(
    ("num_classes", "binary", "foreground"), [(1, True, (1,)), (4, False, (1, 2, 3))]
)
def test_task_from_the_output_shape(num_classes, binary, foreground):
    task = task_of(_unet(num_classes))
    assert task == Task(num_classes)
    assert task.binary is binary and task.foreground == foreground


def test_samples_that_do_not_fit_the_model_inputs():
    model, arrays = _unet(1), _arrays()
    check_inputs(model, arrays, "data.npz")
    wide = dict(arrays, z=np.zeros((3, 3), np.float32))
    with pytest.raises(InputError, match=r"data.npz: `z` samples have shape \(3,\); the model's"):
        check_inputs(model, wide, "data.npz")
    # A network that pads takes other sizes (a larger one by windows), not other channels.
    check_inputs(model, dict(arrays, x=np.zeros((3, 16, 13, 1), np.float32)), "data.npz")
    check_inputs(model, dict(arrays, x=[np.zeros((9, 7, 1)), np.zeros((5, 8, 1))]), "data.npz")
    channels = dict(arrays, x=np.zeros((3, 8, 8, 2), np.float32))
    with pytest.raises(InputError, match=r"`x` samples have shape \(8, 8, 2\)"):
        check_inputs(model, channels, "data.npz")


def test_samples_of_many_sizes_are_predicted_whole_or_by_windows():
    from inside_keras.evaluation.predict import predict_samples

    model = unet((None, None, 1), 3, 2, depth=2, base_filters=2)
    rng = np.random.default_rng(1)
    x = [rng.random(shape + (1,), dtype=np.float32) for shape in [(9, 7), (30, 17), (9, 7)]]
    z = np.eye(2, dtype=np.float32)[[0, 1, 1]]
    outputs = predict_samples(model, {"x": x, "z": z}, window=(12, 12))
    assert [o.shape for o in outputs] == [(9, 7, 3), (30, 17, 3), (9, 7, 3)]
    np.testing.assert_allclose(outputs[1].sum(axis=-1), 1.0, atol=1e-5)  # blended softmax
    stacked = predict_samples(model, {"x": np.stack([x[0], x[2]]), "z": z[[0, 2]]})
    np.testing.assert_allclose(stacked, np.stack([outputs[0], outputs[2]]), atol=1e-6)


def test_task_of_a_model_with_two_outputs():
    image = keras.Input((8, 8, 1))
    model = keras.Model(image, [image, image], name="two")
    with pytest.raises(InputError, match="model 'two': expected one output"):
        task_of(model)


def test_labels_the_model_cannot_predict():
    Task(4).check_labels(np.array([[0, 3]]), "data.npz")
    Task(1).check_labels(np.array([[0, 1]]), "data.npz")
    with pytest.raises(
        InputError, match=r"data.npz: .*ids up to 3; the model is 3 classes, so ids 0..2"
    ):
        Task(3).check_labels(np.array([[0, 3]]), "data.npz")
    with pytest.raises(InputError, match=r"ids up to 2; the model is binary"):
        Task(1).check_labels(np.array([[0, 2]]), "data.npz")


def test_labels_from_outputs_and_targets():
    sigmoid = np.array([[[[0.2], [0.7]]]], np.float32)
    assert to_labels(sigmoid).tolist() == [[[0, 1]]]
    softmax = np.array([[[[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]]]], np.float32)
    assert to_labels(softmax).tolist() == [[[2, 0]]]
    assert truth_labels({"y": np.array([[[[0.0], [1.0]]]], np.float32)}).tolist() == [[[0, 1]]]
    ids = np.array([[[0, 3]]], np.uint8)
    assert truth_labels({"y": ids}).tolist() == [[[0, 3]]]


@pytest.mark.parametrize(
    ("conditioning", "levels"),
    [("inside", ["bottleneck"]), ("guide_me", ["bottleneck"]), ("film", []), ("none", [])],
)
def test_attention_maps_of_layers_with_attention(conditioning, levels):
    maps = attention_maps(_unet(1, conditioning), _arrays())
    assert list(maps) == levels
    for attention in maps.values():
        assert attention.shape[0] == 3
