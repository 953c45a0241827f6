"""Training an experiment: data, model, callbacks, resumable `model.fit`.

`train(config)` reads the prepared data named by the config, builds the network,
and fits it with Adam, early stopping on the validation loss (the paper's min
delta 1e-4 and patience 25), a best-model checkpoint (`model.keras`), a CSV log
(`log.csv`), `TerminateOnNaN` and `BackupAndRestore`. The config and the package
version are written beside the model. `train(config, resume=True)` continues an
interrupted run from its last finished epoch, refusing a changed config.

Output folder:
    config.yaml     the resolved experiment config
    version.json    package, Keras and backend versions
    model.keras     the model with the best validation loss
    log.csv         one row per finished epoch
    backup/         BackupAndRestore state while a run is unfinished
"""

import csv
import dataclasses
import enum
import json
from pathlib import Path

import keras
import numpy as np
import yaml

from inside_keras import __version__
from inside_keras.config import config_to_dict, save_config
from inside_keras.data.batching import ConditionedBatches, augmentation_for
from inside_keras.data.prepared import load_prepared, select_split
from inside_keras.errors import InputError
from inside_keras.losses import get_loss
from inside_keras.metrics import dice_metrics
from inside_keras.models import encoder_decoder, unet

ARCHITECTURES = ("encoder_decoder", "unet")
MODEL_FILE, LOG_FILE, CONFIG_FILE, VERSION_FILE, BACKUP_DIR = (
    "model.keras",
    "log.csv",
    "config.yaml",
    "version.json",
    "backup",
)


class RunState(enum.Enum):
    """Where a run's output folder stands."""

    NEW = "new"
    UNFINISHED = "unfinished"
    FINISHED = "finished"


def run_state(out_dir):
    """`NEW` (no run), `UNFINISHED` (a backup, or no model yet) or `FINISHED`."""
    out_dir = Path(out_dir)
    if not (out_dir / CONFIG_FILE).is_file():
        return RunState.NEW
    if (out_dir / BACKUP_DIR).exists() or not (out_dir / MODEL_FILE).is_file():
        return RunState.UNFINISHED
    return RunState.FINISHED


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped."""


@dataclasses.dataclass
class TrainResult:
    """What a finished (or resumed) training run produced.

    Args:
        out_dir: the run's folder.
        epochs_run: epochs run by this call (after any resumed ones).
        initial_epoch: epochs already finished before this call.
        history: metrics per epoch of this call (Keras `History.history`).
        best_val_loss: lowest validation loss over the whole run.
    """

    out_dir: Path
    epochs_run: int
    initial_epoch: int
    history: dict
    best_val_loss: float


def num_classes_of(arrays):
    """1 for binary float masks, else the number of class ids (at least 2)."""
    y = arrays["y"]
    return 1 if y.dtype == np.float32 else max(2, int(y.max()) + 1)


def build_model(model_config, input_shape, condition_dim, num_classes):
    """The network described by a `ModelConfig`, for the given data shapes."""
    if model_config.architecture == "encoder_decoder":
        if num_classes != 1:
            raise InputError(
                f"the encoder-decoder segments one class; the data has {num_classes}: "
                "use architecture: unet",
                "model.architecture",
            )
        return encoder_decoder(
            input_shape,
            condition_dim,
            conditioning=model_config.conditioning,
            conditioning_options=model_config.conditioning_options,
        )
    if model_config.architecture == "unet":
        return unet(
            input_shape,
            num_classes,
            condition_dim,
            depth=model_config.depth,
            base_filters=model_config.base_filters,
            conditioning=model_config.conditioning,
            placement=model_config.placement,
            norm=model_config.norm,
            dropout=model_config.dropout,
            conditioning_options=model_config.conditioning_options,
        )
    raise InputError(
        f"unknown architecture {model_config.architecture!r}; allowed: {list(ARCHITECTURES)}",
        "model.architecture",
    )


def compile_model(model, training_config, num_classes):
    """Adam with the configured learning rate, the configured loss, Dice metrics."""
    try:
        loss = get_loss(training_config.loss)
    except ValueError as error:
        raise InputError(str(error), "training.loss") from None
    model.compile(
        optimizer=keras.optimizers.Adam(training_config.learning_rate),
        loss=loss,
        metrics=dice_metrics(num_classes),
    )
    return model


def finished_epochs(log_path):
    """Rows of a CSV log as dicts, in epoch order (empty if there is none)."""
    if not Path(log_path).is_file():
        return []
    with open(log_path, newline="") as stream:
        return list(csv.DictReader(stream))


def _truncate_log(log_path, epochs):
    """Keep the first `epochs` epochs of a CSV log (drop rows a crash left after the backup)."""
    rows = [row for row in finished_epochs(log_path) if int(row["epoch"]) < epochs]
    if not rows:
        Path(log_path).unlink(missing_ok=True)
        return []
    with open(log_path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that starts from the state implied by already finished epochs."""

    def __init__(self, previous_losses=(), **kwargs):
        super().__init__(**kwargs)
        self.previous_losses = list(previous_losses)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.monitor_op is None:
            self._set_monitor_op()
        for loss in self.previous_losses:  # replays EarlyStopping.on_epoch_end
            self.wait += 1
            if bool(self._is_improvement(loss, self.best)):
                self.best, self.wait = loss, 0


