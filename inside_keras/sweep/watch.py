"""What a sweep writes to be watched: each trial's metrics for TensorBoard and, with
`--track mlflow`, one MLflow run per trial.

Both are Ray Tune logger callbacks, run by the sweep's driver (the `inside-keras sweep`
process) as each trial's report of an epoch arrives, on one machine or a cluster:

- `TrialsTensorBoard`: Ray Tune's own TensorBoard logger (tensorboardX, which Ray Tune
  depends on): the reported metrics as `ray/tune/<metric>` (`ray/tune/val_dice`,
  `ray/tune/loss`, ...) at each report, and the trial's parameters with its last metrics
  in TensorBoard's HParams view when it ends, written into
  `<out>/tensorboard/<trial folder>/` (the trial's folder name in
  `ray_results/sweep/`) as the reports arrive. Tune's own instance writes into a
  staging folder that it copies into the storage (`--storage`) from time to time: not
  live, and outside the sweep's folder with a shared storage. Given this one, Tune adds
  no other.
- Ray's `MLflowLoggerCallback` (`ray.air.integrations.mlflow`): a run per trial in the
  MLflow experiment named after the sweep's folder, with the trial's parameters and its
  reported metrics at each report; the store as `inside_keras.training.mlflow_tracking` says.

Ray restores a resumed sweep's callbacks with its state (`Tuner.restore`): a sweep
continued with `--resume` is watched as it was started.
"""

from pathlib import Path

from inside_keras.runs.files import TENSORBOARD_DIR


def _trials_tensorboard_class():
    from ray.tune.logger import TBXLoggerCallback

    class TrialsTensorBoard(TBXLoggerCallback):
        """Ray Tune's TensorBoard logger, writing each trial's events into
        `folder/<trial folder>` as its reports arrive.

        Args:
            folder: the folder of the trials' event files (`tensorboard --logdir folder`).
        """

        def __init__(self, folder):
            super().__init__()
            self.folder = Path(folder)

        def log_trial_start(self, trial):
            # As Tune's own, with the trial's folder here in place of its staging folder.
            if trial in self._trial_writer:
                self._trial_writer[trial].close()
            logdir = self.folder / Path(trial.path).name
            self._trial_writer[trial] = self._summary_writer_cls(str(logdir), flush_secs=30)
            self._trial_result[trial] = {}

    TrialsTensorBoard.__module__, TrialsTensorBoard.__qualname__ = __name__, "TrialsTensorBoard"
    return TrialsTensorBoard


def __getattr__(name):
    # `TrialsTensorBoard` derives from Ray's logger: defined at its first use, so that
    # importing this module needs no Ray, and kept as a module attribute, so that the
    # sweep's state (which Ray pickles with its callbacks) finds it again on a resume.
    if name != "TrialsTensorBoard":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = _trials_tensorboard_class()
    return globals()[name]


def sweep_callbacks(out_dir, track_uri=None):
    """The Ray Tune callbacks of a sweep writing into `out_dir`: `TrialsTensorBoard`
    into `out_dir/tensorboard` and, with a `track_uri`, Ray's `MLflowLoggerCallback`
    into that MLflow store.

    Raises:
        InputError: MLflow is not installed, or cannot use the store.
    """
    from inside_keras.sweep.watch import TrialsTensorBoard

    out_dir = Path(out_dir).resolve()
    callbacks = [TrialsTensorBoard(out_dir / TENSORBOARD_DIR)]
    if track_uri is not None:
        from inside_keras.training.mlflow_tracking import open_store

        open_store(track_uri)  # a store MLflow cannot use stops the sweep before a trial
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        callbacks.append(MLflowLoggerCallback(tracking_uri=track_uri, experiment_name=out_dir.name))
    return callbacks
