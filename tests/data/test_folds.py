"""Cross-validation folds by patient, stratified by group: disjoint, complete, even."""

from collections import Counter

import pytest

from inside_keras.data.splits import fold_splits, stratified_folds
from inside_keras.errors import InputError

#: ACDC's five groups, 20 patients each (100 training patients), plus an uneven set.
ACDC = {
    f"patient{i:03d}": ("NOR", "MINF", "DCM", "HCM", "RV")[(i - 1) // 20] for i in range(1, 101)
}
UNEVEN = {f"p{i:02d}": "A" if i < 7 else "B" if i < 18 else "C" for i in range(23)}


@pytest.mark.parametrize("strata", [ACDC, UNEVEN], ids=["acdc", "uneven"])
@pytest.mark.parametrize("folds", [2, 5, 7])
def test_folds_are_disjoint_complete_and_even_per_group(strata, folds):
    fold_of = stratified_folds(strata, folds, seed=3)
    assert sorted(fold_of) == sorted(strata)  # every patient, in exactly one fold
    assert set(fold_of.values()) == set(range(folds))
    sizes = Counter(fold_of.values())
    assert max(sizes.values()) - min(sizes.values()) <= 1
    for group in set(strata.values()):
        members = [p for p, g in strata.items() if g == group]
        counts = [sum(fold_of[p] == k for p in members) for k in range(folds)]
        even = len(members) / folds
        assert all(abs(count - even) < 1 for count in counts), (group, counts)


def test_acdc_five_folds_hold_four_patients_of_each_group():
    fold_of = stratified_folds(ACDC, 5, seed=0)
    for k in range(5):
        in_fold = Counter(ACDC[p] for p, f in fold_of.items() if f == k)
        assert in_fold == {"NOR": 4, "MINF": 4, "DCM": 4, "HCM": 4, "RV": 4}


def test_folds_depend_on_the_seed_only():
    assert stratified_folds(UNEVEN, 5, 1) == stratified_folds(dict(reversed(UNEVEN.items())), 5, 1)
    assert stratified_folds(UNEVEN, 5, 1) != stratified_folds(UNEVEN, 5, 2)


@pytest.mark.parametrize("folds", [1, 24])
def test_impossible_fold_counts_are_refused(folds):
    with pytest.raises(InputError, match=rf"from 2 to the number of patients \(23\), got {folds}"):
        stratified_folds(UNEVEN, folds, 0)


def test_each_fold_is_held_out_once_with_validation_from_the_others():
    fold_of = stratified_folds(ACDC, 5, seed=0)
    tested = []
    for k in range(5):
        splits = fold_splits(fold_of, k, 0.1, seed=0)
        assert sorted(splits) == sorted(ACDC)
        test = [p for p, s in splits.items() if s == "test"]
        assert sorted(test) == sorted(p for p, f in fold_of.items() if f == k)
        assert Counter(splits.values()) == {"test": 20, "val": 8, "train": 72}
        tested += test
    assert sorted(tested) == sorted(ACDC)  # each patient tested exactly once
