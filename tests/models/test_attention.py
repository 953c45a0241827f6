"""attention_model: maps by level, shapes, and the layers' own values."""

import keras
import numpy as np
import pytest

from inside_keras.models import attention_model, encoder_decoder, unet


def _inputs(rng, batch=2):
    return {
        "image": rng.standard_normal((batch, 16, 16, 1)).astype("float32"),
        "condition": np.eye(4, dtype="float32")[:batch],
    }


def test_maps_by_level_match_layer_attention(rng):
    placement = {"enc0": "inside", "enc1": "film", "bottleneck": "guide_me", "dec0": "inside"}
    model = unet((16, 16, 1), 1, 4, depth=2, base_filters=4, placement=placement)
    inputs = _inputs(rng)
    maps = attention_model(model).predict(inputs, verbose=0)
    assert sorted(maps) == ["bottleneck", "dec0", "enc0"]
    shapes = {level: maps[level].shape for level in maps}
    assert shapes == {"enc0": (2, 16, 16, 4), "bottleneck": (2, 4, 4, 1), "dec0": (2, 16, 16, 4)}

    # The same values as each layer's own attention, computed from that layer's inputs.
    layers = {"bottleneck": "cond_bottleneck_guide_me", "dec0": "cond_dec0_inside"}
    features = keras.Model(
        model.input, {level: model.get_layer(name).input[0] for level, name in layers.items()}
    ).predict(inputs, verbose=0)
    for level, name in layers.items():
        layer = model.get_layer(name)
        x, z = keras.Input(features[level].shape[1:]), keras.Input((4,))
        _, attention = layer([x, z], return_attention=True)
        expected = keras.Model([x, z], attention).predict(
            [features[level], inputs["condition"]], verbose=0
        )
        np.testing.assert_allclose(maps[level], expected, rtol=1e-5, atol=1e-6)


def test_shared_attention_has_one_channel(rng):
    model = encoder_decoder((32, 32, 3), 4, "inside", {"shared_attention": True})
    inputs = {"image": rng.random((2, 32, 32, 3)).astype("float32"), "condition": np.eye(4)[:2]}
    maps = attention_model(model).predict(inputs, verbose=0)
    assert maps["bottleneck"].shape == (2, 8, 8, 1)


def test_model_without_attention_raises():
    model = unet((16, 16, 1), 1, 4, depth=2, base_filters=4, conditioning="film")
    with pytest.raises(ValueError, match="no conditioning layer with spatial attention"):
        attention_model(model)
