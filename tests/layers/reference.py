"""NumPy float64 reference of the conditioning layers, written from DESIGN.md's equations.

Independent of the layer code: weights are taken in the order DESIGN.md fixes
(trunk Dense 1, trunk Dense 2, then the heads, kernel then bias each).
"""

import numpy as np

EPSILON = 1e-7


def _dense(h, kernel, bias):
    return h @ kernel + bias


def hypernetwork(z, weights):
    """`tanh(Dense(tanh(Dense(z))))` with the first four weights."""
    k1, b1, k2, b2 = weights[:4]
    return np.tanh(_dense(np.tanh(_dense(z, k1, b1)), k2, b2))


def _per_channel(params, ndim):
    """(B, C) -> (B, 1, ..., 1, C) for broadcasting against an ndim feature map."""
    return params.reshape(params.shape[0], *([1] * (ndim - 2)), params.shape[-1])


def film(x, z, weights):
    """y = (1 - gamma) x + beta."""
    c = x.shape[-1]
    p = _dense(hypernetwork(z, weights), *weights[4:6])
    gamma, beta = p[:, :c], p[:, c:]
    return (1 - _per_channel(gamma, x.ndim)) * x + _per_channel(beta, x.ndim)


KERNELS = {
    "gaussian": lambda u: np.exp(-0.5 * u**2),
    "laplace": lambda u: np.exp(-np.abs(u)),
    "cauchy": lambda u: 1.0 / (1.0 + u**2),
}


def inside(
    x,
    z,
    weights,
    sigma_scale=3.5,
    sigma_relative=False,
    kernel="gaussian",
    isotropic=False,
    shared_attention=False,
    min_width=None,
):
    """y = (1 - scale) (x a) + shift, a = outer product of per-axis kernels.

    Returns (features, attention). Attention is built point by point on the
    full grid (np.indices), not by the layer's broadcast trick.
    """
    c = x.shape[-1]
    spatial = x.shape[1:-1]
    m = 1 if shared_attention else c
    h = hypernetwork(z, weights)
    p = _dense(h, *weights[4:6])
    s = np.tanh(_dense(h, *weights[6:8]))
    scale, shift = p[:, :c], p[:, c : 2 * c]
    grid = np.indices(spatial).astype(np.float64)  # (d, *spatial)
    attention = np.ones((x.shape[0], *spatial, m))
    for axis, n in enumerate(spatial):
        mu = np.tanh(p[:, 2 * c + axis * m : 2 * c + (axis + 1) * m])
        sigma = s if isotropic else s[:, axis * m : (axis + 1) * m]
        centre = mu * n / 2 + n / 2 - 0.5
        width = sigma * (sigma_scale * n if sigma_relative else sigma_scale) + EPSILON
        if min_width is not None:
            width = np.maximum(np.abs(width), min_width)
        pos = grid[axis][None, ..., None]  # (1, *spatial, 1)
        u = (pos - _per_channel(centre, x.ndim)) / _per_channel(width, x.ndim)
        attention = attention * KERNELS[kernel](u)
    y = (1 - _per_channel(scale, x.ndim)) * (x * attention) + _per_channel(shift, x.ndim)
    return y, attention


def guiding_block(x, z, weights):
    """y = (1 + a + gamma_s) x + gamma_b, a = alpha (+) beta shared by all channels."""
    c = x.shape[-1]
    spatial = x.shape[1:-1]
    p = _dense(hypernetwork(z, weights), *weights[4:6])
    gamma_b, gamma_s = p[:, :c], p[:, c : 2 * c]
    grid = np.indices(spatial)
    attention = np.zeros((x.shape[0], *spatial, 1))
    start = 2 * c
    for axis, n in enumerate(spatial):
        vector = p[:, start : start + n]  # (B, n)
        attention = attention + vector[:, grid[axis]][..., None]
        start += n
    y = (1 + attention + _per_channel(gamma_s, x.ndim)) * x + _per_channel(gamma_b, x.ndim)
    return y, attention
