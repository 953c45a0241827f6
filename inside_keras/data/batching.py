"""Batches of prepared arrays for `model.fit`, with flips that keep the condition true.

`ConditionedBatches` is a `keras.utils.PyDataset` (so it works on every backend)
yielding `({"image": x, "condition": z}, y)`. With `flips`, each sample is flipped at
random along the named axes; the image and mask are flipped, and the condition vector
`z` is permuted by the sample's `FlipRule`, looked up by its condition type (the
prepared `condition` array): a horizontal flip swaps left and right quadrants, a vertical
flip swaps top and bottom; colour, shape and size do not change. Datasets with other
condition types pass their own rules.
"""

import math
from dataclasses import dataclass
from types import MappingProxyType

import keras
import numpy as np


@dataclass(frozen=True)
class FlipRule:
    """How flips act on a condition vector: `z_flipped = z[permutation]`.

    Args:
        horizontal: permutation of `z` under a left-right flip; None if unchanged.
        vertical: permutation of `z` under a top-bottom flip; None if unchanged.
    """

    horizontal: tuple | None = None
    vertical: tuple | None = None


#: Flip rules by condition type. Coordinates are one-hot over
#: [top_left, top_right, bottom_right, bottom_left].
FLIP_RULES = MappingProxyType(
    {
        "coordinates": FlipRule(horizontal=(1, 0, 3, 2), vertical=(3, 2, 1, 0)),
        "colour": FlipRule(),
        "shape": FlipRule(),
        "size": FlipRule(),
    }
)

#: Flip name -> image axis of a `(H, W, C)` sample.
FLIP_AXES = MappingProxyType({"vertical": 0, "horizontal": 1})


def flip_sample(image, mask, z, condition, flip, rules=FLIP_RULES):
    """Flip one sample and permute its condition accordingly.

    Args:
        image: `(H, W, C)` array.
        mask: `(H, W, ...)` array.
        z: `(K,)` condition vector.
        condition: condition type, a key of `rules`.
        flip: `"horizontal"` or `"vertical"`.
        rules: mapping condition type -> `FlipRule`.

    Returns:
        `(image, mask, z)` flipped.
    """
    _check(flips=[flip], conditions=[condition], rules=rules)
    permutation = getattr(rules[condition], flip)
    z = z if permutation is None else z[list(permutation)]
    return np.flip(image, FLIP_AXES[flip]), np.flip(mask, FLIP_AXES[flip]), z


def _check(flips, conditions, rules):
    """Raise `ValueError` for a flip not in `FLIP_AXES` or a condition not in `rules`."""
    unknown = sorted(set(flips) - set(FLIP_AXES))
    if unknown:
        raise ValueError(f"unknown flips {unknown}; allowed: {list(FLIP_AXES)}")
    missing = sorted(set(conditions) - set(rules))
    if missing:
        raise ValueError(
            f"no flip rule for conditions {missing}; known: {list(rules)} "
            "(pass `flip_rules` with them)"
        )


class ConditionedBatches(keras.utils.PyDataset):
    """Batches `({"image": x, "condition": z}, y)` of prepared arrays.

    Args:
        arrays: dict with `x`, `y`, `z` (see `inside_keras.data.prepared`) and, for
            flips, `condition` (the condition type of each sample).
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: draw a new sample order every epoch.
        flips: flips to apply, a subset of `("horizontal", "vertical")`; each is
            applied to a sample with probability `flip_probability`.
        flip_probability: chance of each flip per sample.
        seed: seeds the order and the flips (different per epoch and batch).
        flip_rules: mapping condition type -> `FlipRule`.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of `PyDataset`.
    """

    def __init__(
        self,
        arrays,
        batch_size=32,
        shuffle=False,
        flips=(),
        flip_probability=0.5,
        seed=0,
        flip_rules=FLIP_RULES,
        **kwargs,
    ):
        super().__init__(**kwargs)
        with_conditions = bool(flips) and "condition" in arrays
        conditions = np.unique(arrays["condition"]).tolist() if with_conditions else []
        _check(flips, conditions, flip_rules)
        if flips and not with_conditions:
            raise ValueError("flips need the `condition` array to know how `z` changes")
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be at least 1, got {batch_size}")
        self.x, self.y, self.z = arrays["x"], arrays["y"], arrays["z"]
        self.condition = arrays.get("condition")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.flips = tuple(flips)
        self.flip_probability = flip_probability
        self.seed = seed
        self.flip_rules = flip_rules
        self.epoch = 0
        self.order = self._order()

    def _order(self):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range for {len(self)} batches")
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x, y, z = self.x[rows], self.y[rows], self.z[rows]
        if self.flips:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            for flip in self.flips:
                for i in np.flatnonzero(rng.random(len(rows)) < self.flip_probability):
                    x[i], y[i], z[i] = flip_sample(
                        x[i], y[i], z[i], str(self.condition[rows[i]]), flip, self.flip_rules
                    )
        return {"image": x, "condition": z}, y

    def set_epoch(self, epoch):
        """Continue at `epoch` (0-based): its order and flips, as if the earlier epochs ran."""
        self.epoch = epoch
        self.order = self._order()

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)