class ClearTerminateOnNaN(keras.callbacks.Callback):
    """Stop on a NaN/inf loss and remember the batch, so the caller can explain it."""

    def __init__(self):
        super().__init__()
        self.diverged_at = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.diverged_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


def _check_resume(out_dir, config):
    saved_path = out_dir / CONFIG_FILE
    if not saved_path.is_file():
        raise InputError("nothing to resume: no config.yaml from an earlier run", out_dir)
    saved = yaml.safe_load(saved_path.read_text())
    current = config_to_dict(config)
    changed = sorted(
        f"{section}.{key}"
        for section in current
        for key in current[section]
        if saved.get(section, {}).get(key) != current[section][key]
    )
    if changed:
        raise InputError(
            f"refusing to resume with a different config (changed: {', '.join(changed)}); "
            "rerun without --resume in a new --out folder",
            saved_path,
        )


def split_for_training(arrays, source):
    """The train and val splits of prepared arrays; InputError if either is empty."""
    train_arrays, val_arrays = select_split(arrays, "train"), select_split(arrays, "val")
    if len(train_arrays["x"]) == 0 or len(val_arrays["x"]) == 0:
        raise InputError("needs samples in both the train and val splits", source)
    return train_arrays, val_arrays


def make_batches(config, train_arrays, val_arrays):
    """Shuffled (and, with `data.augment`, flipped) train batches; val batches in order."""
    flips = ("horizontal", "vertical") if config.data.augment else ()
    try:
        train_batches = ConditionedBatches(
            train_arrays,
            batch_size=config.training.batch_size,
            shuffle=True,
            flips=flips,
            seed=config.training.seed,
            flip_rule=augmentation_for(train_arrays) if flips else None,
        )
    except ValueError as error:
        raise InputError(str(error), "data.augment") from None
    return train_batches, ConditionedBatches(val_arrays, batch_size=config.training.batch_size)


def train(config, resume=False, verbose=1):
    """Train the experiment `config` (an `ExperimentConfig`); see the module docstring.

    Args:
        config: the experiment config.
        resume: continue the run in `config.output.dir` from its last finished epoch.
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).

    Returns:
        A `TrainResult`.

    Raises:
        InputError: bad data, config, or an output folder that holds another run.
        TrainingDiverged: the loss became NaN or infinite.
    """
    out_dir = Path(config.output.dir)
    log_path, backup_dir = out_dir / LOG_FILE, out_dir / BACKUP_DIR
    if resume:
        _check_resume(out_dir, config)
    elif (out_dir / CONFIG_FILE).exists():
        raise InputError(
            "holds an earlier run; pass --resume to continue it or choose another --out", out_dir
        )
    arrays = load_prepared(config.data.path)
    train_arrays, val_arrays = split_for_training(arrays, config.data.path)
    num_classes = num_classes_of(arrays)
    keras.utils.set_random_seed(config.training.seed)
    model = build_model(config.model, arrays["x"].shape[1:], arrays["z"].shape[1], num_classes)
    compile_model(model, config.training, num_classes)

    out_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, out_dir / CONFIG_FILE)
    (out_dir / VERSION_FILE).write_text(
        json.dumps(
            {
                "inside_keras": __version__,
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
            },
            indent=2,
        )
    )

    initial_epoch = 0
    metadata = backup_dir / "training_metadata.json"
    if resume and metadata.is_file():
        initial_epoch = int(json.loads(metadata.read_text())["epoch"])
    previous = _truncate_log(log_path, initial_epoch) if resume else []
    if not resume:
        log_path.unlink(missing_ok=True)
    if resume and verbose:
        print(
            f"Resuming {out_dir} at epoch {initial_epoch + 1} "
            f"({initial_epoch} finished epochs restored from {backup_dir})"
        )
    previous_losses = [float(row["val_loss"]) for row in previous]

    checkpoint = keras.callbacks.ModelCheckpoint(
        out_dir / MODEL_FILE, monitor="val_loss", save_best_only=True
    )
    if previous_losses:
        checkpoint.best = min(previous_losses)
    nan_guard = ClearTerminateOnNaN()
    callbacks = [
        nan_guard,
        ResumableEarlyStopping(
            previous_losses,
            monitor="val_loss",
            mode="min",
            min_delta=config.training.min_delta,
            patience=config.training.patience,
        ),
        checkpoint,
        keras.callbacks.CSVLogger(log_path, append=resume),
        keras.callbacks.BackupAndRestore(backup_dir),
    ]
    train_batches, val_batches = make_batches(config, train_arrays, val_arrays)
    history = model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=config.training.epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    if nan_guard.diverged_at is not None:
        epoch, batch, loss = nan_guard.diverged_at
        raise TrainingDiverged(
            f"loss became {loss} at epoch {epoch + 1}, batch {batch}: training stopped. "
            f"Try a lower training.learning_rate (now {config.training.learning_rate})."
        )
    losses = previous_losses + list(history.history.get("val_loss", []))
    return TrainResult(
        out_dir=out_dir,
        epochs_run=len(history.history.get("loss", [])),
        initial_epoch=initial_epoch,
        history=history.history,
        best_val_loss=min(losses) if losses else float("nan"),
    )
