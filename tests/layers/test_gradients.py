"""Every trainable weight receives a non-zero gradient, and 3-D INSIDE is separable."""

import keras
import numpy as np
import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock
from tests.layers.helpers import randomise_weights, to_numpy


def _gradient_step_changes(layer, x, z, target):
    """Take one SGD step (lr 1) on a squared error; return which weights moved.

    A weight moves under SGD exactly when its gradient is non-zero, so this checks
    gradients through the backend's own training step.
    """
    x_in, z_in = keras.Input(x.shape[1:]), keras.Input(z.shape[1:])
    model = keras.Model([x_in, z_in], layer([x_in, z_in]))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch([x, z], target)
    after = model.get_weights()
    return {
        w.path: bool(np.any(b != a))
        for w, b, a in zip(model.trainable_weights, before, after, strict=True)
    }


@pytest.mark.parametrize(
    "make_layer",
    [
        FiLM,
        GuidingBlock,
        INSIDE,
        lambda: INSIDE(isotropic=True, shared_attention=True),
        lambda: INSIDE(kernel="cauchy", sigma_relative=True, sigma_scale=0.3),
    ],
    ids=["film", "guiding_block", "inside", "inside_isotropic_shared", "inside_cauchy_relative"],
)
def test_every_weight_gets_a_gradient(rng, make_layer):
    x = rng.standard_normal((4, 8, 10, 6)).astype("float32")
    z = rng.standard_normal((4, 3)).astype("float32")
    target = rng.standard_normal(x.shape).astype("float32")
    moved = _gradient_step_changes(make_layer(), x, z, target)
    assert len(moved) >= 6
    assert all(moved.values()), [path for path, ok in moved.items() if not ok]


def test_inside_3d_is_the_product_of_three_1d_kernels(rng):
    """A 3-D attention map equals the outer product of three 1-D INSIDE layers' maps.

    Each 1-D layer gets the 3-D layer's trunk, its scale/shift columns and the
    centre and width columns of one axis.
    """
    c, k = 4, 3
    x = rng.standard_normal((2, 5, 7, 6, c)).astype("float32")
    z = rng.standard_normal((2, k)).astype("float32")
    layer3 = INSIDE()
    layer3.build([x.shape, z.shape])
    w = randomise_weights(layer3, rng, std=1.5)
    _, attention3 = layer3([x, z], return_attention=True)
    trunk, (affine_k, affine_b, width_k, width_b) = w[:4], w[4:]
    profiles = []
    for axis, n in enumerate(x.shape[1:-1]):
        columns = np.r_[0 : 2 * c, (2 + axis) * c : (3 + axis) * c]
        width_columns = np.r_[axis * c : (axis + 1) * c]
        layer1 = INSIDE()
        x1 = np.ones((2, n, c), dtype="float32")
        layer1.build([x1.shape, z.shape])
        layer1.set_weights(
            [
                a.astype("float32")
                for a in (
                    *trunk,
                    affine_k[:, columns],
                    affine_b[columns],
                    width_k[:, width_columns],
                    width_b[width_columns],
                )
            ]
        )
        _, profile = layer1([x1, z], return_attention=True)
        shape = [2, 1, 1, 1, c]
        shape[1 + axis] = n
        profiles.append(to_numpy(profile).reshape(shape))
    np.testing.assert_allclose(
        to_numpy(attention3), profiles[0] * profiles[1] * profiles[2], rtol=1e-5, atol=1e-6
    )


def test_width_penalty_reaches_the_loss(rng):
    """The L2 activity penalty on the width head is in `layer.losses` after a call."""
    x = rng.standard_normal((4, 8, 8, 6)).astype("float32")
    z = rng.standard_normal((4, 3)).astype("float32")
    penalised, free = INSIDE(sigma_penalty=1e-3), INSIDE(sigma_penalty=0.0)
    for layer in (penalised, free):
        layer([x, z])
    assert len(free.losses) == 0
    assert len(penalised.losses) == 1
    width_logits = to_numpy(penalised.width_head(penalised.hypernetwork(z)))
    expected = 1e-3 * np.sum(width_logits**2) / len(x)  # Keras divides by the batch size.
    np.testing.assert_allclose(to_numpy(penalised.losses[0]), expected, rtol=1e-4)
