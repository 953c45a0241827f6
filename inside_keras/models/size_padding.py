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
`None` sizes) with tensors. Both layers take Keras's `data_format`, so the spatial
axes are those of `(batch, *spatial, channels)` or of `(batch, channels, *spatial)`.
"""

import keras
from keras import ops

from inside_keras.layers.base import check_data_format
from inside_keras.models.layout import spatial_axes


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
        data_format: `"channels_last"` or `"channels_first"`, the layout of the
            input; None means `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Input shape:
        `(batch, *spatial, channels)` (channels-last) or `(batch, channels,
        *spatial)` (channels-first), with 1, 2 or 3 spatial axes.

    Output shape:
        The input's shape, each spatial size padded to a multiple of `multiple`.
    """

    def __init__(self, multiple, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.multiple = _check_multiple("PadToMultiple", multiple)
        self.data_format = check_data_format("PadToMultiple", data_format)

    def call(self, x):
        shape = ops.shape(x)
        spatial = spatial_axes(len(shape), self.data_format)
        widths = [
            _padding(size, self.multiple) if axis in spatial else (0, 0)
            for axis, size in enumerate(shape)
        ]
        if all(isinstance(w, int) and w == 0 for pair in widths for w in pair):
            return x
        return ops.pad(x, widths)

    def compute_output_shape(self, input_shape):
        spatial = spatial_axes(len(input_shape), self.data_format)
        return tuple(
            padded_size(size, self.multiple) if axis in spatial else size
            for axis, size in enumerate(input_shape)
        )

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple, "data_format": self.data_format}


@keras.saving.register_keras_serializable(package="inside_keras")
class CropToInput(keras.layers.Layer):
    """Cuts a padded output back to the spatial size of the unpadded input.

    The inverse of `PadToMultiple(multiple)` on the spatial axes: called on
    `[output, image]`, it keeps the window of `output` that `image` was padded into.

    Args:
        multiple: the `PadToMultiple` layer's `multiple`.
        data_format: `"channels_last"` or `"channels_first"`, the layout of both
            inputs; None means `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Input shape:
        `[(batch, *padded, C), (batch, *spatial, C')]`, or `[(batch, C, *padded),
        (batch, C', *spatial)]` for channels-first.

    Output shape:
        `(batch, *spatial, C)`, or `(batch, C, *spatial)` for channels-first.
    """

    def __init__(self, multiple, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.multiple = _check_multiple("CropToInput", multiple)
        self.data_format = check_data_format("CropToInput", data_format)

    def call(self, inputs):
        output, image = inputs
        shape, image_shape = list(ops.shape(output)), ops.shape(image)
        spatial = spatial_axes(len(shape), self.data_format)
        sizes = [image_shape[axis] for axis in spatial]
        if all(isinstance(size, int) for size in sizes) and sizes == [shape[a] for a in spatial]:
            return output
        starts = [0] * len(shape)
        for axis, size in zip(spatial, sizes, strict=True):
            starts[axis] = _padding(size, self.multiple)[0]
            shape[axis] = size
        return ops.slice(output, starts, shape)

    def compute_output_shape(self, input_shape):
        output_shape, image_shape = input_shape
        spatial = spatial_axes(len(output_shape), self.data_format)
        return tuple(
            image_shape[axis] if axis in spatial else size for axis, size in enumerate(output_shape)
        )

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple, "data_format": self.data_format}
