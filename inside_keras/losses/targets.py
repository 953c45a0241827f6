"""Segmentation targets as one-hot tensors matching the predictions (binary or multi-class)."""

from keras import ops


def one_hot_targets(y_true, y_pred):
    """Targets shaped and typed like `y_pred`: `(batch, *spatial, C)` floats.

    - One output channel (sigmoid): `y_true` holds {0, 1} values, shaped
      `(batch, *spatial, 1)` or `(batch, *spatial)`.
    - `C > 1` channels (softmax): `y_true` holds integer class ids, shaped
      `(batch, *spatial)` or `(batch, *spatial, 1)` (any int or float dtype),
      or is already one-hot, `(batch, *spatial, C)`.
    """
    channels = y_pred.shape[-1]
    rank = len(y_pred.shape)
    if channels == 1:
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.expand_dims(y_true, -1) if len(y_true.shape) == rank - 1 else y_true
    if len(y_true.shape) == rank and y_true.shape[-1] == channels:
        return ops.cast(y_true, y_pred.dtype)
    if len(y_true.shape) == rank:
        y_true = ops.squeeze(y_true, -1)
    return ops.one_hot(ops.cast(y_true, "int32"), channels, dtype=y_pred.dtype)


def spatial_axes(y_pred):
    """The spatial axes of a `(batch, *spatial, C)` tensor."""
    return tuple(range(1, len(y_pred.shape) - 1))
