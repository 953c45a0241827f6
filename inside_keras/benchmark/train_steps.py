"""Train-step and inference timing of networks with each conditioning configuration.

All configurations of one workload live in one process; after their warm-up they
are timed round-robin (`timing.interleaved_times`), one train step of each per
round, through `model.train_on_batch`, the train function `fit` uses (compiled with
the model's `jit_compile`). Each step is synchronised by converting its loss to a
Python float.
"""

import time

import keras
import numpy as np

from inside_keras.benchmark.gpu_memory import gpu_name, gpu_peak_memory, process_peak_mb
from inside_keras.benchmark.memory import PeakMemory
from inside_keras.benchmark.timing import interleaved_times, paired_ratios
from inside_keras.config import ModelConfig
from inside_keras.runs.progress import progress
from inside_keras.training import build_model as build_network
from inside_keras.training import precision_optimizer


def synthetic_batch(workload, condition_dim, seed=0):
    """`(inputs, mask)` of random images, one-hot conditions and binary masks."""
    rng = np.random.default_rng(seed)
    shape = (workload.batch_size, *workload.input_shape)
    inputs = {
        "image": rng.random(shape, dtype=np.float32),
        "condition": np.eye(condition_dim, dtype=np.float32)[
            rng.integers(0, condition_dim, workload.batch_size)
        ],
    }
    mask = (rng.random((*shape[:-1], 1)) < 0.5).astype(np.float32)
    return inputs, mask


def build_model(workload, conditioning, placement, condition_dim, jit_compile, precision):
    """A compiled network (Adam, binary cross-entropy) for one configuration, built
    and compiled as `train` does under `training.precision` = `precision`."""
    model_config = ModelConfig(
        architecture=workload.architecture,
        conditioning=conditioning,
        placement=placement,
        depth=workload.depth,
        base_filters=workload.base_filters,
    )
    model = build_network(model_config, workload.input_shape, condition_dim, 1, precision)
    model.compile(
        optimizer=precision_optimizer(keras.optimizers.Adam(1e-3), precision),
        loss="binary_crossentropy",
        jit_compile=jit_compile,
    )
    return model


def measure_workload(workload, settings, backend, precision="float32", log=print):
    """Train-step time, ratio to the unconditioned network, peak memory (resident, and
    on the GPU where the backend uses one) and inference speed.

    Args:
        workload: a `settings.Workload`.
        settings: `settings.BenchSettings`.
        backend: the Keras backend in use (recorded, and picks `jit_compile`).
        precision: the `training.precision` the networks are built in.
        log: callable for progress lines.

    Returns:
        One record per configuration (see `report.validate_records`).
    """
    inputs, mask = synthetic_batch(workload, settings.condition_dim)
    jit = settings.jit_for(backend)
    configurations = workload.configurations(settings.configurations)
    gpu = gpu_name(backend)
    models = []
    label = f"[{backend}] {workload.label()} {precision}"
    with progress(f"{label} build and compile") as update:
        for conditioning, placement in configurations:
            keras.utils.set_random_seed(0)
            model = build_model(
                workload, conditioning, placement, settings.condition_dim, jit, precision
            )
            float(model.train_on_batch(inputs, mask))  # builds and compiles
            models.append(model)
            update(len(models), len(configurations))
    for _ in range(settings.warmup):
        for model in models:
            float(model.train_on_batch(inputs, mask))
    peaks, gpu_peaks = [], []
    for model in models:
        with PeakMemory() as memory:
            float(model.train_on_batch(inputs, mask))
        peaks.append(memory.peak_mb)
        if gpu is not None:
            with gpu_peak_memory(backend) as gpu_memory:
                float(model.train_on_batch(inputs, mask))
            gpu_peaks.append(gpu_memory.peak_mb)
    log(f"  {label}: compiled and warmed up; timing {settings.steps} rounds")
    with progress(f"{label} timing rounds") as update:
        train_times = interleaved_times(
            [_train_task(model, inputs, mask) for model in models], settings.steps, update
        )
    ratios = paired_ratios(train_times)
    inference = None
    if settings.inference_steps:
        for model in models:
            np.asarray(model.predict_on_batch(inputs))  # compiles the predict function
        inference = interleaved_times(
            [_predict_task(model, inputs) for model in models], settings.inference_steps
        )
    records = []
    for k, (conditioning, placement) in enumerate(configurations):
        step = np.median(train_times[:, k])
        record = {
            "kind": "train_step",
            "backend": backend,
            "device": gpu or "cpu",
            "architecture": workload.architecture,
            "precision": precision,
            "spatial_dims": workload.spatial_dims,
            "conditioning": conditioning,
            "placement": placement,
            "step_ms": 1000 * float(step),
            "images_per_s": workload.batch_size / float(step),
            "step_ms_quartiles": [
                1000 * float(q) for q in np.percentile(train_times[:, k], [25, 75])
            ],
            "ratio_vs_none": float(ratios[k]),
            "peak_memory_mb": float(peaks[k]),
            "jit_compile": bool(jit),
            "steps": settings.steps,
            "input_shape": list(workload.input_shape),
            "batch_size": workload.batch_size,
            "depth": workload.depth,
            "base_filters": workload.base_filters,
        }
        if gpu is not None:
            record["gpu_peak_mb"] = float(gpu_peaks[k])
            if (high_water := process_peak_mb(backend)) is not None:
                record["gpu_process_peak_mb"] = high_water
        if inference is not None:
            record["inference_images_per_s"] = workload.batch_size / float(
                np.median(inference[:, k])
            )
        records.append(record)
    return records


