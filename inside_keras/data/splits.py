"""Seeded train/val/test splits by group (a patient, a scene), never splitting a group."""

import numpy as np

from inside_keras.errors import InputError


def check_fractions(val_fraction, test_fraction):
    """Raise `InputError` unless both shares are in [0, 1] and sum to at most 1."""
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= value <= 1:
            raise InputError(f"must be in [0, 1], got {value}", name)
    if val_fraction + test_fraction > 1:
        raise InputError(
            f"val + test fractions must be at most 1, got {val_fraction} + {test_fraction}",
            "val_fraction",
        )


def split_groups(groups, val_fraction, test_fraction, seed):
    """Assign each distinct group to `train`, `val` or `test`, seeded.

    The groups are shuffled with `numpy.random.default_rng(seed)`; the first
    `round(n * test_fraction)` go to `test`, the next `round(n * val_fraction)` to
    `val`, the rest to `train`. Every sample of a group lands in the same split.

    Args:
        groups: group names (repeats allowed).
        val_fraction: share of groups for validation, in [0, 1].
        test_fraction: share of groups for testing, in [0, 1]; `val_fraction +
            test_fraction <= 1` (1 puts everything in `val` or `test`, e.g. ACDC's
            testing patients).
        seed: the shuffling seed.

    Returns:
        A dict group -> split name.
    """
    check_fractions(val_fraction, test_fraction)
    unique = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_test = round(len(unique) * test_fraction)
    n_val = round(len(unique) * val_fraction)
    splits = {}
    for rank, index in enumerate(order):
        splits[unique[index]] = (
            "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        )
    return splits
