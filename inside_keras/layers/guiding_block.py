"""Guiding Block of Guide Me: FiLM plus an additive, channel-shared spatial attention."""

import keras
from keras import ops

from inside_keras.layers.base import ConditioningLayer


@keras.saving.register_keras_serializable(package="inside_keras")
class GuidingBlock(ConditioningLayer):
    """Guiding Block (Rupprecht et al., "Guide Me", CVPR 2018), INSIDE's third baseline.

    A hypernetwork on `z` predicts a per-channel bias and scale and one vector per
    spatial axis; their broadcast sum is a spatial attention shared by all
    channels (Jacenków et al., MICCAI 2020, Sec. 3):

    ```
    h                         = tanh(Dense(C/2)(tanh(Dense(C/2)(z))))
    gamma_b, gamma_s, alpha_1..alpha_D = split(Dense(2C + n_1 + ... + n_D)(h))
    a                         = alpha_1 (+) ... (+) alpha_D     # broadcast sum
    y                         = (1 + a + gamma_s) * x + gamma_b
    ```

    The head's size depends on the spatial shape, so it must be static. The
    attention is computed in float32 under mixed-precision policies. Each vector
    `alpha_i` is reshaped onto its spatial axis of the features' layout (the head's
    weights and their order do not depend on `data_format`).

    Args:
        hidden_units: hypernetwork width; None means `C // 2` (paper).
        data_format: `"channels_last"` or `"channels_first"`, the layout of `x`
            and of the attention; None means `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[x, z]`.
        return_attention: if True, return `(features, attention)`.

    Input shape:
        `x`: `(batch, *spatial, C)` if `data_format="channels_last"`, `(batch, C,
        *spatial)` if `"channels_first"`, with 1, 2 or 3 static spatial axes;
        `z`: `(batch, K)`.

    Output shape:
        Features: the shape of `x`. Attention: one channel in the layout of `x`,
        `(batch, *spatial, 1)` (channels-last) or `(batch, 1, *spatial)`
        (channels-first).
    """

    has_attention = True

    def build_heads(self, hidden_shape):
        if any(length is None for length in self.spatial_shape):
            raise ValueError(
                "GuidingBlock: the spatial shape of `x` must be static (the head predicts one "
                f"value per position along each axis), got {self.spatial_shape}."
            )
        size = 2 * self.channels + sum(self.spatial_shape)
        self.guide_head = keras.layers.Dense(size, name="guide_head", dtype=self.dtype_policy)
        self.guide_head.build(hidden_shape)

    def attention_shape(self, x_shape):
        return self.with_channels(x_shape, 1)

    def modulate(self, x, hidden, return_attention, window=None):
        params = self.guide_head(hidden)
        rank = len(x.shape)
        gamma_b = self.per_channel(params[:, : self.channels], rank)
        gamma_s = self.per_channel(params[:, self.channels : 2 * self.channels], rank)
        vectors = ops.cast(params[:, 2 * self.channels :], "float32")
        attention = None
        start = 0
        for axis, length in enumerate(self.spatial_shape):
            # (batch, 1, .., n_i, .., 1) with the singleton channel axis where `x` has it.
            shape = [-1] + [1] * (rank - 1)
            shape[self.spatial_axis(axis)] = length
            term = ops.reshape(vectors[:, start : start + length], shape)
            attention = term if attention is None else attention + term
            start += length
        attention = ops.cast(attention, x.dtype)
        return (1 + attention + gamma_s) * x + gamma_b, attention
