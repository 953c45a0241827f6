"""The layers against the NumPy reference of DESIGN.md's equations, for random weights."""

import numpy as np
import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock
from tests.layers import reference
from tests.layers.helpers import randomise_weights, to_numpy

SHAPES = {1: (3, 12, 6), 2: (3, 8, 10, 6), 3: (2, 5, 7, 4, 6)}
TOL = {"rtol": 1e-4, "atol": 1e-4}


def _inputs(rng, x_shape, k=4):
    x = rng.standard_normal(x_shape).astype("float32")
    z = rng.standard_normal((x_shape[0], k)).astype("float32")
    return x, z


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_film_matches_reference(rng, dims):
    x, z = _inputs(rng, SHAPES[dims])
    layer = FiLM()
    layer.build([x.shape, z.shape])
    weights = randomise_weights(layer, rng)
    expected = reference.film(x.astype(np.float64), z.astype(np.float64), weights)
    np.testing.assert_allclose(to_numpy(layer([x, z])), expected, **TOL)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_guiding_block_matches_reference(rng, dims):
    x, z = _inputs(rng, SHAPES[dims])
    layer = GuidingBlock()
    layer.build([x.shape, z.shape])
    weights = randomise_weights(layer, rng)
    features, attention = layer([x, z], return_attention=True)
    expected, expected_attention = reference.guiding_block(
        x.astype(np.float64), z.astype(np.float64), weights
    )
    assert tuple(attention.shape) == (*x.shape[:-1], 1)
    np.testing.assert_allclose(to_numpy(attention), expected_attention, **TOL)
    np.testing.assert_allclose(to_numpy(features), expected, **TOL)


INSIDE_OPTIONS = [
    {},
    {"kernel": "laplace"},
    {"kernel": "cauchy"},
    {"isotropic": True},
    {"shared_attention": True},
    {"sigma_relative": True, "sigma_scale": 0.25},
    {"min_width": 0.5},
    {"sigma_scale": 2.0, "isotropic": True, "shared_attention": True},
]


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("options", INSIDE_OPTIONS, ids=lambda o: ",".join(o) or "paper")
def test_inside_matches_reference(rng, dims, options):
    x, z = _inputs(rng, SHAPES[dims])
    layer = INSIDE(**options)
    layer.build([x.shape, z.shape])
    weights = randomise_weights(layer, rng)
    features, attention = layer([x, z], return_attention=True)
    expected, expected_attention = reference.inside(
        x.astype(np.float64), z.astype(np.float64), weights, **options
    )
    maps = 1 if options.get("shared_attention") else x.shape[-1]
    assert tuple(attention.shape) == (*x.shape[:-1], maps)
    np.testing.assert_allclose(to_numpy(attention), expected_attention, **TOL)
    np.testing.assert_allclose(to_numpy(features), expected, **TOL)


def test_large_weights_all_layers(rng):
    """Large weights, N(0, 1) * 3, on x (3, 8, 10, 6) and z (3, 4): every layer matches."""
    x, z = _inputs(rng, (3, 8, 10, 6))
    x64, z64 = x.astype(np.float64), z.astype(np.float64)
    film, inside, guide = FiLM(), INSIDE(), GuidingBlock()
    for layer in (film, inside, guide):
        layer.build([x.shape, z.shape])
    film_w, inside_w, guide_w = (randomise_weights(layer, rng) for layer in (film, inside, guide))
    np.testing.assert_allclose(to_numpy(film([x, z])), reference.film(x64, z64, film_w), **TOL)
    cases = ((inside, reference.inside, inside_w), (guide, reference.guiding_block, guide_w))
    for layer, ref, w in cases:
        features, attention = layer([x, z], return_attention=True)
        expected, expected_attention = ref(x64, z64, w)
        np.testing.assert_allclose(to_numpy(features), expected, **TOL)
        np.testing.assert_allclose(to_numpy(attention), expected_attention, **TOL)
    # The attention is not trivial for these weights: it varies over the map.
    assert to_numpy(inside([x, z], return_attention=True)[1]).std() > 0.05


def test_weight_order_matches_design(rng):
    """get_weights(): trunk Dense 1, trunk Dense 2, then the heads (kernel, bias each)."""
    c, k = 6, 4
    x_shape, z_shape = (2, 8, 10, c), (2, k)
    expected = {
        FiLM: [(k, 3), (3,), (3, 3), (3,), (3, 2 * c), (2 * c,)],
        INSIDE: [(k, 3), (3,), (3, 3), (3,), (3, 4 * c), (4 * c,), (3, 2 * c), (2 * c,)],
        GuidingBlock: [(k, 3), (3,), (3, 3), (3,), (3, 2 * c + 8 + 10), (2 * c + 8 + 10,)],
    }
    for cls, shapes in expected.items():
        layer = cls()
        layer.build([x_shape, z_shape])
        assert [tuple(w.shape) for w in layer.get_weights()] == shapes, cls.__name__


def test_hidden_units_option(rng):
    layer = INSIDE(hidden_units=5)
    layer.build([(2, 8, 8, 6), (2, 3)])
    assert tuple(layer.get_weights()[0].shape) == (3, 5)


def test_dynamic_spatial_shape_matches_static(rng):
    """INSIDE built for (None, None) spatial axes gives the same numbers."""
    import keras

    x, z = _inputs(rng, (2, 8, 10, 6))
    static = INSIDE()
    static.build([x.shape, z.shape])
    weights = randomise_weights(static, rng, std=1.0)
    x_in, z_in = keras.Input((None, None, 6)), keras.Input((4,))
    dynamic = INSIDE()
    model = keras.Model([x_in, z_in], dynamic([x_in, z_in], return_attention=True))
    dynamic.set_weights([w.astype("float32") for w in weights])
    features, attention = model.predict([x, z], verbose=0)
    expected, expected_attention = static([x, z], return_attention=True)
    np.testing.assert_allclose(features, to_numpy(expected), **TOL)
    np.testing.assert_allclose(attention, to_numpy(expected_attention), **TOL)
