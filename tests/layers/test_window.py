"""INSIDE's `window`: on a window of a larger map, the attention and the features are the
whole map's over that window."""

import keras
import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from inside_keras.layers import INSIDE, FiLM


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def _layer(x_shape, data_format, **options):
    layer = INSIDE(data_format=data_format, **options)
    layer.build([x_shape, (None, 4)])
    rng = np.random.default_rng(0)
    layer.set_weights([rng.normal(0, 1.0, w.shape).astype("float32") for w in layer.get_weights()])
    return layer


@settings(max_examples=12, deadline=None, derandomize=True)
@seed(7)
@given(
    sizes=st.one_of(
        st.lists(st.integers(4, 19), min_size=2, max_size=2),
        st.lists(st.integers(4, 11), min_size=3, max_size=3),
    ),
    fractions=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
    relative=st.booleans(),
)
def test_window_attention_is_the_whole_maps_over_the_window(
    sizes, fractions, data_format, relative
):
    starts = [int(f * (n - 1)) for f, n in zip(fractions, sizes, strict=False)]
    lengths = [
        max(1, int(f * (n - s))) for f, n, s in zip(fractions[3:], sizes, starts, strict=False)
    ]
    channels = 3
    shape = (2, channels, *sizes) if data_format == "channels_first" else (2, *sizes, channels)
    options = {"sigma_relative": True, "sigma_scale": 0.5} if relative else {"sigma_scale": 3.5}
    layer = _layer(shape, data_format, **options)
    rng = np.random.default_rng(1)
    x = rng.random(shape).astype("float32")
    z = np.eye(4, dtype="float32")[[1, 3]]
    whole, whole_attention = layer([x, z], return_attention=True)
    region = tuple(slice(s, s + n) for s, n in zip(starts, lengths, strict=True))
    index = (
        (slice(None), slice(None), *region)
        if data_format == "channels_first"
        else (
            slice(None),
            *region,
            slice(None),
        )
    )
    place = [s / n for s, n in zip(starts, sizes, strict=True)]
    place += [n / m for n, m in zip(lengths, sizes, strict=True)]
    window = np.tile(np.float32(place), (2, 1))
    part, part_attention = layer([x[index], z], return_attention=True, window=window)
    np.testing.assert_allclose(_numpy(part_attention), _numpy(whole_attention)[index], atol=2e-6)
    np.testing.assert_allclose(_numpy(part), _numpy(whole)[index], atol=2e-5)


def test_a_window_of_the_whole_map_changes_nothing():
    layer = _layer((2, 9, 7, 3), "channels_last")
    x = np.random.default_rng(2).random((2, 9, 7, 3)).astype("float32")
    z = np.eye(4, dtype="float32")[[0, 2]]
    window = np.float32([[0, 0, 1, 1]] * 2)
    np.testing.assert_allclose(
        _numpy(layer([x, z], window=window)), _numpy(layer([x, z])), atol=1e-6
    )


@pytest.mark.parametrize("layer", [FiLM()])
def test_layers_the_same_everywhere_ignore_the_window(layer):
    x = np.random.default_rng(3).random((2, 6, 5, 4)).astype("float32")
    z = np.eye(4, dtype="float32")[[0, 2]]
    reference = _numpy(layer([x, z]))
    shifted = _numpy(layer([x, z], window=np.float32([[0.5, 0.1, 0.3, 0.4]] * 2)))
    np.testing.assert_array_equal(shifted, reference)
