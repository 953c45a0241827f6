"""Segmentation losses: soft Dice, focal, and cross-entropy + soft Dice.

All losses take sigmoid (one channel) or softmax (`C` channels) probabilities
`(batch, *spatial, C)` with 2-D or 3-D spatial axes, and targets as described
in `inside_keras.losses.targets.one_hot_targets`: {0, 1} masks for one channel, integer
class ids `(batch, *spatial)` or `(batch, *spatial, 1)` (or one-hot) for `C > 1`.
Each returns one value per image, averaged over the batch by Keras.

Keras's own pieces are used where they fit: the focal and cross-entropy terms
are `keras.losses.binary_focal_crossentropy`, `categorical_focal_crossentropy`,
`binary_crossentropy` and `categorical_crossentropy`. What Keras lacks is
written here: `keras.losses.Dice` sums over the whole batch unless given the
(rank-dependent) spatial axes, has no smoothing (an empty target and an empty
prediction score a loss of 1) and needs one-hot targets. The Dice term is
`inside_keras.evaluation.soft_dice`, the formula of the Keras Dice metric too.

Losses can be selected by name with `get_loss`: `"dice"`, `"focal"`,
`"focal_sum"`, `"bce_dice"` and `"ce_dice"` (the same loss: binary cross-entropy for
one channel, categorical otherwise). BCE + soft Dice is the default for short runs:
with the paper's focal loss INSIDE stayed all-background for 8 epochs.

`"focal_sum"` is the loss the authors' code trains with (`SummedFocalLoss`): TF-Addons'
`SigmoidFocalCrossEntropy()` with its defaults, differentiated as the unreduced
per-pixel tensor, i.e. summed over pixels and batch. `"focal"` is Keras's binary focal
loss, without class balancing, averaged over pixels.
"""

import keras
from keras import ops

from inside_keras.evaluation.soft_dice import soft_dice
from inside_keras.losses.targets import one_hot_targets, spatial_axes


def _mean_soft_dice(y_true, y_pred, smooth):
    """Soft Dice per image, averaged over classes: shape `(batch,)`."""
    return ops.mean(soft_dice(y_true, y_pred, spatial_axes(y_pred), smooth), axis=-1)


def _check_non_negative(loss_name, **values):
    for arg, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{loss_name}: `{arg}` must be a number >= 0, got {value!r}.")


