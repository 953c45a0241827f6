"""docs/pytorch_example.py runs under KERAS_BACKEND=torch, passes its checks, prints its numbers.

The script trains three small U-Nets in plain PyTorch (INSIDE, FiLM, none) with MONAI's
loss, loader and transforms; about a minute and a half on two CPU cores. It needs
torch and MONAI, which the package does not depend on: without them this file skips.
The `cli` nox session installs MONAI and runs it once (it does not depend on the
session's backend: the script always runs on PyTorch).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("monai")

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "docs" / "pytorch_example.py"


@pytest.fixture(scope="module")
def run():
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0"}
    completed = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULTS ")]
    results = json.loads(lines[-1][len("RESULTS ") :]) if lines else None
    return completed, results


def test_exits_zero_and_prints_results(run):
    completed, results = run
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert results is not None, completed.stdout[-3000:]
    assert results["failures"] == []


def test_conditioning_beats_the_unconditioned_twin(run):
    _, results = run
    assert results["dice_gain"] >= 0.1
    assert results["dice_inside"] - results["dice_unconditioned"] == pytest.approx(
        results["dice_gain"], abs=2e-4
    )
    # Seeded: INSIDE solves the task, the twin can only guess among the four squares.
    assert results["dice_inside"] > 0.9
    assert results["dice_unconditioned"] < 0.5
    assert 0.0 <= results["dice_film"] <= 1.0


def test_state_dict_compile_and_augmentation_checks(run):
    completed, results = run
    assert results["state_dict_identical"] is True
    assert results["compile_close"] is True
    assert results["flips_keep_condition"] is True
    for text in ("test Dice (192 images): INSIDE", "identical predictions: True", "torch.compile"):
        assert text in completed.stdout


def test_wrong_backend_is_refused():
    """Exit 2 with one line on stderr when KERAS_BACKEND names another backend (Keras's
    NumPy backend needs no other package)."""
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    completed = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert "run with KERAS_BACKEND=torch, not 'numpy'" in completed.stderr
