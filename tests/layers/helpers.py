"""Helpers for layer tests: random weights in DESIGN.md's order, NumPy conversion, layouts."""

import keras
import numpy as np


def randomise_weights(layer, rng, std=3.0):
    """Draw every weight of `layer` from N(0, 1) * std; return them as float64 arrays."""
    weights = [rng.standard_normal(w.shape) * std for w in layer.get_weights()]
    layer.set_weights([w.astype("float32") for w in weights])
    return [w.astype("float32").astype(np.float64) for w in weights]


def to_numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)


def to_channels_first(array):
    """`(batch, *spatial, C)` -> `(batch, C, *spatial)`, as a contiguous copy."""
    return np.ascontiguousarray(np.moveaxis(array, -1, 1))
