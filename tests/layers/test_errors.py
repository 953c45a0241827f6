"""Bad arguments and inputs raise ValueError naming the argument, the value and what is allowed."""

import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock

LAYERS = [FiLM, INSIDE, GuidingBlock]


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("z_shape", [(2,), (2, 3, 4)])
def test_condition_rank(cls, z_shape):
    with pytest.raises(ValueError, match=r"`z` must have rank 2.*got rank \d") as info:
        cls().build([(2, 8, 8, 4), z_shape])
    assert str(z_shape) in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("x_shape", [(2, 4), (2, 4, 4, 4, 4, 4)])
def test_feature_rank(cls, x_shape):
    with pytest.raises(ValueError, match=r"`x` must have rank 3, 4 or 5") as info:
        cls().build([x_shape, (2, 3)])
    assert f"got rank {len(x_shape)}" in str(info.value)


@pytest.mark.parametrize("cls", LAYERS)
def test_inputs_must_be_a_pair(cls):
    with pytest.raises(ValueError, match=r"expects inputs \[x, z\]"):
        cls().build([(2, 8, 8, 4)])


def test_unknown_kernel():
    allowed = r"unknown `kernel` 'box'; allowed: cauchy, gaussian, laplace"
    with pytest.raises(ValueError, match=allowed):
        INSIDE(kernel="box")


@pytest.mark.parametrize("value", [0, -1.5, "3", None, True])
def test_non_positive_sigma_scale(value):
    with pytest.raises(ValueError, match=r"`sigma_scale` must be a positive number, got") as info:
        INSIDE(sigma_scale=value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"sigma_penalty": -1e-3}, r"`sigma_penalty` must be a number >= 0, got -0.001"),
        ({"min_width": 0}, r"`min_width` must be None or a positive number, got 0"),
        ({"hidden_units": 0}, r"`hidden_units` must be None .* or a positive int, got 0"),
        ({"epsilon": -1.0}, r"`epsilon` must be a number >= 0, got -1.0"),
    ],
)
def test_other_inside_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        INSIDE(**kwargs)


def test_film_has_no_attention(rng):
    x = rng.standard_normal((2, 8, 8, 4)).astype("float32")
    z = rng.standard_normal((2, 3)).astype("float32")
    with pytest.raises(ValueError, match="FiLM has no spatial attention"):
        FiLM()([x, z], return_attention=True)


def test_guiding_block_needs_static_spatial_shape():
    with pytest.raises(ValueError, match=r"spatial shape of `x` must be static.*\(None, 8\)"):
        GuidingBlock().build([(2, None, 8, 4), (2, 3)])
