"""The Ray Tune function trainable: one trial is one `fit_experiment` run.

`train_trial(params, arrays=..., spec=...)` is wrapped by `tune.with_parameters`, so
the prepared arrays travel to the object store once and every trial reads them from
there, on any node. The trial trains with the package's one training loop
(`inside_keras.training.fit_experiment`), whose checkpoint (`inside_keras.training.checkpoint`:
`state.json` and the epoch's `.keras` files) is written after every epoch into a
folder of the trial; `ReportToTune` then calls `ray.tune.report(metrics,
checkpoint=...)` with that folder. A restarted trial (after a crash, or in a resumed
sweep) copies its last reported checkpoint back and continues from it exactly as
`train --resume` does.

Metrics reported: Keras's logs (`loss`, `dice`, `val_loss`, `val_dice`, ...), `epoch`
(finished epochs, ASHA's time axis), `node_id` (the Ray node of the trial) and
`cuda_visible_devices` (the trial's `CUDA_VISIBLE_DEVICES`: the GPUs Ray gave it; a
trial without GPUs keeps its node's, usually none).

Ray's own Keras callbacks are TensorFlow-only and save legacy H5; this one works on
every Keras backend.
"""

import os
import tempfile

import keras


class ReportToTune(keras.callbacks.Callback):
    """Report each epoch's logs to Ray Tune with the run's checkpoint folder.

    Runs after `fit_experiment`'s own callbacks, so the folder holds the checkpoint of
    the epoch being reported.

    Args:
        checkpoint_dir: the run's checkpoint folder.
        extra: constant metrics added to every report (e.g. the node id).
    """

    def __init__(self, checkpoint_dir, extra=None):
        super().__init__()
        self.checkpoint_dir = checkpoint_dir
        self.extra = dict(extra or {})

    def on_epoch_end(self, epoch, logs=None):
        from ray import tune

        metrics = {name: float(value) for name, value in (logs or {}).items()}
        metrics.update(self.extra, epoch=epoch + 1)
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(self.checkpoint_dir))


def train_trial(params, *, arrays, spec, callbacks=()):
    """Train one trial's experiment, reporting to Tune every epoch.

    Args:
        params: the trial's sampled parameters, `{dotted name: value}`.
        arrays: the prepared dataset (from the object store).
        spec: the `SweepSpec`.
        callbacks: functions of no argument returning more Keras callbacks, added
            after the report (see `run_sweep`).

    A failure that would recur on every retry (`InputError`, `TrainingDiverged`) ends the
    trial with a last report holding the worst value of the metric and `failure` (the
    reason), instead of an exception: Tune retries every exception (`max_failures`), and
    retrying these would only repeat them. `inside_keras.sweep.report` lists such a trial
    as failed.
    """
    import ray
    from ray import tune

    from inside_keras.errors import InputError
    from inside_keras.training import TrainingDiverged, fit_experiment

    context = tune.get_context()
    config = spec.experiment_config(params, context.get_trial_dir())
    where = {
        "node_id": ray.get_runtime_context().get_node_id(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
    }
    with tempfile.TemporaryDirectory(prefix="inside-keras-trial-") as folder:
        checkpoint = tune.get_checkpoint()
        if checkpoint is not None:
            checkpoint.to_directory(folder)
        try:
            fit_experiment(
                config,
                arrays,
                folder,
                callbacks=[
                    ReportToTune(folder, where),
                    *(make() for make in callbacks),
                ],
            )
        except (InputError, TrainingDiverged) as error:
            worst = float("inf") if spec.mode == "min" else float("-inf")
            tune.report({spec.metric: worst, **where, "failure": str(error)})
