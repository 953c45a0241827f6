"""The network an experiment describes: built from its `ModelConfig` (checked against
the data's size first), at its precision, and compiled with its loss, Dice metrics and
optimizer (`TrainingConfig`)."""

import contextlib
import math

import keras
import numpy as np

from inside_keras.errors import InputError

ARCHITECTURES = ("encoder_decoder", "unet")


def num_classes_of(arrays):
    """Output channels a network needs for prepared arrays: 1 for binary float masks,
    else the number of class ids (at least 2). The largest id is found a block at a
    time, so a memory-mapped `y` is not read into memory whole."""
    from inside_keras.data.mapped import blocks

    y = arrays["y"]
    if y.dtype == np.float32:
        return 1
    return max(2, max(int(block.max()) for block in blocks(y)) + 1)


@contextlib.contextmanager
def dtype_policy(precision):
    """Keras's global dtype policy set to `precision` inside, the previous one restored
    after (models built later in the process are not affected)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def poolings(model_config):
    """The 2x poolings of the network a `ModelConfig` describes."""
    from inside_keras.models.encoder_decoder import POOLINGS

    return POOLINGS if model_config.architecture == "encoder_decoder" else model_config.depth


def uses_guide_me(model_config):
    """Whether the network has a Guide Me layer (whose attention has one value per row
    and column of its map, so the network takes one image size only)."""
    from inside_keras.models import resolve_placement

    if model_config.architecture == "encoder_decoder":
        return model_config.conditioning == "guide_me"
    try:
        levels = resolve_placement(
            model_config.placement, model_config.depth, model_config.conditioning
        )
    except ValueError as error:
        raise InputError(str(error), "model.placement") from None
    return "guide_me" in levels.values()


def check_fits(model_config, data_shape):
    """Raise InputError unless the network's poolings fit the data's spatial sizes:
    `2**poolings` may not exceed the smallest of them (the bottleneck would hold no
    pixel of the image along that axis, only padding)."""
    need = 2 ** poolings(model_config)
    spatial = tuple(data_shape[:-1])
    if need <= min(spatial):
        return
    axes = {1: "", 2: " (H x W)", 3: " (D x H x W)"}.get(len(spatial), "")
    sizes = "x".join(map(str, spatial)) + axes
    if model_config.architecture == "encoder_decoder":
        raise InputError(
            f"the encoder-decoder pools twice and needs at least {need} px along each axis; "
            f"the samples are {sizes}: use architecture: unet with a small depth",
            "model.architecture",
        )
    deepest = int(math.log2(min(spatial))) if min(spatial) >= 2 else 0
    hint = f"use depth <= {deepest}" if deepest >= 1 else "resample the data to at least 2 px"
    raise InputError(
        f"depth {model_config.depth} needs at least {need} px along each axis; the samples "
        f"are {sizes}: {hint}",
        "model.depth",
    )


def build_model(model_config, input_shape, condition_dim, num_classes, precision="float32"):
    """The network described by a `ModelConfig`, for data of the given shapes.

    The network takes images of any spatial size (`None` sizes; it pads what its
    poolings need and crops back, `inside_keras.models.size_padding`), so that the
    saved model predicts on other sizes than it was trained on; a network with a Guide
    Me layer keeps the data's size, which its attention is made for.

    Args:
        model_config: the `ModelConfig`.
        input_shape: the data's image shape without the batch axis.
        condition_dim: length of the condition vector.
        num_classes: output channels (1: binary).
        precision: a `config.PRECISIONS` value, the dtype policy the layers are built
            under (the output layer is float32 under every policy).

    Raises:
        InputError: a network whose poolings do not fit the data, or any other choice the
            network builders refuse (the message names the config key).
    """
    check_fits(model_config, input_shape)
    if not uses_guide_me(model_config):
        input_shape = (*(None for _ in input_shape[:-1]), input_shape[-1])
    with dtype_policy(precision):
        try:
            return _build_network(model_config, input_shape, condition_dim, num_classes)
        except ValueError as error:
            raise InputError(str(error).rstrip("."), "model") from None


#: Prepared data is channels-last, whatever Keras's configured default (`keras.json`).
PREPARED_DATA_FORMAT = "channels_last"


def _build_network(model_config, input_shape, condition_dim, num_classes):
    from inside_keras.models import encoder_decoder, unet

    if model_config.architecture == "encoder_decoder":
        if num_classes != 1:
            raise InputError(
                f"the encoder-decoder segments one class; the data has {num_classes}: "
                "use architecture: unet",
                "model.architecture",
            )
        return encoder_decoder(
            input_shape,
            condition_dim,
            conditioning=model_config.conditioning,
            conditioning_options=model_config.conditioning_options,
            data_format=PREPARED_DATA_FORMAT,
        )
    if model_config.architecture == "unet":
        return unet(
            input_shape,
            num_classes,
            condition_dim,
            depth=model_config.depth,
            base_filters=model_config.base_filters,
            conditioning=model_config.conditioning,
            placement=model_config.placement,
            norm=model_config.norm,
            dropout=model_config.dropout,
            conditioning_options=model_config.conditioning_options,
            data_format=PREPARED_DATA_FORMAT,
        )
    raise InputError(
        f"unknown architecture {model_config.architecture!r}; allowed: {list(ARCHITECTURES)}",
        "model.architecture",
    )


def precision_optimizer(optimizer, precision):
    """`optimizer`, wrapped in a `keras.optimizers.LossScaleOptimizer` for
    `"mixed_float16"` (float16 gradients underflow without loss scaling)."""
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def compile_model(model, training_config, num_classes):
    """Adam with the configured learning rate (loss-scaled for `mixed_float16`), the
    configured loss, the Dice metrics and, for a loss summed over pixels, its mean per
    pixel (`pixel_loss`); compiled with the configured `jit_compile`."""
    from inside_keras.evaluation.keras_metrics import dice_metrics
    from inside_keras.losses import get_loss

    try:
        loss = get_loss(training_config.loss)
    except ValueError as error:
        raise InputError(str(error), "training.loss") from None
    if loss.reduction == "sum_over_batch_size":
        # The same mean without weights; with the zero-weighted samples that pad a batch
        # for data parallel, the mean of the real samples alone.
        loss.reduction = "mean_with_sample_weight"
    optimizer = keras.optimizers.Adam(training_config.learning_rate)
    per_pixel = [loss.pixel_metric()] if hasattr(loss, "pixel_metric") else []
    model.compile(
        optimizer=precision_optimizer(optimizer, training_config.precision),
        loss=loss,
        # Weighted: Keras gives sample weights to `weighted_metrics` only, and the samples
        # that pad a batch for data parallel must count for nothing there too.
        weighted_metrics=[*dice_metrics(num_classes), *per_pixel],
        jit_compile=training_config.jit_compile,
    )
    return model
