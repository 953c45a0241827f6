"""`training.precision`: mixed bfloat16 trains to the float32 losses within tolerance,
the dtype policy does not outlive the build, float16 scales the loss, and a mixed
precision model loads and evaluates in a fresh process."""

import subprocess

import keras
import numpy as np
import pytest

from inside_keras.config import load_config
from inside_keras.data.prepared import load_prepared
from inside_keras.errors import InputError
from inside_keras.training import build_model, compile_model, fit_experiment
from inside_keras.training.checkpoint import read_state
from tests.runs import CLI, tiny_dataset, write_config

#: bfloat16 keeps 8 significand bits (about 2-3 decimal digits): after two epochs of a
#: tiny network its losses stay within 5 % of float32's.
LOSS_RTOL = 0.05


@pytest.fixture(scope="module")
def data_path(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("precision") / "data.npz")


def _config(tmp_path, data_path, precision):
    tmp_path.mkdir(parents=True, exist_ok=True)
    config_path = write_config(tmp_path, 2, tmp_path / "run", data=data_path)
    return load_config(config_path, [f"training.precision={precision}"])


def _fit(tmp_path, data_path, precision):
    """`(loss and val_loss per epoch, checkpoint folder)` of a 2-epoch run."""
    config = _config(tmp_path / precision, data_path, precision)
    checkpoint = tmp_path / precision / "checkpoint"
    result = fit_experiment(config, load_prepared(data_path), checkpoint)
    return np.array(result.history["loss"] + result.history["val_loss"]), checkpoint


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory, data_path):
    return _fit(tmp_path_factory.mktemp("mixed"), data_path, "mixed_bfloat16")


def test_mixed_bfloat16_losses_match_float32(tmp_path, data_path, mixed_run):
    full, _ = _fit(tmp_path, data_path, "float32")
    mixed, _ = mixed_run
    assert np.all(np.isfinite(mixed))
    np.testing.assert_allclose(mixed, full, rtol=LOSS_RTOL)
    assert keras.config.dtype_policy().name == "float32"  # restored after the build


def test_build_under_policy_keeps_output_float32_and_restores_policy(tmp_path, data_path):
    config = _config(tmp_path, data_path, "mixed_float16")
    model = build_model(config.model, (16, 16, 3), 4, 1, config.training.precision)
    assert keras.config.dtype_policy().name == "float32"
    assert model.get_layer("bottleneck_conv").compute_dtype == "float16"
    assert model.get_layer("segmentation").compute_dtype == "float32"
    compile_model(model, config.training, 1)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_unknown_precision_names_the_allowed_ones(tmp_path, data_path):
    with pytest.raises(InputError, match="allowed: float32, mixed_bfloat16, mixed_float16"):
        _config(tmp_path, data_path, "float16")


def test_mixed_precision_model_evaluates_in_a_fresh_process(mixed_run, data_path):
    _, checkpoint = mixed_run
    model = checkpoint / read_state(checkpoint).best_model
    evaluated = subprocess.run(
        [*CLI, "evaluate", "--model", str(model), "--data", str(data_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "mean per-image Dice" in evaluated.stdout
