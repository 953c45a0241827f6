"""The named inputs every model takes: `{"image": ..., "condition": ...}`."""

import keras

from inside_keras.models.layout import channel_axis, spatial_axes


def is_positive_int(value):
    """Whether `value` is an int (not a bool) greater than 0."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def model_inputs(input_shape, condition_dim, data_format, spatial_ranks=(2, 3)):
    """Validate the shapes and create the `image` and `condition` inputs.

    Args:
        input_shape: `(*spatial, channels)` for `"channels_last"`, `(channels,
            *spatial)` for `"channels_first"`; spatial sizes may be None (any size) or
            positive ints (the networks pad them to what their poolings need,
            `inside_keras.models.size_padding`); channels must be known.
        condition_dim: positive int, length of the condition vector.
        data_format: `"channels_last"` or `"channels_first"`, the layout of the image.
        spatial_ranks: the accepted numbers of spatial axes.

    Returns:
        A dict `{"image": keras.Input, "condition": keras.Input}`.
    """
    input_shape = tuple(input_shape)
    layout = "(channels, *spatial)" if data_format == "channels_first" else "(*spatial, channels)"
    if len(input_shape) - 1 not in spatial_ranks:
        expected = " or ".join(f"{r} spatial axes" for r in spatial_ranks)
        raise ValueError(
            f"`input_shape` must be {layout} with {expected} ({data_format}), got {input_shape}."
        )
    shape = (None, *input_shape)
    channels = shape[channel_axis(data_format)]
    if not is_positive_int(channels):
        raise ValueError(
            f"The channel axis of `input_shape` {layout} must be known, got {input_shape}."
        )
    for axis in spatial_axes(len(shape), data_format):
        if shape[axis] is not None and not is_positive_int(shape[axis]):
            raise ValueError(
                f"Spatial sizes of `input_shape` must be None or positive ints, got {input_shape}."
            )
    if not is_positive_int(condition_dim):
        raise ValueError(f"`condition_dim` must be a positive int, got {condition_dim!r}.")
    return {
        "image": keras.Input(input_shape, name="image"),
        "condition": keras.Input((condition_dim,), name="condition"),
    }
