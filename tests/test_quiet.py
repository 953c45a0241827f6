"""A command's stderr holds its own lines: what a backend prints from C++ while it loads
is silenced, and shown with --debug."""

import os
import subprocess

import keras
import pytest

from tests.runs import CLI, tiny_dataset, write_config


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow is the backend that logs"
)
def test_tensorflow_logging_while_it_loads_stays_out_of_a_commands_stderr(tmp_path):
    tiny_dataset(tmp_path / "data.npz")
    config = write_config(tmp_path, epochs=1, out=tmp_path / "run", data=tmp_path / "data.npz")
    # All of TensorFlow's C++ log lines on (its cpu_feature_guard notice, absl's
    # "All log messages before absl::InitializeLog()"), and its oneDNN notice, which it
    # prints by default on a CPU with AVX-512 (TF_ENABLE_ONEDNN_OPTS=1 prints it on any
    # x86 CPU), whatever TF_CPP_MIN_LOG_LEVEL says:
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "0",
        "TF_ENABLE_ONEDNN_OPTS": "1",
        "KERAS_BACKEND": "tensorflow",
    }
    command = [
        *CLI,
        "train",
        "--config",
        str(config),
        "--set",
        "training.distribution=data_parallel",
    ]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert quiet.returncode == 2
    assert quiet.stderr.count("\n") == 1 and "runs on the JAX backend only" in quiet.stderr
    loud = subprocess.run(
        [*command, "--debug"], capture_output=True, text=True, timeout=300, env=env
    )
    assert loud.returncode == 2 and "oneDNN custom operations are on" in loud.stderr
    assert loud.stderr.rstrip().endswith(quiet.stderr.rstrip())
