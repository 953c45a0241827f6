"""How flips change CLEVR-Seg conditions (see `inside_keras.data.flips`).

A coordinates condition is one-hot over the quadrants `[top_left, top_right,
bottom_right, bottom_left]` (`reader.CONDITIONS`): a horizontal flip swaps left and right,
a vertical flip swaps top and bottom. Colour, shape and size do not change under a flip.
The condition type of each prepared sample is its `condition` array.
"""

from types import MappingProxyType

import numpy as np

from inside_keras.data.flips import FlipRule
from inside_keras.errors import InputError

#: The prepared arrays that mark CLEVR-Seg data: the condition type of each sample.
ARRAYS = ("condition",)

#: Flip rule by condition type.
FLIP_RULES = MappingProxyType(
    {
        "coordinates": FlipRule(horizontal=(1, 0, 3, 2), vertical=(3, 2, 1, 0)),
        "colour": FlipRule(),
        "shape": FlipRule(),
        "size": FlipRule(),
    }
)


def flip_rule(arrays):
    """The `FlipRule` of prepared CLEVR-Seg arrays, by their `condition` types.

    Raises:
        InputError: a condition type without a rule, or types whose rules differ.
    """
    types = np.unique(arrays["condition"]).tolist()
    unknown = [name for name in types if name not in FLIP_RULES]
    if unknown:
        raise InputError(
            f"no flip rule for condition types {unknown}; known: {list(FLIP_RULES)}", "condition"
        )
    rules = {FLIP_RULES[name] for name in types}
    if len(rules) > 1:
        raise InputError(
            f"condition types {types} change differently under flips; use one type", "condition"
        )
    return rules.pop()
