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


# --- no traceback reaches a user ------------------------------------------------------
# The stderr of every run of the installed `inside-keras` that a test makes in a
# subprocess and that fails (a non-zero exit code) is collected; a "Traceback" in it
# fails that test, whatever the test itself checks.

_FAILED_RUNS = []


def _is_cli(command):
    if isinstance(command, (list, tuple)) and command:
        return str(command[0]).endswith("inside-keras") or "inside_keras" in map(str, command)
    return False


@pytest.fixture(autouse=True, scope="session")
def _collect_failing_cli_stderr():
    import subprocess

    original = subprocess.Popen.communicate

    def communicate(self, *args, **kwargs):  # `subprocess.run` waits through it too
        out, err = original(self, *args, **kwargs)
        if _is_cli(self.args) and self.returncode not in (0, None) and isinstance(err, str):
            _FAILED_RUNS.append((" ".join(map(str, self.args))[:300], self.returncode, err))
        return out, err

    subprocess.Popen.communicate = communicate
    yield
    subprocess.Popen.communicate = original


@pytest.fixture(autouse=True)
def _no_traceback_in_failing_cli_runs(_collect_failing_cli_stderr):
    first = len(_FAILED_RUNS)
    yield
    for command, code, stderr in _FAILED_RUNS[first:]:
        if "Traceback" in stderr:
            pytest.fail(f"`{command}` (exit {code}) printed a traceback:\n{stderr[-3000:]}")
