"""With only `pip install inside-keras` and a backend, a U-Net with INSIDE builds and trains.

Run by `nox -s minimal` in a venv holding the package without extras and JAX. It trains
one epoch on random data and fails unless the loss is finite. It also fails if the
package is imported from this checkout instead of the venv, or if a package of the `cli`
extra is importable: then the venv would not be the minimal install it is meant to check.
"""

import importlib.util
import math
import sys
from pathlib import Path

import keras
import numpy as np

import inside_keras
from inside_keras.models import unet

#: Import names of `cli`-extra packages that neither Keras nor JAX installs.
CLI_ONLY = ("yaml", "pydantic", "nibabel", "matplotlib", "PIL")


def main():
    source = Path(__file__).resolve().parents[1] / "inside_keras"
    if Path(inside_keras.__file__).resolve().parent == source:
        sys.exit(f"inside_keras was imported from the checkout ({source}), not the venv")
    present = [name for name in CLI_ONLY if importlib.util.find_spec(name) is not None]
    if present:
        sys.exit(f"not a minimal install: {present} importable")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    inputs = {
        "image": rng.uniform(size=(8, 16, 16, 1)).astype("float32"),
        "condition": np.eye(4, dtype="float32")[rng.integers(0, 4, 8)],
    }
    masks = (rng.uniform(size=(8, 16, 16, 1)) > 0.5).astype("float32")
    model = unet((16, 16, 1), 1, 4, depth=1, base_filters=4, conditioning="inside", placement="all")
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    history = model.fit(inputs, masks, batch_size=4, epochs=1, verbose=0)
    loss = history.history["loss"][-1]
    if not math.isfinite(loss):
        sys.exit(f"loss after one epoch is {loss}")
    print(
        f"inside-keras {inside_keras.__version__} from {inside_keras.__file__}, keras "
        f"{keras.__version__} ({keras.backend.backend()}): U-Net with INSIDE at every "
        f"level, one epoch on random data, loss {loss:.4f}"
    )


if __name__ == "__main__":
    main()
