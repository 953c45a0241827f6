"""Shared test setup: the backend comes from KERAS_BACKEND (set by nox)."""

import os

# The tests compare against float64 references at float32 precision; on NVIDIA GPUs
# JAX would otherwise run float32 matmuls in TF32 inside jit-compiled functions.
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """One 2-epoch INSIDE run (config path, output folder), shared by several test files."""
    from inside_keras.cli import main
    from tests.runs import write_config

    tmp_path = tmp_path_factory.mktemp("finished")
    out = tmp_path / "run"
    config = write_config(tmp_path, 2, out)
    assert main(["train", "--config", str(config), "--quiet"]) == 0
    return config, out
