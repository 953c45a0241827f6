"""Training: a short run writes its outputs; a killed run resumes from its checkpoint;
early stopping stops and the best model is the one kept."""

import csv
import json
import os
import signal
import subprocess
import time

import pytest

from inside_keras.cli import main
from inside_keras.errors import InputError
from inside_keras.training.checkpoint import read_state
from tests.runs import CLI, tiny_dataset, write_config


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
    state = read_state(out / "checkpoint")
    assert (state.epoch, state.finished) == (2, True)
    assert sorted(p.name for p in (out / "checkpoint").iterdir()) == sorted(
        {"state.json", state.latest, state.best_model}
    )


def test_resume_of_a_finished_run_touches_nothing(finished_run):
    config, out = finished_run
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    resumed = subprocess.run(
        [*CLI, "train", "--config", str(config), "--resume", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "finished already (2 epochs); nothing to do" in resumed.stdout
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_rerun_without_resume_is_refused(finished_run, capsys):
    config, out = finished_run
    assert main(["train", "--config", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0] and str(out) in err[0]
    assert "holds a run already" in err[0]


def test_resume_with_a_changed_config_is_refused(finished_run, capsys):
    config, _ = finished_run
    code = main(
        ["train", "--config", str(config), "--resume", "--set", "training.learning_rate=0.01"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different config (changed: training.learning_rate)" in err[0]


def test_killed_run_resumes_from_its_checkpoint(tmp_path):
    # Enough samples that an epoch outlasts the test's polling by far.
    data = tiny_dataset(tmp_path / "big.npz", n=1200, size=32)
    out = tmp_path / "run"
    config = str(write_config(tmp_path, 5, out, data=data))
    command = [*CLI, "train", "--config", config, "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    killed_after = None
    while time.time() < deadline and process.poll() is None:
        try:
            state = read_state(out / "checkpoint")
        except InputError:
            state = None  # being written
        if state is not None and state.epoch >= 2:
            process.send_signal(signal.SIGKILL)
            killed_after = state.epoch
            break
        time.sleep(0.01)
    process.wait()
    assert killed_after is not None and killed_after < 5, "training ended before the kill"

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _epochs_in_log(out) == [0, 1, 2, 3, 4]
    assert read_state(out / "checkpoint").epoch == 5
    assert (out / "model.keras").is_file()


def test_early_stopping_stops_and_keeps_the_best_model(tmp_path):
    # A learning rate of 0 never improves after the first epoch: patience 2 stops at 3.
    out = tmp_path / "run"
    config = str(write_config(tmp_path, 10, out))
    code = subprocess.run(
        [
            *CLI,
            "train",
            "--config",
            config,
            "--quiet",
            "--set",
            "training.learning_rate=1e-12",
            "--set",
            "training.patience=2",
            "--set",
            "training.min_delta=0.5",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert code.returncode == 0, code.stderr[-2000:]
    assert _epochs_in_log(out) == [0, 1, 2]
    state = read_state(out / "checkpoint")
    assert (state.epoch, state.best_epoch, state.wait, state.finished) == (3, 1, 2, True)
    best = (out / "checkpoint" / state.best_model).read_bytes()
    assert (out / "model.keras").read_bytes() == best


def test_the_authors_objective_stops_on_the_pixel_loss_and_keeps_the_last_model(tmp_path):
    # The summed focal loss, early stopping on its mean per pixel, the last epoch's model
    # kept: patience 1 with a min delta no epoch beats stops after epoch 2.
    out = tmp_path / "run"
    config = str(write_config(tmp_path, 10, out))
    settings = {
        "training.loss": "focal_sum",
        "training.monitor": "val_pixel_loss",
        "training.final_model": "last",
        "training.patience": 1,
        "training.min_delta": 10,
    }
    command = [*CLI, "train", "--config", config, "--quiet"]
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "best val_pixel_loss" in run.stdout and "model (last epoch)" in run.stdout
    with open(out / "log.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 2
    state = read_state(out / "checkpoint")
    assert (state.best_epoch, state.best) == (1, pytest.approx(float(rows[0]["val_pixel_loss"])))
    # the loss is the sum over the 8 validation images' 16 x 16 pixels of the per-pixel mean
    assert float(rows[0]["val_loss"]) == pytest.approx(
        float(rows[0]["val_pixel_loss"]) * 8 * 16 * 16, rel=1e-4
    )
    assert (out / "model.keras").read_bytes() == (out / "checkpoint" / state.latest).read_bytes()
    assert state.latest != state.best_model


@pytest.mark.parametrize("jit_compile", ["auto", True, False])
def test_training_jit_compile_reaches_keras(jit_compile):

    from inside_keras.config import TrainingConfig
    from inside_keras.models import encoder_decoder
    from inside_keras.training import compile_model

    model = compile_model(encoder_decoder((8, 8, 3), 4), TrainingConfig(jit_compile=jit_compile), 1)
    # Keras's own "auto" for the same network in this process: it depends on the backend
    # and on the state of the process (TensorFlow turns XLA off under op determinism).
    reference = encoder_decoder((8, 8, 3), 4)
    reference.compile(optimizer="adam", loss="mse", jit_compile="auto")
    expected = reference.jit_compile if jit_compile == "auto" else jit_compile
    assert model.jit_compile == expected


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


def test_resume_takes_a_key_the_saved_config_lacks_as_its_default(finished_run, tmp_path):
    """A run saved by a version without `training.precision` still resumes."""
    import shutil

    import yaml

    config, out = finished_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    saved = yaml.safe_load((copy / "config.yaml").read_text())
    del saved["training"]["precision"]
    saved["output"]["dir"] = str(copy)
    (copy / "config.yaml").write_text(yaml.safe_dump(saved))
    assert main(["train", "--config", str(config), "--out", str(copy), "--resume"]) == 0


def test_train_on_the_mapped_file_matches_training_in_memory(tmp_path):
    # `train` maps x and y from the prepared file; the same epoch on the arrays read into
    # memory (`load_prepared` without mmap) gives the same losses.
    from inside_keras.config import load_config
    from inside_keras.data.prepared import load_prepared
    from inside_keras.training import fit_experiment

    out = tmp_path / "run"
    config = write_config(tmp_path, 1, out)
    run = subprocess.run(
        [*CLI, "train", "--config", str(config), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    with open(out / "log.csv", newline="") as stream:
        (mapped,) = list(csv.DictReader(stream))
    in_memory = fit_experiment(
        load_config(config), load_prepared(tmp_path / "data.npz"), tmp_path / "in_memory"
    ).history
    for key in ("loss", "val_loss"):
        assert float(mapped[key]) == pytest.approx(in_memory[key][0], rel=1e-5), key


def test_train_refuses_a_compressed_file_in_one_line(tmp_path):
    import numpy as np

    data = tiny_dataset(tmp_path / "data.npz", n=24)
    compressed = tmp_path / "compressed.npz"
    with np.load(data) as archive:
        np.savez_compressed(compressed, **archive)
    out = tmp_path / "run"
    config = write_config(tmp_path, 1, out, data=compressed)
    run = subprocess.run(
        [*CLI, "train", "--config", str(config)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(
        f"inside-keras train: error: {compressed}: member x.npy is compressed, so it cannot "
        "be memory-mapped; rewrite it uncompressed: python -c "
    ), run.stderr
    assert not out.exists()
