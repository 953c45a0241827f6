"""Training: a short run writes its outputs; a run killed in epoch 3 resumes at epoch 3."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inside_keras.cli import main
from tests.runs import write_config

REPO = Path(__file__).resolve().parents[1]

#: The CLI with every training batch slowed to >= 0.25 s, so that an epoch lasts long
#: enough for the test to kill the process inside epoch 3.
SLOW_TRAIN = """
import sys, time
from inside_keras import cli, training
base = training.ClearTerminateOnNaN.on_train_batch_end
def slow(self, batch, logs=None):
    time.sleep(0.25)
    return base(self, batch, logs)
training.ClearTerminateOnNaN.on_train_batch_end = slow
sys.exit(cli.main(sys.argv[1:]))
"""


def _epochs_in_log(out):
    with open(out / "log.csv", newline="") as stream:
        return [int(row["epoch"]) for row in csv.DictReader(stream)]


def test_train_writes_model_log_config_and_figure(finished_run):
    _, out = finished_run
    for name in ("model.keras", "log.csv", "config.yaml", "version.json", "curves.png"):
        assert (out / name).is_file(), name
    assert _epochs_in_log(out) == [0, 1]
    version = json.loads((out / "version.json").read_text())
    assert version["inside_keras"]
    assert version["backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")
    assert not (out / "backup").exists()  # removed when a run finishes


def test_rerun_without_resume_is_refused(finished_run, capsys):
    config, out = finished_run
    assert main(["train", "--config", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0] and str(out) in err[0]


def test_resume_with_a_changed_config_is_refused(finished_run, capsys):
    config, _ = finished_run
    code = main(
        ["train", "--config", str(config), "--resume", "--set", "training.learning_rate=0.01"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "changed: training.learning_rate" in err[0]


def test_killed_in_epoch_3_resumes_at_epoch_3(tmp_path):
    out = tmp_path / "run"
    config = str(write_config(tmp_path, 5, out))
    command = [sys.executable, "-c", SLOW_TRAIN, "train", "--config", config, "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    metadata = out / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if metadata.is_file():
            try:
                if json.loads(metadata.read_text())["epoch"] == 2:
                    break
            except (ValueError, KeyError):
                pass  # being written
        time.sleep(0.02)
    assert process.poll() is None, "training ended before epoch 3"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "log.csv").exists() or max(_epochs_in_log(out)) <= 2

    resumed = subprocess.run(
        [*command, "--resume"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "at epoch 3 (2 finished epochs restored" in resumed.stdout
    assert _epochs_in_log(out) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--set", "training.epoch=1"], "no key 'epoch' in training"),
        (["--set", "data.path=/nonexistent.npz"], "/nonexistent.npz: no such prepared dataset"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, expected):
    config = str(write_config(tmp_path, 1, tmp_path / "run"))
    assert main(["train", "--config", config, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_unknown_config_key_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("training: {epochs: 1, warmup: 3}\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown key(s) ['warmup']" in err[0] and "bad.yaml" in err[0]
