"""The Dice formulas on tensors: `soft_dice`, shared by the Dice loss and the Keras Dice
metric; `epsilon_dice`, the authors' soft Dice of probabilities (`SoftDiceScore`)."""

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


def epsilon_dice(y_true, y_pred, axes, epsilon=1e-7):
    """Dice `2 sum(t p) / (sum(t + p) + epsilon)` over `axes`: the authors' reported Dice.

    The `DiceScore` metric of the authors' code (`inside/metrics.py` of jacenkow/inside)
    applies this to the sigmoid probabilities, unthresholded, per image, with
    `epsilon = K.epsilon()` (1e-7): an image whose target and prediction are both empty
    scores 0, not 1 as in `soft_dice`.

    Args:
        y_true: targets, e.g. one-hot `(batch, *spatial, C)`.
        y_pred: probabilities of the same shape and dtype.
        axes: the axes summed over (the spatial axes: one Dice per image and class).
        epsilon: added to the denominator.

    Returns:
        The Dice, shaped like `y_pred` without `axes`.
    """
    intersection = ops.sum(y_true * y_pred, axis=axes)
    return 2.0 * intersection / (ops.sum(y_true + y_pred, axis=axes) + epsilon)


def epsilon_dice_per_image(probabilities, targets, classes, batch_size=256):
    """`epsilon_dice` of each image, averaged over `classes`, on NumPy arrays.

    Args:
        probabilities: `(N, *spatial, C)` model outputs (sigmoid or softmax).
        targets: prepared targets, `(N, *spatial, 1)` {0, 1} floats or `(N, *spatial)`
            class ids.
        classes: the class ids averaged over, e.g. `(1,)` for a binary task (whose one
            channel is class 1), `(1, 2, 3)` for the foreground of four classes.
        batch_size: images computed at once (bounded memory on large splits).

    Returns:
        `(N,)` float64 array.
    """
    import numpy as np

    from inside_keras.losses.targets import one_hot_targets, spatial_axes

    channels = [0] if probabilities.shape[-1] == 1 else list(classes)
    scores = []
    for start in range(0, len(probabilities), batch_size):
        p = ops.convert_to_tensor(np.asarray(probabilities[start : start + batch_size], "float32"))
        t = one_hot_targets(
            ops.convert_to_tensor(np.asarray(targets[start : start + batch_size])), p
        )
        dice = ops.convert_to_numpy(epsilon_dice(t, p, spatial_axes(p)))
        scores.append(dice[:, channels].mean(axis=1))
    return np.concatenate(scores).astype(np.float64) if scores else np.zeros(0)
