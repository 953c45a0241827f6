"""Training: a short run writes its outputs; a run killed in epoch 3 resumes at epoch 3."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from inside_keras.cli import main
from inside_keras.data.prepared import save_prepared

REPO = Path(__file__).resolve().parents[1]


def _tiny_dataset(path, n=48, size=16, seed=0):
    """Bright squares in one of four quadrants; z says which quadrant holds the target."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.2, (n, size, size, 3)).astype("float32")
    y = np.zeros((n, size, size, 1), "float32")
    z = np.eye(4, dtype="float32")[rng.integers(0, 4, n)]
    half = size // 2
    for i in range(n):
        for q, (r, c) in enumerate(((0, 0), (0, 1), (1, 1), (1, 0))):
            rows, cols = slice(r * half + 2, r * half + 6), slice(c * half + 2, c * half + 6)
            x[i, rows, cols] = 1.0
            if z[i, q]:
                y[i, rows, cols] = 1.0
    split = np.array(["train"] * (n - 16) + ["val"] * 8 + ["test"] * 8)
    save_prepared(path, x=x, y=y, z=z, split=split, name=np.array([f"s{i}" for i in range(n)]),
                  condition=np.array(["coordinates"] * n))
    return path


def _config(tmp_path, epochs, out):
    data = _tiny_dataset(tmp_path / "data.npz")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: encoder_decoder, conditioning: inside}\n"
        f"training: {{epochs: {epochs}, batch_size: 8, seed: 0}}\n"
        f"output: {{dir: {out}}}\n"
    )
    return config


def _epochs_in_log(out):
    with open(out / "log.csv", newline="") as stream:
        return [int(row["epoch"]) for row in csv.DictReader(stream)]


def test_train_writes_model_log_config_and_figure(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--config", str(_config(tmp_path, 2, out)), "--quiet"]) == 0
    for name in ("model.keras", "log.csv", "config.yaml", "version.json", "curves.png"):
        assert (out / name).is_file(), name
    assert _epochs_in_log(out) == [0, 1]
    version = json.loads((out / "version.json").read_text())
    assert version["inside_keras"] and version["backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")
    assert not (out / "backup").exists()  # removed when a run finishes


def test_rerun_without_resume_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    config = str(_config(tmp_path, 1, out))
    assert main(["train", "--config", config, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", "--config", config, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0] and str(out) in err[0]


def test_killed_in_epoch_3_resumes_at_epoch_3(tmp_path):
    out = tmp_path / "run"
    config = str(_config(tmp_path, 5, out))
    command = [sys.executable, "-m", "inside_keras.cli", "train", "--config", config, "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
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

    resumed = subprocess.run([*command, "--resume"], env=env, cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "at epoch 3 (2 finished epochs restored" in resumed.stdout
    assert _epochs_in_log(out) == [0, 1, 2, 3, 4]


def test_resume_with_a_changed_config_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    config = str(_config(tmp_path, 1, out))
    assert main(["train", "--config", config, "--quiet"]) == 0
    capsys.readouterr()
    code = main(["train", "--config", config, "--resume", "--set", "training.learning_rate=0.01"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "changed: training.learning_rate" in err[0]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--set", "training.epoch=1"], "no key 'epoch' in training"),
        (["--set", "data.path=/nonexistent.npz"], "/nonexistent.npz: no such prepared dataset"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, expected):
    config = str(_config(tmp_path, 1, tmp_path / "run"))
    assert main(["train", "--config", config, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_unknown_config_key_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("training: {epochs: 1, warmup: 3}\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown key(s) ['warmup']" in err[0] and "bad.yaml" in err[0]
