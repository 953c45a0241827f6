"""The one training loop: `fit_experiment`, used by `train`, `reproduce` and sweep trials.

`fit_experiment(config, arrays, checkpoint_dir)` builds the network an
`ExperimentConfig` describes (or restores it from the checkpoint in `checkpoint_dir`),
and fits it with Adam, early stopping on the validation loss (the paper's min delta
1e-4 and patience 25) and a stop on a NaN or infinite loss, writing the package's
checkpoint (`inside_keras.training.checkpoint`) after every epoch. Callers add their own
callbacks: `train` a CSV log, a sweep trial its report to Ray Tune.

`train(config)` is the `train` command's run: it reads the prepared data, fits, and
keeps everything in `config.output.dir`:

    config.yaml     the resolved experiment config
    version.json    package, Keras and backend versions
    model.keras     the model of the best monitored epoch (or, with `training.final_model:
                    last`, of the last), written when the run ends
    log.csv         one row per finished epoch
    checkpoint/     the run's checkpoint (`train --resume` continues from it)
    curves.png      the loss curves (written by the command)
    tensorboard/    TensorBoard's event files (the command's
                    `inside_keras.training.tensorboard_logs`)
    mlflow.db       with `--track mlflow`, MLflow's store
                    (`inside_keras.training.mlflow_tracking`)
    .inside-keras.json  the marker: this folder holds a `train` run (`inside_keras.runs.outputs`)
"""

import dataclasses
import shutil
from pathlib import Path

import keras

from inside_keras import __version__
from inside_keras.config import config_to_dict, save_config
from inside_keras.errors import InputError
from inside_keras.runs.atomic import atomic_path, write_json
from inside_keras.runs.files import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LOG_FILE,
    MODEL_FILE,
    VERSION_FILE,
)
from inside_keras.training.batches import distribution_scope, make_batches, split_for_training
from inside_keras.training.callbacks import RunKeeper, StopOnCtrlC, TrainingDiverged
from inside_keras.training.checkpoint import (
    TrainingState,
    read_checkpoint,
)
from inside_keras.training.network import (
    build_model,
    compile_model,
    num_classes_of,
)


@dataclasses.dataclass
class FitResult:
    """What `fit_experiment` did.

    Args:
        state: the `TrainingState` after the last finished epoch.
        initial_epoch: epochs already finished before this call.
        history: metrics per epoch of this call (Keras `History.history`).
        devices: the devices each batch was split over (`training.distribution`).
    """

    state: TrainingState
    initial_epoch: int
    history: dict
    devices: int = 1

    @property
    def epochs_run(self):
        """Epochs run by this call."""
        return len(self.history.get("loss", []))


def fit_experiment(config, arrays, checkpoint_dir, *, log_path=None, callbacks=(), verbose=0):
    """Train the experiment `config` on prepared `arrays`, continuing from a checkpoint.

    Args:
        config: the `ExperimentConfig`.
        arrays: prepared arrays (`inside_keras.data.prepared`) with train and val samples.
        checkpoint_dir: the run's checkpoint folder; if it holds a checkpoint, training
            continues from it (model, optimizer state, early-stopping state, data order).
        log_path: CSV log to append one row per finished epoch to (written before the
            checkpoint, so a crash leaves at most rows the resumed run truncates).
        callbacks: more Keras callbacks, run after the epoch's checkpoint is written.
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).

    Returns:
        A `FitResult`.

    Raises:
        InputError: bad data or config, a damaged checkpoint.
        TrainingDiverged: the loss became NaN or infinite.
    """
    training = config.training
    with distribution_scope(training.distribution) as devices:
        result = _fit(config, arrays, checkpoint_dir, log_path, callbacks, verbose, devices)
    return dataclasses.replace(result, devices=devices)


def _fit(config, arrays, checkpoint_dir, log_path, callbacks, verbose, devices):
    train_arrays, val_arrays = split_for_training(arrays, "prepared data")
    keras.utils.set_random_seed(config.training.seed)
    model, state = read_checkpoint(checkpoint_dir)
    if model is None:
        num_classes = num_classes_of(arrays)
        model = build_model(
            config.model,
            arrays["x"].shape[1:],
            arrays["z"].shape[1],
            num_classes,
            config.training.precision,
        )
        compile_model(model, config.training, num_classes)
        state = TrainingState()
    if state.finished:
        return FitResult(state=state, initial_epoch=state.epoch, history={})
    train_batches, val_batches = make_batches(config, train_arrays, val_arrays, devices)
    train_batches.set_epoch(state.epoch)
    keeper = RunKeeper(checkpoint_dir, state, config.training)
    logger = [keras.callbacks.CSVLogger(log_path, append=True)] if log_path else []
    history = model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=config.training.epochs,
        initial_epoch=state.epoch,
        callbacks=[StopOnCtrlC(), *logger, keeper, *callbacks],
        verbose=verbose,
    )
    if keeper.diverged_at is not None:
        epoch, batch, loss = keeper.diverged_at
        raise TrainingDiverged(
            f"loss became {loss} at epoch {epoch + 1}, batch {batch}: training stopped. "
            f"Try a lower training.learning_rate (now {config.training.learning_rate})."
        )
    return FitResult(state=keeper.state, initial_epoch=state.epoch, history=history.history)


