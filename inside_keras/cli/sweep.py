"""`inside-keras sweep SPEC.yaml [--quick] [--out DIR] [--address ADDR] [--storage PATH] ...`."""

import os
from pathlib import Path

from inside_keras.cli.options import add_overwrite_argument, add_set_argument
from inside_keras.cli.reproduce import BACKENDS
from inside_keras.cli.watching import add_track_arguments, sweep_track_uri
from inside_keras.errors import InputError


def register(subparsers):
    parser = subparsers.add_parser(
        "sweep",
        help="Search conditioning placement and INSIDE's Gaussian options with Ray Tune.",
        description=(
            "Run a Ray Tune sweep described by a spec (see search/*.yaml), on this machine "
            "or a Ray cluster, and write trials.csv, best_config.yaml (for inside-keras "
            "train --config) and sweep.png into --out. Needs the tune extra."
        ),
    )
    parser.add_argument("spec", type=Path, help="sweep spec (YAML), e.g. search/clevr_seg.yaml")
    parser.add_argument(
        "--quick", action="store_true", help="apply the spec's quick section (small, fast sweep)"
    )
    parser.add_argument(
        "--out", type=Path, help="output folder (default runs/sweep-<spec name>[-quick])"
    )
    parser.add_argument(
        "--address",
        help="Ray cluster address, e.g. ray://head:10001 or 10.0.0.1:6379 "
        "(default: $RAY_ADDRESS, else a local Ray)",
    )
    parser.add_argument(
        "--storage",
        help="Tune storage: a folder shared by all nodes or s3:// / gs:// URI "
        "(default <out>/ray_results, enough on one machine)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted sweep in the storage"
    )
    add_set_argument(parser, "the spec's experiment")
    add_overwrite_argument(parser)
    parser.add_argument("--num-samples", type=int, help="override search.num_samples")
    parser.add_argument("--cpus-per-trial", type=int, help="override resources.cpus_per_trial")
    parser.add_argument(
        "--gpus-per-trial",
        type=float,
        help="override resources.gpus_per_trial (fractions share a GPU, e.g. 0.5)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend of every trial (default: $KERAS_BACKEND, else Keras's default)",
    )
    parser.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1, help="Tune output level (default 1)"
    )
    add_track_arguments(parser)
    parser.set_defaults(func=run)


def _overrides(args):
    """Command-line values as a mapping merged over the spec."""
    overrides = {}
    if args.num_samples is not None:
        overrides["search"] = {"num_samples": args.num_samples}
    resources = {
        key: value
        for key, value in (
            ("cpus_per_trial", args.cpus_per_trial),
            ("gpus_per_trial", args.gpus_per_trial),
        )
        if value is not None
    }
    if resources:
        overrides["resources"] = resources
    return overrides


def _reported_an_epoch(out):
    """Whether a trial of the sweep in `out` reported an epoch to Ray Tune (its
    `result.json`, one line per report), i.e. the sweep holds something to resume."""
    return any(path.stat().st_size > 0 for path in Path(out).glob("**/result.json"))


def run(args):
    out = args.out or Path("runs") / f"sweep-{args.spec.stem}{'-quick' if args.quick else ''}"
    from inside_keras.runs.outputs import OutputFolder

    output = OutputFolder(out, "sweep", args.overwrite)
    if args.resume and output.earlier is None:
        raise InputError("nothing to resume: no sweep of inside-keras here", out)
    uri = sweep_track_uri(args, out)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend  # read when Keras is first imported
    from inside_keras.sweep.spec import load_spec

    spec = load_spec(
        args.spec, quick=args.quick, overrides=_overrides(args), settings=args.settings
    )
    try:
        import ray  # noqa: F401 - checked before any work starts
    except ImportError:
        raise InputError("Ray Tune is not installed; pip install 'inside-keras[tune]'") from None
    from inside_keras.sweep.report import best_table
    from inside_keras.sweep.runner import SweepOptions, run_sweep

    options = SweepOptions(
        out_dir=out,
        storage=args.storage,
        address=args.address,
        resume=args.resume,
        verbose=args.verbose,
        track_uri=uri,
    )
    # Undone if it fails before any trial reported an epoch: the corrected command
    # just runs (no --resume of a sweep that never started). With --storage elsewhere
    # the trials' progress is not in `out`: the folder is kept for --resume.
    with output.undone_on_failure(lambda: args.storage is not None or _reported_an_epoch(out)):
        output.create()
        result = run_sweep(spec, options)
    print(best_table(result.rows, spec))
    failed = sum(row.status == "ERROR" for row in result.rows)
    early = sum(row.stopped_early for row in result.rows)
    print(
        f"{len(result.rows)} trials ({early} stopped early, {failed} failed); "
        f"outputs in {out}: trials.csv, sweep.png"
        + (", best_config.yaml" if result.best_config else "")
    )
    if result.best_config is None:
        print("inside-keras sweep: every trial failed; see trials.csv", flush=True)
        return 1
    print(f"train the best config: inside-keras train --config {out / 'best_config.yaml'}")
    return 0
