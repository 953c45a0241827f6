"""Resampling and centred crop/pad of the leading (spatial) axes of an array.

The spatial axes are the first `len(spacing)` axes: `(H, W)` of an ACDC slice stack
`(H, W, slices)`, `(D, H, W)` of a volume `(D, H, W, C)`; later axes (slices, frames,
channels) are untouched. Pixels are treated as cells: output pixel `i` of size `to` mm
covers `[i * to, (i + 1) * to)` mm, so its centre samples the input at
`(i + 0.5) * to / from - 0.5`. Resampling to a finer grid with `order=0` and back again
returns the input exactly.
"""

import numpy as np

#: Relative spacing difference under which an axis counts as already at the target
#: spacing and is left as it is (headers store spacings as float32, users type 1.56
#: for 1.5625).
SPACING_TOLERANCE = 0.01


def scale_factors(spacing_from, spacing_to):
    """Per spatial axis, `to / from`, or exactly 1.0 within `SPACING_TOLERANCE`."""
    factors = []
    for source, target in zip(spacing_from, spacing_to, strict=True):
        ratio = float(target) / float(source)
        factors.append(1.0 if abs(ratio - 1.0) <= SPACING_TOLERANCE else ratio)
    return tuple(factors)


def resampled_shape(shape, spacing_from, spacing_to):
    """The spatial shape of `shape` (its first `len(spacing_from)` axes) after resampling."""
    factors = scale_factors(spacing_from, spacing_to)
    return tuple(max(1, round(n / f)) for n, f in zip(shape, factors, strict=False))


def resample(array, spacing_from, spacing_to, order, shape=None):
    """Resample the spatial axes of `array` from one voxel spacing to another.

    Args:
        array: `(*spatial, ...)`; images float, labels integer.
        spacing_from: voxel size of the spatial axes of `array` in mm, e.g. `(row,
            column)` for `(H, W, slices)`.
        spacing_to: the voxel size wanted in mm, as many values.
        order: 1 (linear) for images, 0 (nearest) for labels.
        shape: the spatial output shape; default `resampled_shape(...)`. Pass the
            original shape to undo a resampling exactly.

    Returns:
        The resampled array, of `array`'s dtype; `array` itself when no axis changes.
    """
    factors = scale_factors(spacing_from, spacing_to)
    shape = tuple(shape or resampled_shape(array.shape, spacing_from, spacing_to))
    if all(f == 1.0 for f in factors) and shape == array.shape[: len(factors)]:
        return array
    extra = array.ndim - len(factors)
    from scipy import ndimage  # imported when first needed: it takes half a second

    return ndimage.affine_transform(
        array,
        matrix=np.array(factors + (1.0,) * extra),
        offset=[(f - 1.0) / 2 for f in factors] + [0.0] * extra,
        output_shape=shape + array.shape[len(factors) :],
        order=order,
        mode="nearest",
    )


def centred_start(shape, size):
    """Where a centred window of `size` (a tuple, or one side of a square) starts in
    the leading axes of `shape`; negative pads."""
    sizes = tuple(size) if isinstance(size, tuple | list) else (size, size)
    return tuple((n - side) // 2 for n, side in zip(shape, sizes, strict=False))


def window(array, start, shape, fill=0):
    """The window `array[start : start + shape]` of the leading `len(start)` axes,
    filled with `fill` outside.

    A negative `start` or a window past the end pads; inside the array it crops. With
    `start` negated, `window` puts a window back onto a canvas of the original shape.
    """
    spatial = len(start)
    out = np.full(tuple(shape) + array.shape[spatial:], fill, dtype=array.dtype)
    source, target = [], []
    for begin, length, n in zip(start, shape, array.shape[:spatial], strict=True):
        lo, hi = max(begin, 0), min(begin + length, n)
        source.append(slice(lo, max(lo, hi)))
        target.append(slice(lo - begin, lo - begin + max(0, hi - lo)))
    out[tuple(target)] = array[tuple(source)]
    return out


def resize_plane(plane, size, order):
    """A 2-D plane `(H, W[, C])` resized to `size` `(H, W)` by Pillow (bilinear: order 1;
    nearest: 0), as float32; None or the plane's own size: the plane unchanged."""
    from PIL import Image

    if size is None or tuple(plane.shape[:2]) == tuple(size):
        return plane
    height, width = (int(side) for side in size)
    method = Image.Resampling.BILINEAR if order else Image.Resampling.NEAREST
    if plane.ndim == 2:
        return np.asarray(
            Image.fromarray(plane.astype(np.float32), mode="F").resize((width, height), method)
        )
    return np.stack([resize_plane(plane[..., c], size, order) for c in range(plane.shape[-1])], -1)
