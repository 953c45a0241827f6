"""INSIDE: Gaussian spatial attention predicted from the condition, followed by FiLM."""

import keras
from keras import ops

from inside_keras.layers.base import ConditioningLayer
from inside_keras.layers.kernels import KERNELS, axis_profile, check_kernel, separable_attention


class WidthPenalty(keras.regularizers.Regularizer):
    """`l2 * sum(w ** 2)` of the predicted width logits, summed in float32.

    Keras's `L2` sums in the layer's compute dtype; under `mixed_bfloat16` its bfloat16
    sum cannot be added to the float32 loss on TensorFlow. Built from INSIDE's
    `sigma_penalty`, never serialised on its own.
    """

    def __init__(self, l2):
        self.l2 = float(l2)

    def __call__(self, x):
        return self.l2 * ops.sum(ops.square(ops.cast(x, "float32")))

    def get_config(self):
        return {"l2": self.l2}


@keras.saving.register_keras_serializable(package="inside_keras")
class INSIDE(ConditioningLayer):
    """INstance modulation with SpatIal DEpendency (INSIDE).

    A hypernetwork on the condition `z` predicts, per channel, a FiLM scale and
    shift and a separable spatial attention map: along each spatial axis a 1-D
    kernel (the paper's Gaussian) with a predicted centre and width. With the
    default arguments this is exactly the layer of Jacenków et al., "INSIDE:
    Steering Spatial Attention with Non-Imaging Information in CNNs", MICCAI 2020:

    ```
    h            = tanh(Dense(C/2)(tanh(Dense(C/2)(z))))
    scale, shift, mu_1..mu_D = split(Dense((2 + D) C)(h));  mu_i = tanh(mu_i)
    sigma_1..sigma_D         = split(tanh(Dense(D C)(h)))   # L2 activity penalty
    centre_i = mu_i n_i / 2 + n_i / 2 - 0.5                 # pixels, n_i = axis length
    width_i  = sigma_i * sigma_scale + epsilon
    g_i(p)   = exp(-((p - centre_i) / width_i)^2 / 2)
    a        = g_1 (x) g_2 (x) ... (x) g_D                  # broadcast outer product
    y        = (1 - scale) * (x * a) + shift
    ```

    The product is computed as `x * ((1 - scale) g_1 (x) g_2 ... (x) g_D) + shift`:
    the same value, with the per-channel gain folded into the first 1-D profile so
    that only one full-size map is built and multiplied into `x`.

    Both layouts are computed natively: with `data_format="channels_first"` each
    profile is `(batch, C, n_i)` and the map `(batch, C, n_1, ..., n_D)`, with
    `"channels_last"` `(batch, n_i, C)` and `(batch, n_1, ..., n_D, C)`; the same
    weights give the same numbers, transposed. Axis 1 of the paper ("x") is the
    first spatial axis (height) in both layouts. The penalty is
    applied to the width head's pre-activation output, as in the authors' code;
    Keras divides activity penalties by the batch size, so it is per sample.
    The attention is computed in float32 under mixed-precision policies.

    Args:
        sigma_scale: positive float, the largest width. In pixels (the paper's
            3.5) unless `sigma_relative`, then a fraction of each axis length.
        sigma_relative: if True, `width_i = sigma_i * sigma_scale * n_i`, so one
            setting gives comparable maps at every resolution of a U-Net.
        sigma_penalty: non-negative float, L2 activity regulariser on the width
            head (paper: 1e-3); 0 disables it.
        kernel: `"gaussian"` (paper), `"laplace"` or `"cauchy"`.
        isotropic: if True, one width per map shared by all spatial axes.
        shared_attention: if True, one attention map shared by all channels
            (the attention output then has one channel).
        min_width: optional positive float (pixels). The paper's width can be
            negative or near zero (it is squared, so no NaN, but a needle-thin
            map); with `min_width` the width is `max(|width|, min_width)`.
            Default None keeps the paper's formula.
        epsilon: small float added to the width (the paper uses Keras's 1e-7).
        hidden_units: hypernetwork width; None means `C // 2` (paper).
        data_format: `"channels_last"` or `"channels_first"`, the layout of `x`
            and of the attention; None means `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[x, z]`.
        return_attention: if True, return `(features, attention)`.
        window: None, or `(batch, 2 D)`: `x` is a window of a larger map (its start
            and length per axis, as fractions of the whole map's length); the
            Gaussians are placed where they are on the whole map
            (`attention_parameters`), so sliding-window inference equals the whole
            map's (`inside_keras.evaluation.sliding_window`).

    Input shape:
        `x`: `(batch, *spatial, C)` if `data_format="channels_last"`, `(batch, C,
        *spatial)` if `"channels_first"`, with 1, 2 or 3 spatial axes;
        `z`: `(batch, K)`.

    Output shape:
        Features: the shape of `x`. Attention: the shape of `x`, one map per
        channel, in the layout of `x`; with `shared_attention` one channel:
        `(batch, *spatial, 1)` (channels-last) or `(batch, 1, *spatial)`
        (channels-first).

    Example:

    >>> x = keras.Input((32, 32, 16)); z = keras.Input((4,))
    >>> y = INSIDE()([x, z])
    >>> x = keras.Input((16, 32, 32))  # NCHW, as in PyTorch
    >>> y, a = INSIDE(data_format="channels_first")([x, z], return_attention=True)
    """

    has_attention = True

    def __init__(
        self,
        sigma_scale=3.5,
        sigma_relative=False,
        sigma_penalty=1e-3,
        kernel="gaussian",
        isotropic=False,
        shared_attention=False,
        min_width=None,
        epsilon=1e-7,
        hidden_units=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(hidden_units=hidden_units, data_format=data_format, **kwargs)
        if not _is_real(sigma_scale) or sigma_scale <= 0:
            raise ValueError(
                f"INSIDE: `sigma_scale` must be a positive number, got {sigma_scale!r}."
            )
        if not _is_real(sigma_penalty) or sigma_penalty < 0:
            raise ValueError(
                f"INSIDE: `sigma_penalty` must be a number >= 0, got {sigma_penalty!r}."
            )
        if min_width is not None and (not _is_real(min_width) or min_width <= 0):
            raise ValueError(
                f"INSIDE: `min_width` must be None or a positive number, got {min_width!r}."
            )
        if not _is_real(epsilon) or epsilon < 0:
            raise ValueError(f"INSIDE: `epsilon` must be a number >= 0, got {epsilon!r}.")
        self.sigma_scale = float(sigma_scale)
        self.sigma_relative = bool(sigma_relative)
        self.sigma_penalty = float(sigma_penalty)
        self.kernel = check_kernel("INSIDE", kernel)
        self.isotropic = bool(isotropic)
        self.shared_attention = bool(shared_attention)
        self.min_width = None if min_width is None else float(min_width)
        self.epsilon = float(epsilon)

    def build_heads(self, hidden_shape):
        num_axes = len(self.spatial_shape)
        self.maps = 1 if self.shared_attention else self.channels
        widths = self.maps if self.isotropic else num_axes * self.maps
        penalty = WidthPenalty(self.sigma_penalty) if self.sigma_penalty else None
        self.affine_head = keras.layers.Dense(
            2 * self.channels + num_axes * self.maps, name="affine_head", dtype=self.dtype_policy
        )
        self.width_head = keras.layers.Dense(
            widths, activity_regularizer=penalty, name="width_head", dtype=self.dtype_policy
        )
        self.affine_head.build(hidden_shape)
        self.width_head.build(hidden_shape)

    def attention_parameters(self, affine, width_logits, lengths, window=None):
        """Centres and widths in pixels, one `(batch, maps)` float32 tensor per axis.

        Args:
            affine: `(batch, (2 + D) C)` output of the affine head.
            width_logits: `(batch, D C)` (or `(batch, C)` if isotropic) width head output.
            lengths: the `D` spatial axis lengths of `x`.
            window: None, or `(batch, 2 D)`: `x` is a window of a larger map, starting
                at `window[:, i]` and `window[:, D + i]` long along axis `i`, as
                fractions of the whole map's length `N_i = n_i / window[:, D + i]`.
                Centres and relative widths are then those of the whole map, and the
                centres are given in the window's pixels (`centre - start * N_i`), so
                the window's attention is the whole map's over the window.
        """
        maps = self.maps
        affine = ops.cast(affine, "float32")
        sigma = ops.tanh(ops.cast(width_logits, "float32"))
        num_axes = len(lengths)
        if window is not None:
            window = ops.cast(window, "float32")
        centres, widths = [], []
        for axis, length in enumerate(lengths):
            start = 2 * self.channels + axis * maps
            mu = ops.tanh(affine[:, start : start + maps])
            sigma_axis = sigma if self.isotropic else sigma[:, axis * maps : (axis + 1) * maps]
            whole, offset = length, 0.0
            if window is not None:
                whole = length / window[:, num_axes + axis : num_axes + axis + 1]
                offset = window[:, axis : axis + 1] * whole
            scale = self.sigma_scale * whole if self.sigma_relative else self.sigma_scale
            width = sigma_axis * scale + self.epsilon
            if self.min_width is not None:
                width = ops.maximum(ops.abs(width), self.min_width)
            centres.append(mu * whole / 2 + whole / 2 - 0.5 - offset)
            widths.append(width)
        return centres, widths

    def modulate(self, x, hidden, return_attention, window=None):
        rank = len(x.shape)
        lengths = [
            _axis_length(x, self.spatial_axis(axis)) for axis in range(len(self.spatial_shape))
        ]
        affine = self.affine_head(hidden)
        centres, widths = self.attention_parameters(
            affine, self.width_head(hidden), lengths, window
        )
        kernel_fn = KERNELS[self.kernel]
        profiles = [
            axis_profile(kernel_fn, length, centre, width, self.data_format)
            for length, centre, width in zip(lengths, centres, widths, strict=True)
        ]
        # (1 - scale) * (x * a) == x * ((1 - scale) * g_1 (x) ... (x) g_D): the per-channel
        # gain is folded into the first 1-D profile, (batch, n_1, C) or (batch, C, n_1), so
        # the full-size map is built once, in the layout of `x`, and multiplied into it once.
        gain = ops.cast(affine[:, : self.channels], "float32")
        gain = 1 - (gain[:, :, None] if self.channels_first else gain[:, None, :])
        modulation = separable_attention([profiles[0] * gain, *profiles[1:]], self.data_format)
        shift = self.per_channel(affine[:, self.channels : 2 * self.channels], rank)
        features = x * ops.cast(modulation, x.dtype) + shift
        attention = None
        if return_attention:
            attention = ops.cast(separable_attention(profiles, self.data_format), x.dtype)
        return features, attention

    def attention_shape(self, x_shape):
        return self.with_channels(x_shape, 1) if self.shared_attention else tuple(x_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "sigma_scale": self.sigma_scale,
            "sigma_relative": self.sigma_relative,
            "sigma_penalty": self.sigma_penalty,
            "kernel": self.kernel,
            "isotropic": self.isotropic,
            "shared_attention": self.shared_attention,
            "min_width": self.min_width,
            "epsilon": self.epsilon,
        }


def _axis_length(x, axis):
    """Length of axis `axis` of `x`: a Python int when known at trace time."""
    length = ops.shape(x)[axis]
    return length if isinstance(length, int) else ops.cast(length, "float32")


def _is_real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)
