"""`inside-keras bench [--suite cpu|gpu|compile|gpu-compile]
[--backend jax|torch|tensorflow|all] [--json FILE] [--quick] [--time-limit SECONDS]`.

Cheap to import: the benchmark modules are imported when the command runs.
"""

import os
import sys
from dataclasses import replace

from inside_keras.cli.options import add_overwrite_argument
from inside_keras.errors import InputError


def register(subparsers):
    description = (
        "Time train steps of a 2-D and a 3-D U-Net with no conditioning, FiLM, Guide Me and "
        "INSIDE at the bottleneck and at all levels (configurations interleaved step by "
        "step, medians after warm-up), their peak memory and inference speed, the input "
        "pipeline and the synthetic data generator. One subprocess per backend. "
        "--suite gpu: the paper's sizes (encoder-decoder 200x200x3 batch 32, U-Net "
        "128x128x1 depth 4 / 32 filters batch 16, 3-D U-Net 64x128x128x1 batch 2) in "
        "float32 and mixed bfloat16, with peak GPU memory. --suite compile | gpu-compile: "
        "eager against compiled (jit_compile=True: XLA, torch.compile on PyTorch) train "
        "steps of the encoder-decoder and the U-Net with INSIDE, and the compile time, at "
        "CPU sizes or at the GPU suite's."
    )
    parser = subparsers.add_parser(
        "bench", help="Measure speed and memory.", description=description
    )
    parser.add_argument(
        "--backend",
        default="all",
        help="jax, torch, tensorflow or all (default: all, one after the other)",
    )
    parser.add_argument(
        "--suite",
        default="cpu",
        help="cpu: small U-Nets sized for a CPU (default); gpu: the paper's sizes, float32 "
        "and mixed bfloat16 (with --quick: the same networks at tiny sizes); compile, "
        "gpu-compile: eager against compiled train steps at CPU or GPU sizes",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE")
    parser.add_argument(
        "--quick", action="store_true", help="few steps, for smoke runs (ratios are rough)"
    )
    parser.add_argument("--steps", type=int, help="timed rounds (default 8; --quick 3)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="backend processes at once (default 1; more keeps ratios valid but makes "
        "absolute times incomparable)",
    )
    parser.add_argument("--warmup", type=int, help="untimed steps per model after compiling")
    add_overwrite_argument(parser)
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop each backend's process after SECONDS and keep the workloads it finished",
    )
    parser.set_defaults(func=run)


def settings_from_args(args):
    """`BenchSettings` from the parsed arguments; bad counts are an `InputError`."""
    from inside_keras.benchmark.settings import SUITES, suite_settings
    from inside_keras.config import check_choice

    check_choice(args.suite, SUITES, "--suite")
    settings = suite_settings(args.suite, args.quick)
    if args.time_limit is not None:
        if not args.time_limit > 0:
            raise InputError(f"must be above 0 seconds, got {args.time_limit}", "--time-limit")
        settings = replace(settings, time_limit=args.time_limit)
    for name, low in (("steps", 1), ("warmup", 0)):
        value = getattr(args, name)
        if value is not None:
            if value < low:
                raise InputError(f"must be at least {low}, got {value}", f"--{name}")
            settings = replace(settings, **{name: value})
    return settings


def run(args):
    from inside_keras.benchmark.report import format_table, write_json
    from inside_keras.benchmark.runner import check_backends, run_benchmarks
    from inside_keras.runs.outputs import claim_file

    if args.json:
        claim_file(args.json, args.overwrite)
    backends = check_backends(args.backend)
    settings = settings_from_args(args)
    if args.jobs < 1:
        raise InputError(f"must be at least 1, got {args.jobs}", "--jobs")
    # Each backend is timed in its own process; this one times the input pipeline and
    # imports Keras for it, under a backend that is installed (Keras's default,
    # TensorFlow, may not be).
    os.environ.setdefault("KERAS_BACKEND", backends[0])
    try:
        machine, records = run_benchmarks(settings, backends, args.jobs)
    except RuntimeError as error:
        print(f"inside-keras bench: {error}", file=sys.stderr)
        return 1
    print(format_table(records))
    if machine["stopped_at_time_limit"]:
        print(
            f"\nstopped at the time limit: {', '.join(machine['stopped_at_time_limit'])} "
            "(the workloads they finished are above)"
        )
    print(
        f"\n{machine['cpu']}, {machine['cpu_count']} CPUs; load average "
        f"{machine.get('load_average')} at start, {machine.get('load_average_end')} at end; "
        f"{machine['wall_seconds']:.0f} s"
    )
    if args.json:
        write_json(args.json, machine, records)
        print(f"wrote {args.json}")
    return 0
