"""`inside-keras train --config FILE [--set k=v ...] [--out DIR] [--resume]`."""

import sys

from inside_keras.errors import InputError


def register(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="Train a conditioned segmentation network from an experiment config.",
        description=(
            "Train with Adam, early stopping on the validation loss, a best-model "
            "checkpoint (model.keras), a CSV log and resumable backups. The config "
            "and package version are saved beside the model."
        ),
    )
    parser.add_argument("--config", required=True, help="experiment config (YAML)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value (repeatable), e.g. --set training.epochs=3",
    )
    parser.add_argument("--out", help="output folder (overrides output.dir)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in the output folder from its last finished epoch",
    )
    parser.add_argument("--quiet", action="store_true", help="one line per epoch, no bar")
    parser.set_defaults(func=run)


def run(args):
    from inside_keras.config import load_config

    overrides = list(args.overrides)
    if args.out:
        overrides.append(f"output.dir={args.out}")
    config = load_config(args.config, overrides)

    from inside_keras.plots import plot_training_curves
    from inside_keras.training import LOG_FILE, TrainingDiverged, train

    try:
        result = train(config, resume=args.resume, verbose=2 if args.quiet else 1)
    except TrainingDiverged as error:
        print(f"inside-keras train: {error}", file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        raise InputError(str(error)) from None
    plot_training_curves(result.out_dir / LOG_FILE, result.out_dir / "curves.png")
    print(
        f"trained {result.epochs_run} epoch(s) (after {result.initial_epoch} resumed); "
        f"best val_loss {result.best_val_loss:.4f}; model: {result.out_dir / 'model.keras'}"
    )
    return 0
