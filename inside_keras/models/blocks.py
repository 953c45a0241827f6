"""Rank-generic building blocks: convolution, normalisation, pooling, upsampling."""

import keras

from inside_keras.models.layout import channel_axis

#: Normalisation choices of the U-Net's convolution blocks.
NORMS = ("batch", "instance", "group", None)

_SPATIAL_LAYERS = {
    2: (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.UpSampling2D),
    3: (keras.layers.Conv3D, keras.layers.MaxPooling3D, keras.layers.UpSampling3D),
}


def spatial_layers(spatial_rank):
    """`(Conv, MaxPooling, UpSampling)` layer classes for 2 or 3 spatial axes."""
    if spatial_rank not in _SPATIAL_LAYERS:
        raise ValueError(
            f"Images must have 2 or 3 spatial axes (input_shape (H, W, C) or (D, H, W, C)), "
            f"got {spatial_rank}."
        )
    return _SPATIAL_LAYERS[spatial_rank]


def check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {NORMS}, got {norm!r}.")
    return norm


def group_count(channels, max_groups=8):
    """The largest divisor of `channels` not above `max_groups`."""
    return max(g for g in range(1, min(max_groups, channels) + 1) if channels % g == 0)


def normalization(norm, channels, name, data_format):
    """A normalisation layer over the channel axis of `data_format`: batch, instance (one
    group per channel) or group norm."""
    axis = channel_axis(data_format)
    if norm == "batch":
        return keras.layers.BatchNormalization(axis=axis, name=name)
    groups = -1 if norm == "instance" else group_count(channels)
    return keras.layers.GroupNormalization(groups=groups, axis=axis, name=name)


def conv_block(x, filters, norm, name, data_format):
    """3x3(x3) convolution ("same" padding), optional normalisation, ReLU.

    The convolution has no bias when a normalisation follows it (the norm's
    offset replaces it).
    """
    conv_class = spatial_layers(len(x.shape) - 2)[0]
    x = conv_class(
        filters,
        3,
        padding="same",
        use_bias=norm is None,
        data_format=data_format,
        name=f"{name}_conv",
    )(x)
    if norm is not None:
        x = normalization(norm, filters, f"{name}_norm", data_format)(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)
