"""Where a U-Net is conditioned: parsing and validating placement specifications.

A U-Net of depth `d` has `2 d + 1` levels, in network order
`enc0 ... enc{d-1}, bottleneck, dec{d-1} ... dec0`. A placement says which
levels are conditioned and, optionally, with which layer type. It is one of:

- a shortcut: `"none"`, `"bottleneck"`, `"encoder"` (every `enc*`), `"decoder"`
  (every `dec*`), `"all"`, `"first"` (`enc0`) or `"last"` (`dec0`);
- a list (or tuple) of level names, e.g. `["enc0", "bottleneck"]`;
- a mapping level -> layer type, e.g. `{"enc0": "film", "bottleneck": "inside"}`,
  to mix types in one network (`"none"` as a type leaves the level out).

Shortcuts and lists use the model's `conditioning` type at every level.
"""

from collections.abc import Mapping

from inside_keras.models.conditioning import CONDITIONING_NAMES, check_conditioning

#: The placement shortcuts, in the order they are documented.
SHORTCUTS = ("none", "bottleneck", "encoder", "decoder", "all", "first", "last")


def level_names(depth):
    """The level names of a U-Net of `depth`, in network order."""
    encoder = [f"enc{i}" for i in range(depth)]
    decoder = [f"dec{i}" for i in reversed(range(depth))]
    return [*encoder, "bottleneck", *decoder]


def _shortcut_levels(shortcut, depth):
    levels = level_names(depth)
    return {
        "none": [],
        "bottleneck": ["bottleneck"],
        "encoder": levels[:depth],
        "decoder": levels[depth + 1 :],
        "all": levels,
        "first": ["enc0"],
        "last": ["dec0"],
    }[shortcut]


def _check_levels(levels, depth):
    valid = level_names(depth)
    for level in levels:
        if level not in valid:
            raise ValueError(
                f"Unknown placement level {level!r} for depth {depth}; valid level names: "
                f"{', '.join(valid)} (or a shortcut: {', '.join(SHORTCUTS)})."
            )


def resolve_placement(placement, depth, conditioning):
    """Resolve a placement specification to `{level: layer type}`.

    Args:
        placement: a shortcut, a list of level names or a mapping level -> type
            (see the module docstring).
        depth: the U-Net depth (number of encoder levels).
        conditioning: the layer type used by shortcuts and lists: `"inside"`,
            `"film"`, `"guide_me"` or `"none"` (then nothing is conditioned
            unless the placement is a mapping, whose types win).

    Returns:
        A dict `{level: type}` in network order, without unconditioned levels.

    Raises:
        ValueError: for an unknown shortcut, level name or layer type; the
            message lists the valid names.
    """
    check_conditioning(conditioning)
    if isinstance(placement, Mapping):
        _check_levels(placement, depth)
        for level, kind in placement.items():
            if kind not in CONDITIONING_NAMES:
                raise ValueError(
                    f"Placement level {level!r} has unknown layer type {kind!r}; valid types: "
                    f"{', '.join(CONDITIONING_NAMES)}."
                )
        chosen = {level: kind for level, kind in placement.items() if kind != "none"}
    else:
        if isinstance(placement, str):
            if placement not in SHORTCUTS:
                raise ValueError(
                    f"Unknown placement {placement!r}; valid shortcuts: {', '.join(SHORTCUTS)}; "
                    f"valid level names: {', '.join(level_names(depth))}."
                )
            levels = _shortcut_levels(placement, depth)
        elif isinstance(placement, (list, tuple)):
            _check_levels(placement, depth)
            levels = placement
        else:
            raise ValueError(
                f"`placement` must be a shortcut ({', '.join(SHORTCUTS)}), a list of level "
                f"names or a mapping level -> layer type, got {placement!r}."
            )
        chosen = {} if conditioning == "none" else dict.fromkeys(levels, conditioning)
    return {level: chosen[level] for level in level_names(depth) if level in chosen}
