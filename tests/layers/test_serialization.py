"""get_config round trips, and `.keras` files saved under each backend load under this one.

Both feature layouts: the fixtures hold a channels-last model (saved before the layers
took `data_format`), the same model on channels-first features, and a channels-first
U-Net made by `unet` (tests/fixtures/built_model.py).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from inside_keras import INSIDE, FiLM, GuidingBlock
from tests.fixtures import built_model
from tests.fixtures.conditioned_model import FIXTURE_STEMS, build_model, model_inputs
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


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize(
    "layer",
    [
        FiLM,
        GuidingBlock,
        lambda data_format: INSIDE(
            shared_attention=True, kernel="cauchy", hidden_units=4, data_format=data_format
        ),
    ],
    ids=["film", "guiding_block", "inside"],
)
def test_data_format_round_trip(rng, layer, data_format):
    """`data_format` is in the config, and the clone computes in the same layout."""
    layer = layer(data_format=data_format)
    x = rng.standard_normal((2, 6, 8, 10) if data_format == "channels_first" else (2, 8, 10, 6))
    x = x.astype("float32")
    z = rng.standard_normal((2, 3)).astype("float32")
    expected = [to_numpy(t) for t in keras.tree.flatten(_call(layer, x, z))]
    config = layer.get_config()
    assert config["data_format"] == data_format
    clone = type(layer).from_config(config)
    assert clone.data_format == data_format and clone.get_config() == config
    clone.build([x.shape, z.shape])
    clone.set_weights(layer.get_weights())
    for result, value in zip(keras.tree.flatten(_call(clone, x, z)), expected, strict=True):
        np.testing.assert_allclose(to_numpy(result), value, rtol=1e-6, atol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.data_format == data_format and restored.get_config() == config


def test_config_stores_the_resolved_layout():
    """None resolves to the global image data format when the layer is made, and the
    config keeps the resolved value: a file saved under one setting loads the same under
    another."""
    previous = keras.config.image_data_format()
    try:
        keras.config.set_image_data_format("channels_first")
        config = INSIDE().get_config()
        keras.config.set_image_data_format("channels_last")
        assert config["data_format"] == "channels_first"
        assert INSIDE.from_config(config).data_format == "channels_first"
        assert INSIDE().data_format == "channels_last"
    finally:
        keras.config.set_image_data_format(previous)


def _call(layer, x, z):
    return layer([x, z], return_attention=True) if layer.has_attention else layer([x, z])


@pytest.mark.parametrize("layout", sorted(FIXTURE_STEMS))
@pytest.mark.parametrize("saved_under", BACKENDS)
def test_keras_file_from_each_backend_loads_here(saved_under, layout):
    """Files written by tests/fixtures/make_fixtures.py under `saved_under`."""
    stem = f"{FIXTURE_STEMS[layout]}_{saved_under}"
    expected = np.load(FIXTURES / f"{stem}.npz")
    model = keras.saving.load_model(FIXTURES / f"{stem}.keras", safe_mode=True)
    for layer in model.layers:
        if hasattr(layer, "data_format"):
            assert layer.data_format == layout, layer.name
    inputs = {key[3:]: expected[key] for key in expected.files if key.startswith("in_")}
    outputs = model.predict(inputs, verbose=0)
    assert sorted(outputs) == sorted(key[4:] for key in expected.files if key.startswith("out_"))
    for name, value in outputs.items():
        np.testing.assert_allclose(
            value,
            expected[f"out_{name}"],
            rtol=1e-5,
            atol=1e-5,
            err_msg=f"{name}: {layout}, saved under {saved_under}",
        )


@pytest.mark.parametrize("saved_under", BACKENDS)
def test_channels_first_fixture_is_the_transposed_channels_last_one(saved_under):
    """Same weights, inputs moved to channels-first: every output is the moved one."""
    last = np.load(FIXTURES / f"{FIXTURE_STEMS['channels_last']}_{saved_under}.npz")
    first = np.load(FIXTURES / f"{FIXTURE_STEMS['channels_first']}_{saved_under}.npz")
    assert sorted(first.files) == sorted(last.files)
    for key in last.files:
        moved = last[key] if key == "in_condition" else np.moveaxis(last[key], -1, 1)
        np.testing.assert_allclose(first[key], moved, rtol=1e-5, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_save_and_load_in_a_separate_process(tmp_path, data_format):
    """Saved by this process, loaded by a fresh interpreter with the same backend."""
    model = build_model(seed=3, data_format=data_format)
    inputs = model_inputs(seed=4, data_format=data_format)
    np.savez(tmp_path / "expected.npz", **model.predict(inputs, verbose=0))
    model.save(tmp_path / "model.keras")
    script = (
        "import sys, keras, numpy as np\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from tests.fixtures.conditioned_model import model_inputs\n"
        f"m = keras.saving.load_model({str(tmp_path / 'model.keras')!r}, safe_mode=True)\n"
        f"out = m.predict(model_inputs(seed=4, data_format={data_format!r}), verbose=0)\n"
        f"np.savez({str(tmp_path / 'loaded.npz')!r}, **out)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=REPO)
    expected, loaded = np.load(tmp_path / "expected.npz"), np.load(tmp_path / "loaded.npz")
    for name in expected.files:
        np.testing.assert_allclose(loaded[name], expected[name], rtol=1e-6, atol=1e-6)


def _check_outputs(result, expected, context):
    assert sorted(result) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(
            result[name], value, rtol=1e-5, atol=1e-5, err_msg=f"{name}: {context}"
        )


@pytest.mark.parametrize("saved_under", BACKENDS)
def test_channels_first_unet_from_each_backend_loads_here(saved_under):
    """The U-Net's probabilities and attention maps, from the file's layers in their layout."""
    stem = f"{built_model.STEM}_{saved_under}"
    saved = np.load(FIXTURES / f"{stem}.npz")
    model = keras.saving.load_model(FIXTURES / f"{stem}.keras", safe_mode=True)
    layouts = {
        layer.name: layer.data_format for layer in model.layers if hasattr(layer, "data_format")
    }
    assert {"pad_to_multiple", "crop_to_input", "cond_dec0_guide_me"} <= set(layouts)
    assert set(layouts.values()) == {"channels_first"}
    inputs = {key[3:]: saved[key] for key in saved.files if key.startswith("in_")}
    expected = {key[4:]: saved[key] for key in saved.files if key.startswith("out_")}
    _check_outputs(built_model.outputs(model, inputs), expected, f"saved under {saved_under}")


def _another_backend():
    """The next backend after this one (jax, torch, tensorflow, jax) that is installed."""
    current = BACKENDS.index(keras.backend.backend())
    for backend in BACKENDS[current + 1 :] + BACKENDS[:current]:
        if importlib.util.find_spec(backend) is not None:
            return backend
    return None


def test_channels_first_unet_loads_in_a_fresh_process_on_another_backend(tmp_path):
    """Saved by this process, loaded and run by a fresh interpreter on another backend."""
    backend = _another_backend()
    if backend is None:
        pytest.skip("no other Keras backend installed")
    model, inputs = built_model.build_unet(seed=3), built_model.unet_inputs(seed=4)
    expected = built_model.outputs(model, inputs)
    model.save(tmp_path / "unet.keras")
    script = (
        "import sys, keras, numpy as np\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from tests.fixtures import built_model\n"
        f"m = keras.saving.load_model({str(tmp_path / 'unet.keras')!r}, safe_mode=True)\n"
        "out = built_model.outputs(m, built_model.unet_inputs(seed=4))\n"
        f"np.savez({str(tmp_path / 'loaded.npz')!r}, **out)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": backend}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=REPO)
    loaded = np.load(tmp_path / "loaded.npz")
    context = f"saved under {keras.backend.backend()}, loaded under {backend}"
    _check_outputs({name: loaded[name] for name in loaded.files}, expected, context)
