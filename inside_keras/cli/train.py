"""`inside-keras train --config FILE [--set k=v ...] [--out DIR] [--resume]`."""

import sys

from inside_keras.cli.options import add_overwrite_argument, add_set_argument
from inside_keras.cli.watching import add_track_arguments, track_uri, train_callbacks


def register(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="Train a conditioned segmentation network from an experiment config.",
        description=(
            "Train with Adam and early stopping on the validation loss; write the best "
            "model (model.keras), a CSV log, TensorBoard logs (tensorboard/) and a checkpoint "
            "after every epoch (--resume continues from it). The config and package version "
            "are saved beside the model."
        ),
    )
    parser.add_argument("--config", required=True, help="experiment config (YAML)")
    add_set_argument(parser)
    parser.add_argument("--out", help="output folder (overrides output.dir)")
    parser.add_argument(
        "--data",
        help="dataset root for data the config generates (default: $INSIDE_KERAS_DATA or ./data)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in the output folder from its last finished epoch",
    )
    add_overwrite_argument(parser)
    parser.add_argument("--quiet", action="store_true", help="one line per epoch, no bar")
    add_track_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from inside_keras.config import load_config
    from inside_keras.data.paths import data_root
    from inside_keras.data.prepared import load_prepared
    from inside_keras.data.ready import prepared_file
    from inside_keras.runs.files import RUN_ENTRIES
    from inside_keras.runs.outputs import OutputFolder

    overrides = list(args.settings)
    if args.out:
        overrides.append(f"output.dir={args.out}")
    config = load_config(args.config, overrides)
    flag = "--out" if args.out else "output.dir"
    output = OutputFolder(config.output.dir, "train", args.overwrite, RUN_ENTRIES, flag)
    uri = track_uri(args, config.output.dir)
    # Data first: generating it may fork worker processes, before a backend is loaded.
    path = prepared_file(config.data, args.data or data_root(), verbose=not args.quiet)
    # Mapped, not read: batches read the samples they hold from the file, so a dataset
    # larger than memory trains (6 GiB in 1.0 GiB of peak RSS), and parallel runs
    # (reproduce's jobs) share one copy in the page cache. Measured in BENCHMARKS.md,
    # with the cost: about 0.4 ms a batch of 8, far less than a train step on a CPU.
    arrays = load_prepared(path, mmap=True)

    from inside_keras.evaluation.plots import plot_training_curves
    from inside_keras.runs.files import CURVES_FILE, LOG_FILE, MODEL_FILE
    from inside_keras.training import TrainingDiverged, train
    from inside_keras.training.checkpoint import holds_a_finished_epoch

    try:
        # A run that fails before its first epoch (a network that does not fit the data,
        # Ctrl-C while compiling) leaves no folder behind: the corrected command just runs.
        with output.undone_on_failure(lambda: holds_a_finished_epoch(output.path)):
            result = train(
                config,
                arrays,
                output,
                resume=args.resume,
                verbose=2 if args.quiet else 1,
                callbacks=train_callbacks(args, config, arrays, uri),
            )
    except TrainingDiverged as error:
        print(f"inside-keras train: {error}", file=sys.stderr)
        return 1
    state, model = result.state, result.out_dir / MODEL_FILE
    if result.fit is None:
        print(f"{result.out_dir} has finished already ({state.epoch} epochs); nothing to do")
        return 0
    plot_training_curves(result.out_dir / LOG_FILE, result.out_dir / CURVES_FILE)
    print(
        f"trained {result.fit.epochs_run} epoch(s) (after {result.fit.initial_epoch} resumed); "
        f"best {config.training.monitor} {state.best:.4f} at epoch {state.best_epoch}; "
        f"model ({config.training.final_model} epoch): {model}"
        + (f"; data parallel over {result.fit.devices} devices" if result.fit.devices > 1 else "")
    )
    return 0
