"""FiLM: feature-wise linear modulation predicted from the condition."""

import keras

from inside_keras.layers.base import ConditioningLayer, expand_to_features


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

    Args:
        hidden_units: hypernetwork width; None means `C // 2` (paper).
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[x, z]`. FiLM has no spatial attention, so
            `return_attention=True` raises `ValueError`.

    Input shape:
        `x`: `(batch, *spatial, C)` with 1, 2 or 3 spatial axes; `z`: `(batch, K)`.

    Output shape:
        The shape of `x`.
    """

    def build_heads(self, hidden_shape):
        self.film_head = keras.layers.Dense(
            2 * self.channels, name="film_head", dtype=self.dtype_policy
        )
        self.film_head.build(hidden_shape)

    def modulate(self, x, hidden, return_attention):
        params = self.film_head(hidden)
        rank = len(x.shape)
        gamma = expand_to_features(params[:, : self.channels], rank)
        beta = expand_to_features(params[:, self.channels :], rank)
        return (1 - gamma) * x + beta, None
