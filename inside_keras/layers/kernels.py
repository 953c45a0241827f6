"""Separable attention kernels: one 1-D profile per spatial axis, combined by broadcast.

INSIDE (Jacenków et al., MICCAI 2020, Eq. 2-3) builds its spatial attention from a
1-D Gaussian along each spatial axis; the 2-D map is their outer product. Here the
profile along axis `i` is computed as `(batch, n_i, maps)` (channels-last) or
`(batch, maps, n_i)` (channels-first) and expanded to broadcast against the
others, so a `D`-dimensional map costs `D` small tensors and one broadcast product
in the layout of the features: no matrix multiplication, no meshgrid, no transpose.
"""

from keras import ops


def gaussian(u):
    """`exp(-u^2 / 2)`: the paper's kernel."""
    return ops.exp(-0.5 * ops.square(u))


def laplace(u):
    """`exp(-|u|)`: a sharper peak with heavier tails than the Gaussian."""
    return ops.exp(-ops.abs(u))


def cauchy(u):
    """`1 / (1 + u^2)`: the heaviest tails; never vanishes far from the centre."""
    return 1.0 / (1.0 + ops.square(u))


#: Kernel name -> function of the normalised distance `u = (p - centre) / width`.
KERNELS = {"gaussian": gaussian, "laplace": laplace, "cauchy": cauchy}


def check_kernel(layer_name, kernel):
    """Return `kernel` if it names a kernel in `KERNELS`, else raise `ValueError`."""
    if kernel not in KERNELS:
        raise ValueError(
            f"{layer_name}: unknown `kernel` {kernel!r}; allowed: {', '.join(sorted(KERNELS))}."
        )
    return kernel


def axis_profile(kernel_fn, length, centre, width, data_format="channels_last"):
    """Kernel values at the pixel positions `0 .. length-1` of one axis.

    Args:
        kernel_fn: a function from `KERNELS`.
        length: number of pixels along the axis (int or scalar tensor).
        centre: `(batch, maps)` centre of each profile, in pixels.
        width: `(batch, maps)` width of each profile, in pixels.
        data_format: `"channels_last"` or `"channels_first"`: where the maps go.

    Returns:
        `(batch, length, maps)` float32 tensor (channels-last), or `(batch, maps,
        length)` (channels-first).
    """
    positions = ops.arange(length, dtype="float32")
    if data_format == "channels_first":
        distance = positions[None, None, :] - centre[:, :, None]
        return kernel_fn(distance / width[:, :, None])
    distance = positions[None, :, None] - centre[:, None, :]
    return kernel_fn(distance / width[:, None, :])


def separable_attention(profiles, data_format="channels_last"):
    """Combine per-axis profiles into one map by a broadcast product.

    Channels-last: profiles `(batch, n_i, maps)` give `(batch, n_1, ..., n_D, maps)`.
    Channels-first: profiles `(batch, maps, n_i)` give `(batch, maps, n_1, ..., n_D)`.
    Each profile is expanded with singleton axes at the other spatial positions
    and the results are multiplied by broadcasting.
    """
    first_spatial = 2 if data_format == "channels_first" else 1
    num_axes = len(profiles)
    attention = None
    for axis, profile in enumerate(profiles):
        for other in range(num_axes):
            if other != axis:
                profile = ops.expand_dims(profile, axis=first_spatial + other)
        attention = profile if attention is None else attention * profile
    return attention
