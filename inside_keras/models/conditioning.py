"""Factory from conditioning names to layers, with per-type constructor options."""

import inspect

from inside_keras.layers import INSIDE, FiLM, GuidingBlock

#: Conditioning layer types by the names models and configs use.
CONDITIONING_LAYERS = {"inside": INSIDE, "film": FiLM, "guide_me": GuidingBlock}

#: Every value accepted for a model's `conditioning` argument.
CONDITIONING_NAMES = (*CONDITIONING_LAYERS, "none")


def check_conditioning(conditioning):
    """Return `conditioning` if it names a layer type (or `"none"`), else raise `ValueError`."""
    if conditioning not in CONDITIONING_NAMES:
        raise ValueError(
            f"`conditioning` must be one of {', '.join(map(repr, CONDITIONING_NAMES))}, "
            f"got {conditioning!r}."
        )
    return conditioning


#: The conditioning layers' argument that a model's builder sets, for all its layers alike.
BUILDER_OPTION = "data_format"


def accepted_options(layer_class):
    """Names of the constructor arguments of a conditioning layer class that
    `conditioning_options` may set (all but `BUILDER_OPTION`)."""
    parameters = inspect.signature(layer_class.__init__).parameters.values()
    excluded = ("self", BUILDER_OPTION)
    return {p.name for p in parameters if p.name not in excluded and p.kind is not p.VAR_KEYWORD}


def _refuse_builder_option(options, where):
    if BUILDER_OPTION in options:
        raise ValueError(
            f"`{where}` sets {BUILDER_OPTION!r}: pass `{BUILDER_OPTION}` to the model builder "
            f"(`unet` or `encoder_decoder`), which gives it to every layer of the model."
        )


def split_options(conditioning_options, types):
    """Constructor keyword arguments for each conditioning type used by a model.

    Two forms are accepted:

    - a per-type mapping, every key a type name:
      `{"inside": {"sigma_relative": True}, "film": {"hidden_units": 8}}`;
    - a flat mapping of options: each option goes to the used types whose
      constructor accepts it (so INSIDE's `sigma_relative` reaches INSIDE
      layers and not FiLM layers of a mixed network, and is ignored by a FiLM
      or unconditioned model, which keeps one option set valid across a sweep).
      An option that no conditioning type accepts is a `ValueError` naming the
      accepted ones.

    `data_format` is refused in either form (`ValueError`): the model's builder takes
    it, for its convolutions and conditioning layers alike.

    Args:
        conditioning_options: None, or a mapping in one of the forms above.
        types: the conditioning type names the model uses.

    Returns:
        A dict `{type: {option: value}}` with an entry for every name in `types`.
    """
    types = sorted(set(types))
    options = dict(conditioning_options or {})
    if options and all(key in CONDITIONING_LAYERS for key in options):
        for key, value in options.items():
            if not isinstance(value, dict):
                raise ValueError(
                    f"`conditioning_options[{key!r}]` must be a dict of {key} layer "
                    f"options, got {value!r}."
                )
            _refuse_builder_option(value, f"conditioning_options[{key!r}]")
        return {kind: dict(options.get(kind, {})) for kind in types}
    _refuse_builder_option(options, "conditioning_options")
    accepted = {kind: accepted_options(layer) for kind, layer in CONDITIONING_LAYERS.items()}
    known = set().union(*accepted.values())
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"`conditioning_options` {unknown} are options of no conditioning layer; accepted "
            f"options: {sorted(known)}, or a per-type dict keyed by "
            f"{sorted(CONDITIONING_LAYERS)}."
        )
    return {
        kind: {key: value for key, value in options.items() if key in accepted[kind]}
        for kind in types
    }


def layer_name(level, kind):
    """Name of the conditioning layer of type `kind` at `level`, e.g. `cond_enc0_inside`."""
    return f"cond_{level}_{kind}"


def parse_layer_name(name):
    """`(level, kind)` for a conditioning layer name, or None for any other layer."""
    if not name.startswith("cond_"):
        return None
    for kind in CONDITIONING_LAYERS:
        suffix = f"_{kind}"
        if name.endswith(suffix) and len(name) > len("cond_") + len(suffix):
            return name[len("cond_") : -len(suffix)], kind
    return None


def apply_conditioning(features, condition, level, kind, options, data_format):
    """Condition `features` on `condition` with a new `kind` layer named after `level`,
    for features in `data_format`.

    Layers with spatial attention are called with `return_attention=True`, so the
    attention tensor is an output of the layer's node (read by `attention_model`).

    Returns:
        The modulated features.
    """
    layer = CONDITIONING_LAYERS[kind](
        name=layer_name(level, kind), data_format=data_format, **options
    )
    if layer.has_attention:
        features, _ = layer([features, condition], return_attention=True)
        return features
    return layer([features, condition])
