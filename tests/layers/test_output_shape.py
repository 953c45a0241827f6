"""`compute_output_shape` of the conditioning layers matches what `call` returns (1-D to 3-D)."""

import keras
import numpy as np
import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock

#: Feature shapes `(batch, *spatial, C)` with one, two and three spatial axes.
FEATURE_SHAPES = [(2, 12, 6), (2, 8, 10, 6), (2, 4, 6, 8, 6)]
Z_SHAPE = (2, 3)


def _call(layer, x_shape, return_attention=False):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, x_shape).astype("float32")
    z = rng.uniform(-1, 1, Z_SHAPE).astype("float32")
    if return_attention:
        return layer([x, z], return_attention=True)
    return layer([x, z])


@pytest.mark.parametrize("x_shape", FEATURE_SHAPES)
@pytest.mark.parametrize("cls", [FiLM, INSIDE, GuidingBlock])
def test_features_shape(cls, x_shape):
    layer = cls()
    assert layer.compute_output_shape([x_shape, Z_SHAPE]) == x_shape  # before build
    assert tuple(_call(layer, x_shape).shape) == layer.compute_output_shape([x_shape, Z_SHAPE])


@pytest.mark.parametrize("x_shape", FEATURE_SHAPES)
@pytest.mark.parametrize(
    ("cls", "options", "channels"),
    [
        (INSIDE, {}, 6),
        (INSIDE, {"shared_attention": True}, 1),
        (GuidingBlock, {}, 1),
    ],
)
def test_attention_shape(cls, options, channels, x_shape):
    layer = cls(**options)
    expected = (x_shape, (*x_shape[:-1], channels))
    assert layer.compute_output_shape([x_shape, Z_SHAPE], return_attention=True) == expected
    features, attention = _call(layer, x_shape, return_attention=True)
    assert (tuple(features.shape), tuple(attention.shape)) == expected


@pytest.mark.parametrize("cls", [FiLM, INSIDE])
def test_unknown_batch_and_spatial_sizes(cls):
    shape = cls().compute_output_shape([(None, None, None, 6), (None, 3)])
    assert shape == (None, None, None, 6)


def test_symbolic_call_uses_the_same_shapes():
    x, z = keras.Input((8, 10, 6)), keras.Input((3,))
    features, attention = INSIDE(shared_attention=True)([x, z], return_attention=True)
    assert tuple(features.shape) == (None, 8, 10, 6)
    assert tuple(attention.shape) == (None, 8, 10, 1)


def test_film_has_no_attention_shape():
    with pytest.raises(ValueError, match="return_attention"):
        FiLM().compute_output_shape([(2, 8, 8, 6), Z_SHAPE], return_attention=True)


@pytest.mark.parametrize(
    ("shapes", "match"),
    [([(2, 8, 6), (2, 3), (2, 3)], "expects inputs"), ([(2, 6), (2, 3)], "rank 3, 4 or 5")],
)
def test_bad_shapes_are_rejected(shapes, match):
    with pytest.raises(ValueError, match=match):
        INSIDE().compute_output_shape(shapes)
