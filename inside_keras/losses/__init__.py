"""Segmentation losses (`segmentation`: soft Dice, focal, the authors' summed focal loss,
cross-entropy + soft Dice, `get_loss` by name) and how targets meet predictions
(`targets`), shared with the Dice metrics."""

from inside_keras.losses.segmentation import (
    LOSSES,
    DiceCrossEntropyLoss,
    DiceLoss,
    FocalLoss,
    SummedFocalLoss,
    get_loss,
    sigmoid_focal_crossentropy,
)

__all__ = [
    "LOSSES",
    "DiceCrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "SummedFocalLoss",
    "get_loss",
    "sigmoid_focal_crossentropy",
]
