"""Any spatial size for a network that pools: pad the image to a multiple, crop back.

A network with `d` 2x poolings needs spatial sizes divisible by `2**d`; real images
(75x50 PNGs, 27x22x13 volumes) rarely are. `PadToMultiple` zero-pads the image to the
next multiple, split evenly before and after each axis (as MONAI's `DivisiblePad` with
its default symmetric method), and `CropToInput` cuts the network's output back to the
image's own size, so every output has the input's shape.

Both are layers of the model rather than a step of the data path: a saved `.keras`
model then takes any size on every backend, in `train`, `evaluate`, `predict` and in
a user's own Keras or PyTorch code alike, and training, evaluation and prediction
cannot pad differently. Sizes known when the graph is traced (JAX, eager PyTorch, and
static Keras shapes) are padded with Python ints; unknown ones (TensorFlow graphs of
`None` sizes) with tensors.
"""

import keras
from keras import ops


def _check_multiple(layer_name, multiple):
    if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1:
        raise ValueError(f"{layer_name}: `multiple` must be a positive int, got {multiple!r}.")
    return multiple


def _padding(size, multiple):
    """`(before, after)` zero padding taking `size` to the next multiple of `multiple`."""
    total = (-size) % multiple
    before = total // 2
    return before, total - before


def padded_size(size, multiple):
    """`size` rounded up to a multiple of `multiple` (None stays None)."""
    return None if size is None else size + sum(_padding(size, multiple))


@keras.saving.register_keras_serializable(package="inside_keras")
class PadToMultiple(keras.layers.Layer):
    """Zero-pads every spatial axis to the next multiple of `multiple`.

    Each axis of length `n` gets `(-n) mod multiple` zeros, `floor` of half of them
    before and the rest after. An axis that divides already is left as it is.

    Args:
        multiple: positive int, `2**depth` for a network with `depth` poolings.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, *spatial, channels)` with 1, 2 or 3 spatial axes.

    Output shape:
        `(batch, *padded, channels)`, each padded size a multiple of `multiple`.
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        self.multiple = _check_multiple("PadToMultiple", multiple)

    def call(self, x):
        shape = ops.shape(x)
        widths = [(0, 0)]
        widths += [_padding(shape[axis], self.multiple) for axis in range(1, len(x.shape) - 1)]
        widths.append((0, 0))
        if all(isinstance(w, int) and w == 0 for pair in widths for w in pair):
            return x
        return ops.pad(x, widths)

    def compute_output_shape(self, input_shape):
        spatial = [padded_size(size, self.multiple) for size in input_shape[1:-1]]
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="inside_keras")
class CropToInput(keras.layers.Layer):
    """Cuts a padded output back to the spatial size of the unpadded input.

    The inverse of `PadToMultiple(multiple)` on the spatial axes: called on
    `[output, image]`, it keeps the window of `output` that `image` was padded into.

    Args:
        multiple: the `PadToMultiple` layer's `multiple`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Input shape:
        `[(batch, *padded, C), (batch, *spatial, C')]`.

    Output shape:
        `(batch, *spatial, C)`.
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        self.multiple = _check_multiple("CropToInput", multiple)

    def call(self, inputs):
        output, image = inputs
        sizes = ops.shape(image)[1:-1]
        if all(isinstance(size, int) for size in sizes) and tuple(sizes) == tuple(
            ops.shape(output)[1:-1]
        ):
            return output
        starts = [_padding(size, self.multiple)[0] for size in sizes]
        shape = ops.shape(output)
        return ops.slice(output, [0, *starts, 0], [shape[0], *sizes, shape[-1]])

    def compute_output_shape(self, input_shape):
        output_shape, image_shape = input_shape
        return (output_shape[0], *image_shape[1:-1], output_shape[-1])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}
