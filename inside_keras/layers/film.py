"""FiLM: feature-wise linear modulation predicted from the condition."""

import keras

from inside_keras.layers.base import ConditioningLayer


@keras.saving.register_keras_serializable(package="inside_keras")
class FiLM(ConditioningLayer):
    """Feature-wise Linear Modulation (Perez et al., AAAI 2018), as used in INSIDE.

    A hypernetwork on the condition `z` predicts one scale and one shift per
    channel, applied identically at every spatial position. The parametrisation
    follows the INSIDE paper (Jacenków et al., MICCAI 2020, Sec. 2):

    ```
    h            = tanh(Dense(C/2)(tanh(Dense(C/2)(z))))
    gamma, beta  = split(Dense(2C)(h))
    y            = (1 - gamma) * x + beta
    ```

    `gamma` and `beta` are reshaped to `(batch, 1, ..., 1, C)` (channels-last) or
    `(batch, C, 1, ..., 1)` (channels-first) and broadcast over the map.

    Args:
        hidden_units: hypernetwork width; None means `C // 2` (paper).
        data_format: `"channels_last"` or `"channels_first"`, the layout of `x`;
            None means `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[x, z]`. FiLM has no spatial attention, so
            `return_attention=True` raises `ValueError`.

    Input shape:
        `x`: `(batch, *spatial, C)` if `data_format="channels_last"`, `(batch, C,
        *spatial)` if `"channels_first"`, with 1, 2 or 3 spatial axes;
        `z`: `(batch, K)`.

    Output shape:
        The shape of `x`.

    Example:

    >>> x = keras.Input((16, 32, 32)); z = keras.Input((4,))
    >>> y = FiLM(data_format="channels_first")([x, z])  # (None, 16, 32, 32)
    """

    def build_heads(self, hidden_shape):
        self.film_head = keras.layers.Dense(
            2 * self.channels, name="film_head", dtype=self.dtype_policy
        )
        self.film_head.build(hidden_shape)

    def modulate(self, x, hidden, return_attention, window=None):
        params = self.film_head(hidden)
        rank = len(x.shape)
        gamma = self.per_channel(params[:, : self.channels], rank)
        beta = self.per_channel(params[:, self.channels :], rank)
        return (1 - gamma) * x + beta, None
