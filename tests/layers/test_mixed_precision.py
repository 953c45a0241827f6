"""Under mixed_float16 / mixed_bfloat16 the layers run in low precision, attention in float32."""

import keras
import numpy as np
import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock
from tests.layers.helpers import randomise_weights, to_numpy

POLICIES = {"mixed_float16": (5e-3, 2e-2), "mixed_bfloat16": (3e-2, 1e-1)}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("cls", [FiLM, INSIDE, GuidingBlock])
def test_mixed_precision_matches_float32(rng, policy, cls):
    x = rng.uniform(-1, 1, (2, 8, 10, 6)).astype("float32")
    z = rng.uniform(-1, 1, (2, 4)).astype("float32")
    full = cls()
    full.build([x.shape, z.shape])
    weights = randomise_weights(full, rng, std=0.5)
    mixed = cls(dtype=policy)
    mixed.build([x.shape, z.shape])
    mixed.set_weights([w.astype("float32") for w in weights])
    assert all(w.dtype == "float32" for w in mixed.weights)  # variables stay float32
    rtol, atol = POLICIES[policy]
    compute_dtype = keras.DTypePolicy(policy).compute_dtype
    if cls.has_attention:
        features, attention = mixed([x, z], return_attention=True)
        _, expected_attention = full([x, z], return_attention=True)
        assert keras.backend.standardize_dtype(attention.dtype) == compute_dtype
        np.testing.assert_allclose(
            to_numpy(attention), to_numpy(expected_attention), rtol=rtol, atol=atol
        )
    else:
        features = mixed([x, z])
    assert keras.backend.standardize_dtype(features.dtype) == compute_dtype
    result = to_numpy(features)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, to_numpy(full([x, z])), rtol=rtol, atol=atol)


def test_inside_attention_parameters_are_float32_under_float16(rng):
    """Centres and widths are computed in float32 even when the layer computes in float16."""
    x = rng.uniform(-1, 1, (2, 64, 64, 4)).astype("float32")
    z = rng.uniform(-1, 1, (2, 3)).astype("float32")
    layer = INSIDE(dtype="mixed_float16")
    layer.build([x.shape, z.shape])
    hidden = layer.hypernetwork(z)
    centres, widths = layer.attention_parameters(
        layer.affine_head(hidden), layer.width_head(hidden), [64, 64]
    )
    for tensor in (*centres, *widths):
        assert keras.backend.standardize_dtype(tensor.dtype) == "float32"
