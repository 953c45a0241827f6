"""`training.distribution: data_parallel`: on JAX, training over two (host) devices
gives the losses of one device; elsewhere one line saying what is supported."""

import csv
import os
import subprocess

import keras
import pytest

from tests.runs import CLI, write_config

#: Two CPU devices for JAX, set before JAX starts in the subprocess.
TWO_DEVICES = "--xla_force_host_platform_device_count=2"


def _train(tmp_path, name, distribution):
    out = tmp_path / name
    config = write_config(tmp_path, epochs=2, out=out, data=tmp_path / "data.npz")
    text = config.read_text().replace("seed: 0}", f"seed: 0, distribution: {distribution}}}")
    config = tmp_path / f"{name}.yaml"
    config.write_text(text)
    env = {**os.environ, "XLA_FLAGS": TWO_DEVICES}
    run = subprocess.run(
        [*CLI, "train", "--config", str(config), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    return run, out


def _losses(out):
    with open(out / "log.csv") as stream:
        return [(float(row["loss"]), float(row["val_loss"])) for row in csv.DictReader(stream)]


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="Keras distributes on JAX only")
def test_data_parallel_gives_the_losses_of_one_device(tmp_path):
    from tests.runs import tiny_dataset

    tiny_dataset(tmp_path / "data.npz")  # 32 train samples: batches of 8 split in 2
    single, single_out = _train(tmp_path, "single", "none")
    assert single.returncode == 0, single.stderr
    parallel, parallel_out = _train(tmp_path, "parallel", "data_parallel")
    assert parallel.returncode == 0, parallel.stderr
    assert "data parallel over 2 devices" in parallel.stdout
    for one, two in zip(_losses(single_out), _losses(parallel_out), strict=True):
        assert one == pytest.approx(two, rel=1e-4, abs=1e-5)


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="JAX supports it")
def test_data_parallel_elsewhere_is_one_line(tmp_path):
    from tests.runs import tiny_dataset

    tiny_dataset(tmp_path / "data.npz")
    run, out = _train(tmp_path, "parallel", "data_parallel")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "runs on the JAX backend only" in run.stderr


def _odd_dataset(path, n=37, size=16):
    """37 samples of the quadrant task: 21 train, 5 val, 11 test, so that no split
    divides by a batch of 4 split over 2 devices."""
    import numpy as np

    from inside_keras.data.prepared import load_prepared, save_prepared
    from tests.runs import tiny_dataset

    arrays = load_prepared(tiny_dataset(path, n=n, size=size))
    arrays["split"] = np.array(["train"] * 21 + ["val"] * 5 + ["test"] * 11)
    save_prepared(path, **arrays)
    return path


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="Keras distributes on JAX only")
def test_data_parallel_on_splits_that_do_not_divide_loses_no_sample(tmp_path):
    _odd_dataset(tmp_path / "data.npz")
    runs = {}
    for name, distribution in (("single", "none"), ("parallel", "data_parallel")):
        config = write_config(tmp_path, epochs=2, out=tmp_path / name, data=tmp_path / "data.npz")
        text = config.read_text().replace("batch_size: 8", "batch_size: 4")
        text = text.replace("seed: 0}", f"seed: 0, distribution: {distribution}}}")
        (tmp_path / f"{name}.yaml").write_text(text)
        env = {**os.environ, "XLA_FLAGS": TWO_DEVICES}
        command = [*CLI, "train", "--config", str(tmp_path / f"{name}.yaml"), "--quiet"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        evaluated = subprocess.run(
            [*CLI, "evaluate", "--model", str(tmp_path / name / "model.keras")]
            + ["--data", str(tmp_path / "data.npz")],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert evaluated.returncode == 0, evaluated.stderr[-2000:]
        assert evaluated.stdout.startswith("test: 11 samples"), evaluated.stdout
        with open(tmp_path / name / "log.csv") as stream:
            runs[name] = ([float(r["val_dice_soft"]) for r in csv.DictReader(stream)], evaluated)
    assert "data parallel over 2 devices" not in runs["single"][1].stdout
    # The zero-weighted repeats that pad the last batches change nothing: the same
    # validation Dice every epoch, the same test Dice.
    assert runs["single"][0] == pytest.approx(runs["parallel"][0], rel=1e-4, abs=1e-5)
    dice = {
        name: float(run.stdout.split("Dice ")[1].split(",")[0]) for name, (_, run) in runs.items()
    }
    assert dice["single"] == pytest.approx(dice["parallel"], abs=1e-3)