#: The configuration whose eager and compiled train steps `measure_compile` compares.
COMPILED_CONFIGURATION = ("inside", "bottleneck")


def measure_compile(workload, settings, backend, log=print):
    """Eager against compiled train steps of one network, INSIDE at its bottleneck.

    The same network is built twice (same seed), compiled with `jit_compile=False` and
    `jit_compile=True` (XLA on JAX and TensorFlow, `torch.compile` on PyTorch); each
    model's first train step is timed on its own (tracing and compiling happen there),
    then both are warmed up and timed round-robin.

    Args:
        workload: a `settings.Workload`.
        settings: `settings.BenchSettings` (warm-up steps, timed rounds).
        backend: the Keras backend in use (recorded).
        log: callable for progress lines.

    Returns:
        One `compile` record: `eager_step_ms` and `compiled_step_ms` (medians),
        `compiled_vs_eager` (the median ratio over rounds), each model's first step in
        seconds, and `compile_s`: the compiled model's first step less one of its timed
        steps (the time tracing and compiling took).
    """
    inputs, mask = synthetic_batch(workload, settings.condition_dim)
    conditioning, placement = COMPILED_CONFIGURATION
    label = f"[{backend}] {workload.label()}"
    models, first_steps = [], []
    for jit in (False, True):
        log(f"  {label}: {'compiling' if jit else 'eager'}, first step")
        keras.utils.set_random_seed(0)
        model = build_model(
            workload, conditioning, placement, settings.condition_dim, jit, "float32"
        )
        start = time.perf_counter()
        float(model.train_on_batch(inputs, mask))
        first_steps.append(time.perf_counter() - start)
        models.append(model)
    for _ in range(settings.warmup):
        for model in models:
            float(model.train_on_batch(inputs, mask))
    with progress(f"{label} eager and compiled, timing rounds") as update:
        times = interleaved_times(
            [_train_task(model, inputs, mask) for model in models], settings.steps, update
        )
    eager, compiled = np.median(times, axis=0)
    return {
        "kind": "compile",
        "backend": backend,
        "device": gpu_name(backend) or "cpu",
        "architecture": workload.architecture,
        "spatial_dims": workload.spatial_dims,
        "input_shape": list(workload.input_shape),
        "batch_size": workload.batch_size,
        "depth": workload.depth,
        "base_filters": workload.base_filters,
        "conditioning": conditioning,
        "placement": placement,
        "eager_step_ms": 1000 * float(eager),
        "compiled_step_ms": 1000 * float(compiled),
        "compiled_vs_eager": float(paired_ratios(times)[1]),
        "eager_first_step_s": first_steps[0],
        "compiled_first_step_s": first_steps[1],
        "compile_s": max(first_steps[1] - float(compiled), 0.0),
        "steps": settings.steps,
    }


def _train_task(model, inputs, mask):
    def task():
        float(model.train_on_batch(inputs, mask))

    return task


def _predict_task(model, inputs):
    def task():
        np.asarray(model.predict_on_batch(inputs))

    return task
