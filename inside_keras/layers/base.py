"""Common input handling for layers that modulate features `x` by a condition `z`."""

import keras

# The normalisation Keras's own convolution and pooling layers apply to their
# `data_format` argument (None -> `keras.config.image_data_format()`, case-insensitive,
# anything else a ValueError naming the value and the allowed ones). Keras does not
# export it under its public API; `keras.src.backend.config` holds it in every Keras
# this package supports (>= 3.10), and the layers' tests pin its behaviour.
from keras.src.backend.config import standardize_data_format

from inside_keras.layers.hypernetwork import Hypernetwork

#: Ranks of the feature map `x` a conditioning layer accepts: 1, 2 or 3 spatial axes.
FEATURE_RANKS = (3, 4, 5)


def check_data_format(layer_name, data_format):
    """`data_format` normalised as Keras's convolution layers do it, or a one-line ValueError.

    Returns:
        `"channels_last"` or `"channels_first"`; None means
        `keras.config.image_data_format()`.
    """
    try:
        return standardize_data_format(data_format)
    except ValueError:
        raise ValueError(
            f"{layer_name}: `data_format` must be 'channels_last' or 'channels_first' (any "
            f"case; None for keras.config.image_data_format()), got {data_format!r}."
        ) from None


def check_hidden_units(layer_name, hidden_units):
    """Validate the hypernetwork width argument shared by all conditioning layers."""
    if hidden_units is None:
        return None
    if isinstance(hidden_units, bool) or not isinstance(hidden_units, int) or hidden_units < 1:
        raise ValueError(
            f"{layer_name}: `hidden_units` must be None (C/2, the paper's choice) or a "
            f"positive int, got {hidden_units!r}."
        )
    return hidden_units


