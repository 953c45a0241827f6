"""Peak memory of `inside-keras train` on a prepared dataset larger than it may use.

    python benchmarks/mapped_memory.py [--gigabytes 0.25 6] [--steps 100]
        [--backend torch] [--tmp DIR] [--json FILE]

For each size, writes a prepared dataset of about that many GiB into a temporary
folder under `--tmp`, then runs `inside-keras train` on it in a subprocess for one
epoch capped at `--steps` train steps and as many validation batches (Keras's
`KERAS_MAX_STEPS_PER_EPOCH`), and deletes the folder. The dataset: 2-D images
128x128x1 (float32 in [0, 1]), label maps of 4 classes (uint8), one-hot conditions of
4 values, samples drawn into train/val/test (80/10/10 %) at random, so a split's rows
lie all over the file. It is written a block of samples at a time, member by member
(`zipfile` + `np.lib.format`, the layout `np.savez` writes): the whole set is never in
memory here either. The network: a U-Net (depth 3, 8 filters) with INSIDE at the
bottleneck, batch 8.

Per size it reports the train process's peak resident set size (`ru_maxrss` of that
child, from `os.wait4`: every page it had resident at once, file-backed ones
included), and, sampled from `/proc/PID/status` every 20 ms (lower bounds), the
peaks of its anonymous memory (`RssAnon`: the process's own allocations) and of its
file-backed pages (`RssFile`: mapped files, i.e. the shared libraries, and any
pages of the prepared file mapped at the time, such as the block the value check
walks). The file has just been written, so its pages are in the page cache: reading
them costs no disk time, and the page cache is the kernel's memory, not the train
process's (`train` reads batches with positional reads, which map nothing).

For sizes up to `PIPELINE_GIB`, it also times the train split's input pipeline
(`ConditionedBatches`, as `train` builds it) read into memory and mapped, without and
with flips: what mapping costs a batch.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inside_keras.benchmark.report import machine_info  # noqa: E402

SIZE = 128
CLASSES = 4
CONDITIONS = 4
#: Bytes of one sample: image (float32) and label map (uint8).
SAMPLE_BYTES = SIZE * SIZE * (4 + 1)
BATCH = 8
#: Largest dataset whose input pipeline is also timed read into memory.
PIPELINE_GIB = 1.0
#: Passes of the train split timed per way of reading (alternating).
PIPELINE_PASSES = 5
#: Samples generated and written at a time.
BLOCK = 2048
SPLITS = np.array(["train", "val", "test"])


def _write_member(archive, name, shape, dtype, blocks):
    """Write the member `name.npy` (a `.npy` of `shape` and `dtype`, stored
    uncompressed) from `blocks`, arrays whose rows make up the array in order."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False}
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(member, {**header, "shape": shape})
        for block in blocks:
            member.write(np.ascontiguousarray(block, dtype).data)


