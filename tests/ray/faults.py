"""Faults a test injects into sweep trials through `run_sweep(trial_callbacks=...)`."""

from pathlib import Path

import keras


class CrashOnce(keras.callbacks.Callback):
    """Raise once per trial right after epoch `epoch` (1-based) was reported.

    Args:
        epoch: the epoch after which the trial crashes.
        markers: folder of marker files: `<trial>.crashed` is written before the crash;
            `<trial>.restarted` records the first epoch the restarted trial trains.
    """

    def __init__(self, epoch, markers):
        super().__init__()
        self.crash_epoch, self.markers = epoch, Path(markers)

    def _trial(self):
        from ray import tune

        return tune.get_context().get_trial_id()

    def on_epoch_begin(self, epoch, logs=None):
        crashed = self.markers / f"{self._trial()}.crashed"
        restarted = self.markers / f"{self._trial()}.restarted"
        if crashed.exists() and not restarted.exists():
            restarted.write_text(str(epoch + 1))

    def on_epoch_end(self, epoch, logs=None):
        crashed = self.markers / f"{self._trial()}.crashed"
        if epoch + 1 == self.crash_epoch and not crashed.exists():
            self.markers.mkdir(parents=True, exist_ok=True)
            crashed.touch()
            raise RuntimeError(f"injected crash after epoch {epoch + 1}")


class DivergeAfterFirstEpoch(keras.callbacks.Callback):
    """Raise `TrainingDiverged` after the first epoch of every start of a trial, and count
    the starts in `markers/<trial>.starts`."""

    def __init__(self, markers):
        super().__init__()
        self.markers = Path(markers)

    def on_train_begin(self, logs=None):
        from ray import tune

        self.markers.mkdir(parents=True, exist_ok=True)
        with open(self.markers / f"{tune.get_context().get_trial_id()}.starts", "a") as log:
            log.write("start\n")

    def on_epoch_end(self, epoch, logs=None):
        from inside_keras.training import TrainingDiverged

        raise TrainingDiverged("injected: the loss became NaN")