def run_is_finished(out_dir):
    """Whether `out_dir` holds a finished `train` run (its final model written)."""
    from inside_keras.training.checkpoint import read_state

    out_dir = Path(out_dir)
    if not (out_dir / MODEL_FILE).is_file():
        return False
    state = read_state(out_dir / CHECKPOINT_DIR)
    return state is not None and state.finished


def check_same_config(out_dir, config):
    """Raise InputError unless the run in `out_dir` was started with `config`."""
    from inside_keras.config import read_yaml_mapping

    out_dir = Path(out_dir)
    saved_path = out_dir / CONFIG_FILE
    if not saved_path.is_file():
        raise InputError("nothing to resume: no config.yaml from an earlier run", out_dir)
    saved = read_yaml_mapping(saved_path)
    current = config_to_dict(config)
    missing = object()
    changed = sorted(
        f"{section}.{key}"
        for section in current
        for key in current[section]
        if _saved_value(saved, section, key, getattr(config, section), missing)
        != current[section][key]
    )
    if changed:
        raise InputError(
            f"holds a run of a different config (changed: {', '.join(changed)}); "
            "continue it with its own config, or choose a new output folder",
            saved_path,
        )


def _saved_value(saved, section, key, current_section, missing):
    """The saved config's `section.key`; a key the run's package version did not have
    yet counts as its default (a run saved before `training.precision` existed)."""
    value = (saved.get(section) or {}).get(key, missing)
    if value is not missing:
        return value
    field = next(f for f in dataclasses.fields(current_section) if f.name == key)
    if field.default is not dataclasses.MISSING:
        return field.default
    return missing


def _truncate_log(log_path, epochs):
    """Keep the rows of the first `epochs` epochs of a CSV log (rows a crash left after
    the last checkpoint are dropped), atomically."""
    import csv

    if not log_path.is_file():
        return
    with open(log_path, newline="") as stream:
        rows = [row for row in csv.DictReader(stream) if int(row["epoch"]) < epochs]
    if not rows:
        log_path.unlink()
        return
    with atomic_path(log_path) as temporary, open(temporary, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@dataclasses.dataclass
class TrainResult:
    """A `train` run.

    Args:
        out_dir: the run's folder.
        fit: the `FitResult` of this call (None if the run had already finished).
        state: the run's final `TrainingState`.
    """

    out_dir: Path
    fit: FitResult | None
    state: TrainingState


def train(config, arrays, output, resume=False, verbose=1, callbacks=()):
    """The `train` command's run of `config` on prepared `arrays`; see the module docstring.

    Args:
        config: the experiment config.
        arrays: the prepared arrays the config's data names.
        output: the `inside_keras.runs.outputs.OutputFolder` of `config.output.dir`, checked
            by the command before it prepared the data.
        resume: continue the run in `config.output.dir` from its checkpoint. A run
            that has finished is left untouched.
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).
        callbacks: more Keras callbacks (`fit_experiment`'s), e.g. the command's
            TensorBoard logs (`inside_keras.training.tensorboard_logs`).

    Returns:
        A `TrainResult`.

    Raises:
        InputError: bad data or config, an output folder that holds a run already
            (without `resume`), or none, a different or a damaged one (with `resume`).
        TrainingDiverged: the loss became NaN or infinite.
    """
    from inside_keras.training.checkpoint import read_state

    out_dir = Path(config.output.dir)
    checkpoint_dir, log_path = out_dir / CHECKPOINT_DIR, out_dir / LOG_FILE
    if resume:
        if output.earlier is None:
            raise InputError("nothing to resume: no run of inside-keras train here", out_dir)
        check_same_config(out_dir, config)
        state = read_state(checkpoint_dir)
        if run_is_finished(out_dir):
            return TrainResult(out_dir=out_dir, fit=None, state=state)
        _truncate_log(log_path, state.epoch if state else 0)
    else:
        if output.earlier is not None and (out_dir / CONFIG_FILE).exists():
            raise InputError(
                "holds a run already; pass --resume to continue it, or choose a new folder",
                out_dir,
            )
        output.create()
        save_config(config, out_dir / CONFIG_FILE)
        write_json(
            out_dir / VERSION_FILE,
            {
                "inside_keras": __version__,
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
            },
        )
    fit = fit_experiment(
        config, arrays, checkpoint_dir, log_path=log_path, callbacks=callbacks, verbose=verbose
    )
    if fit.state.finished:
        kept = fit.state.best_model if config.training.final_model == "best" else fit.state.latest
        with atomic_path(out_dir / MODEL_FILE) as temporary:
            shutil.copyfile(checkpoint_dir / kept, temporary)
    return TrainResult(out_dir=out_dir, fit=fit, state=fit.state)
