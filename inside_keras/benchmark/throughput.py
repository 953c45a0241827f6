"""Throughput of the input pipeline and of the synthetic CLEVR-Seg generator."""

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from inside_keras.data.batching import ConditionedBatches, augmentation_for, batch_threads


def prepared_like_arrays(workload, samples, condition_dim=4, seed=0):
    """A synthetic prepared CLEVR-Seg-like set (see `inside_keras.data.prepared`) in
    memory, every sample in the train split.

    Images of the workload's shape in [0, 1], binary masks, one-hot coordinate
    conditions and the `condition` type array that flips need.
    """
    rng = np.random.default_rng(seed)
    shape = (samples, *workload.input_shape)
    return {
        "x": rng.random(shape, dtype=np.float32),
        "y": (rng.random((*shape[:-1], 1)) < 0.5).astype(np.float32),
        "z": np.eye(condition_dim, dtype=np.float32)[rng.integers(0, condition_dim, samples)],
        "split": np.full(samples, "train"),
        "name": np.array([f"sample_{i}" for i in range(samples)]),
        "condition": np.full(samples, "coordinates"),
    }


def pipeline_samples(workload, samples, megabytes):
    """`samples`, fewer if their images and masks would take more than `megabytes`
    (at least two batches)."""
    pixels = int(np.prod(workload.input_shape[:-1]))
    sample_bytes = 4 * pixels * (workload.input_shape[-1] + 1)
    fitting = megabytes * 2**20 // sample_bytes
    return int(max(2 * workload.batch_size, min(samples, fitting)))


def pipeline_batches_per_s(workload, samples, epochs, ways, megabytes=512):
    """Batches per second of the input pipeline as `train` runs it, `ConditionedBatches`
    (shuffled) over the train split of a prepared file it maps, in each of `ways`.

    The synthetic set (`prepared_like_arrays`) is written once to a temporary prepared
    file and read back with `load_prepared(path, mmap=True)`, as `train` reads its
    data; every way is timed on that one mapping.

    Args:
        workload: the `settings.Workload` (image shape and batch size).
        samples: samples in the array set (fewer, see `pipeline_samples`).
        epochs: timed passes; the median pass's rate is kept.
        ways: name -> `(threads, flips)`: threads assembling batches (None:
            `batch_threads()`, as `train`) and the flips applied (both: `train` with
            `data.augment`; `()`: without).
        megabytes: largest array set.

    Returns:
        name -> batches per second.
    """
    from inside_keras.data.prepared import load_prepared, save_prepared, select_split

    arrays = prepared_like_arrays(workload, pipeline_samples(workload, samples, megabytes))
    with tempfile.TemporaryDirectory(prefix="inside-keras-bench-") as folder:
        path = Path(folder) / "prepared.npz"
        save_prepared(path, **arrays)
        del arrays
        mapped = select_split(load_prepared(path, mmap=True), "train")
        return {
            name: batches_per_s(mapped, workload.batch_size, epochs, flips, threads)
            for name, (threads, flips) in ways.items()
        }


def batches_per_s(arrays, batch_size, epochs, flips=("horizontal", "vertical"), threads=None):
    """Batches per second of `ConditionedBatches` over prepared `arrays` (shuffled,
    `flips` with the arrays' rule), the median of `epochs` passes.

    Batches are assembled the way `model.fit` gets them from `train`'s batches: by a
    pool of `threads` threads, each taking the next batch index and the batches
    consumed in order (what Keras's `OrderedEnqueuer` does with `workers` threads).

    Args:
        arrays: prepared arrays (in memory, or a split of a mapped file).
        batch_size: samples per batch.
        epochs: timed passes.
        flips: the flips applied (`()`: none, as `train` without `data.augment`).
        threads: threads assembling batches (None: `batch_threads()`; 1: in this one).
    """
    batches = ConditionedBatches(
        arrays,
        batch_size=batch_size,
        shuffle=True,
        flips=flips,
        flip_rule=augmentation_for(arrays) if flips else None,
    )
    threads = batch_threads() if threads is None else threads
    rates = []
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(epochs):
            start = time.perf_counter()
            for _batch in pool.map(batches.__getitem__, range(len(batches))):
                pass
            rates.append(len(batches) / (time.perf_counter() - start))
            batches.on_epoch_end()
    return float(np.median(rates))


def generate_images_per_s(images, size):
    """Images per second that `generate clevr-seg` renders and writes (one process)."""
    from inside_keras.data.clevr_seg.synthetic import GenerateOptions, generate

    with tempfile.TemporaryDirectory(prefix="inside-keras-bench-") as folder:
        start = time.perf_counter()
        generate(folder, GenerateOptions(n=images, size=size, seed=0, workers=1))
        seconds = time.perf_counter() - start
    return images / seconds
