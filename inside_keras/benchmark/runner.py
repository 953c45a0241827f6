"""Run the benchmarks: in this process for its backend, or one subprocess per backend.

`run_backend` measures with whatever backend Keras loaded; `run_benchmarks` starts a
fresh interpreter per backend with `KERAS_BACKEND` set before Keras is imported
(`python -m inside_keras.benchmark.runner SETTINGS.json RECORDS.json`), then times
the generator in this process (it uses no backend).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inside_keras.benchmark.report import machine_info
from inside_keras.benchmark.settings import BACKENDS, BenchSettings
from inside_keras.errors import InputError
from inside_keras.runs.atomic import write_text

#: The pipeline record's rates: key -> the flips `ConditionedBatches` applies (both:
#: `train` with `data.augment: true`; none: without, the paper's settings).
PIPELINE_FLIPS = {
    "pipeline_batches_per_s": ("horizontal", "vertical"),
    "pipeline_batches_per_s_without_flips": (),
}


def _log_stderr(message):
    print(message, file=sys.stderr, flush=True)


def run_backend(settings, log=_log_stderr, on_records=None):
    """Measure every workload in every precision (each workload in all precisions before
    the next workload), and the input pipeline at each workload's size, with the loaded
    Keras backend.

    Args:
        settings: `settings.BenchSettings`.
        log: callable for progress lines.
        on_records: optional callable given the records so far after each workload
            and precision (a process stopped later keeps what it finished).

    Returns:
        A list of records: per workload and precision, one `train_step` record per
        configuration and one `pipeline` record (the pipeline's batches/s, with both
        flips and without, next to the unconditioned network's train-step batches/s);
        with `settings.compare_compile`, one `compile` record per workload instead.
    """
    import keras

    from inside_keras.benchmark.throughput import pipeline_batches_per_s
    from inside_keras.benchmark.train_steps import measure_compile, measure_workload
    from inside_keras.data.batching import batch_threads

    backend = keras.backend.backend()
    records, pipelines = [], {}
    if settings.compare_compile:
        for workload in settings.workloads:
            log(f"[{backend}] {workload.label()}: eager against compiled")
            records.append(measure_compile(workload, settings, backend, log))
            if on_records is not None:
                on_records(records)
        return records
    for workload in settings.workloads:
        for precision in settings.precisions:
            log(f"[{backend}] {workload.label()}, {precision}")
            steps = measure_workload(workload, settings, backend, precision, log)
            if workload not in pipelines:
                pipelines[workload] = pipeline_batches_per_s(
                    workload,
                    settings.pipeline_samples,
                    settings.pipeline_epochs,
                    {key: (None, flips) for key, flips in PIPELINE_FLIPS.items()},
                    settings.pipeline_megabytes,
                )
            reference = next(r for r in steps if r["conditioning"] == "none")
            records += steps
            records.append(
                {
                    "kind": "pipeline",
                    "backend": backend,
                    "architecture": workload.architecture,
                    "precision": precision,
                    "spatial_dims": workload.spatial_dims,
                    **pipelines[workload],
                    "pipeline_threads": batch_threads(),
                    "step_batches_per_s": 1000.0 / reference["step_ms"],
                    "batch_size": workload.batch_size,
                    "input_shape": list(workload.input_shape),
                }
            )
            if on_records is not None:
                on_records(records)
    return records


def check_backends(backend):
    """The backends `--backend` names: one of `BACKENDS`, or all of them for `"all"`."""
    if backend == "all":
        return BACKENDS
    if backend not in BACKENDS:
        raise InputError(
            f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}, all", "--backend"
        )
    return (backend,)


def _worker_environment(backend):
    # On a GPU, JAX would take 75 % of its memory at start; allocate as needed instead,
    # so that other processes (and the other backend) can share the device.
    env = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", **os.environ, "KERAS_BACKEND": backend}
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def _start_worker(backend, settings, folder):
    """Start `run_backend` in a fresh interpreter with `KERAS_BACKEND=backend`."""
    settings_path = Path(folder) / f"settings-{backend}.json"
    records_path = Path(folder) / f"records-{backend}.json"
    settings_path.write_text(json.dumps(settings.to_dict()), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "inside_keras.benchmark.runner",
        str(settings_path),
        str(records_path),
    ]
    return subprocess.Popen(command, env=_worker_environment(backend)), records_path


def _collect(backend, process, records_path, time_limit):
    """`(records, stopped)`: the worker's records; `stopped` if it was stopped at
    `time_limit` seconds (its records are those it finished by then)."""
    try:
        returncode = process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        records = json.loads(records_path.read_text("utf-8")) if records_path.is_file() else []
        return records, True
    if returncode != 0 or not records_path.is_file():
        raise RuntimeError(
            f"the {backend} benchmark process failed (exit code {returncode}); see its output above"
        )
    return json.loads(records_path.read_text(encoding="utf-8")), False


def run_in_subprocesses(backends, settings, jobs=1):
    """`run_backend` for each backend in its own interpreter, `jobs` at a time.

    With `jobs > 1` the backends share the CPUs: ratios stay valid (each is measured
    within one process, configurations interleaved), absolute times do not compare.

    Returns:
        `(records, stopped)`: the records of every backend, and the backends stopped
        at `settings.time_limit` (their records are those finished by then).
    """
    records, stopped = {}, []
    with tempfile.TemporaryDirectory(prefix="inside-keras-bench-") as folder:
        pending = list(backends)
        while pending:
            batch, pending = pending[:jobs], pending[jobs:]
            started = [(b, *_start_worker(b, settings, folder), time.monotonic()) for b in batch]
            for backend, process, records_path, start in started:
                limit = settings.time_limit
                left = None if limit is None else max(limit - (time.monotonic() - start), 0.0)
                records[backend], timed_out = _collect(backend, process, records_path, left)
                if timed_out:
                    _log_stderr(f"[{backend}] stopped at the time limit ({limit:.0f} s)")
                    stopped.append(backend)
    return [record for backend in backends for record in records[backend]], stopped


def run_benchmarks(settings, backends, jobs=1, log=_log_stderr):
    """Every backend in its own subprocess, then (but for the compile comparison) the
    generator; `(machine, records)`.

    Args:
        settings: `settings.BenchSettings`.
        backends: backend names.
        jobs: backend processes at once (see `run_in_subprocesses`).
        log: callable for progress lines.
    """
    from inside_keras.benchmark.throughput import generate_images_per_s

    machine = machine_info()
    start = time.perf_counter()
    records, stopped = run_in_subprocesses(backends, settings, jobs)
    if not settings.compare_compile:
        log("generate clevr-seg")
        records.append(
            {
                "kind": "generate",
                "images_per_s": generate_images_per_s(
                    settings.generate_images, settings.generate_size
                ),
                "images": settings.generate_images,
                "size": settings.generate_size,
            }
        )
    machine["load_average_end"] = machine_info().get("load_average")
    machine["backend_jobs"] = jobs
    machine["stopped_at_time_limit"] = stopped
    machine["wall_seconds"] = round(time.perf_counter() - start, 1)
    return machine, records


def _worker_main(settings_path, records_path):
    settings = BenchSettings.from_dict(json.loads(Path(settings_path).read_text("utf-8")))

    def save(records):
        write_text(records_path, json.dumps(records))

    save(run_backend(settings, on_records=save))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(*sys.argv[1:]))
