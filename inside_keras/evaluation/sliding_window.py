"""Sliding-window inference for cases larger than a network should take whole.

A case is cut into overlapping windows (`roi` pixels or voxels per axis), each window
is predicted, and the windows' predictions are blended back into one, as MONAI's
`sliding_window_inference` and nnU-Net do. Two things differ, so that the result is
the whole case's prediction wherever the network's receptive field allows:

- **Windows on the network's own grid.** The case is first padded exactly as the
  network pads it (`inside_keras.models.size_padding`), and windows start at
  multiples of `2**depth` of that padded grid: every window pools and upsamples in step
  with the whole case.
- **Windows that know where they are.** INSIDE places its Gaussians relative to the map
  it sees; a window would move them. Each window is therefore predicted by a copy of
  the network (`window_model`, the same layers and weights) whose INSIDE layers also
  receive the window's place in the whole map, and put their Gaussians where the
  whole-case network would (`INSIDE.attention_parameters`). FiLM needs nothing (it is
  the same everywhere); Guide Me's attention is made for one map size, and a network
  with it predicts windows of exactly its size, each attended on its own.

Blending: each window contributes its central part, a margin of `(roi - step) // 2`
dropped on every side that lies inside the case, weighted by a Gaussian (sigma
`roi / 8`, as MONAI's default) where central parts overlap. Where the network's
receptive field fits within that margin (and its normalisation is per sample, not per
window: batch norm, or none), the blended prediction equals the whole-case prediction.
"""

import itertools

import keras
import numpy as np

from inside_keras.errors import InputError
from inside_keras.layers import INSIDE
from inside_keras.models.size_padding import PadToMultiple

#: Share of a window that overlaps its neighbour along each axis, by default.
OVERLAP = 0.5


def pooling_multiple(model):
    """The multiple a network pads its input to (`2**depth`), or None for a network
    saved before it padded (it takes sizes its poolings divide only)."""
    for layer in model.layers:
        if isinstance(layer, PadToMultiple):
            return layer.multiple
    return None


def fixed_size(model):
    """The spatial size a network takes, if it takes one size only (Guide Me), else None."""
    shape = model.input["image"].shape if isinstance(model.input, dict) else None
    if shape is None or any(size is None for size in shape[1:-1]):
        return None
    return tuple(shape[1:-1])


def window_model(model):
    """A copy of `model` (the same layers and weights) whose `condition` input also
    carries each sample's window: `[z, start_1..start_D, length_1..length_D]`, as
    fractions of the whole padded case per axis, which its INSIDE layers receive."""
    condition = model.input["condition"]
    image = model.input["image"]
    dims = len(image.shape) - 2
    width = condition.shape[-1]
    inputs = {
        "image": keras.Input(batch_shape=image.shape, name="image"),
        "condition": keras.Input((width + 2 * dims,), name="condition"),
    }

    def call_function(layer, *args, **kwargs):
        # The layers that took the condition take `z` alone; INSIDE also the window.
        if args and isinstance(args[0], (list, tuple)) and len(args[0]) == 2:
            x, z = args[0]
            if z is inputs["condition"]:
                if isinstance(layer, INSIDE):
                    kwargs["window"] = z[:, width:]
                return layer([x, z[:, :width]], *args[1:], **kwargs)
        return layer(*args, **kwargs)

    return keras.models.clone_model(
        model, input_tensors=inputs, clone_function=lambda layer: layer, call_function=call_function
    )


def _starts(length, roi, step):
    """Window starts along one axis: 0, step, ... and a last one flush with the end."""
    if roi >= length:
        return [0]
    starts = list(range(0, length - roi, step))
    return starts + [length - roi]


def _weights(roi, starts, length, margin):
    """Per window, its 1-D blending weights along one axis: a Gaussian over the window
    (sigma roi / 8), zero within `margin` of a side that lies inside the case."""
    positions = np.arange(roi, dtype=np.float64)
    sigma = max(roi / 8.0, 1e-6)
    gaussian = np.exp(-0.5 * ((positions - (roi - 1) / 2) / sigma) ** 2)
    profiles = []
    for start in starts:
        profile = gaussian.copy()
        if start > 0:
            profile[:margin] = 0.0
        if start + roi < length:
            profile[roi - margin :] = 0.0
        profiles.append(profile)
    return profiles


