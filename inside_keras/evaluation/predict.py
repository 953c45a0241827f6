"""A trained model's task, predictions and attention maps on prepared samples.

The task (binary or multi-class, and the class count) is read from the model's
output shape, never from the data: a split may lack some classes.
"""

import dataclasses

import numpy as np

from inside_keras.errors import InputError

#: Samples per predict call: bounded memory on large test splits.
PREDICT_BATCH = 32


@dataclasses.dataclass(frozen=True)
class Task:
    """What a segmentation model predicts.

    Attributes:
        num_classes: output channels: 1 for a binary task (sigmoid output), else
            the number of classes of a softmax output, background (class 0)
            included.
    """

    num_classes: int

    @property
    def binary(self):
        """Whether the model segments one class (a sigmoid output)."""
        return self.num_classes == 1

    @property
    def foreground(self):
        """The class ids scored: `(1,)` for a binary task, else `1 .. num_classes - 1`."""
        return (1,) if self.binary else tuple(range(1, self.num_classes))

    def check_labels(self, truths, source):
        """Raise `InputError` (naming `source`) if `truths` hold ids the model cannot predict."""
        top = int(truths.max()) if truths.size else 0
        allowed = 1 if self.binary else self.num_classes - 1
        if top > allowed:
            kind = "binary (one output channel)" if self.binary else f"{self.num_classes} classes"
            raise InputError(
                f"the labels hold class ids up to {top}; the model is {kind}, "
                f"so ids 0..{allowed} are allowed",
                source,
            )


def task_of(model):
    """The `Task` of `model` from its output shape `(batch, *spatial, channels)`.

    One channel is a binary task (sigmoid), `C > 1` channels are `C` softmax classes.

    Raises:
        InputError: a model with several outputs or without a known channel count.
    """
    shape = model.output_shape
    if not isinstance(shape, tuple) or len(shape) < 3 or not isinstance(shape[-1], int):
        raise InputError(
            f"expected one output of shape (batch, *spatial, channels), got {shape}",
            f"model {model.name!r}",
        )
    return Task(num_classes=shape[-1])


def _inputs(arrays):
    return {"image": arrays["x"], "condition": arrays["z"]}


def check_inputs(model, arrays, source):
    """Raise `InputError` (naming `source`) unless the samples' `x` and `z` fit the
    model's `image` and `condition` inputs (sizes the model leaves open match anything)."""
    for tensor in model.inputs:
        array = _inputs(arrays).get(tensor.name)
        if array is None:
            continue
        expected = tuple(tensor.shape[1:])
        fits = len(expected) == array.ndim - 1 and all(
            size is None or size == actual
            for size, actual in zip(expected, array.shape[1:], strict=True)
        )
        if not fits:
            key = "x" if tensor.name == "image" else "z"
            raise InputError(
                f"`{key}` samples have shape {array.shape[1:]}; the model's {tensor.name} "
                f"input takes {expected}",
                source,
            )


def predict_arrays(model, arrays, batch_size=PREDICT_BATCH):
    """Model outputs for the prepared samples `arrays` (dict with `x`, `z`)."""
    return model.predict(_inputs(arrays), batch_size=batch_size, verbose=0)


def to_labels(probabilities):
    """Binary masks `(N, *spatial)` from sigmoid outputs, or class ids from softmax
    outputs."""
    if probabilities.shape[-1] == 1:
        return (probabilities[..., 0] > 0.5).astype(np.uint8)
    return np.argmax(probabilities, axis=-1).astype(np.uint8)


def truth_labels(arrays):
    """Ground truth of prepared samples as `(N, *spatial)` uint8 labels.

    Prepared targets are float32 `(N, *spatial, 1)` {0, 1} masks or uint8 `(N, *spatial)`
    class ids.
    """
    y = np.asarray(arrays["y"])
    if y.dtype != np.uint8:
        return (y[..., 0] > 0.5).astype(np.uint8)
    return y.astype(np.uint8)


def attention_maps(model, arrays, batch_size=PREDICT_BATCH):
    """`{level: (N, *spatial, channels) maps}` of the conditioning layers with attention.

    The levels are those whose layer has `has_attention` (INSIDE, Guide Me); the
    dict is empty for a model without such a layer (none, FiLM).
    """
    from inside_keras.models import attention_model, conditioned_levels
    from inside_keras.models.conditioning import layer_name

    levels = conditioned_levels(model)
    layers = [model.get_layer(layer_name(level, kind)) for level, kind in levels.items()]
    if not any(layer.has_attention for layer in layers):
        return {}
    return attention_model(model).predict(_inputs(arrays), batch_size=batch_size, verbose=0)
