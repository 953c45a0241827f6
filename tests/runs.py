"""A tiny conditioned dataset and experiment config for tests that train."""

import sys
from pathlib import Path

import numpy as np

from inside_keras.data.prepared import save_prepared

#: The installed `inside-keras` command (the console script beside this Python).
CLI = [str(Path(sys.executable).parent / "inside-keras")]

_BLOCKING = """
import sys
split = sys.argv.index("--")
for name in sys.argv[1:split]:
    sys.modules[name] = None
from inside_keras.cli import main
sys.exit(main(sys.argv[split + 1:]))
"""


def cli_without(*modules):
    """`inside-keras` as a command in which importing any of `modules` raises ImportError
    (as if they were not installed); the command's arguments follow."""
    return [sys.executable, "-c", _BLOCKING, *modules, "--"]


def tiny_dataset(path, n=48, size=16, seed=0):
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
    save_prepared(
        path,
        x=x,
        y=y,
        z=z,
        split=split,
        name=np.array([f"s{i}" for i in range(n)]),
        condition=np.array(["coordinates"] * n),
    )
    return path


def write_config(tmp_path, epochs, out, data=None, images_every=0):
    """A config training INSIDE into `out` on `data` (default: a tiny dataset made in
    `tmp_path`). TensorBoard's images are off unless `images_every` asks for them: their
    first drawing compiles a predict function, seconds of a short run on JAX."""
    data = data or tiny_dataset(tmp_path / "data.npz")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: encoder_decoder, conditioning: inside}\n"
        f"training: {{epochs: {epochs}, batch_size: 8, images_every: {images_every}, seed: 0}}\n"
        f"output: {{dir: {out}}}\n"
    )
    return config