def write_dataset(path, samples, seed=0):
    """A prepared dataset (`inside_keras.data.prepared`) of `samples` random samples at
    `path`, written a block of `BLOCK` samples at a time; returns the samples per split."""
    rng = np.random.default_rng(seed)
    starts = range(0, samples, BLOCK)

    def images():
        for start in starts:
            count = min(BLOCK, samples - start)
            yield rng.random((count, SIZE, SIZE, 1), dtype=np.float32)

    def labels():
        for start in starts:
            count = min(BLOCK, samples - start)
            yield rng.integers(0, CLASSES, (count, SIZE, SIZE), dtype=np.uint8)

    small = {
        "z": np.eye(CONDITIONS, dtype=np.float32)[rng.integers(0, CONDITIONS, samples)],
        "split": SPLITS[rng.choice(3, samples, p=[0.8, 0.1, 0.1])],
        "name": np.array([f"s{i:07d}" for i in range(samples)]),
        "condition": np.full(samples, "coordinates"),  # z: quadrants (flips know them)
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _write_member(archive, "x", (samples, SIZE, SIZE, 1), np.float32, images())
        _write_member(archive, "y", (samples, SIZE, SIZE), np.uint8, labels())
        for name, array in small.items():
            _write_member(archive, name, array.shape, array.dtype, [array])
    return {split: int((small["split"] == split).sum()) for split in SPLITS}


def _status_kib(pid, keys):
    """The `keys` fields of `/proc/PID/status` in KiB ({} once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as stream:
            fields = dict(line.split(":", 1) for line in stream if ":" in line)
    except (OSError, ValueError):
        return {}
    return {key: int(fields[key].split()[0]) for key in keys if key in fields}


def _sample_peaks(pid, peaks, stop, interval=0.02):
    while not stop.wait(interval):
        for key, value in _status_kib(pid, peaks).items():
            peaks[key] = max(peaks[key], value)


def train_peak_memory(data, folder, steps, backend):
    """Run `inside-keras train` on `data` for `steps` steps; its peak memory and time."""
    out = folder / "run"
    config = folder / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: unet, conditioning: inside, placement: bottleneck, "
        "depth: 3, base_filters: 8}\n"
        f"training: {{epochs: 1, batch_size: {BATCH}, seed: 0}}\n"
        f"output: {{dir: {out}}}\n"
    )
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "KERAS_MAX_STEPS_PER_EPOCH": str(steps),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "inside_keras", "train", "--config", str(config)]
    log = folder / "train.log"
    peaks = {"RssAnon": 0, "RssFile": 0}
    stop = threading.Event()
    start = time.perf_counter()
    with open(log, "wb") as stream:
        process = subprocess.Popen([*command, "--quiet"], stdout=stream, stderr=stream, env=env)
        sampler = threading.Thread(target=_sample_peaks, args=(process.pid, peaks, stop))
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"inside-keras train failed ({process.returncode}):\n{tail}")
    with open(out / "log.csv", encoding="utf-8") as stream:
        header, row = stream.read().splitlines()[:2]
    epoch = dict(zip(header.split(","), row.split(","), strict=True))
    return {
        "train_seconds": round(seconds, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "peak_rss_anon_mib": round(peaks["RssAnon"] / 1024, 1),
        "peak_rss_file_mib": round(peaks["RssFile"] / 1024, 1),
        "loss": float(epoch["loss"]),
        "val_loss": float(epoch["val_loss"]),
    }


def pipeline_rates(data):
    """Batches/s of the train split's input pipeline (`ConditionedBatches`, batch
    `BATCH`, shuffled), read into memory and mapped, without and with both flips: the
    median of `PIPELINE_PASSES` passes, alternating between the two ways of reading."""
    # Batches are Keras `PyDataset`s: imported once `main` has set the backend.
    from inside_keras.benchmark.throughput import batches_per_s
    from inside_keras.data.prepared import load_prepared, select_split

    ways = {
        "in_memory": select_split(load_prepared(data), "train"),
        "mapped": select_split(load_prepared(data, mmap=True), "train"),
    }
    rates = {}
    for flips, label in (((), "no_flips"), (("horizontal", "vertical"), "flips")):
        passes = {way: [] for way in ways}
        for _ in range(PIPELINE_PASSES):
            for way, arrays in ways.items():
                passes[way].append(batches_per_s(arrays, BATCH, 1, flips))
        for way in ways:
            rates[f"pipeline_{way}_{label}_batches_per_s"] = round(float(np.median(passes[way])))
    return rates


def measure(gigabytes, steps, backend, tmp):
    """One size: write the dataset, train on it, delete it; the record."""
    samples = max(64, round(gigabytes * 2**30 / SAMPLE_BYTES))
    free = shutil.disk_usage(tmp).free
    if free < 1.1 * samples * SAMPLE_BYTES:
        raise SystemExit(f"{tmp}: {free / 2**30:.1f} GiB free, need {gigabytes * 1.1:.1f}")
    with tempfile.TemporaryDirectory(prefix="inside-keras-mapped-", dir=tmp) as name:
        folder = Path(name)
        data = folder / "prepared.npz"
        start = time.perf_counter()
        splits = write_dataset(data, samples)
        written = time.perf_counter() - start
        record = {
            "samples": samples,
            "splits": splits,
            "file_gib": round(data.stat().st_size / 2**30, 3),
            "write_seconds": round(written, 1),
            "steps": min(steps, math.ceil(splits["train"] / BATCH)),
            "validation_batches": min(steps, math.ceil(splits["val"] / BATCH)),
            "batch_size": BATCH,
            "backend": backend,
        }
        print(f"{record['file_gib']} GiB written in {written:.0f} s; training", flush=True)
        record.update(train_peak_memory(data, folder, steps, backend))
        if gigabytes <= PIPELINE_GIB:
            record.update(pipeline_rates(data))
    return record


def _memory_gib():
    with open("/proc/meminfo", encoding="ascii") as stream:
        total = next(line for line in stream if line.startswith("MemTotal:"))
    return round(int(total.split()[1]) / 2**20, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, nargs="+", default=[0.25, 6.0])
    parser.add_argument("--steps", type=int, default=100, help="train steps (and val batches)")
    parser.add_argument("--backend", default="torch", help="jax, torch or tensorflow")
    parser.add_argument("--tmp", default=tempfile.gettempdir(), help="folder for the data")
    parser.add_argument("--json", metavar="FILE", help="also write the records to FILE")
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    records = []
    for gigabytes in args.gigabytes:
        records.append(measure(gigabytes, args.steps, args.backend, args.tmp))
        print(json.dumps(records[-1]), flush=True)
    if args.json:
        machine = {**machine_info(), "memory_gib": _memory_gib()}
        text = json.dumps({"machine": machine, "results": records}, indent=2) + "\n"
        Path(args.json).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
