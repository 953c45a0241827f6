"""U-Net construction: placement counts, 2-D/3-D, norms, options, saving."""

import keras
import numpy as np
import pytest

from inside_keras.layers import INSIDE, FiLM, GuidingBlock
from inside_keras.layers.base import ConditioningLayer
from inside_keras.models import attention_model, conditioned_levels, unet
from inside_keras.models.blocks import group_count


def _conditioning_layers(model):
    return [layer for layer in model.layers if isinstance(layer, ConditioningLayer)]


def _small(**kwargs):
    """A small 2-D U-Net; tests share its shapes (on jax each new shape compiles)."""
    args = {"input_shape": (16, 16, 1), "num_classes": 1, "condition_dim": 4, "depth": 2}
    return unet(**{**args, "base_filters": 4, **kwargs})


def _predict(model, inputs):
    return model.predict(inputs, verbose=0)


def _inputs(rng, shape, k=4, batch=2):
    return {
        "image": rng.standard_normal((batch, *shape)).astype("float32"),
        "condition": np.eye(k, dtype="float32")[:batch],
    }


@pytest.mark.parametrize(
    "placement, count", [("none", 0), ("bottleneck", 1), ("encoder", 4), ("decoder", 4), ("all", 9)]
)
def test_depth4_conditioning_layer_counts(placement, count):
    model = unet((16, 16, 1), 1, 4, depth=4, base_filters=4, placement=placement)
    layers = _conditioning_layers(model)
    assert len(layers) == count
    assert all(isinstance(layer, INSIDE) for layer in layers)
    assert len(conditioned_levels(model)) == count


def test_unknown_level_raises_listing_bottleneck():
    with pytest.raises(ValueError, match="bottleneck"):
        unet((16, 16, 1), 1, 4, depth=4, placement=["enc7"])


def test_layer_names_carry_level_and_type():
    model = _small(placement={"enc0": "film", "bottleneck": "inside", "dec1": "guide_me"})
    names = [layer.name for layer in _conditioning_layers(model)]
    assert names == ["cond_enc0_film", "cond_bottleneck_inside", "cond_dec1_guide_me"]
    assert conditioned_levels(model) == {"enc0": "film", "bottleneck": "inside", "dec1": "guide_me"}
    assert isinstance(model.get_layer("cond_dec1_guide_me"), GuidingBlock)


def test_conditioned_feature_shapes_per_level():
    model = _small(placement="all")
    channels = {
        "enc0": (16, 4),
        "enc1": (8, 8),
        "bottleneck": (4, 16),
        "dec1": (8, 8),
        "dec0": (16, 4),
    }
    for level, (size, filters) in channels.items():
        output = model.get_layer(f"cond_{level}_inside").output[0]
        assert tuple(output.shape) == (None, size, size, filters)


def test_binary_output_is_sigmoid_and_multiclass_softmax(rng):
    out = _predict(_small(), _inputs(rng, (16, 16, 1)))
    assert out.shape == (2, 16, 16, 1) and out.min() >= 0 and out.max() <= 1
    out = _predict(_small(num_classes=4, conditioning="film"), _inputs(rng, (16, 16, 1)))
    assert out.shape == (2, 16, 16, 4)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)


def test_3d_unet(rng):
    model = unet((4, 8, 8, 1), 3, 2, depth=1, base_filters=2, placement="all", norm="instance")
    assert len(_conditioning_layers(model)) == 3
    out = _predict(model, _inputs(rng, (4, 8, 8, 1), k=2))
    assert out.shape == (2, 4, 8, 8, 3)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    attention = model.get_layer("cond_bottleneck_inside").output[1]
    assert tuple(attention.shape) == (None, 2, 4, 4, 4)


@pytest.mark.parametrize("norm", ["batch", "instance", "group", None])
def test_norms(rng, norm):
    model = _small(norm=norm, dropout=0.1, placement="all")
    assert _predict(model, _inputs(rng, (16, 16, 1))).shape == (2, 16, 16, 1)
    expected = {
        "batch": "BatchNormalization",
        "instance": "GroupNormalization",
        "group": "GroupNormalization",
        None: None,
    }[norm]
    names = {type(layer).__name__ for layer in model.layers}
    assert expected is None or expected in names
    assert model.get_layer("enc0_block1_conv").use_bias == (norm is None)
    if norm == "instance":
        assert model.get_layer("bottleneck_block1_norm").groups == 16  # one per channel
    if norm == "group":
        assert model.get_layer("enc0_block1_norm").groups == 4
        assert model.get_layer("bottleneck_block1_norm").groups == 8


def test_group_count_divides_channels():
    assert [group_count(c) for c in (1, 4, 10, 12, 16, 24, 7)] == [1, 4, 5, 6, 8, 8, 7]


def test_flat_options_reach_only_layers_that_accept_them():
    model = _small(
        placement={"enc0": "film", "bottleneck": "inside"},
        conditioning_options={"sigma_relative": True, "hidden_units": 3},
    )
    inside = model.get_layer("cond_bottleneck_inside")
    film = model.get_layer("cond_enc0_film")
    assert inside.sigma_relative and inside.hidden_units == 3
    assert isinstance(film, FiLM) and film.hidden_units == 3


def test_per_type_options():
    model = _small(
        placement={"enc0": "film", "bottleneck": "inside"},
        conditioning_options={"inside": {"sigma_scale": 0.25, "sigma_relative": True}},
    )
    assert model.get_layer("cond_bottleneck_inside").sigma_scale == 0.25
    assert model.get_layer("cond_enc0_film").hidden_units is None


def test_unknown_option_lists_accepted():
    with pytest.raises(ValueError, match="sigma_relative") as error:
        _small(conditioning_options={"sigma_relativ": True})
    assert "sigma_relativ'" in str(error.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (0, 16, 1)}, "None or positive ints"),
        ({"input_shape": (16, 16)}, "spatial axes"),
        ({"input_shape": (16, 16, None)}, "channel"),
        ({"num_classes": 0}, "num_classes"),
        ({"depth": 0}, "depth"),
        ({"base_filters": True}, "base_filters"),
        ({"norm": "layer"}, "norm"),
        ({"dropout": 1.0}, "dropout"),
        ({"condition_dim": 0}, "condition_dim"),
        ({"conditioning": "spade"}, "conditioning"),
    ],
)
def test_invalid_arguments(kwargs, match):
    args = {"input_shape": (16, 16, 1), "num_classes": 1, "condition_dim": 4, "depth": 2}
    with pytest.raises(ValueError, match=match):
        unet(**{**args, **kwargs})


def test_dynamic_spatial_size(rng):
    model = _small(input_shape=(None, None, 1))
    assert _predict(model, _inputs(rng, (8, 12, 1))).shape == (2, 8, 12, 1)


def test_save_and_load_round_trip(tmp_path, rng):
    model = _small(
        num_classes=2,
        placement={"enc1": "film", "bottleneck": "inside", "dec0": "guide_me"},
        conditioning_options={"sigma_relative": True},
    )
    inputs = _inputs(rng, (16, 16, 1))
    path = tmp_path / "unet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert conditioned_levels(loaded) == conditioned_levels(model)
    assert loaded.get_layer("cond_bottleneck_inside").sigma_relative
    np.testing.assert_allclose(
        _predict(loaded, inputs), _predict(model, inputs), rtol=1e-5, atol=1e-6
    )
    maps = _predict(attention_model(loaded), inputs)
    assert sorted(maps) == ["bottleneck", "dec0"]
    assert maps["bottleneck"].shape == (2, 4, 4, 16) and maps["dec0"].shape == (2, 16, 16, 1)
