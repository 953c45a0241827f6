"""Under a mixed-precision policy the models compute in bfloat16 and output float32."""

import keras
import numpy as np
import pytest

from inside_keras.models import encoder_decoder, unet

MODELS = {
    "unet": lambda: unet((16, 16, 1), 3, 4, depth=2, base_filters=4, placement="all"),
    "encoder_decoder": lambda: encoder_decoder((16, 16, 1), 4),
}


@pytest.fixture
def mixed_bfloat16():
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_dtype_policy(previous)


@pytest.mark.parametrize("name", MODELS)
def test_output_is_float32_under_mixed_bfloat16(mixed_bfloat16, name):
    model = MODELS[name]()
    conditioned = [layer for layer in model.layers if layer.name.startswith("cond_")]
    assert conditioned and all(layer.compute_dtype == "bfloat16" for layer in conditioned)
    assert keras.backend.standardize_dtype(model.output.dtype) == "float32"
    rng = np.random.default_rng(0)
    inputs = {
        "image": rng.uniform(size=(2, 16, 16, 1)).astype("float32"),
        "condition": np.eye(4, dtype="float32")[[0, 2]],
    }
    outputs = model(inputs)
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(outputs)))
