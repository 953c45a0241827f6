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
