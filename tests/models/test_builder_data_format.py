"""Channels-first builders: for the same weights, `unet` and `encoder_decoder` built with
`data_format="channels_first"` give the channels-last model's probabilities and
attention maps with the channel axis moved to axis 1 (2-D and 3-D, odd sizes, so the
padding and cropping run channels-first too)."""

import keras
import numpy as np
import pytest

from inside_keras.models import encoder_decoder, unet
from tests.fixtures.built_model import PLACEMENT, outputs, randomise_weights
from tests.layers.helpers import to_channels_first

#: Same weights, same operations, another layout: the results agree to float32 rounding.
LAYOUT_TOL = {"rtol": 1e-5, "atol": 1e-5}

#: Builder and arguments, the input shape channels-last (moved for channels-first).
CASES = {
    "unet_2d": (
        unet,
        {"input_shape": (13, 10, 2), "num_classes": 3, "placement": PLACEMENT},
    ),
    "unet_2d_any_size_binary": (
        unet,
        {"input_shape": (None, None, 1), "num_classes": 1, "placement": "all", "norm": "group"},
    ),
    "unet_3d": (
        unet,
        {"input_shape": (5, 6, 7, 2), "num_classes": 3, "placement": PLACEMENT, "norm": "instance"},
    ),
    **{
        f"encoder_decoder_{kind}": (
            encoder_decoder,
            {"input_shape": (13, 10, 3), "conditioning": kind},
        )
        for kind in ("inside", "film", "guide_me")
    },
}
#: The U-Nets' size: tiny, two poolings.
UNET_SIZE = {"depth": 2, "base_filters": 4}
#: The image a model of any size (None sizes) is given, channels-last.
ANY_SIZE = (13, 10, 1)


def _build(case, data_format):
    builder, kwargs = CASES[case]
    kwargs = {**kwargs, "condition_dim": 4, "data_format": data_format}
    if builder is unet:
        kwargs.update(UNET_SIZE)
    if data_format == "channels_first":
        *spatial, channels = kwargs["input_shape"]
        kwargs["input_shape"] = (channels, *spatial)
    return builder(**kwargs)


def _inputs(rng, case):
    shape = CASES[case][1]["input_shape"]
    shape = ANY_SIZE if None in shape else shape
    return {
        "image": rng.standard_normal((2, *shape)).astype("float32"),
        "condition": rng.standard_normal((2, 4)).astype("float32"),
    }


def _moved(inputs):
    return {**inputs, "image": to_channels_first(inputs["image"])}


@pytest.mark.parametrize("case", CASES)
def test_channels_first_is_channels_last_transposed(rng, case):
    last, first = _build(case, "channels_last"), _build(case, "channels_first")
    # The same layers, and one set of weights serves both layouts (kernels included).
    assert [layer.name for layer in first.layers] == [layer.name for layer in last.layers]
    assert [w.shape for w in first.weights] == [w.shape for w in last.weights]
    randomise_weights(last, rng)
    first.set_weights(last.get_weights())

    inputs = _inputs(rng, case)
    expected, results = outputs(last, inputs), outputs(first, _moved(inputs))
    assert sorted(results) == sorted(expected)
    assert len(expected) > 1 or case == "encoder_decoder_film"  # attention maps compared too
    for name, value in expected.items():
        assert value.std() > 0.01, name  # neither saturated nor constant
        assert results[name].shape == to_channels_first(value).shape, name
        np.testing.assert_allclose(
            results[name], to_channels_first(value), err_msg=name, **LAYOUT_TOL
        )


def _layouts(model):
    """`{layer name: its data_format}`, with the normalisations' and concatenations'
    axes as the layout they stand for."""
    layouts = {}
    for layer in model.layers:
        if hasattr(layer, "data_format"):
            layouts[layer.name] = layer.data_format
        elif hasattr(layer, "axis"):  # normalisations, concatenations, the softmax
            layouts[layer.name] = {1: "channels_first", -1: "channels_last"}[layer.axis]
    return layouts


@pytest.mark.parametrize("norm", ["batch", "group"])
def test_every_layer_takes_the_builders_data_format(norm):
    model = unet(
        (2, 12, 12), 3, 4, placement="all", norm=norm, data_format="channels_first", **UNET_SIZE
    )
    layouts = _layouts(model)
    assert set(layouts.values()) == {"channels_first"}
    for name in ("pad_to_multiple", "crop_to_input", "enc0_pool", "dec0_up", "dec0_concat"):
        assert name in layouts
    assert "enc0_block1_norm" in layouts and "softmax" in layouts
    assert "cond_bottleneck_inside" in layouts and "segmentation" in layouts


def test_data_format_follows_the_global_setting():
    """None means `keras.config.image_data_format()`, read when the model is built."""
    previous = keras.config.image_data_format()
    try:
        keras.config.set_image_data_format("channels_first")
        default = encoder_decoder((3, 8, 8), 4)
        explicit = encoder_decoder((8, 8, 3), 4, data_format="channels_last")
    finally:
        keras.config.set_image_data_format(previous)
    assert set(_layouts(default).values()) == {"channels_first"}
    assert set(_layouts(explicit).values()) == {"channels_last"}
    assert tuple(default.output.shape) == (None, 1, 8, 8)


BUILDERS = {
    "unet": lambda **kwargs: unet((2, 8, 8), 1, 4, **UNET_SIZE, **kwargs),
    "encoder_decoder": lambda **kwargs: encoder_decoder((2, 8, 8), 4, **kwargs),
}


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"data_format": "channels_first"}, "conditioning_options"),
        ({"sigma_relative": True, "data_format": "channels_last"}, "conditioning_options"),
        ({"inside": {"data_format": "channels_first"}}, "conditioning_options['inside']"),
    ],
)
def test_data_format_in_conditioning_options_is_refused(builder, options, key):
    with pytest.raises(ValueError) as info:
        BUILDERS[builder](conditioning_options=options, data_format="channels_first")
    assert str(info.value) == (
        f"`{key}` sets 'data_format': pass `data_format` to the model builder (`unet` or "
        "`encoder_decoder`), which gives it to every layer of the model."
    )


def test_refused_for_an_unconditioned_model_too():
    with pytest.raises(ValueError, match="sets 'data_format'"):
        encoder_decoder((8, 8, 2), 4, "none", {"data_format": "channels_last"})


@pytest.mark.parametrize("builder", BUILDERS)
def test_bad_data_format(builder):
    with pytest.raises(ValueError, match=rf"^{builder}: `data_format` must be .* got 'NCHW'\.$"):
        BUILDERS[builder](data_format="NCHW")


@pytest.mark.parametrize(
    ("input_shape", "match"),
    [
        ((None, 8, 8), r"channel axis of `input_shape` \(channels, \*spatial\) must be known"),
        ((2, 0, 8), "None or positive ints"),
        ((8, 8), r"\(channels, \*spatial\) with 2 spatial axes or 3 spatial axes"),
    ],
)
def test_input_shape_is_read_in_the_builders_layout(input_shape, match):
    with pytest.raises(ValueError, match=match):
        unet(input_shape, 1, 4, data_format="channels_first")
