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


def _sample_shapes(x):
    """The distinct shapes of the samples in `x` (an array, or a list of arrays)."""
    if isinstance(x, list):
        return sorted({tuple(sample.shape) for sample in x})
    return [tuple(x.shape[1:])]


def check_inputs(model, arrays, source):
    """Raise `InputError` (naming `source`) unless the samples' `x` and `z` fit the
    model's `image` and `condition` inputs: the same rank and channels, the same
    condition length. Spatial sizes may differ from a network's: it pads what it needs
    (`inside_keras.models.size_padding`), and a network of one size (Guide Me) is given
    windows of its size (`predict_samples`); a network saved before it padded takes
    the sizes it was built for only."""
    from inside_keras.evaluation.sliding_window import pooling_multiple

    for tensor in model.inputs:
        value = _inputs(arrays).get(tensor.name)
        if value is None:
            continue
        expected = tuple(tensor.shape[1:])
        for shape in _sample_shapes(value):
            fits = len(expected) == len(shape) and all(
                size is None or size == actual or (spatial and pooling_multiple(model))
                for spatial, size, actual in zip(
                    [True] * (len(shape) - 1) + [False], expected, shape, strict=True
                )
            )
            if not fits:
                key = "x" if tensor.name == "image" else "z"
                raise InputError(
                    f"`{key}` samples have shape {shape}; the model's {tensor.name} input "
                    f"takes {expected}",
                    source,
                )


def predict_arrays(model, arrays, batch_size=PREDICT_BATCH):
    """Model outputs for the prepared samples `arrays` (dict with `x`, `z`)."""
    return model.predict(_inputs(arrays), batch_size=batch_size, verbose=0)


def predict_samples(model, arrays, window=None, batch_size=PREDICT_BATCH):
    """Model outputs for samples of any sizes, whole or window by window.

    Samples of one size are predicted together. A sample larger than `window` along an
    axis is predicted by sliding windows of that size
    (`inside_keras.evaluation.sliding_window`); a network of one size (Guide Me) is given
    windows of exactly its size whatever `window` says.

    Args:
        model: a trained network.
        arrays: samples: `x` an array `(N, *spatial, C)` or a list of `(*spatial, C)`
            arrays of different sizes; `z` `(N, K)`.
        window: None (every sample whole, unless the network takes one size), or the
            window size per spatial axis.
        batch_size: samples (or windows) predicted at once.

    Returns:
        An array `(N, *spatial, classes)`, or a list of `(*spatial, classes)` arrays
        when `x` is a list.

    Raises:
        InputError: a sample smaller than a network of one size takes.
    """
    from inside_keras.evaluation.sliding_window import fixed_size, sliding_window_predict

    x, z = arrays["x"], np.asarray(arrays["z"])
    fixed = fixed_size(model)
    window = fixed or (tuple(window) if window is not None else None)
    if not isinstance(x, list) and (window is None or _fits(x.shape[1:-1], window, fixed)):
        return predict_arrays(model, arrays, batch_size)
    samples = list(x)
    shapes = [tuple(sample.shape[:-1]) for sample in samples]
    outputs = [None] * len(samples)
    for shape in dict.fromkeys(shapes):
        indices = [i for i, s in enumerate(shapes) if s == shape]
        if fixed is not None and any(n < f for n, f in zip(shape, fixed, strict=True)):
            raise InputError(
                f"a sample is {'x'.join(map(str, shape))}, smaller than the "
                f"{'x'.join(map(str, fixed))} this network (with Guide Me) takes",
                "--images",
            )
        if window is None or _fits(shape, window, fixed):
            group = {"x": np.stack([samples[i] for i in indices]), "z": z[indices]}
            for i, output in zip(indices, predict_arrays(model, group, batch_size), strict=True):
                outputs[i] = output
            continue
        for i in indices:
            outputs[i] = sliding_window_predict(model, samples[i], z[i], window)
    return outputs if isinstance(x, list) else np.stack(outputs)


def _fits(shape, window, fixed):
    """Whether a sample of `shape` is predicted whole: the network's own size if it has
    one, else no larger than `window` along every axis."""
    if fixed is not None:
        return tuple(shape) == tuple(fixed)
    return all(n <= w for n, w in zip(shape, window, strict=True))


def to_labels(probabilities):
    """Binary masks `(N, *spatial)` from sigmoid outputs, or class ids from softmax
    outputs (a list of such arrays for a list of outputs of different sizes)."""
    if isinstance(probabilities, list):
        return [to_labels(output[None])[0] for output in probabilities]
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
