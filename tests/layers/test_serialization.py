"""get_config round trips, and `.keras` files saved under each backend load under this one."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock
from tests.fixtures.conditioned_model import build_model, model_inputs
from tests.layers.helpers import to_numpy

FIXTURES = Path(os.environ.get("INSIDE_KERAS_FIXTURES", Path(__file__).parents[1] / "fixtures"))
BACKENDS = ("jax", "torch", "tensorflow")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "layer",
    [
        FiLM(hidden_units=3),
        GuidingBlock(),
        INSIDE(
            sigma_scale=0.2,
            sigma_relative=True,
            sigma_penalty=0.0,
            kernel="laplace",
            isotropic=True,
            shared_attention=True,
            min_width=1.0,
            epsilon=0.0,
            hidden_units=7,
        ),
    ],
    ids=["film", "guiding_block", "inside"],
)
def test_config_round_trip(rng, layer):
    x = rng.standard_normal((2, 8, 10, 6)).astype("float32")
    z = rng.standard_normal((2, 3)).astype("float32")
    expected = to_numpy(layer([x, z]))
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone.build([x.shape, z.shape])
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(clone([x, z])), expected, rtol=1e-6, atol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


@pytest.mark.parametrize("saved_under", BACKENDS)
def test_keras_file_from_each_backend_loads_here(saved_under):
    """Files written by tests/fixtures/make_fixtures.py under `saved_under`."""
    expected = np.load(FIXTURES / f"model_{saved_under}.npz")
    model = keras.saving.load_model(FIXTURES / f"model_{saved_under}.keras", safe_mode=True)
    inputs = {key[3:]: expected[key] for key in expected.files if key.startswith("in_")}
    outputs = model.predict(inputs, verbose=0)
    assert sorted(outputs) == sorted(key[4:] for key in expected.files if key.startswith("out_"))
    for name, value in outputs.items():
        np.testing.assert_allclose(
            value,
            expected[f"out_{name}"],
            rtol=1e-5,
            atol=1e-5,
            err_msg=f"{name}: saved under {saved_under}",
        )


def test_save_and_load_in_a_separate_process(tmp_path):
    """Saved by this process, loaded by a fresh interpreter with the same backend."""
    model = build_model(seed=3)
    inputs = model_inputs(seed=4)
    np.savez(tmp_path / "expected.npz", **model.predict(inputs, verbose=0))
    model.save(tmp_path / "model.keras")
    script = (
        "import sys, keras, numpy as np\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from tests.fixtures.conditioned_model import model_inputs\n"
        f"m = keras.saving.load_model({str(tmp_path / 'model.keras')!r}, safe_mode=True)\n"
        "out = m.predict(model_inputs(seed=4), verbose=0)\n"
        f"np.savez({str(tmp_path / 'loaded.npz')!r}, **out)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=REPO)
    expected, loaded = np.load(tmp_path / "expected.npz"), np.load(tmp_path / "loaded.npz")
    for name in expected.files:
        np.testing.assert_allclose(loaded[name], expected[name], rtol=1e-6, atol=1e-6)
