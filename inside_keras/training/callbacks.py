"""The loop's own callbacks: early stopping with the per-epoch checkpoint and a stop on a
non-finite loss (`RunKeeper`), and a Ctrl-C that no library may swallow (`StopOnCtrlC`)."""

import math
from pathlib import Path

import keras

from inside_keras.errors import InputError
from inside_keras.runs.quiet import raise_if_interrupted
from inside_keras.training.checkpoint import (
    TrainingState,
    model_file,
    write_checkpoint,
)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped. Retrying will not help."""


class StopOnCtrlC(keras.callbacks.Callback):
    """Raises `KeyboardInterrupt` after the batch in which Ctrl-C was pressed, should a
    library have swallowed the first one (`inside_keras.runs.quiet`)."""

    def on_train_batch_end(self, batch, logs=None):
        raise_if_interrupted()

    def on_test_batch_end(self, batch, logs=None):
        raise_if_interrupted()

    def on_epoch_end(self, epoch, logs=None):
        raise_if_interrupted()


class RunKeeper(keras.callbacks.Callback):
    """Early stopping, a stop on a non-finite loss and the per-epoch checkpoint.

    Keeps the run's `TrainingState` (Keras's `EarlyStopping` rule on
    `training.monitor`: an epoch improves when `value < best - min_delta`; training
    stops once `patience` epochs in a row did not) and writes it with the model after
    every epoch whose loss stayed finite.

    Args:
        folder: the checkpoint folder.
        state: the `TrainingState` to continue from.
        training: the `TrainingConfig` (epochs, patience, min_delta).
    """

    def __init__(self, folder, state, training):
        super().__init__()
        self.folder, self.state, self.training = Path(folder), state, training
        self.diverged_at = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is not None:
            return
        logs = logs or {}
        monitor = self.training.monitor
        if monitor not in logs:
            raise InputError(f"no {monitor} in the epoch's logs (is there a val split?)")
        value = float(logs[monitor])
        improved = value < self.state.best - self.training.min_delta
        wait = 0 if improved else self.state.wait + 1
        latest = model_file(epoch + 1)
        self.state = TrainingState(
            epoch=epoch + 1,
            best=value if improved else self.state.best,
            best_epoch=epoch + 1 if improved else self.state.best_epoch,
            wait=wait,
            finished=wait >= self.training.patience or epoch + 1 >= self.training.epochs,
            latest=latest,
            best_model=latest if improved else self.state.best_model,
        )
        write_checkpoint(self.folder, self.model, self.state)
        if wait >= self.training.patience:
            self.model.stop_training = True
