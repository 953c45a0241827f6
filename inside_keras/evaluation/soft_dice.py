"""The Dice formula on tensors, shared by the Dice loss and the Keras Dice metric."""

from keras import ops


def soft_dice(y_true, y_pred, axes, smooth=0.0):
    """Dice `(2 sum(t p) + smooth) / (sum(t) + sum(p) + smooth)` over `axes`.

    On probabilities it is the soft Dice of the losses
    (`inside_keras.losses.DiceLoss`); on {0, 1} predictions, the Dice of the metric
    (`inside_keras.evaluation.keras_metrics.DiceScore`). Where the denominator is 0
    (both empty and no smoothing) the Dice is 1, the convention of
    `inside_keras.evaluation.masks.dice`, with a finite gradient.

    Args:
        y_true: targets, e.g. one-hot `(batch, *spatial, C)`.
        y_pred: predictions of the same shape and dtype.
        axes: the axes summed over, e.g. the spatial axes for one Dice per image
            and class.
        smooth: non-negative number added to numerator and denominator.

    Returns:
        The Dice, shaped like `y_pred` without `axes`.
    """
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes) + smooth
    defined = total > 0
    return ops.where(defined, (2.0 * intersection + smooth) / ops.where(defined, total, 1.0), 1.0)
