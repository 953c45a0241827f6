"""A 2-D/3-D U-Net whose conditioning placement is a parameter."""

import keras

from inside_keras.layers.base import check_data_format
from inside_keras.models.blocks import check_norm, conv_block, spatial_layers
from inside_keras.models.conditioning import apply_conditioning, split_options
from inside_keras.models.inputs import is_positive_int, model_inputs
from inside_keras.models.layout import channel_axis
from inside_keras.models.placement import resolve_placement
from inside_keras.models.size_padding import CropToInput, PadToMultiple


def unet(
    input_shape,
    num_classes,
    condition_dim,
    depth=4,
    base_filters=32,
    conditioning="inside",
    placement="bottleneck",
    norm="batch",
    dropout=0.0,
    conditioning_options=None,
    data_format=None,
    name="unet",
):
    """U-Net (Ronneberger et al., MICCAI 2015) conditioned on a vector at chosen levels.

    Levels, in network order: `enc0 ... enc{depth-1}`, `bottleneck`,
    `dec{depth-1} ... dec0`. Each level is two conv-norm-ReLU blocks (3x3 or
    3x3x3, `"same"` padding) with `base_filters * 2**i` filters at `enc{i}` and
    `dec{i}` and `base_filters * 2**depth` in the bottleneck. Encoder levels are
    followed by 2x max pooling; decoder level `dec{i}` upsamples 2x (nearest),
    concatenates the skip from `enc{i}`, then applies its two blocks. A 1x1 conv
    (`segmentation`) gives a sigmoid (one class), or logits that a `Softmax` layer
    (`softmax`) normalises over the `num_classes` channels.

    Conditioning at a level modulates that level's *output*: after its two conv
    blocks (and dropout), i.e. before pooling for encoder levels (so the skip
    connection carries conditioned features too) and before the next upsampling
    for the bottleneck and decoder levels. Layers are named
    `cond_<level>_<type>` (e.g. `cond_bottleneck_inside`); `conditioned_levels`
    reads the resolved placement back from a model, `attention_model` exposes
    the attention maps. Layers with attention (INSIDE, Guide Me) are called with
    `return_attention=True`.

    Any spatial size works: the image is zero-padded to the next multiple of
    `2**depth` (`PadToMultiple`, evenly before and after) and the output cropped
    back to the image's size (`CropToInput`), both layers of the model, so the
    conditioning layers see the padded maps.

    Every layer works in `data_format`: the image, the feature maps, the attention
    maps and the output are channels-last `(batch, *spatial, C)` or channels-first
    `(batch, C, *spatial)` (PyTorch's NCHW), and the weights are the same in both.

    Args:
        input_shape: the image's shape in `data_format`: `(H, W, C)` for 2-D or
            `(D, H, W, C)` for 3-D images (channels-first: `(C, H, W)`,
            `(C, D, H, W)`); each spatial size None (any size) or a positive int
            (Guide Me needs them static: its attention has one value per row and
            column).
        num_classes: 1 for binary segmentation (sigmoid), else the number of
            classes including background (softmax).
        condition_dim: length `K` of the condition vector.
        depth: number of encoder levels (poolings), at least 1.
        base_filters: filters of the first level.
        conditioning: layer type for shortcut and list placements: `"inside"`,
            `"film"`, `"guide_me"` or `"none"`.
        placement: a shortcut (`"none"`, `"bottleneck"`, `"encoder"`,
            `"decoder"`, `"all"`, `"first"`, `"last"`), a list of level names, or
            a mapping level -> layer type (see `inside_keras.models.placement`).
        norm: `"batch"`, `"instance"`, `"group"` (at most 8 groups, dividing the
            channels) or None.
        dropout: rate of the dropout applied after each level's conv blocks
            (before conditioning); 0 disables it.
        conditioning_options: keyword arguments for the conditioning layers:
            flat (each option goes to the types that accept it) or per type,
            `{"inside": {...}, "film": {...}}`; not `data_format`.
        data_format: `"channels_last"` or `"channels_first"`, the layout of the
            image and of every feature map; None means
            `keras.config.image_data_format()`, as for Keras's convolutions.
        name: model name.

    Input shape:
        A dict `{"image": (batch, *spatial, C), "condition": (batch, K)}`, the
        image `(batch, C, *spatial)` for channels-first.

    Output shape:
        `(batch, *spatial, num_classes)` probabilities (channels-first:
        `(batch, num_classes, *spatial)`), float32 under every dtype policy (the
        output layers are float32 under mixed precision).

    Returns:
        A functional `keras.Model`.

    Raises:
        ValueError: for invalid shapes, placement (the message lists the valid
            level names), options or `data_format`.
    """
    data_format = check_data_format("unet", data_format)
    for arg, value in (
        ("num_classes", num_classes),
        ("depth", depth),
        ("base_filters", base_filters),
    ):
        if not is_positive_int(value):
            raise ValueError(f"`{arg}` must be a positive int, got {value!r}.")
    if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"`dropout` must be a number in [0, 1), got {dropout!r}.")
    check_norm(norm)
    levels = resolve_placement(placement, depth, conditioning)
    options = split_options(conditioning_options, levels.values())
    inputs = model_inputs(input_shape, condition_dim, data_format)
    condition = inputs["condition"]
    conv_class, pool_class, up_class = spatial_layers(len(input_shape) - 1)

    def level(x, filters, level_name):
        x = conv_block(x, filters, norm, f"{level_name}_block1", data_format)
        x = conv_block(x, filters, norm, f"{level_name}_block2", data_format)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{level_name}_dropout")(x)
        if level_name in levels:
            kind = levels[level_name]
            x = apply_conditioning(x, condition, level_name, kind, options[kind], data_format)
        return x

    image = inputs["image"]
    x = PadToMultiple(2**depth, data_format=data_format, name="pad_to_multiple")(image)
    skips = []
    for i in range(depth):
        x = level(x, base_filters * 2**i, f"enc{i}")
        skips.append(x)
        x = pool_class(data_format=data_format, name=f"enc{i}_pool")(x)
    x = level(x, base_filters * 2**depth, "bottleneck")
    for i in reversed(range(depth)):
        x = up_class(data_format=data_format, name=f"dec{i}_up")(x)
        x = keras.layers.Concatenate(axis=channel_axis(data_format), name=f"dec{i}_concat")(
            [x, skips[i]]
        )
        x = level(x, base_filters * 2**i, f"dec{i}")
    # float32 under mixed precision: probabilities (and the loss on them) in full precision.
    # Keras's "softmax" activation normalises the last axis, not the channels in every
    # layout: a Softmax layer over the channel axis does.
    outputs = conv_class(
        num_classes,
        1,
        activation="sigmoid" if num_classes == 1 else None,
        data_format=data_format,
        name="segmentation",
        dtype="float32",
    )(x)
    if num_classes > 1:
        outputs = keras.layers.Softmax(
            axis=channel_axis(data_format), name="softmax", dtype="float32"
        )(outputs)
    outputs = CropToInput(2**depth, data_format=data_format, name="crop_to_input", dtype="float32")(
        [outputs, image]
    )
    return keras.Model(inputs, outputs, name=name)
