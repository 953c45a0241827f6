"""The shallow encoder-decoder of the INSIDE paper's experiments."""

import keras

from inside_keras.layers.base import check_data_format
from inside_keras.models.conditioning import apply_conditioning, check_conditioning, split_options
from inside_keras.models.inputs import model_inputs
from inside_keras.models.size_padding import CropToInput, PadToMultiple

#: The encoder's 2x poolings: image sizes are padded to multiples of 2**POOLINGS.
POOLINGS = 2


def encoder_decoder(
    input_shape,
    condition_dim,
    conditioning="inside",
    conditioning_options=None,
    data_format=None,
    name=None,
):
    """The paper's encoder-decoder, conditioned once in the bottleneck.

    ```
    Conv(16) -> MaxPool -> Conv(32) -> MaxPool -> Conv(64) -> conditioning
      -> Conv(64) -> UpSampling -> Conv(32) -> UpSampling -> Conv(16) -> Conv(1, 1x1, sigmoid)
    ```
    Convolutions are 3x3, ReLU, `"same"` padding. The conditioning layer is named
    `cond_bottleneck_<type>` (`conditioned_levels` and `attention_model` read it).
    Any image size works: the image is zero-padded to the next multiple of 4
    (`PadToMultiple`) and the output cropped back (`CropToInput`). Every layer works
    in `data_format`, channels-last `(batch, H, W, C)` or channels-first
    `(batch, C, H, W)`, with the same weights in both.
    Reference: Jacenków et al., "INSIDE: Steering Spatial Attention with
    Non-Imaging Information in CNNs", MICCAI 2020, Sec. 3.

    Args:
        input_shape: `(H, W, C)`, or `(C, H, W)` for channels-first; `H`, `W` None
            (any size) or positive ints (Guide Me needs them static).
        condition_dim: length `K` of the condition vector.
        conditioning: `"inside"`, `"film"`, `"guide_me"` or `"none"` (baseline).
        conditioning_options: keyword arguments of the conditioning layer, e.g.
            `{"sigma_relative": True}` for INSIDE (see `split_options`); not
            `data_format`.
        data_format: `"channels_last"` or `"channels_first"`, the layout of the
            image and of every feature map; None means
            `keras.config.image_data_format()`, as for Keras's convolutions.
        name: model name; default `"encoder_decoder_<conditioning>"`.

    Input shape:
        A dict `{"image": (batch, H, W, C), "condition": (batch, K)}`, the image
        `(batch, C, H, W)` for channels-first.

    Output shape:
        `(batch, H, W, 1)` (channels-first: `(batch, 1, H, W)`), foreground
        probabilities, float32 under every dtype policy (the output layer is
        float32 under mixed precision).

    Returns:
        A functional `keras.Model`.

    Raises:
        ValueError: for invalid shapes, conditioning, options or `data_format`.
    """
    check_conditioning(conditioning)
    data_format = check_data_format("encoder_decoder", data_format)
    inputs = model_inputs(input_shape, condition_dim, data_format, spatial_ranks=(2,))
    image, condition = inputs["image"], inputs["condition"]

    def conv(x, filters, layer_name):
        return keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            activation="relu",
            data_format=data_format,
            name=layer_name,
        )(x)

    x = PadToMultiple(2**POOLINGS, data_format=data_format, name="pad_to_multiple")(image)
    x = conv(x, 16, "enc0_conv")
    x = keras.layers.MaxPooling2D(data_format=data_format, name="enc0_pool")(x)
    x = conv(x, 32, "enc1_conv")
    x = keras.layers.MaxPooling2D(data_format=data_format, name="enc1_pool")(x)
    x = conv(x, 64, "bottleneck_conv")
    used = [] if conditioning == "none" else [conditioning]
    options = split_options(conditioning_options, used)
    if used:
        x = apply_conditioning(
            x, condition, "bottleneck", conditioning, options[conditioning], data_format
        )
    x = conv(x, 64, "dec1_conv")
    x = keras.layers.UpSampling2D(data_format=data_format, name="dec1_up")(x)
    x = conv(x, 32, "dec0_conv")
    x = keras.layers.UpSampling2D(data_format=data_format, name="dec0_up")(x)
    x = conv(x, 16, "head_conv")
    # float32 under mixed precision: probabilities (and the loss on them) in full precision.
    outputs = keras.layers.Conv2D(
        1,
        1,
        activation="sigmoid",
        data_format=data_format,
        name="segmentation",
        dtype="float32",
    )(x)
    outputs = CropToInput(
        2**POOLINGS, data_format=data_format, name="crop_to_input", dtype="float32"
    )([outputs, image])
    return keras.Model(inputs, outputs, name=name or f"encoder_decoder_{conditioning}")
