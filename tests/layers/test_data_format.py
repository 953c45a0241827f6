"""Channels-first feature maps: for the same weights, every layer gives the channels-last
numbers with the channel axis moved to axis 1, and the float64 reference's (1-D to 3-D)."""

import functools

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inside_keras import INSIDE, FiLM, GuidingBlock
from tests.layers import reference
from tests.layers.helpers import randomise_weights, to_channels_first, to_numpy

#: Same weights, same operations, another layout: the results agree to float32 rounding.
LAYOUT_TOL = {"rtol": 1e-6, "atol": 1e-6}
#: Against the float64 reference, as in test_equations.py.
TOL = {"rtol": 1e-4, "atol": 1e-4}
#: Channels-last feature shapes `(batch, *spatial, C)` with one, two and three spatial axes.
SHAPES = {1: (3, 12, 6), 2: (3, 8, 10, 6), 3: (2, 5, 7, 4, 6)}

#: name -> (layer class, constructor options, float64 reference taking channels-last arrays).
CASES = {
    "film": (FiLM, {}, reference.film),
    "guiding_block": (GuidingBlock, {}, reference.guiding_block),
    "inside": (INSIDE, {}, reference.inside),
    "inside_isotropic_shared": (
        INSIDE,
        {"isotropic": True, "shared_attention": True},
        functools.partial(reference.inside, isotropic=True, shared_attention=True),
    ),
    "inside_laplace_relative_min_width": (
        INSIDE,
        {"kernel": "laplace", "sigma_relative": True, "sigma_scale": 0.25, "min_width": 0.5},
        functools.partial(
            reference.inside, kernel="laplace", sigma_relative=True, sigma_scale=0.25, min_width=0.5
        ),
    ),
}


def _outputs(layer, x, z):
    """`[features]` or `[features, attention]` as float64 arrays."""
    if layer.has_attention:
        return [to_numpy(t) for t in layer([x, z], return_attention=True)]
    return [to_numpy(layer([x, z]))]


def _check_layouts(case, x, z, rng, std=3.0):
    """Build `case` in both layouts with the same random weights; compare with the reference."""
    cls, options, ref = CASES[case]
    x_first = to_channels_first(x)
    last = cls(data_format="channels_last", **options)
    last.build([x.shape, z.shape])
    weights = randomise_weights(last, rng, std=std)
    first = cls(data_format="channels_first", **options)
    first.build([x_first.shape, z.shape])
    # One set of weights serves both layouts: same shapes, same (the paper's) order.
    assert [w.shape for w in first.get_weights()] == [w.shape for w in weights]
    first.set_weights(last.get_weights())

    expected = ref(x.astype(np.float64), z.astype(np.float64), weights)
    expected = list(expected) if isinstance(expected, tuple) else [expected]
    results_last, results_first = _outputs(last, x, z), _outputs(first, x_first, z)
    names = ["features", "attention"]
    for name, result_last, result_first, value in zip(
        names, results_last, results_first, expected, strict=False
    ):
        assert result_first.shape == to_channels_first(value).shape, name
        np.testing.assert_allclose(
            result_first, to_channels_first(result_last), err_msg=name, **LAYOUT_TOL
        )
        np.testing.assert_allclose(result_first, to_channels_first(value), err_msg=name, **TOL)
        np.testing.assert_allclose(result_last, value, err_msg=name, **TOL)
    return results_first


def _inputs(rng, x_shape, k=4):
    x = rng.standard_normal(x_shape).astype("float32")
    z = rng.standard_normal((x_shape[0], k)).astype("float32")
    return x, z


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("case", CASES)
def test_channels_first_is_channels_last_transposed(rng, case, dims):
    x, z = _inputs(rng, SHAPES[dims])
    outputs = _check_layouts(case, x, z, rng)
    if len(outputs) == 2:  # the attention is not trivial for these weights: it varies
        assert outputs[1].std() > 0.01


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=st.sampled_from(sorted(CASES)),
    spatial=st.lists(st.integers(1, 9), min_size=1, max_size=3),
    channels=st.integers(1, 7),
    batch=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_layouts_agree_for_any_shape(case, spatial, channels, batch, seed):
    """Odd sizes too: one pixel, one channel, one sample, unequal axes."""
    rng = np.random.default_rng(seed)
    x, z = _inputs(rng, (batch, *spatial, channels), k=3)
    _check_layouts(case, x, z, rng, std=1.0)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize(
    ("cls", "options", "maps"),
    [
        (FiLM, {}, None),
        (INSIDE, {}, 6),
        (INSIDE, {"shared_attention": True}, 1),
        (GuidingBlock, {}, 1),
    ],
)
def test_output_shapes(cls, options, maps, dims):
    """compute_output_shape, symbolic and eager calls agree: attention in the layout of x."""
    spatial = SHAPES[dims][1:-1]
    x_shape, z_shape = (2, 6, *spatial), (2, 3)
    layer = cls(data_format="channels_first", **options)
    if maps is None:
        assert layer.compute_output_shape([x_shape, z_shape]) == x_shape
        return
    expected = (x_shape, (2, maps, *spatial))
    assert layer.compute_output_shape([x_shape, z_shape], return_attention=True) == expected
    symbolic = cls(data_format="channels_first", **options)(
        [keras.Input(x_shape[1:]), keras.Input(z_shape[1:])], return_attention=True
    )
    assert tuple(tuple(t.shape) for t in symbolic) == tuple((None, *s[1:]) for s in expected)
    rng = np.random.default_rng(0)
    x, z = _inputs(rng, x_shape, k=3)
    assert tuple(tuple(t.shape) for t in layer([x, z], return_attention=True)) == expected