@keras.saving.register_keras_serializable(package="inside_keras")
class DiceLoss(keras.losses.Loss):
    """Soft Dice loss, per image and averaged over classes: `1 - mean_c Dice_c`.

    Args:
        smooth: non-negative float added to numerator and denominator, so an
            empty target predicted empty scores Dice 1 (loss 0).
        reduction: Keras loss reduction over the per-image values.
        name: loss name.
        dtype: loss computation dtype.

    Input shape:
        `y_pred`: `(batch, *spatial, C)` probabilities; `y_true`: see the module.

    Output shape:
        `(batch,)` before the reduction.
    """

    def __init__(self, smooth=1.0, reduction="sum_over_batch_size", name="dice", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        _check_non_negative("DiceLoss", smooth=smooth)
        self.smooth = float(smooth)

    def call(self, y_true, y_pred):
        y_true = one_hot_targets(y_true, y_pred)
        return 1.0 - _mean_soft_dice(y_true, y_pred, self.smooth)

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="inside_keras")
class FocalLoss(keras.losses.Loss):
    """Focal loss (Lin et al., ICCV 2017), the INSIDE paper's training loss, per image.

    Binary (one channel): `keras.losses.binary_focal_crossentropy` with Keras's
    defaults (no class balancing, so `alpha` is unused); multi-class:
    `keras.losses.categorical_focal_crossentropy` on one-hot targets. Averaged
    over pixels.

    Args:
        alpha: class-balancing weight of the multi-class loss (Keras default 0.25).
        gamma: focusing parameter (Keras default 2.0).
        reduction: Keras loss reduction over the per-image values.
        name: loss name.
        dtype: loss computation dtype.

    Input shape:
        `y_pred`: `(batch, *spatial, C)` probabilities; `y_true`: see the module.

    Output shape:
        `(batch,)` before the reduction.
    """

    def __init__(
        self, alpha=0.25, gamma=2.0, reduction="sum_over_batch_size", name="focal", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        _check_non_negative("FocalLoss", alpha=alpha, gamma=gamma)
        self.alpha = float(alpha)
        self.gamma = float(gamma)

    def call(self, y_true, y_pred):
        y_true = one_hot_targets(y_true, y_pred)
        if y_pred.shape[-1] == 1:
            pixels = keras.losses.binary_focal_crossentropy(y_true, y_pred, gamma=self.gamma)
        else:
            pixels = keras.losses.categorical_focal_crossentropy(
                y_true, y_pred, alpha=self.alpha, gamma=self.gamma
            )
        return ops.mean(pixels, axis=spatial_axes(y_pred))

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


@keras.saving.register_keras_serializable(package="inside_keras")
class DiceCrossEntropyLoss(keras.losses.Loss):
    """Cross-entropy + soft Dice, per image: `ce_weight * CE + dice_weight * (1 - Dice)`.

    The cross-entropy is `keras.losses.binary_crossentropy` for one channel and
    `keras.losses.categorical_crossentropy` otherwise, averaged over pixels; the
    Dice term is `DiceLoss`'s.

    Args:
        smooth: smoothing of the Dice term.
        ce_weight: weight of the cross-entropy term.
        dice_weight: weight of the Dice term.
        reduction: Keras loss reduction over the per-image values.
        name: loss name.
        dtype: loss computation dtype.

    Input shape:
        `y_pred`: `(batch, *spatial, C)` probabilities; `y_true`: see the module.

    Output shape:
        `(batch,)` before the reduction.
    """

    def __init__(
        self,
        smooth=1.0,
        ce_weight=1.0,
        dice_weight=1.0,
        reduction="sum_over_batch_size",
        name="ce_dice",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        _check_non_negative(
            "DiceCrossEntropyLoss", smooth=smooth, ce_weight=ce_weight, dice_weight=dice_weight
        )
        self.smooth = float(smooth)
        self.ce_weight = float(ce_weight)
        self.dice_weight = float(dice_weight)

    def call(self, y_true, y_pred):
        y_true = one_hot_targets(y_true, y_pred)
        if y_pred.shape[-1] == 1:
            pixels = keras.losses.binary_crossentropy(y_true, y_pred)
        else:
            pixels = keras.losses.categorical_crossentropy(y_true, y_pred)
        cross_entropy = ops.mean(pixels, axis=spatial_axes(y_pred))
        dice = _mean_soft_dice(y_true, y_pred, self.smooth)
        return self.ce_weight * cross_entropy + self.dice_weight * (1.0 - dice)

    def get_config(self):
        return {
            **super().get_config(),
            "smooth": self.smooth,
            "ce_weight": self.ce_weight,
            "dice_weight": self.dice_weight,
        }


@keras.saving.register_keras_serializable(package="inside_keras")
def sigmoid_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0):
    """TF-Addons' `sigmoid_focal_crossentropy` on probabilities, one value per pixel.

    Per output channel `c`, with `p` the probability and `t` the {0, 1} target:

    ```
    ce     = -(t log(clip(p) + eps) + (1 - t) log(1 - clip(p) + eps))  # tf.keras 2.0
    p_t    = t p + (1 - t) (1 - p)
    weight = t alpha + (1 - t) (1 - alpha)       # foreground alpha, background 1 - alpha
    loss   = sum_c weight (1 - p_t)^gamma ce
    ```

    with `clip` to `[eps, 1 - eps]`, `eps = keras.config.epsilon()` (1e-7), as
    `tf.keras.backend.binary_crossentropy` computed it in the TensorFlow 2.0 the authors
    pinned (`requirements.txt`: tensorflow-gpu 2.0.0, tensorflow-addons 0.6.0). Keras 3's
    `binary_focal_crossentropy` is not used: its cross-entropy drops the `+ eps` inside
    the logarithm and it averages over the channel axis, where TF-Addons sums.

    Args:
        y_true: targets, see the module (one-hot for several channels).
        y_pred: `(batch, *spatial, C)` probabilities.
        alpha: weight of the foreground (`1 - alpha` of the background); TF-Addons' 0.25.
        gamma: focusing parameter; TF-Addons' 2.0.

    Returns:
        `(batch, *spatial)` per-pixel losses, summed over the channels.
    """
    y_true = one_hot_targets(y_true, y_pred)
    epsilon = keras.config.epsilon()
    clipped = ops.clip(y_pred, epsilon, 1.0 - epsilon)
    cross_entropy = -(
        y_true * ops.log(clipped + epsilon) + (1.0 - y_true) * ops.log(1.0 - clipped + epsilon)
    )
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    weight = y_true * alpha + (1.0 - y_true) * (1.0 - alpha)
    return ops.sum(weight * ops.power(1.0 - p_t, gamma) * cross_entropy, axis=-1)


@keras.saving.register_keras_serializable(package="inside_keras")
class SummedFocalLoss(keras.losses.Loss):
    """The authors' training loss: TF-Addons' sigmoid focal loss, summed over pixels.

    The authors' models (`inside/models/common.py` of jacenkow/inside) use
    `tfa.losses.SigmoidFocalCrossEntropy()`: `alpha=0.25` applied (foreground weighted
    0.25, background 0.75), `gamma=2`, reduction `NONE`; their `GradientTape` loop
    (`inside/pipelines/clevr.py`) takes the gradient of that per-pixel tensor, which is
    the gradient of its sum over pixels and batch. This loss is that sum: per image the
    sum over its pixels of `sigmoid_focal_crossentropy`, and over the batch the default
    reduction `"sum"`.

    The value grows with the image and batch size; `pixel_loss`, the metric `train`
    adds beside it, is the mean per pixel, the number the authors' logs report
    (their `Mean` of the unreduced tensor) and the one their early stopping watched.

    Args:
        alpha: foreground weight (TF-Addons' default 0.25).
        gamma: focusing parameter (TF-Addons' default 2.0).
        reduction: Keras loss reduction over the per-image sums (`"sum"`: the authors').
        name: loss name.
        dtype: loss computation dtype.

    Input shape:
        `y_pred`: `(batch, *spatial, C)` probabilities; `y_true`: see the module.

    Output shape:
        `(batch,)` before the reduction.
    """

    def __init__(self, alpha=0.25, gamma=2.0, reduction="sum", name="focal_sum", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        _check_non_negative("SummedFocalLoss", alpha=alpha, gamma=gamma)
        self.alpha = float(alpha)
        self.gamma = float(gamma)

    def call(self, y_true, y_pred):
        pixels = sigmoid_focal_crossentropy(y_true, y_pred, self.alpha, self.gamma)
        return ops.sum(pixels, axis=spatial_axes(y_pred))

    def pixel_metric(self):
        """A Keras metric, `pixel_loss`: this loss's mean per pixel over the samples seen."""
        return keras.metrics.MeanMetricWrapper(
            sigmoid_focal_crossentropy, name="pixel_loss", alpha=self.alpha, gamma=self.gamma
        )

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


#: Loss classes by the names configs use.
LOSSES = {
    "dice": DiceLoss,
    "focal": FocalLoss,
    "focal_sum": SummedFocalLoss,
    "bce_dice": DiceCrossEntropyLoss,
    "ce_dice": DiceCrossEntropyLoss,
}


def get_loss(name, **kwargs):
    """A new loss selected by name: `"dice"`, `"focal"`, `"focal_sum"`, `"bce_dice"` or
    `"ce_dice"`.

    Args:
        name: one of `LOSSES`.
        **kwargs: constructor arguments of that loss class.

    Raises:
        ValueError: for an unknown name (the message lists the allowed names).
    """
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; allowed names: {', '.join(LOSSES)}.")
    return LOSSES[name](name=name, **kwargs)
