"""Keras Dice metrics for segmentation, per class and averaged over classes: `DiceScore`
(hard predictions) and `SoftDiceScore` (the authors' soft Dice of probabilities)."""

import keras
from keras import ops

from inside_keras.evaluation.soft_dice import epsilon_dice, soft_dice
from inside_keras.losses.targets import one_hot_targets, spatial_axes


@keras.saving.register_keras_serializable(package="inside_keras")
class DiceScore(keras.metrics.Metric):
    """Dice of hard predictions, computed per image and averaged over images.

    Predictions are binarised first: a sigmoid output (one channel) at
    `threshold`, a softmax output by argmax. For each image and class,
    `Dice = 2 |T n P| / (|T| + |P|)` (`inside_keras.evaluation.soft_dice`, the
    Dice loss's formula without smoothing), with the conventions of
    `inside_keras.evaluation.masks`: 1 when target and prediction are both empty,
    0 when exactly one is. The metric is the **mean over images** (what papers
    report), not a global Dice of all pixels pooled, accumulated over batches:
    the state holds, per class, the sum of per-image Dice and the image count.

    Targets:
        - one channel: `(batch, *spatial, 1)` (or `(batch, *spatial)`) {0, 1}
          floats, as in the prepared binary datasets;
        - `num_classes > 1`: integer class ids `(batch, *spatial)` or
          `(batch, *spatial, 1)` (uint8 or any int/float dtype), or one-hot.

    Args:
        num_classes: number of output channels (1 for sigmoid outputs).
        class_id: None for the mean over classes, or a class index for that
            class's Dice alone.
        include_background: whether the mean includes class 0 of a multi-class
            output (default False: the mean over foreground classes, as usual
            for ACDC). Ignored for one channel, whose only class is foreground.
        threshold: probability threshold of one-channel outputs.
        name: metric name; default `"dice"`, or `"dice_<class_id>"`.
        dtype: dtype of the state and result.

    Input shape:
        `y_pred`: `(batch, *spatial, num_classes)` probabilities, 2-D or 3-D.

    Example:

    >>> model.compile("adam", get_loss("ce_dice"), metrics=dice_metrics(num_classes=4))
    """

    def __init__(
        self,
        num_classes=1,
        class_id=None,
        include_background=False,
        threshold=0.5,
        name=None,
        dtype=None,
    ):
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"DiceScore: `num_classes` must be a positive int, got {num_classes!r}."
            )
        if class_id is not None and (
            isinstance(class_id, bool)
            or not isinstance(class_id, int)
            or not 0 <= class_id < num_classes
        ):
            raise ValueError(
                f"DiceScore: `class_id` must be None or an int in [0, {num_classes - 1}], "
                f"got {class_id!r}."
            )
        if name is None:
            name = "dice" if class_id is None else f"dice_{class_id}"
        super().__init__(name=name, dtype=dtype)
        self.num_classes = num_classes
        self.class_id = class_id
        self.include_background = bool(include_background)
        self.threshold = float(threshold)
        self.dice_sum = self.add_variable(
            shape=(num_classes,), initializer="zeros", name="dice_sum"
        )
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the per-image Dice of a batch; `sample_weight` is one weight per image."""
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if y_pred.shape[-1] != self.num_classes:
            raise ValueError(
                f"DiceScore: `y_pred` must have num_classes = {self.num_classes} channels, "
                f"got shape {tuple(y_pred.shape)}."
            )
        y_true = one_hot_targets(ops.convert_to_tensor(y_true), y_pred)
        dice = self.image_dice(y_true, y_pred)
        if sample_weight is None:
            weights = ops.ones_like(dice[:, :1])
        else:
            weights = ops.reshape(ops.cast(sample_weight, self.dtype), (-1, 1))
        self.dice_sum.assign_add(ops.sum(dice * weights, axis=0))
        self.count.assign_add(ops.sum(weights))

    def image_dice(self, y_true, y_pred):
        """`(batch, num_classes)` Dice of each image and class, of the binarised `y_pred`."""
        if self.num_classes == 1:
            hard = ops.cast(y_pred >= self.threshold, self.dtype)
        else:
            hard = ops.one_hot(ops.argmax(y_pred, axis=-1), self.num_classes, dtype=self.dtype)
        return soft_dice(y_true, hard, spatial_axes(y_pred))

    def result(self):
        per_class = self.dice_sum / ops.maximum(self.count, keras.config.epsilon())
        if self.class_id is not None:
            return per_class[self.class_id]
        if self.num_classes > 1 and not self.include_background:
            per_class = per_class[1:]
        return ops.mean(per_class)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "class_id": self.class_id,
            "include_background": self.include_background,
            "threshold": self.threshold,
        }


@keras.saving.register_keras_serializable(package="inside_keras")
class SoftDiceScore(DiceScore):
    """The authors' reported Dice: soft Dice of the probabilities, per image, averaged.

    For each image and class, `2 sum(t p) / (sum(t + p) + 1e-7)` of the target `t` and
    the probability `p`, unthresholded (`inside_keras.evaluation.soft_dice.epsilon_dice`,
    the formula of `inside/metrics.py` in jacenkow/inside): an image whose target is
    empty scores at most 0 however close to 0 its probabilities are, and a model that
    gives 0.25 to every object pixel and 0 elsewhere scores 0.4 where `DiceScore`
    gives 0. Accumulated and averaged like `DiceScore` (mean over images, then over
    the reported classes).

    Args:
        num_classes: number of output channels (1 for sigmoid outputs).
        class_id: None for the mean over classes, or a class index for that class alone.
        include_background: whether the mean includes class 0 of a multi-class output.
        name: metric name; default `"dice_soft"`, or `"dice_soft_<class_id>"`.
        dtype: dtype of the state and result.
    """

    def __init__(
        self, num_classes=1, class_id=None, include_background=False, name=None, dtype=None
    ):
        if name is None:
            name = "dice_soft" if class_id is None else f"dice_soft_{class_id}"
        super().__init__(num_classes, class_id, include_background, name=name, dtype=dtype)

    def image_dice(self, y_true, y_pred):
        """`(batch, num_classes)` soft Dice of each image and class."""
        return epsilon_dice(y_true, y_pred, spatial_axes(y_pred))

    def get_config(self):
        config = super().get_config()
        del config["threshold"]
        return config


def dice_metrics(num_classes=1, include_background=False):
    """Metrics for `compile`: the mean Dice (`"dice"`) and, for several classes,
    one per reported class (`"dice_1"`, ...; `"dice_0"` too with background); then the
    authors' soft Dice of the probabilities (`"dice_soft"`, its mean over classes).
    """
    metrics = [DiceScore(num_classes, include_background=include_background)]
    if num_classes > 1:
        first = 0 if include_background else 1
        metrics += [DiceScore(num_classes, class_id=c) for c in range(first, num_classes)]
    return [*metrics, SoftDiceScore(num_classes, include_background=include_background)]
