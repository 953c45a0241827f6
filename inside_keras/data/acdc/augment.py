"""How flips change ACDC conditions: not at all (see `inside_keras.data.flips`).

ACDC slices are short-axis views of the heart. An in-plane flip mirrors the slice: the
heart as seen from the other side of the slice plane (a vertical flip adds a half turn),
with the right ventricle on the other side of the left ventricle. Such views may be
absent from the scans, yet each is a real heart: every structure keeps its shape and
its label, since the mask is flipped with the image. The condition
(`prepare.CONDITIONS`) is the cardiac phase (ED or ES), a time in the cycle, and the
slice's position from base to apex, a place along the long axis, across the slice
plane: an in-plane flip changes neither, so `z` stays as it is, whatever its layout
(phase, position continuous or in bins, in any order).
"""

from inside_keras.data.flips import FlipRule

#: The prepared arrays that mark ACDC data: each slice's phase and position.
ARRAYS = ("phase", "slice_position")

#: The flip rule of every ACDC condition layout.
FLIP_RULE = FlipRule()


def flip_rule(arrays):
    """The `FlipRule` of prepared ACDC `arrays`: `FLIP_RULE`, whatever their layout of `z`."""
    return FLIP_RULE