def test_dynamic_spatial_shape_channels_first(rng):
    """INSIDE built for (C, None, None) gives the numbers of the static build."""
    x, z = _inputs(rng, (2, 6, 8, 10))
    static = INSIDE(data_format="channels_first")
    static.build([x.shape, z.shape])
    weights = randomise_weights(static, rng, std=1.0)
    x_in, z_in = keras.Input((6, None, None)), keras.Input((4,))
    dynamic = INSIDE(data_format="channels_first")
    model = keras.Model([x_in, z_in], dynamic([x_in, z_in], return_attention=True))
    dynamic.set_weights([w.astype("float32") for w in weights])
    features, attention = model.predict([x, z], verbose=0)
    expected, expected_attention = static([x, z], return_attention=True)
    np.testing.assert_allclose(features, to_numpy(expected), **TOL)
    np.testing.assert_allclose(attention, to_numpy(expected_attention), **TOL)


@pytest.mark.parametrize("cls", [FiLM, INSIDE, GuidingBlock])
@pytest.mark.parametrize("value", ["NHWC", "channels-first", "", 3, True])
def test_bad_data_format_is_a_one_line_value_error(cls, value):
    with pytest.raises(ValueError) as info:
        cls(data_format=value)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{cls.__name__}: `data_format` must be")
    assert f"got {value!r}." in message
    assert "'channels_last'" in message and "'channels_first'" in message


@pytest.mark.parametrize(
    "value", [None, "channels_last", "channels_first", "Channels_First", "CHANNELS_LAST"]
)
def test_data_format_is_normalised_as_keras_convolutions_do(value):
    expected = keras.layers.Conv2D(1, 1, data_format=value).data_format
    for cls in (FiLM, INSIDE, GuidingBlock):
        assert cls(data_format=value).data_format == expected


def test_data_format_follows_the_global_setting():
    previous = keras.config.image_data_format()
    try:
        keras.config.set_image_data_format("channels_first")
        assert FiLM().data_format == "channels_first"
        keras.config.set_image_data_format("channels_last")
        assert FiLM().data_format == "channels_last"
    finally:
        keras.config.set_image_data_format(previous)


@pytest.mark.parametrize("cls", [FiLM, INSIDE, GuidingBlock])
def test_channel_axis_must_be_known(cls):
    with pytest.raises(ValueError, match=r"channel axis of `x` \(axis 1, channels_first\)"):
        cls(data_format="channels_first").build([(2, None, 8, 8), (2, 3)])


def test_guiding_block_head_counts_the_spatial_axes_of_either_layout():
    """2C + H + W outputs, the paper's head, whichever axis holds the channels."""
    for data_format, x_shape in [
        ("channels_last", (2, 8, 10, 6)),
        ("channels_first", (2, 6, 8, 10)),
    ]:
        layer = GuidingBlock(data_format=data_format)
        layer.build([x_shape, (2, 4)])
        assert tuple(layer.get_weights()[-1].shape) == (2 * 6 + 8 + 10,)


@pytest.mark.parametrize("cls", [FiLM, INSIDE, GuidingBlock])
def test_one_training_step_is_the_same_in_both_layouts(rng, cls):
    """One SGD step from the same weights on the same (moved) data: the same new weights."""
    x, z = _inputs(rng, (4, 8, 10, 6))
    target = rng.standard_normal(x.shape).astype("float32")
    weights = None
    updated = {}
    for data_format in ("channels_last", "channels_first"):
        move = to_channels_first if data_format == "channels_first" else np.asarray
        x_in, z_in = keras.Input(move(x).shape[1:]), keras.Input(z.shape[1:])
        layer = cls(data_format=data_format)
        model = keras.Model([x_in, z_in], layer([x_in, z_in]))
        if weights is None:
            weights = randomise_weights(layer, rng, std=0.5)
        layer.set_weights([w.astype("float32") for w in weights])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
        model.train_on_batch([move(x), z], move(target))
        updated[data_format] = model.get_weights()
    for last, first, before in zip(
        updated["channels_last"], updated["channels_first"], weights, strict=True
    ):
        assert np.any(last != before.astype("float32"))  # the step moved every weight
        np.testing.assert_allclose(first, last, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [INSIDE, GuidingBlock])
def test_mixed_precision_channels_first(rng, cls):
    """Under mixed_float16 the channels-first attention is computed in float32 and cast."""
    x = to_channels_first(rng.uniform(-1, 1, (2, 8, 10, 6)).astype("float32"))
    z = rng.uniform(-1, 1, (2, 4)).astype("float32")
    full = cls(data_format="channels_first")
    full.build([x.shape, z.shape])
    weights = randomise_weights(full, rng, std=0.5)
    mixed = cls(data_format="channels_first", dtype="mixed_float16")
    mixed.build([x.shape, z.shape])
    mixed.set_weights([w.astype("float32") for w in weights])
    features, attention = mixed([x, z], return_attention=True)
    assert keras.backend.standardize_dtype(attention.dtype) == "float16"
    expected_features, expected_attention = full([x, z], return_attention=True)
    np.testing.assert_allclose(
        to_numpy(attention), to_numpy(expected_attention), rtol=5e-3, atol=2e-2
    )
    np.testing.assert_allclose(
        to_numpy(features), to_numpy(expected_features), rtol=5e-3, atol=2e-2
    )
