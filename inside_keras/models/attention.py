"""Reading the conditioning placement and attention maps back from a built model."""

import keras

from inside_keras.models.conditioning import layer_name, parse_layer_name


def conditioned_levels(model):
    """The resolved placement of a model built by this package: `{level: type}`.

    Read from the names of the conditioning layers (`cond_<level>_<type>`), so it
    survives saving and loading, in the model's layer order.
    """
    levels = {}
    for layer in model.layers:
        parsed = parse_layer_name(layer.name)
        if parsed is not None:
            levels[parsed[0]] = parsed[1]
    return levels


def attention_model(model):
    """A model mapping `model`'s inputs to `{level: attention map}`.

    Includes every conditioned level whose layer has a spatial attention (INSIDE,
    Guide Me; FiLM levels are skipped). Each map is the second output of the
    layer's call, so its values are exactly the layer's own attention: shape
    `(batch, *spatial, C)` for INSIDE (one channel with `shared_attention`) and
    `(batch, *spatial, 1)` for Guide Me, at that level's resolution; the channel
    axis first, `(batch, C, *spatial)`, for a channels-first model.

    Args:
        model: a model built by `unet` or `encoder_decoder`.

    Returns:
        A functional `keras.Model` sharing `model`'s layers and weights.

    Raises:
        ValueError: if the model has no conditioning layer with attention.
    """
    levels = conditioned_levels(model)
    outputs = {}
    for level, kind in levels.items():
        layer = model.get_layer(layer_name(level, kind))
        if layer.has_attention:
            outputs[level] = layer.output[1]
    if not outputs:
        raise ValueError(
            f"Model {model.name!r} has no conditioning layer with spatial attention "
            f"(conditioned levels: {levels or 'none'})."
        )
    return keras.Model(model.input, outputs, name=f"{model.name}_attention")
