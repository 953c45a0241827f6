"""Run `inside-keras` in a fresh interpreter: forking worker processes from the test
process, which may run JAX's or TensorFlow's threads, is unsafe."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args):
    """`python -m inside_keras ARGS` with this checkout first on the path."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "inside_keras", *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)