class ConditioningLayer(keras.layers.Layer):
    """Base class: validates `[x, z]`, owns the hypernetwork, dispatches `call`.

    Subclasses create their heads in `build_heads(hidden_shape)` (after the
    hypernetwork, so `get_weights()` lists trunk weights first, then heads) and
    implement `modulate(x, hidden, return_attention) -> (features, attention or
    None)`; the attention map is only built when asked for, so eager backends do
    not pay for a full-size tensor that is thrown away.

    Feature maps have one, two or three spatial axes, laid out as Keras's
    convolution layers lay them out: `(batch, *spatial, channels)` with
    `data_format="channels_last"`, `(batch, channels, *spatial)` with
    `"channels_first"` (PyTorch's NCHW). Subclasses work natively in either
    layout: per-channel parameters are reshaped to `(batch, 1, ..., 1, C)` or
    `(batch, C, 1, ..., 1)` (`per_channel`), the feature map is never transposed.
    Attention maps returned by subclasses follow the same layout as `x`.

    The condition is `(batch, condition_dim)` in both layouts: the hypernetwork
    works on the condition vector only, has no spatial axes and so takes no
    `data_format`; its weights, and those of the heads, are the same in both
    layouts.

    Args:
        hidden_units: width of the hypernetwork trunk; `None` means `C // 2`
            (at least 1) for `C` feature channels, as in the paper.
        data_format: `"channels_last"` or `"channels_first"`, the layout of `x`
            (and of the attention output); None means
            `keras.config.image_data_format()`, as for Keras's convolutions.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).
    """

    #: Whether `call(..., return_attention=True)` is supported.
    has_attention = False

    def __init__(self, hidden_units=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = check_hidden_units(type(self).__name__, hidden_units)
        self.data_format = check_data_format(type(self).__name__, data_format)

    @property
    def channels_first(self):
        """Whether the channel axis of `x` is axis 1 (else it is the last axis)."""
        return self.data_format == "channels_first"

    @property
    def channel_axis(self):
        """Index of the channel axis of `x`: 1 or -1."""
        return 1 if self.channels_first else -1

    def spatial_axis(self, axis):
        """Index in `x` of spatial axis `axis` (0 = the paper's first, height)."""
        return (2 if self.channels_first else 1) + axis

    def with_channels(self, x_shape, channels):
        """`x_shape` with its channel axis set to `channels` (for attention shapes)."""
        shape = list(x_shape)
        shape[self.channel_axis] = channels
        return tuple(shape)

    def per_channel(self, params, rank):
        """Reshape per-channel parameters `(B, C)` to broadcast against rank-`rank` `x`."""
        return expand_to_features(params, rank, self.data_format)

    def build(self, input_shape):
        x_shape, z_shape = self._split_shapes(input_shape)
        self.channels = x_shape[self.channel_axis]
        self.spatial_shape = tuple(x_shape[2:] if self.channels_first else x_shape[1:-1])
        units = self.hidden_units or max(1, self.channels // 2)
        self.hypernetwork = Hypernetwork(units, name="hypernetwork", dtype=self.dtype_policy)
        self.hypernetwork.build(z_shape)
        self.build_heads((z_shape[0], units))

    def _split_shapes(self, input_shape):
        name = type(self).__name__
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(f"{name} expects inputs [x, z], got input shape {input_shape!r}.")
        x_shape, z_shape = (tuple(shape) for shape in input_shape)
        if len(x_shape) not in FEATURE_RANKS:
            axes = ("channels", "1 to 3 spatial axes")
            layout = ", ".join(axes if self.channels_first else axes[::-1])
            raise ValueError(
                f"{name}: `x` must have rank 3, 4 or 5 (batch, {layout}), got rank "
                f"{len(x_shape)} (shape {x_shape})."
            )
        if len(z_shape) != 2:
            raise ValueError(
                f"{name}: `z` must have rank 2 (batch, condition_dim), got rank "
                f"{len(z_shape)} (shape {z_shape})."
            )
        if x_shape[self.channel_axis] is None or z_shape[-1] is None:
            raise ValueError(
                f"{name}: the channel axis of `x` (axis {self.channel_axis}, "
                f"{self.data_format}) and the last axis of `z` must be known, got x {x_shape} "
                f"and z {z_shape}."
            )
        return x_shape, z_shape

    def build_heads(self, hidden_shape):
        raise NotImplementedError

    def modulate(self, x, hidden, return_attention, window=None):
        raise NotImplementedError

    def call(self, inputs, return_attention=False, window=None):
        """Modulate `x` by `z`.

        Args:
            inputs: list `[x, z]`.
            return_attention: if True, also return the spatial attention map
                (only for layers with `has_attention`).
            window: None, or where `x` lies in a larger map, for layers whose
                modulation depends on the position (INSIDE): `(batch, 2 D)` with,
                per spatial axis, the window's start and then its length, both as
                fractions of the whole map's length (sliding-window inference,
                `inside_keras.evaluation.sliding_window`). Other layers ignore it.

        Returns:
            The modulated features (shape of `x`), or `(features, attention)`.
        """
        self._check_return_attention(return_attention)
        x, z = inputs
        features, attention = self.modulate(x, self.hypernetwork(z), return_attention, window)
        if return_attention:
            return features, attention
        return features

    def _check_return_attention(self, return_attention):
        if return_attention and not self.has_attention:
            raise ValueError(
                f"{type(self).__name__} has no spatial attention: `return_attention` must be "
                "False (only INSIDE and GuidingBlock return one)."
            )

    def attention_shape(self, x_shape):
        """Shape of the attention returned for features of shape `x_shape`."""
        return tuple(x_shape)

    def compute_output_shape(self, input_shape, return_attention=False, window=None):
        """Output shape for inputs of shapes `[x_shape, z_shape]`.

        Returns:
            The shape of `x`, or `(x_shape, attention_shape)` with `return_attention`.
        """
        self._check_return_attention(return_attention)
        x_shape, _ = self._split_shapes(input_shape)
        if not return_attention:
            return x_shape
        return x_shape, self.attention_shape(x_shape)

    def compute_output_spec(self, inputs, return_attention=False, window=None):
        shapes = self.compute_output_shape([inputs[0].shape, inputs[1].shape], return_attention)
        if not return_attention:
            return keras.KerasTensor(shapes, dtype=self.compute_dtype)
        return tuple(keras.KerasTensor(shape, dtype=self.compute_dtype) for shape in shapes)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": self.hidden_units,
            "data_format": self.data_format,
        }


def expand_to_features(params, rank, data_format="channels_last"):
    """Reshape per-channel parameters `(B, C)` to broadcast over rank-`rank` features.

    `(B, 1, ..., 1, C)` for `"channels_last"`, `(B, C, 1, ..., 1)` for `"channels_first"`.
    """
    ones = (1,) * (rank - 2)
    if data_format == "channels_first":
        return keras.ops.reshape(params, (-1, params.shape[-1]) + ones)
    return keras.ops.reshape(params, (-1,) + ones + (params.shape[-1],))
