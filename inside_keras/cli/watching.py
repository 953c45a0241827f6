"""What `train` and `sweep` add to watch a run: TensorBoard logs in any case
(`inside_keras.training.tensorboard_logs`, `inside_keras.sweep.watch`) and, with
`--track mlflow`, MLflow tracking (`inside_keras.training.mlflow_tracking`)."""

import sys
from pathlib import Path

from inside_keras.errors import InputError


def add_track_arguments(parser):
    """`--track mlflow` and `--track-uri URI`."""
    parser.add_argument(
        "--track",
        choices=("mlflow",),
        help="also log the run to MLflow (needs the track extra): the config as parameters "
        "and every epoch's metrics",
    )
    parser.add_argument(
        "--track-uri",
        metavar="URI",
        help="MLflow store for --track mlflow (default: $MLFLOW_TRACKING_URI, else "
        "sqlite:///OUT/mlflow.db in the output folder), e.g. sqlite:///runs/mlflow.db",
    )


def track_uri(args, out_dir):
    """The MLflow store `--track mlflow` logs to (`store_uri` of
    `inside_keras.training.mlflow_tracking`), or None without `--track`. A missing `track`
    extra stops the command here, before any work.

    Raises:
        InputError: `--track-uri` without `--track`, or MLflow is not installed.
    """
    from inside_keras.training.mlflow_tracking import check_mlflow_installed, store_uri

    if args.track is None:
        if args.track_uri is not None:
            raise InputError("needs --track mlflow", "--track-uri")
        return None
    check_mlflow_installed()
    return store_uri(args.track_uri, out_dir)


def sweep_track_uri(args, out_dir):
    """`track_uri` for `sweep`, which says once on stderr that `--track` does not change
    a resumed sweep (Ray restores the callbacks it started with)."""
    uri = track_uri(args, out_dir)
    if args.resume and uri is not None:
        print(
            "inside-keras sweep: note: --track applies to new sweeps; a resumed sweep is "
            "tracked as it was started",
            file=sys.stderr,
        )
    return uri


def train_callbacks(args, config, arrays, uri):
    """`train`'s callbacks: `TensorBoardWatch` into `OUT/tensorboard` (if tensorboardX is
    installed, else a note on stderr) and, with an MLflow store `uri`, `MLflowTracker` (in
    the experiment named after the config file, the run after the output folder)."""
    from inside_keras.config import config_to_dict
    from inside_keras.runs.files import TENSORBOARD_DIR
    from inside_keras.training.mlflow_tracking import MLflowTracker, dotted_values
    from inside_keras.training.tensorboard_logs import (
        TensorBoardWatch,
        watched_samples,
        writer_installed,
    )

    out_dir = Path(config.output.dir)
    callbacks = []
    if writer_installed():
        samples, every = watched_samples(arrays), config.training.images_every
        callbacks.append(TensorBoardWatch(out_dir / TENSORBOARD_DIR, samples, every))
    else:
        print(
            "inside-keras train: note: no TensorBoard logs, tensorboardX is not installed: "
            "pip install 'inside-keras[watch]'",
            file=sys.stderr,
        )
    if uri is not None:
        params = dotted_values(config_to_dict(config))
        experiment, run_name = Path(args.config).stem, out_dir.resolve().name
        callbacks.append(MLflowTracker(uri, experiment, run_name, out_dir.resolve(), params))
    return callbacks
