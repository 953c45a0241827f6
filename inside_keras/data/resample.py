"""In-plane resampling and centred crop/pad of image stacks `(H, W, ...)`.

Pixels are treated as cells: output pixel `i` of size `to` mm covers
`[i * to, (i + 1) * to)` mm, so its centre samples the input at
`(i + 0.5) * to / from - 0.5`. Axes beyond the first two (slices, frames) are untouched.
Resampling to a finer grid with `order=0` and back again returns the input exactly.
"""

import numpy as np

#: Relative spacing difference under which an axis counts as already at the target
#: spacing and is left as it is (headers store spacings as float32, users type 1.56
#: for 1.5625).
SPACING_TOLERANCE = 0.01


def scale_factors(spacing_from, spacing_to):
    """Per in-plane axis, `to / from`, or exactly 1.0 within `SPACING_TOLERANCE`."""
    factors = []
    for source, target in zip(spacing_from, spacing_to, strict=True):
        ratio = float(target) / float(source)
        factors.append(1.0 if abs(ratio - 1.0) <= SPACING_TOLERANCE else ratio)
    return tuple(factors)


def resampled_shape(shape, spacing_from, spacing_to):
    """The in-plane shape `(H', W')` of `shape[:2]` after resampling."""
    factors = scale_factors(spacing_from, spacing_to)
    return tuple(max(1, round(n / f)) for n, f in zip(shape[:2], factors, strict=True))


def resample_inplane(array, spacing_from, spacing_to, order, shape=None):
    """Resample the first two axes of `array` from one pixel spacing to another.

    Args:
        array: `(H, W, ...)`; images float, labels integer.
        spacing_from: `(row, column)` pixel size of `array` in mm.
        spacing_to: `(row, column)` pixel size wanted in mm.
        order: 1 (linear) for images, 0 (nearest) for labels.
        shape: the in-plane output shape; default `resampled_shape(...)`. Pass the
            original shape to undo a resampling exactly.

    Returns:
        The resampled array, of `array`'s dtype; `array` itself when no axis changes.
    """
    factors = scale_factors(spacing_from, spacing_to)
    shape = tuple(shape or resampled_shape(array.shape, spacing_from, spacing_to))
    if factors == (1.0, 1.0) and shape == array.shape[:2]:
        return array
    extra = array.ndim - 2
    from scipy import ndimage  # imported when first needed: it takes half a second

    return ndimage.affine_transform(
        array,
        matrix=np.array(factors + (1.0,) * extra),
        offset=[(f - 1.0) / 2 for f in factors] + [0.0] * extra,
        output_shape=shape + array.shape[2:],
        order=order,
        mode="nearest",
    )


def centred_start(shape, size):
    """The `(row, column)` where a centred `size x size` window starts; negative pads."""
    return tuple((n - size) // 2 for n in shape[:2])


def window(array, start, shape, fill=0):
    """The in-plane window `array[start : start + shape]`, filled with `fill` outside.

    A negative `start` or a window past the end pads; inside the array it crops. With
    `start` negated, `window` puts a window back onto a canvas of the original shape.
    """
    out = np.full(tuple(shape) + array.shape[2:], fill, dtype=array.dtype)
    source, target = [], []
    for begin, length, n in zip(start, shape, array.shape[:2], strict=True):
        lo, hi = max(begin, 0), min(begin + length, n)
        source.append(slice(lo, max(lo, hi)))
        target.append(slice(lo - begin, lo - begin + max(0, hi - lo)))
    out[tuple(target)] = array[tuple(source)]
    return out
