"""The Ray Tune function trainable: one trial trains one experiment config.

`train_trial(params, arrays=..., spec=...)` is wrapped by `tune.with_parameters`, so
the prepared arrays travel to the object store once and every trial reads them from
there, on any node. Each epoch, `ReportToTune` saves the model as a `.keras` file in a
temporary folder and calls `ray.tune.report(metrics, checkpoint=...)`; a trial that
crashed (or a resumed sweep) starts again from the last checkpoint with its optimizer
state. Metrics reported: Keras's logs (`loss`, `dice`, `val_loss`, `val_dice`, ...),
`epoch` (finished epochs, ASHA's time axis) and `node_id` (the Ray node of the trial).

Ray's own Keras callbacks are TensorFlow-only and save legacy H5; this one works on
every Keras backend.
"""

import json
import os
import tempfile
from pathlib import Path

import keras

CHECKPOINT_MODEL, CHECKPOINT_STATE = "model.keras", "state.json"
#: Test hook: make every trial crash once, right after reporting this epoch.
CRASH_AT_EPOCH_VARIABLE = "INSIDE_KERAS_SWEEP_CRASH_AT_EPOCH"
#: Folder of the test hook's marker files (one per trial that has crashed).
CRASH_MARKERS_VARIABLE = "INSIDE_KERAS_SWEEP_CRASH_MARKERS"


class ReportToTune(keras.callbacks.Callback):
    """Report each epoch's logs to Ray Tune, with a `.keras` checkpoint of the model.

    Args:
        extra: constant metrics added to every report (e.g. the node id).
    """

    def __init__(self, extra=None):
        super().__init__()
        self.extra = dict(extra or {})

    def on_epoch_end(self, epoch, logs=None):
        from ray import tune

        metrics = {name: float(value) for name, value in (logs or {}).items()}
        metrics.update(self.extra, epoch=epoch + 1)
        with tempfile.TemporaryDirectory() as folder:
            self.model.save(Path(folder) / CHECKPOINT_MODEL)
            (Path(folder) / CHECKPOINT_STATE).write_text(json.dumps({"epoch": epoch + 1}))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))


class CrashOnce(keras.callbacks.Callback):
    """Test hook: raise once per trial after `epoch` (see `CRASH_AT_EPOCH_VARIABLE`).

    Args:
        epoch: the 1-based epoch after which to crash.
        marker: file created before crashing; while it exists the trial does not crash.
    """

    def __init__(self, epoch, marker):
        super().__init__()
        self.crash_epoch, self.marker = epoch, Path(marker)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.crash_epoch and not self.marker.exists():
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.touch()
            raise RuntimeError(f"injected crash after epoch {epoch + 1} (test hook)")


def _restore(checkpoint):
    """The checkpointed model (compiled, with optimizer state) and its finished epochs."""
    with checkpoint.as_directory() as folder:
        model = keras.saving.load_model(Path(folder) / CHECKPOINT_MODEL)
        epoch = json.loads((Path(folder) / CHECKPOINT_STATE).read_text())["epoch"]
    return model, epoch


def _crash_hook(trial_id):
    epoch = os.environ.get(CRASH_AT_EPOCH_VARIABLE)
    markers = os.environ.get(CRASH_MARKERS_VARIABLE)
    if not epoch or not markers:
        return []
    return [CrashOnce(int(epoch), Path(markers) / trial_id)]


def train_trial(params, *, arrays, spec):
    """Train one trial's experiment, reporting to Tune every epoch.

    Args:
        params: the trial's sampled parameters, `{dotted name: value}`.
        arrays: the prepared dataset (from the object store).
        spec: the `SweepSpec`.

    Raises:
        TrainingDiverged: the loss became NaN or infinite (the trial errors).
    """
    import ray
    from ray import tune

    from inside_keras.training import (
        ClearTerminateOnNaN,
        TrainingDiverged,
        build_model,
        compile_model,
        make_batches,
        num_classes_of,
        split_for_training,
    )

    context = tune.get_context()
    config = spec.experiment_config(params, "(object store)", context.get_trial_dir())
    keras.utils.set_random_seed(config.training.seed)
    train_arrays, val_arrays = split_for_training(arrays, "sweep data")
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        model, initial_epoch = _restore(checkpoint)
    else:
        num_classes = num_classes_of(arrays)
        model = build_model(config.model, arrays["x"].shape[1:], arrays["z"].shape[1], num_classes)
        compile_model(model, config.training, num_classes)
        initial_epoch = 0
    train_batches, val_batches = make_batches(config, train_arrays, val_arrays)
    nan_guard = ClearTerminateOnNaN()
    node_id = ray.get_runtime_context().get_node_id()
    model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=config.training.epochs,
        initial_epoch=initial_epoch,
        callbacks=[
            nan_guard,
            ReportToTune({"node_id": node_id}),
            *_crash_hook(context.get_trial_id()),
        ],
        verbose=0,
    )
    if nan_guard.diverged_at is not None:
        epoch, batch, loss = nan_guard.diverged_at
        raise TrainingDiverged(f"loss became {loss} at epoch {epoch + 1}, batch {batch}")
