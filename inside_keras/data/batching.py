"""Batches of prepared arrays for `model.fit`, with flips that keep the condition true.

`ConditionedBatches` is a `keras.utils.PyDataset` (so it works on every backend)
yielding `({"image": x, "condition": z}, y)`, or `(inputs, y, weights)` when its
batches are padded for data parallel (`batch_multiple`). With `flips`, each sample is flipped at
random along the named axes: the image and mask are flipped, and the condition vector
`z` is changed by the dataset's `FlipRule` (see `inside_keras.data.flips`), which
`augmentation_for` picks from what the prepared arrays say about their dataset.
"""

import math

import keras
import numpy as np

from inside_keras.data.acdc import augment as acdc_augment
from inside_keras.data.clevr_seg import augment as clevr_seg_augment
from inside_keras.data.flips import check_flips, take_flipped
from inside_keras.data.parallel import default_workers
from inside_keras.errors import InputError

#: Per dataset, its augmentation module: `ARRAYS`, the prepared arrays that mark its
#: data, and `flip_rule(arrays)`.
DATASET_AUGMENTATIONS = {"CLEVR-Seg": clevr_seg_augment, "ACDC": acdc_augment}


def batch_threads():
    """Threads that assemble batches for `model.fit` (the `workers` of a `PyDataset`):
    the CPUs available to this process, at most 4.

    Batch assembly is NumPy copies, which release the GIL, so threads build batches
    in parallel and ahead of the train step (Keras's `OrderedEnqueuer` keeps up to
    `max_queue_size` ready); one worker would build each batch only when the step asks
    for it.
    """
    return min(4, default_workers())


def augmentation_for(arrays):
    """The `FlipRule` of prepared `arrays`, from the dataset whose `ARRAYS` they hold
    (CLEVR-Seg: `condition`; ACDC: `phase` and `slice_position`).

    Raises:
        InputError: the arrays are of no known dataset, or the dataset has no rule for
            their conditions.
    """
    for augmentation in DATASET_AUGMENTATIONS.values():
        if all(key in arrays for key in augmentation.ARRAYS):
            return augmentation.flip_rule(arrays)
    known = ", ".join(
        f"{name} has {list(augmentation.ARRAYS)}"
        for name, augmentation in DATASET_AUGMENTATIONS.items()
    )
    raise InputError(
        f"no flip rule for arrays {sorted(arrays)}: they are of no known dataset ({known})",
        "augmentation",
    )


class ConditionedBatches(keras.utils.PyDataset):
    """Batches `({"image": x, "condition": z}, y)` of prepared arrays.

    Args:
        arrays: dict with `x`, `y`, `z` (see `inside_keras.data.prepared`).
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: draw a new sample order every epoch.
        flips: flips to apply, a subset of `("horizontal", "vertical")`; each is
            applied to a sample with probability `flip_probability`.
        flip_probability: chance of each flip per sample.
        seed: seeds the order and the flips (different per epoch and batch).
        flip_rule: how flips change `z`, a `FlipRule` (needed with `flips`; see
            `augmentation_for`).
        batch_multiple: with more than 1 (data parallel over that many devices, whose
            batches must split evenly), every batch is padded to a multiple of it with
            repeats of its own first samples, and batches carry per-sample weights, 0
            for the repeats: they count for nothing in the loss and the metrics, and no
            sample is dropped. (Keras's distribution does not pad a smaller last batch.)
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
        flip_rule=None,
        batch_multiple=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if batch_multiple < 1:
            raise ValueError(f"`batch_multiple` must be at least 1, got {batch_multiple}")
        check_flips(flips)
        if flips and flip_rule is None:
            raise ValueError("flips need a `flip_rule` to know how `z` changes")
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be at least 1, got {batch_size}")
        self.x, self.y, self.z = arrays["x"], arrays["y"], arrays["z"]
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.flips = tuple(flips)
        self.flip_probability = flip_probability
        self.seed = seed
        self.flip_rule = flip_rule
        self.batch_multiple = batch_multiple
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
        inputs, y = self._batch(rows, index)
        if self.batch_multiple == 1:
            return inputs, y
        real = len(rows)
        padded = -(-real // self.batch_multiple) * self.batch_multiple
        repeats = np.arange(padded) % real
        weights = (np.arange(padded) < real).astype(np.float32)
        inputs = {key: value[repeats] for key, value in inputs.items()}
        return inputs, y[repeats], weights

    def _batch(self, rows, index):
        """`(inputs, y)` of the samples `rows`, flipped as batch `index` of this epoch is."""
        if not self.flips:
            return {"image": self.x[rows], "condition": self.z[rows]}, self.y[rows]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        chosen = {flip: rng.random(len(rows)) < self.flip_probability for flip in self.flips}
        spatial_dims = self.x.ndim - 2
        x = take_flipped(self.x, rows, chosen, spatial_dims)
        y = take_flipped(self.y, rows, chosen, spatial_dims)
        z = self.z[rows]
        for flip, mask in chosen.items():
            z[mask] = self.flip_rule.flip_condition(z[mask], flip)
        return {"image": x, "condition": z}, y

    def set_epoch(self, epoch):
        """Continue at `epoch` (0-based): its order and flips, as if the earlier epochs ran."""
        self.epoch = epoch
        self.order = self._order()

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)
