"""Sliding-window inference equals whole-case inference where the receptive field fits
the windows' margins, INSIDE included: each window places its Gaussians where the
whole-case network does."""

import keras
import numpy as np
import pytest

from inside_keras.errors import InputError
from inside_keras.evaluation.sliding_window import (
    check_roi,
    pooling_multiple,
    sliding_window_predict,
)
from inside_keras.models import encoder_decoder, unet


def _network(spatial, conditioning, **options):
    """A depth-1 U-Net (receptive field about 10 px) conditioned at every level, whose
    conditioning heads are moved off their initial values so that INSIDE's Gaussians lie
    off-centre and differ per condition."""
    keras.utils.set_random_seed(0)
    model = unet(
        (*(None for _ in spatial), 1),
        2,
        4,
        depth=1,
        base_filters=2,
        conditioning=conditioning,
        placement="all",
        conditioning_options=options,
    )
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if layer.name.startswith("cond_"):
            weights = layer.get_weights()
            layer.set_weights([w + rng.normal(0, 0.5, w.shape).astype("float32") for w in weights])
    return model


def _case(spatial, seed=2):
    rng = np.random.default_rng(seed)
    return rng.random((*spatial, 1)).astype("float32"), np.eye(4, dtype="float32")[3]


def _whole(model, image, condition):
    return model.predict({"image": image[None], "condition": condition[None]}, verbose=0)[0]


def _encoder_decoder(**options):
    """The paper's encoder-decoder with INSIDE (every path to the output goes through its
    attention), its heads moved off their initial values."""
    keras.utils.set_random_seed(0)
    model = encoder_decoder((None, None, 3), 4, "inside", conditioning_options=options)
    layer = model.get_layer("cond_bottleneck_inside")
    rng = np.random.default_rng(1)
    layer.set_weights(
        [w + rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()]
    )
    return model


@pytest.mark.parametrize(
    ("spatial", "conditioning", "options"),
    [
        ((41, 38, 37), "inside", {}),  # a volume: the paper's widths in pixels
        ((61, 50), "inside", {"sigma_relative": True, "sigma_scale": 0.5}),
        ((61, 50), "film", {}),
    ],
)
def test_windows_give_the_whole_case_prediction(spatial, conditioning, options):
    model = _network(spatial, conditioning, **options)
    image, condition = _case(spatial)
    whole = _whole(model, image, condition)
    windows = sliding_window_predict(model, image, condition, roi=24, overlap=0.75)
    assert windows.shape == whole.shape == (*spatial, 2)
    np.testing.assert_allclose(windows, whole, atol=1e-4)


@pytest.mark.parametrize("options", [{}, {"sigma_relative": True, "sigma_scale": 0.5}])
def test_inside_windows_place_their_gaussians_where_the_whole_case_does(options):
    model = _encoder_decoder(**options)
    image = np.random.default_rng(2).random((100, 90, 3)).astype("float32")
    condition = np.eye(4, dtype="float32")[3]
    whole = _whole(model, image, condition)
    windows = sliding_window_predict(model, image, condition, roi=48, overlap=0.75)
    np.testing.assert_allclose(windows, whole, atol=1e-4)
    # Control: a window predicted without its place in the case (as a plain sliding
    # window would) is another prediction, even away from the window's borders.
    region = (slice(24, 72), slice(24, 72))
    alone = _whole(model, image[region], condition)
    centre = (slice(16, 32), slice(16, 32))
    assert np.abs(alone[centre] - whole[region][centre]).max() > 1e-2


def test_a_network_of_one_size_takes_windows_of_that_size():
    keras.utils.set_random_seed(0)
    model = encoder_decoder((24, 24, 3), 4, "guide_me")
    image, condition = np.random.default_rng(0).random((40, 52, 3)).astype("float32"), np.eye(4)[0]
    prediction = sliding_window_predict(model, image, condition.astype("float32"), roi=24)
    assert prediction.shape == (40, 52, 1) and np.isfinite(prediction).all()
    assert pooling_multiple(model) == 4


def test_bad_windows_are_one_line_errors():
    with pytest.raises(InputError, match="positive multiples of 8"):
        check_roi(20, 8, 3)
    with pytest.raises(InputError, match="expected 1 or 3 sizes, got 2"):
        check_roi((16, 16), 8, 3)
    assert check_roi(16, 8, 2) == (16, 16)
    image, condition = (
        keras.Input((None, None, 1), name="image"),
        keras.Input((4,), name="condition"),
    )
    gain = keras.layers.Reshape((1, 1, 1))(keras.layers.Dense(1)(condition))
    unpadded = keras.Model(  # a network saved before the networks padded their input
        {"image": image, "condition": condition},
        keras.layers.Multiply()([keras.layers.Conv2D(1, 1)(image), gain]),
    )
    with pytest.raises(InputError, match="older inside-keras and takes whole cases only"):
        sliding_window_predict(unpadded, np.zeros((8, 8, 1)), np.zeros(4), roi=8)
