"""Flips of conditioned samples and how a flip changes the condition vector `z`.

A flip mirrors a sample's image and mask; whether `z` stays true depends on what it
encodes, so each dataset states it as a `FlipRule` (`inside_keras.data.clevr_seg.augment`,
`inside_keras.data.acdc.augment`); `inside_keras.data.batching.augmentation_for` picks the
rule of prepared arrays.
"""

from dataclasses import dataclass
from types import MappingProxyType

#: Flip name -> image axis of a `(H, W, C)` sample.
FLIP_AXES = MappingProxyType({"vertical": 0, "horizontal": 1})


def check_flips(flips):
    """Raise `ValueError` for a flip name not in `FLIP_AXES`."""
    unknown = sorted(set(flips) - set(FLIP_AXES))
    if unknown:
        raise ValueError(f"unknown flips {unknown}; allowed: {list(FLIP_AXES)}")


@dataclass(frozen=True)
class FlipRule:
    """How flips act on a condition vector: `z_flipped = z[..., permutation]`.

    Args:
        horizontal: permutation of `z` under a left-right flip; None if unchanged.
        vertical: permutation of `z` under a top-bottom flip; None if unchanged.
    """

    horizontal: tuple | None = None
    vertical: tuple | None = None

    def flip_condition(self, z, flip):
        """`z` of shape `(..., K)` after the flip named `flip` (a key of `FLIP_AXES`)."""
        check_flips([flip])
        permutation = getattr(self, flip)
        return z if permutation is None else z[..., list(permutation)]
