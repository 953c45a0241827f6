"""The input pipeline at the GPU suite's sizes, against a GPU's recorded train step.

    python benchmarks/pipeline.py [--steps FILE ...] [--epochs 5] [--quick] [--json FILE]

For each network of the GPU suite (`inside-keras bench --suite gpu`: the
encoder-decoder at 200x200x3 batch 32, the U-Net at 128x128 batch 16, the 3-D U-Net
at 64x128x128 batch 2), it times the input pipeline as `train` runs it
(`ConditionedBatches` over a synthetic prepared-like set, shuffled, batches assembled by
`batch_threads()` threads): with both flips (`data.augment: true`; also in one thread,
for comparison) and without (`data.augment: false`, the paper's settings). Beside them
it sets the fastest train step recorded for that network (any backend and precision)
in `--steps`, the GPU suite's results (default: the H200's in `benchmarks/gpu/`), and
the ratios pipeline / step: the goal is at least 2 (BENCHMARKS.md).
`--quick` times the GPU suite's tiny smoke-run sizes instead (a test of the script).
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inside_keras.benchmark.report import machine_info  # noqa: E402
from inside_keras.benchmark.runner import PIPELINE_FLIPS  # noqa: E402
from inside_keras.benchmark.settings import gpu_settings  # noqa: E402
from inside_keras.benchmark.throughput import pipeline_batches_per_s  # noqa: E402
from inside_keras.data.batching import batch_threads  # noqa: E402
from inside_keras.runs.atomic import write_json  # noqa: E402

STEPS = sorted((ROOT / "benchmarks" / "gpu").glob("bench-*.json"))
#: The pipeline should deliver at least this many times the step's batches/s.
GOAL = 2.0


def fastest_steps(paths):
    """Per `(architecture, spatial_dims)`, the fastest recorded train step: its
    batches/s and where it comes from (backend, precision, file)."""
    fastest = {}
    for path in paths:
        for record in json.loads(Path(path).read_text())["results"]:
            if record.get("kind") != "pipeline":
                continue
            key = (record["architecture"], record["spatial_dims"])
            if key not in fastest or record["step_batches_per_s"] > fastest[key]["batches_per_s"]:
                fastest[key] = {
                    "batches_per_s": record["step_batches_per_s"],
                    "backend": record["backend"],
                    "precision": record["precision"],
                    "file": Path(path).name,
                }
    return fastest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="+", default=STEPS, help="GPU suite result files")
    parser.add_argument("--epochs", type=int, default=5, help="timed passes (median kept)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--json", type=Path, help="write the records here")
    args = parser.parse_args(argv)
    steps = fastest_steps(args.steps)
    settings = gpu_settings(quick=args.quick)
    threads = batch_threads()
    records = []
    print(
        f"| network | flips, 1 thread | flips, {threads} threads | no flips, {threads} threads "
        "| GPU step | ratio with flips | ratio without |"
    )
    print("|---|---|---|---|---|---|---|")
    both = PIPELINE_FLIPS["pipeline_batches_per_s"]
    for workload in settings.workloads:
        rates = pipeline_batches_per_s(
            workload,
            settings.pipeline_samples,
            args.epochs,
            {
                "pipeline_batches_per_s_1_thread": (1, both),
                **{key: (threads, flips) for key, flips in PIPELINE_FLIPS.items()},
            },
            settings.pipeline_megabytes,
        )
        step = steps.get((workload.architecture, workload.spatial_dims))
        ratios = {
            key: rates[key] / step["batches_per_s"] if step else None for key in PIPELINE_FLIPS
        }
        records.append(
            {
                "network": workload.label(),
                "batch_size": workload.batch_size,
                "input_shape": list(workload.input_shape),
                "pipeline_threads": threads,
                **rates,
                "gpu_step": step,
                "pipeline_over_step": ratios["pipeline_batches_per_s"],
                "pipeline_over_step_without_flips": ratios["pipeline_batches_per_s_without_flips"],
            }
        )
        step_text = (
            f"{step['batches_per_s']:.1f} ({step['backend']}, {step['precision']})"
            if step
            else "not recorded"
        )
        ratio_text = [f"{ratio:.2f}x" if ratio is not None else "—" for ratio in ratios.values()]
        print(
            f"| {workload.label()} | {rates['pipeline_batches_per_s_1_thread']:.1f} "
            f"| {rates['pipeline_batches_per_s']:.1f} "
            f"| {rates['pipeline_batches_per_s_without_flips']:.1f} | {step_text} "
            f"| {' | '.join(ratio_text)} |",
            flush=True,
        )
    if args.json:
        write_json(args.json, {"machine": machine_info(), "goal": GOAL, "results": records})
    for key, what in (
        ("pipeline_over_step", "with"),
        ("pipeline_over_step_without_flips", "without"),
    ):
        missed = [r["network"] for r in records if (r[key] or GOAL) < GOAL]
        if missed:
            print(f"below {GOAL}x the GPU step {what} flips: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
