"""The hypernetwork trunk shared by every conditioning layer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="inside_keras")
class Hypernetwork(keras.layers.Layer):
    """Two tanh-activated dense layers mapping a condition to a hidden code.

    `Dense(units) -> tanh -> Dense(units) -> tanh`, the trunk of the
    hypernetwork in INSIDE (Jacenków et al., MICCAI 2020, Sec. 2), whose heads
    then predict the conditioning parameters. The conditioning layers use
    `units = C / 2` for `C` feature channels, as the paper does. It sees the
    condition vector only, never the feature map, so it has no `data_format`.

    Args:
        units: positive int, width of both dense layers.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch_size, condition_dim)`.

    Output shape:
        `(batch_size, units)`.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Hypernetwork: `units` must be a positive int, got {units!r}.")
        self.units = units
        self.dense_1 = keras.layers.Dense(units, name="dense_1", dtype=self.dtype_policy)
        self.dense_2 = keras.layers.Dense(units, name="dense_2", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.dense_1.build(input_shape)
        self.dense_2.build((*input_shape[:-1], self.units))

    def call(self, condition):
        hidden = ops.tanh(self.dense_1(condition))
        return ops.tanh(self.dense_2(hidden))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