def check_roi(roi, multiple, spatial_dims):
    """`roi` as one size per spatial axis, each a positive multiple of `multiple`.

    Raises:
        InputError: a size that is not positive or not a multiple.
    """
    roi = tuple(roi) if isinstance(roi, (list, tuple)) else (roi,) * spatial_dims
    if len(roi) != spatial_dims:
        raise InputError(f"expected 1 or {spatial_dims} sizes, got {len(roi)}", "--roi-size")
    for size in roi:
        if size < 1 or size % multiple:
            raise InputError(
                f"window sizes must be positive multiples of {multiple} (2**depth of the "
                f"network), got {list(roi)}",
                "--roi-size",
            )
    return roi


def sliding_window_predict(model, image, condition, roi, overlap=OVERLAP, batch_size=8):
    """The network's prediction of one case, window by window.

    Args:
        model: a network built by this package (`unet`, `encoder_decoder`), which pads
            its input (`pooling_multiple` is not None).
        image: `(*spatial, C)` the case.
        condition: `(K,)` its condition.
        roi: window size, an int or one per spatial axis, multiples of the network's
            `2**depth`; axes of the padded case shorter than it take one window.
        overlap: share of a window its neighbour overlaps, in [0, 1).
        batch_size: windows predicted at once.

    Returns:
        `(*spatial, classes)` float32 probabilities, the shape of the case.

    Raises:
        InputError: a network saved before it padded its input, a bad `roi` or
            `overlap`.
    """
    multiple = pooling_multiple(model)
    if multiple is None:
        raise InputError(
            "this model was saved by an older inside-keras and takes whole cases only; "
            "retrain it to predict by windows",
            "--roi-size",
        )
    if not 0 <= overlap < 1:
        raise InputError(f"must be in [0, 1), got {overlap}", "overlap")
    image = np.asarray(image, np.float32)
    spatial = image.shape[:-1]
    roi = check_roi(roi, multiple, len(spatial))
    padded = [size + (-size) % multiple for size in spatial]
    before = [((-size) % multiple) // 2 for size in spatial]
    widths = [(b, p - s - b) for b, p, s in zip(before, padded, spatial, strict=True)]
    case = np.pad(image, [*widths, (0, 0)])
    roi = tuple(min(r, p) for r, p in zip(roi, padded, strict=True))
    steps = [max(multiple, int(r * (1 - overlap)) // multiple * multiple) for r in roi]
    starts = [_starts(p, r, s) for p, r, s in zip(padded, roi, steps, strict=True)]
    weights = [
        _weights(r, st, p, (r - s) // 2)
        for r, st, p, s in zip(roi, starts, padded, steps, strict=True)
    ]
    predictor = window_model(model)
    windows = list(itertools.product(*(range(len(st)) for st in starts)))
    total = weight_sum = None
    for first in range(0, len(windows), batch_size):
        chosen = windows[first : first + batch_size]
        crops, conditions = [], []
        for index in chosen:
            corner = [st[i] for st, i in zip(starts, index, strict=True)]
            region = tuple(slice(c, c + r) for c, r in zip(corner, roi, strict=True))
            crops.append(case[region])
            place = [c / p for c, p in zip(corner, padded, strict=True)]
            place += [r / p for r, p in zip(roi, padded, strict=True)]
            conditions.append(np.concatenate([condition, place]).astype(np.float32))
        outputs = predictor.predict(
            {"image": np.stack(crops), "condition": np.stack(conditions)}, verbose=0
        )
        if total is None:
            total = np.zeros((*padded, outputs.shape[-1]), np.float64)
            weight_sum = np.zeros(padded, np.float64)
        for index, output in zip(chosen, outputs, strict=True):
            corner = [st[i] for st, i in zip(starts, index, strict=True)]
            region = tuple(slice(c, c + r) for c, r in zip(corner, roi, strict=True))
            weight = _outer([w[i] for w, i in zip(weights, index, strict=True)])
            total[region] += weight[..., None] * output
            weight_sum[region] += weight
    blended = total / np.maximum(weight_sum, 1e-12)[..., None]
    crop = tuple(slice(b, b + s) for b, s in zip(before, spatial, strict=True))
    return blended[crop].astype(np.float32)


def _outer(profiles):
    """The product of 1-D profiles over their axes: `(n_1, ..., n_D)`."""
    result = profiles[0]
    for profile in profiles[1:]:
        result = np.multiply.outer(result, profile)
    return result
