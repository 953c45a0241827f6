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


def _log_stderr(message):
    print(message, file=sys.stderr, flush=True)


def run_backend(settings, log=_log_stderr):
    """Measure every workload and the input pipeline with the loaded Keras backend.

    Args:
        settings: `settings.BenchSettings`.
        log: callable for progress lines.

    Returns:
        A list of records: one `train_step` record per workload and configuration, then
        one `pipeline` record.
    """
    import keras

    from inside_keras.benchmark.throughput import pipeline_batches_per_s
    from inside_keras.benchmark.train_steps import measure_workload

    backend = keras.backend.backend()
    records = []
    for workload in settings.workloads:
        log(
            f"[{backend}] {workload.spatial_dims}-D U-Net {workload.input_shape}, "
            f"batch {workload.batch_size}"
        )
        records += measure_workload(workload, settings, backend, log)
    planar = next((w for w in settings.workloads if w.spatial_dims == 2), settings.workloads[0])
    reference = next(
        r for r in records if r["spatial_dims"] == planar.spatial_dims and r["placement"] == "none"
    )
    records.append(
        {
            "kind": "pipeline",
            "backend": backend,
            "pipeline_batches_per_s": pipeline_batches_per_s(
                planar, settings.pipeline_samples, settings.pipeline_epochs
            ),
            "step_batches_per_s": 1000.0 / reference["step_ms"],
            "batch_size": planar.batch_size,
            "input_shape": list(planar.input_shape),
        }
    )
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
    env = {**os.environ, "KERAS_BACKEND": backend}
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


def _collect(backend, process, records_path):
    returncode = process.wait()
    if returncode != 0 or not records_path.is_file():
        raise RuntimeError(
            f"the {backend} benchmark process failed (exit code {returncode}); see its output above"
        )
    return json.loads(records_path.read_text(encoding="utf-8"))


def run_in_subprocesses(backends, settings, jobs=1):
    """`run_backend` for each backend in its own interpreter, `jobs` at a time; records.

    With `jobs > 1` the backends share the CPUs: ratios stay valid (each is measured
    within one process, configurations interleaved), absolute times do not compare.
    """
    records = {}
    with tempfile.TemporaryDirectory(prefix="inside-keras-bench-") as folder:
        pending = list(backends)
        while pending:
            batch, pending = pending[:jobs], pending[jobs:]
            started = [(b, *_start_worker(b, settings, folder)) for b in batch]
            for backend, process, records_path in started:
                records[backend] = _collect(backend, process, records_path)
    return [record for backend in backends for record in records[backend]]


def run_benchmarks(settings, backends, jobs=1, log=_log_stderr):
    """Every backend in its own subprocess, then the generator; `(machine, records)`.

    Args:
        settings: `settings.BenchSettings`.
        backends: backend names.
        jobs: backend processes at once (see `run_in_subprocesses`).
        log: callable for progress lines.
    """
    from inside_keras.benchmark.throughput import generate_images_per_s

    machine = machine_info()
    start = time.perf_counter()
    records = run_in_subprocesses(backends, settings, jobs)
    log("generate clevr-seg")
    records.append(
        {
            "kind": "generate",
            "images_per_s": generate_images_per_s(settings.generate_images, settings.generate_size),
            "images": settings.generate_images,
            "size": settings.generate_size,
        }
    )
    machine["load_average_end"] = machine_info().get("load_average")
    machine["backend_jobs"] = jobs
    machine["wall_seconds"] = round(time.perf_counter() - start, 1)
    return machine, records


def _worker_main(settings_path, records_path):
    settings = BenchSettings.from_dict(json.loads(Path(settings_path).read_text("utf-8")))
    records = run_backend(settings)
    Path(records_path).write_text(json.dumps(records), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(*sys.argv[1:]))
