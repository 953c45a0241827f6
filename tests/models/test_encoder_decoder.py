"""The paper's encoder-decoder: parameter counts, shapes, inputs."""

import numpy as np
import pytest

from inside_keras.layers import INSIDE, FiLM, GuidingBlock
from inside_keras.models import conditioned_levels, encoder_decoder

#: Parameters for the paper's 200x200x3 input and a 4-dim condition (docs/models.md).
PARAMETERS = {"none": 83_617, "film": 89_057, "guide_me": 92_357, "inside": 97_505}


@pytest.mark.parametrize("conditioning", list(PARAMETERS))
def test_parameter_counts(conditioning):
    model = encoder_decoder((200, 200, 3), 4, conditioning)
    assert model.count_params() == PARAMETERS[conditioning]
    assert model.name == f"encoder_decoder_{conditioning}"


def test_parameter_count_breakdown():
    """The counts by hand: convolutions, then hypernetwork (C=64, C/2=32) and heads."""
    convs = sum(
        9 * cin * cout + cout
        for cin, cout in [(3, 16), (16, 32), (32, 64), (64, 64), (64, 32), (32, 16)]
    ) + (16 + 1)
    trunk = (4 * 32 + 32) + (32 * 32 + 32)
    assert convs == PARAMETERS["none"]
    assert convs + trunk + 32 * 128 + 128 == PARAMETERS["film"]
    assert convs + trunk + (32 * 256 + 256) + (32 * 128 + 128) == PARAMETERS["inside"]
    assert convs + trunk + 32 * 228 + 228 == PARAMETERS["guide_me"]  # 2C + 50 + 50 outputs


@pytest.mark.parametrize(
    "conditioning, layer_class", [("inside", INSIDE), ("film", FiLM), ("guide_me", GuidingBlock)]
)
def test_bottleneck_conditioning(rng, conditioning, layer_class):
    model = encoder_decoder((32, 32, 3), 4, conditioning, conditioning_options={"hidden_units": 5})
    layer = model.get_layer(f"cond_bottleneck_{conditioning}")
    assert isinstance(layer, layer_class) and layer.hidden_units == 5
    assert conditioned_levels(model) == {"bottleneck": conditioning}
    features = layer.output[0] if layer.has_attention else layer.output
    assert tuple(features.shape) == (None, 8, 8, 64)
    inputs = {
        "image": rng.random((3, 32, 32, 3)).astype("float32"),
        "condition": np.eye(4, dtype="float32")[:3],
    }
    out = model.predict(inputs, verbose=0)
    assert out.shape == (3, 32, 32, 1) and out.min() >= 0 and out.max() <= 1


def test_named_inputs():
    model = encoder_decoder((32, 32, 3), 4)
    assert sorted(model.input) == ["condition", "image"]
    assert sorted(tensor.name for tensor in model.inputs) == ["condition", "image"]


def test_invalid_input_shape():
    with pytest.raises(ValueError, match="None or positive ints"):
        encoder_decoder((0, 32, 3), 4)
    with pytest.raises(ValueError, match="2 spatial axes"):
        encoder_decoder((8, 32, 32, 3), 4)
