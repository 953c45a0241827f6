"""Turn a CLEVR-Seg folder into prepared arrays (see `inside_keras.data.prepared`).

One sample per image: the RGB image in [0, 1], the union mask of the objects matching a
value of the chosen condition (drawn among the values present, by a generator seeded
with `(seed, position of the image in the listing)`, so skipping one image changes no other)
and that value's one-hot vector; resized on request (images bilinear, masks nearest);
split into train 72 %, validation 8 % and test 20 % as in the paper: by a seeded
permutation (`split="shuffled"`, the default), or as the authors' loader does
(`split="by_name"`: `inside/loaders/clevr.py` of jacenkow/inside takes the names in
sorted order, the first 72 % for training, the next 8 % for validation, the rest for
testing, so the published set's test images are theirs). Besides `x`, `y`, `z`,
`split` and `name`, the arrays hold `condition` (the condition type of each sample,
which flip augmentation reads) and `condition_value` (the index of the value in
`CONDITIONS[condition]`).
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from inside_keras.data.clevr_seg import reader
from inside_keras.data.parallel import ordered_map
from inside_keras.errors import InputError
from inside_keras.runs.limits import check_image_size

#: Fractions of the paper's split, in the order samples are assigned.
SPLIT_FRACTIONS = (("test", 0.2), ("train", 0.72), ("val", 0.08))
#: How samples are assigned to the splits: a seeded permutation, or the authors' blocks
#: of the names in order (train, val, test).
SPLITS = ("shuffled", "by_name")


@dataclass(frozen=True)
class PrepareOptions:
    """What `prepare` builds.

    Args:
        condition: a key of `reader.CONDITIONS`.
        size: side of the square output in pixels; None keeps the native size.
        seed: seeds the value drawn per image and the shuffled split.
        split: one of `SPLITS` (see the module).
        limit: use only the first `limit` images (natural order); None for all.
        skip_bad: skip malformed images (counted) instead of failing.
        workers: processes reading images (see `parallel.ordered_map`).
    """

    condition: str
    size: int | None = None
    seed: int = 0
    limit: int | None = None
    skip_bad: bool = False
    workers: int = 1
    split: str = "shuffled"

    def __post_init__(self):
        reader.check_condition(self.condition)
        if self.split not in SPLITS:
            raise InputError(f"got {self.split!r}; allowed: {', '.join(SPLITS)}", "split")
        if self.size is not None:
            if self.size < 1:
                raise InputError(f"must be a positive number of pixels, got {self.size}", "size")
            check_image_size(self.size, self.size, "size")
        if self.seed < 0:
            raise InputError(f"must be at least 0, got {self.seed}", "seed")
        if self.limit is not None and self.limit < 1:
            raise InputError(f"must be a positive number of images, got {self.limit}", "limit")
        if self.workers < 1:
            raise InputError(f"must be at least 1, got {self.workers}", "workers")


@dataclass
class Prepared:
    """The result of `prepare`: arrays for `save_prepared` and what was skipped.

    Args:
        arrays: dict of prepared arrays.
        skipped: one `InputError` per skipped image.
    """

    arrays: dict
    skipped: list = field(default_factory=list)


def split_labels(n, seed, split="shuffled"):
    """Split names (`test`, `train`, `val`) for `n` samples in name order.

    `"shuffled"`: a seeded permutation of `SPLIT_FRACTIONS` (rounded; validation takes
    the remainder). `"by_name"`: the authors' `CLEVR.split`, the first
    `int(0.72 n)` samples train, the next `int(0.08 n)` val, the rest test.
    """
    labels = np.empty(n, dtype="<U5")
    if split == "by_name":
        train, val = int(n * 0.72), int(n * 0.08)
        labels[:train], labels[train : train + val], labels[train + val :] = "train", "val", "test"
        return labels
    order = np.random.default_rng(seed).permutation(n)
    start = 0
    for index, (name, fraction) in enumerate(SPLIT_FRACTIONS):
        stop = n if index == len(SPLIT_FRACTIONS) - 1 else start + round(fraction * n)
        labels[order[start:stop]] = name
        start = stop
    return labels


def resize(image, mask, size):
    """Resize a uint8 RGB image (bilinear) and a bool mask (nearest) to `size` x `size`."""
    if size is None or image.shape[:2] == (size, size):
        return image, mask
    image = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
    mask = Image.fromarray(mask.astype(np.uint8)).resize((size, size), Image.Resampling.NEAREST)
    return image, np.asarray(mask).astype(bool)


def _read_sample(task):
    """Read one image and build its sample: `(image, mask, value)` or an `InputError`
    (returned, not raised, so that worker processes hand it back)."""
    root, name, index, options = task
    try:
        scene = reader.read_example(root, name)
        rng = np.random.default_rng([options.seed, index])
        mask, value = reader.build_sample(scene, options.condition, rng)
        return (*resize(scene.image, mask, options.size), value)
    except InputError as error:
        return error


def prepare(root, options, progress=None):
    """Prepare the CLEVR-Seg folder `root`.

    Args:
        root: CLEVR-Seg root (see `reader.find_root`).
        options: `PrepareOptions`.
        progress: optional callable `progress(done, total)` called after each image.

    Returns:
        `Prepared`.

    Raises:
        InputError: a malformed image (unless `options.skip_bad`), images of different
            sizes without `options.size`, or no usable image at all.
    """
    root = Path(root)
    names = reader.list_names(root)[: options.limit]
    if not names:
        raise InputError("no images (images/*.png) in this CLEVR-Seg folder", root)
    tasks = [(root, name, index, options) for index, name in enumerate(names)]
    x = y = None
    z = np.zeros((len(names), len(reader.CONDITIONS[options.condition])), np.float32)
    value_index = np.zeros(len(names), np.int64)
    kept, skipped = [], []
    for done, (name, result) in enumerate(
        zip(names, ordered_map(_read_sample, tasks, options.workers), strict=True), start=1
    ):
        try:
            if isinstance(result, InputError):
                raise result
            image, mask, value = result
            if x is None:
                x = np.empty((len(names), *image.shape), np.float32)
                y = np.empty((len(names), *image.shape[:2], 1), np.float32)
            elif image.shape != x.shape[1:]:
                raise InputError(
                    f"image is {image.shape[1]}x{image.shape[0]} but earlier images are "
                    f"{x.shape[2]}x{x.shape[1]}; set `size` to resize them all",
                    root / "images" / f"{name}.png",
                )
        except InputError as error:
            if not options.skip_bad:
                raise
            skipped.append(error)
        else:
            row = len(kept)
            x[row] = image / np.float32(255)
            y[row, ..., 0] = mask
            z[row] = reader.one_hot(options.condition, value)
            value_index[row] = value
            kept.append(name)
        if progress is not None:
            progress(done, len(names))
    if not kept:
        raise InputError(f"all {len(names)} images are malformed (first: {skipped[0]})", root)
    n = len(kept)
    arrays = {
        "x": x[:n],
        "y": y[:n],
        "z": z[:n],
        "split": split_labels(n, options.seed, options.split),
        "name": np.array(kept),
        "condition": np.full(n, options.condition),
        "condition_value": value_index[:n],
    }
    return Prepared(arrays, skipped)
