"""Watching runs: TensorBoard logs of `train` and of a sweep's trials, read back with
TensorBoard's own reader (the `tensorboard` package, without TensorFlow), and
`--track mlflow` stores read back with MLflow's client.

The runs are the installed `inside-keras` in subprocesses, on the backend of the session
(nox's `cli` session: PyTorch, without TensorFlow installed). The logs of a run on each
backend: tests/test_tensorboard_logs.py.
"""

import csv
import os
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from inside_keras.cli import main
from tests.runs import CLI, cli_without, tiny_dataset, write_config
from tests.sweep.specs import write_spec
from tests.tensorboard_events import check_epoch_scalars, log_rows, read_events, scalars

#: Seconds a training subprocess may take (a few epochs of the tiny dataset).
TIMEOUT = 600


def _run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("watch_data") / "data.npz", n=40)


@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory, data):
    """`inside-keras train --track mlflow`, 3 epochs, images after epochs 2 and 3."""
    tmp_path = tmp_path_factory.mktemp("tracked")
    out = tmp_path / "run"
    config = write_config(tmp_path, 3, out, data=data, images_every=2)
    run = _run([*CLI, "train", "--config", str(config), "--quiet", "--track", "mlflow"])
    assert run.returncode == 0, run.stderr[-3000:]
    return out, run


def test_train_writes_epochs_learning_rate_and_images_for_tensorboard(tracked_run):
    out, run = tracked_run
    assert run.stderr == ""  # nothing but the command's own lines, and there are none
    train, validation = check_epoch_scalars(out, epochs=3)
    assert train.Tags()["images"] == []
    assert sorted(validation.Tags()["images"]) == ["attention/bottleneck", "predictions"]
    figures = validation.Images("predictions")
    assert [image.step for image in figures] == [2, 3]  # every 2nd epoch and the last
    # The figure `reproduce` draws: 4 samples in rows of input / prediction / truth / attention.
    assert (figures[0].width, figures[0].height) == (864, 864)
    assert figures[0].encoded_image_string.startswith(b"\x89PNG")
    maps = validation.Images("attention/bottleneck")
    # The 4 watched samples side by side, at the bottleneck's resolution (16 / 4 px).
    assert [image.step for image in maps] == [2, 3]
    assert (maps[0].width, maps[0].height) == (4 * 4, 4)


def test_track_mlflow_leaves_a_store_with_the_run(tracked_run):
    out, _ = tracked_run
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("config")  # named after the config file
    (mlflow_run,) = client.search_runs([experiment.experiment_id])
    assert mlflow_run.info.status == "FINISHED" and mlflow_run.info.run_name == "run"
    assert mlflow_run.data.tags["inside_keras.out_dir"] == str(out.resolve())
    params = mlflow_run.data.params
    assert params["training.epochs"] == "3" and params["model.conditioning"] == "inside"
    assert params["training.learning_rate"] == "0.001"
    assert params["model.conditioning_options"] == "{}"  # the layer's defaults
    rows = log_rows(out)
    for name in ("loss", "val_loss", "val_dice", "dice_soft"):
        history = client.get_metric_history(mlflow_run.info.run_id, name)
        assert [(metric.step, metric.value) for metric in history] == [
            (int(row["epoch"]) + 1, pytest.approx(float(row[name]))) for row in rows
        ]
    rates = client.get_metric_history(mlflow_run.info.run_id, "learning_rate")
    assert [metric.value for metric in rates] == [pytest.approx(1e-3)] * 3


def test_train_without_the_writer_trains_and_says_how_to_get_it(tmp_path, data):
    out = tmp_path / "run"
    config = write_config(tmp_path, 1, out, data=data)
    captured = _run([*cli_without("tensorboardX"), "train", "--config", str(config)])
    assert captured.returncode == 0, captured.stderr[-3000:]
    assert (out / "model.keras").is_file() and not (out / "tensorboard").exists()
    assert captured.stderr.splitlines() == [
        "inside-keras train: note: no TensorBoard logs, tensorboardX is not installed: "
        "pip install 'inside-keras[watch]'"
    ]


@pytest.mark.parametrize(
    ("blocked", "arguments", "message"),
    [
        (
            "mlflow",
            ["--track", "mlflow"],
            "inside-keras train: error: --track: MLflow is not installed; "
            "pip install 'inside-keras[track]'",
        ),
        (
            None,
            ["--track-uri", "sqlite:///x.db"],
            "inside-keras train: error: --track-uri: needs --track mlflow",
        ),
    ],
)
def test_track_refused_before_any_work(
    tmp_path, data, monkeypatch, capsys, blocked, arguments, message
):
    if blocked:
        monkeypatch.setitem(sys.modules, blocked, None)
    out = tmp_path / "run"
    config = write_config(tmp_path, 1, out, data=data)
    assert main(["train", "--config", str(config), *arguments]) == 2
    assert capsys.readouterr().err.splitlines() == [message]
    assert not out.exists()


def test_a_store_mlflow_cannot_use_is_one_line_and_leaves_no_run(tmp_path, data):
    """A folder of files (`mlruns/`, MLflow's legacy file store, which it refuses unless
    MLFLOW_ALLOW_FILE_STORE is set): one line with MLflow's reason, exit 2."""
    out = tmp_path / "run"
    config = write_config(tmp_path, 1, out, data=data)
    store = tmp_path / "mlruns"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    arguments = ["--track", "mlflow", "--track-uri", str(store)]
    run = _run([*CLI, "train", "--config", str(config), *arguments], env=env)
    assert run.returncode == 2, run.stderr[-3000:]
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"inside-keras train: error: {store}: MLflow cannot store runs there: ")
    assert "MLFLOW_ALLOW_FILE_STORE" in line
    assert not out.exists()


def test_sweep_trials_in_tensorboard_and_mlflow(tmp_path, data):
    spec = write_spec(tmp_path, data, {"experiment": {"training": {"epochs": 2}}})
    out = tmp_path / "sweep"
    command = [*CLI, "sweep", str(spec), "--out", str(out), "--verbose", "0", "--track", "mlflow"]
    run = _run(command, env={**os.environ, "KERAS_BACKEND": "torch"})
    assert run.returncode == 0, run.stderr[-3000:]
    with open(out / "trials.csv", newline="") as stream:
        trials = {row["trial_id"]: row for row in csv.DictReader(stream)}
    assert len(trials) == 2  # the spec's grid of two placements
    folders = sorted((out / "tensorboard").iterdir())
    assert [folder.name for folder in folders] == sorted(f"trial_{trial}" for trial in trials)
    for folder in folders:
        events = read_events(folder)
        epochs = int(trials[folder.name.removeprefix("trial_")]["epochs"])
        for tag in ("ray/tune/val_dice", "ray/tune/loss", "ray/tune/val_loss"):
            assert [step for step, _ in scalars(events, tag)] == list(range(1, epochs + 1))
        # The trial's parameters and last metrics, for TensorBoard's HParams view.
        assert "_hparams_/session_end_info" in events.PluginTagToContent("hparams")
    assert not list((out / "ray_results").glob("**/events.out.tfevents.*"))  # one copy
    client = MlflowClient(f"sqlite:///{out / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sweep")  # named after the sweep's folder
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.params["model.placement"] for run in runs) == ["all", "bottleneck"]
    for mlflow_run in runs:
        history = client.get_metric_history(mlflow_run.info.run_id, "val_dice")
        assert len(history) >= 1 and all(0 <= metric.value <= 1 for metric in history)
