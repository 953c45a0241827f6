"""How the data reaches the devices: the train and val splits, their batches (shuffled,
augmented, padded with zero-weighted samples to a multiple of the devices) and the Keras
distribution a batch is split under."""

import contextlib

import keras

from inside_keras.errors import InputError


@contextlib.contextmanager
def distribution_scope(distribution):
    """The Keras distribution `training.distribution` names, in effect inside; yields
    the number of devices a batch is split over.

    `"data_parallel"`: `keras.distribution.DataParallel` over every device Keras lists
    (variables replicated, each batch split along its first axis), which Keras
    implements on JAX only. Batches that do not split evenly (a batch size that is
    not a multiple of the devices, the last batch of a split) are padded by
    `make_batches` with zero-weighted samples.

    Raises:
        InputError: data parallel on another backend.
    """
    if distribution == "none":
        yield 1
        return
    backend = keras.backend.backend()
    if backend != "jax":
        raise InputError(
            f"data_parallel runs on the JAX backend only (Keras's distribution API); "
            f"this is {backend}: set KERAS_BACKEND=jax, or training.distribution: none",
            "training.distribution",
        )
    devices = keras.distribution.list_devices()
    with keras.distribution.DataParallel(devices=devices).scope():
        yield len(devices)


def split_for_training(arrays, source):
    """The train and val splits of prepared arrays; InputError if either is empty."""
    from inside_keras.data.prepared import select_split

    train_arrays, val_arrays = select_split(arrays, "train"), select_split(arrays, "val")
    if len(train_arrays["x"]) == 0 or len(val_arrays["x"]) == 0:
        raise InputError("needs samples in both the train and val splits", source)
    return train_arrays, val_arrays


def make_batches(config, train_arrays, val_arrays, devices=1):
    """Shuffled (and, with `data.augment`, flipped) train batches; val batches in order.

    Both are assembled by `batch_threads()` threads, ahead of the train step. Over
    several `devices` (data parallel) every batch is padded to a multiple of them with
    zero-weighted samples (`ConditionedBatches`'s `batch_multiple`).
    """
    from inside_keras.data.batching import ConditionedBatches, augmentation_for, batch_threads

    flips = ("horizontal", "vertical") if config.data.augment else ()
    threads = {"workers": batch_threads(), "use_multiprocessing": False, "batch_multiple": devices}
    try:
        train_batches = ConditionedBatches(
            train_arrays,
            batch_size=config.training.batch_size,
            shuffle=True,
            flips=flips,
            seed=config.training.seed,
            flip_rule=augmentation_for(train_arrays) if flips else None,
            **threads,
        )
    except ValueError as error:
        raise InputError(str(error), "data.augment") from None
    val_batches = ConditionedBatches(val_arrays, batch_size=config.training.batch_size, **threads)
    return train_batches, val_batches
