"""Any spatial size: the padding layers, and networks whose output has the input's shape
at sizes that do not divide (primes, sizes below 2**depth), trained and reloaded."""

import subprocess
import sys

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from inside_keras.losses import get_loss
from inside_keras.models import encoder_decoder, unet
from inside_keras.models.size_padding import CropToInput, PadToMultiple, padded_size

#: Few examples: each builds, compiles (JAX, TensorFlow) and trains a network.
EXAMPLES = settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def test_padding_is_even_and_the_crop_inverts_it(rng):
    x = rng.random((2, 5, 7, 3)).astype("float32")
    padded = _numpy(PadToMultiple(4)(x))
    assert padded.shape == (2, 8, 8, 3)
    # 5 -> 8: one zero row before, two after; 7 -> 8: none before, one after
    np.testing.assert_array_equal(padded[:, 1:6, 0:7], x)
    assert padded[:, 0].sum() == 0 and padded[:, 6:].sum() == 0 and padded[:, :, 7].sum() == 0
    np.testing.assert_array_equal(_numpy(CropToInput(4)([padded, x])), x)
    assert [padded_size(n, 8) for n in (1, 8, 9, 27, None)] == [8, 8, 16, 32, None]


def test_sizes_that_divide_pass_through_unchanged(rng):
    x = rng.random((1, 8, 4, 2, 1)).astype("float32")
    np.testing.assert_array_equal(_numpy(PadToMultiple(2)(x)), x)
    assert PadToMultiple(4).compute_output_shape((None, 5, None, 1)) == (None, 8, None, 1)


@pytest.mark.parametrize("multiple", [0, -2, 1.5, True])
def test_bad_multiple(multiple):
    with pytest.raises(ValueError, match="`multiple` must be a positive int"):
        PadToMultiple(multiple)


@pytest.mark.parametrize("spatial", [(5,), (5, 7), (5, 3, 6)])
def test_channels_first_pads_and_crops_as_channels_last_transposed(rng, spatial):
    x = rng.random((2, *spatial, 3)).astype("float32")
    x_first = np.moveaxis(x, -1, 1)
    padded = _numpy(PadToMultiple(4, data_format="channels_last")(x))
    pad, crop = PadToMultiple(4, "channels_first"), CropToInput(4, "channels_first")
    padded_first = _numpy(pad(x_first))
    np.testing.assert_array_equal(padded_first, np.moveaxis(padded, -1, 1))
    assert pad.compute_output_shape((None, 3, *spatial)) == (None, *padded_first.shape[1:])
    np.testing.assert_array_equal(_numpy(crop([padded_first, x_first])), x_first)
    output_shape = crop.compute_output_shape([(None, 2, *padded.shape[1:-1]), x_first.shape])
    assert output_shape == (None, 2, *spatial)


def test_channels_first_sizes_unknown_until_called(rng):
    """A model of None sizes (on TensorFlow, a graph padding with tensors) at two sizes."""
    image = keras.Input((2, None, None))
    padded = PadToMultiple(4, "channels_first")(image)
    model = keras.Model(image, [padded, CropToInput(4, "channels_first")([padded, image])])
    for shape in [(1, 2, 5, 7), (3, 2, 9, 4)]:
        x = rng.random(shape).astype("float32")
        padded, cropped = model.predict(x, verbose=0)
        assert padded.shape == (*shape[:2], *(padded_size(n, 4) for n in shape[2:]))
        np.testing.assert_array_equal(cropped, x)


@pytest.mark.parametrize("layer_class", [PadToMultiple, CropToInput])
def test_data_format_is_serialised(layer_class):
    layer = layer_class(4, data_format="Channels_First", name="resize")
    config = layer.get_config()
    assert config["multiple"] == 4 and config["data_format"] == "channels_first"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is layer_class and restored.get_config() == config
    # A config saved before the layers took `data_format` means the global setting.
    del config["data_format"]
    assert layer_class.from_config(config).data_format == keras.config.image_data_format()


@pytest.mark.parametrize("layer_class", [PadToMultiple, CropToInput])
def test_bad_data_format(layer_class):
    with pytest.raises(ValueError, match=f"^{layer_class.__name__}: `data_format` must be"):
        layer_class(4, data_format="NCHW")


def _inputs(rng, batch, spatial, channels, condition_dim=4):
    return {
        "image": rng.random((batch, *spatial, channels)).astype("float32"),
        "condition": np.eye(condition_dim, dtype="float32")[rng.integers(0, condition_dim, batch)],
    }


@EXAMPLES
@seed(26)
@given(
    spatial=st.one_of(
        st.lists(st.integers(1, 23), min_size=2, max_size=2),
        st.lists(st.integers(1, 11), min_size=3, max_size=3),
    ),
    depth=st.integers(1, 3),
    channels=st.integers(1, 3),
    batch=st.integers(1, 3),
    conditioning=st.sampled_from(["inside", "film", "guide_me", "none"]),
)
def test_unet_output_has_the_input_shape_after_a_training_step(
    spatial, depth, channels, batch, conditioning
):
    rng = np.random.default_rng(0)
    model = unet((*spatial, channels), 3, 4, depth=depth, base_filters=2, conditioning=conditioning)
    model.compile(keras.optimizers.Adam(1e-3), get_loss("ce_dice"))
    inputs = _inputs(rng, batch, spatial, channels)
    labels = rng.integers(0, 3, (batch, *spatial)).astype("uint8")
    loss = float(_numpy(model.train_on_batch(inputs, labels)))
    assert np.isfinite(loss)
    assert model.predict(inputs, verbose=0).shape == (batch, *spatial, 3)


@EXAMPLES
@seed(4)
@given(height=st.integers(1, 40), width=st.integers(1, 40), batch=st.integers(1, 3))
def test_encoder_decoder_at_any_size(height, width, batch):
    rng = np.random.default_rng(1)
    model = encoder_decoder((None, None, 3), 4, "inside")
    inputs = _inputs(rng, batch, (height, width), 3)
    assert model.predict(inputs, verbose=0).shape == (batch, height, width, 1)


def test_saved_model_predicts_another_size_in_a_fresh_process(tmp_path):
    rng = np.random.default_rng(2)
    model = unet((None, None, None, 1), 1, 4, depth=2, base_filters=2)
    model.compile("adam", "binary_crossentropy")
    inputs = _inputs(rng, 2, (7, 6, 5), 1)
    model.fit(inputs, rng.integers(0, 2, (2, 7, 6, 5, 1)).astype("float32"), verbose=0)
    model.save(tmp_path / "model.keras")
    other = _inputs(rng, 1, (13, 9, 11), 1)
    np.savez(tmp_path / "other.npz", **other)
    np.save(tmp_path / "expected.npy", model.predict(other, verbose=0))
    script = (
        "import sys, numpy as np, keras, inside_keras.models.custom_objects\n"
        "folder = sys.argv[1]\n"
        "model = keras.saving.load_model(folder + '/model.keras')\n"
        "data = dict(np.load(folder + '/other.npz'))\n"
        "out = model.predict(data, verbose=0)\n"
        "assert out.shape == (1, 13, 9, 11, 1), out.shape\n"
        "np.testing.assert_allclose(out, np.load(folder + '/expected.npy'), atol=1e-5)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
