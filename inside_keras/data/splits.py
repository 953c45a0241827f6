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


def stratified_folds(strata, folds, seed):
    """Assign each group (a patient) to one of `folds` cross-validation folds, seeded,
    stratified.

    The groups are ordered by stratum (strata in a seeded random order, groups shuffled
    within each) and dealt to the folds in turn, the deal running on from one stratum to
    the next. So every fold holds `floor` or `ceil` of `n / folds` groups, and of each
    stratum `floor` or `ceil` of its count over `folds`: each stratum's share is within
    one group of even.

    Args:
        strata: `{group: stratum}`, e.g. ACDC patient -> `Info.cfg` Group.
        folds: the number of folds, from 2 to the number of groups.
        seed: the shuffling seed.

    Returns:
        A dict group -> fold index in `0 .. folds - 1`.

    Raises:
        InputError: `folds` below 2 or above the number of groups.
    """
    if not 2 <= folds <= len(strata):
        raise InputError(
            f"must be from 2 to the number of patients ({len(strata)}), got {folds}", "folds"
        )
    rng = np.random.default_rng(seed)
    by_stratum = {}
    for group in sorted(strata):
        by_stratum.setdefault(str(strata[group]), []).append(group)
    names = sorted(by_stratum)
    dealt = [
        group
        for index in rng.permutation(len(names))
        for group in rng.permutation(by_stratum[names[index]]).tolist()
    ]
    return {group: rank % folds for rank, group in enumerate(dealt)}


def fold_splits(fold_of, fold, val_fraction, seed):
    """The train/val/test split of cross-validation fold `fold`, per group.

    The groups of `fold` are `test`; of the others, `round(n_others * val_fraction)`
    are `val` (seeded, `split_groups`), the rest `train`.

    Args:
        fold_of: `{group: fold}` (`stratified_folds`).
        fold: the held-out fold.
        val_fraction: share of the training folds' groups for validation, in [0, 1].
        seed: the seed of the validation draw.

    Returns:
        A dict group -> split name.
    """
    others = [group for group, k in fold_of.items() if k != fold]
    splits = split_groups(others, val_fraction, 0.0, seed)
    splits.update({group: "test" for group, k in fold_of.items() if k == fold})
    return splits
