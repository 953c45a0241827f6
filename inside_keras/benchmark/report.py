"""Benchmark records: the machine, validation, the printed table and the JSON file."""

import math
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from inside_keras.runs import atomic

#: Keys every train-step record has (`kind == "train_step"`).
STEP_KEYS = (
    "backend",
    "spatial_dims",
    "conditioning",
    "placement",
    "step_ms",
    "ratio_vs_none",
    "peak_memory_mb",
)

#: Keys of the per-backend input-pipeline record (`kind == "pipeline"`).
PIPELINE_KEYS = ("backend", "pipeline_batches_per_s", "step_batches_per_s")

#: Numbers of the eager against compiled record (`kind == "compile"`).
COMPILE_NUMBERS = ("eager_step_ms", "compiled_step_ms", "compiled_vs_eager", "compile_s")

_PACKAGES = ("keras", "jax", "jaxlib", "torch", "tensorflow", "tensorflow-cpu", "numpy")


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    """The machine and software a run was measured on, with the current load average."""
    info = {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "packages": {p: v for p in _PACKAGES if (v := _version(p)) is not None},
    }
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(value, 2) for value in os.getloadavg()]
    return info


def _finite_positive(record, key):
    value = record.get(key)
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"record {record!r}: `{key}` must be a finite number >= 0, got {value!r}")


def validate_records(records):
    """Raise `ValueError` for a record without the keys and finite numbers it needs."""
    for record in records:
        kind = record.get("kind", "train_step")
        if kind == "train_step":
            missing = [key for key in STEP_KEYS if key not in record]
            numbers = ("step_ms", "ratio_vs_none", "peak_memory_mb")
        elif kind == "pipeline":
            missing = [key for key in PIPELINE_KEYS if key not in record]
            numbers = ("pipeline_batches_per_s", "step_batches_per_s")
        elif kind == "generate":
            missing = [key for key in ("images_per_s",) if key not in record]
            numbers = ("images_per_s",)
        elif kind == "compile":
            missing = [key for key in ("backend", *COMPILE_NUMBERS) if key not in record]
            numbers = COMPILE_NUMBERS
        else:
            raise ValueError(
                f"record kind {kind!r} unknown; allowed: 'train_step', 'pipeline', 'generate', "
                "'compile'"
            )
        if missing:
            raise ValueError(f"{kind} record {record!r} lacks {missing}")
        for key in numbers:
            _finite_positive(record, key)


def write_json(path, machine, records):
    """Write `{"machine": ..., "results": [...]}` to `path` (atomically)."""
    validate_records(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, {"machine": machine, "results": records})


def _network(record):
    """`"2-D unet 128x128x1 b16"`: the workload of a record."""
    shape = "x".join(map(str, record.get("input_shape", [])))
    return (
        f"{record['spatial_dims']}-D {record.get('architecture', 'unet')} {shape} "
        f"b{record.get('batch_size', '?')}"
    )


def _number(value, digits):
    return "" if value is None else f"{value:.{digits}f}"


def format_table(records):
    """Markdown tables: train steps, pipeline, eager against compiled steps and
    generator throughput."""
    steps = [r for r in records if r.get("kind", "train_step") == "train_step"]
    lines = (
        []
        if not steps
        else [
            "| backend | network | precision | conditioning | placement | step ms (IQR) "
            "| images/s | ratio vs none | peak MB | GPU MB | inference img/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
    )
    for r in steps:
        low, high = r.get("step_ms_quartiles", [r["step_ms"], r["step_ms"]])
        images = r.get("images_per_s", r.get("batch_size", 0) * 1000 / r["step_ms"])
        lines.append(
            f"| {r['backend']} | {_network(r)} | {r.get('precision', 'float32')} "
            f"| {r['conditioning']} | {r['placement']} "
            f"| {r['step_ms']:.1f} ({low:.1f}–{high:.1f}) | {images:.1f} "
            f"| {r['ratio_vs_none']:.3f} | {r['peak_memory_mb']:.0f} "
            f"| {_number(r.get('gpu_peak_mb'), 0)} "
            f"| {_number(r.get('inference_images_per_s'), 1)} |"
        )
    pipelines = [r for r in records if r.get("kind") == "pipeline"]
    if pipelines:
        lines += [
            "",
            "| backend | network | precision | pipeline batches/s (flips) "
            "| without flips | train-step batches/s | pipeline / step (flips) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in pipelines:
            ratio = r["pipeline_batches_per_s"] / r["step_batches_per_s"]
            network = _network(r) if "spatial_dims" in r else "2-D unet"
            lines.append(
                f"| {r['backend']} | {network} | {r.get('precision', 'float32')} "
                f"| {r['pipeline_batches_per_s']:.1f} "
                f"| {_number(r.get('pipeline_batches_per_s_without_flips'), 1)} "
                f"| {r['step_batches_per_s']:.2f} | {ratio:.1f}× |"
            )
    compiled = [r for r in records if r.get("kind") == "compile"]
    if compiled:
        lines += [
            "",
            "| backend | network | conditioning | eager step ms | compiled step ms "
            "| compiled / eager | compile s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in compiled:
            lines.append(
                f"| {r['backend']} | {_network(r)} | {r['conditioning']} {r['placement']} "
                f"| {r['eager_step_ms']:.1f} | {r['compiled_step_ms']:.1f} "
                f"| {r['compiled_vs_eager']:.2f} | {r['compile_s']:.1f} |"
            )
    for r in records:
        if r.get("kind") == "generate":
            lines += [
                "",
                f"generate clevr-seg: {r['images_per_s']:.1f} images/s "
                f"({r['images']} images of {r['size']}×{r['size']}, one process)",
            ]
    return "\n".join(lines).lstrip("\n")
