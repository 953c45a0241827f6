"""Dice, Hausdorff, HD95 and ASSD against hand-computed values, with the empty-mask conventions."""

import math

import numpy as np
import pytest

from inside_keras.evaluation.masks import assd, dice, dice_scores, hausdorff, hd95


def _mask(shape, *index):
    mask = np.zeros(shape, dtype=bool)
    for i in index:
        mask[i] = True
    return mask


def test_single_pixels_anisotropic_2d():
    truth, pred = _mask((5, 8), (0, 0)), _mask((5, 8), (0, 3))
    assert dice(pred, truth) == 0.0
    # 3 columns at 2 mm each, in both directions.
    for metric in (hausdorff, hd95, assd):
        assert metric(pred, truth, spacing=(1.0, 2.0)) == pytest.approx(6.0)


def test_percentile_interpolates_pooled_distances():
    truth = _mask((3, 6), (0, 0))
    pred = _mask((3, 6), (0, 0), (0, 4))
    # pred -> truth: [0, 4]; truth -> pred: [0]; pooled sorted [0, 0, 4];
    # the 95th percentile sits at 0.95 * 2 = 1.9: 0 + 0.9 * 4 = 3.6.
    assert hd95(pred, truth, spacing=1.0) == pytest.approx(3.6)
    assert dice(pred, truth) == pytest.approx(2 / 3)
    assert hausdorff(pred, truth, spacing=1.0) == pytest.approx(4.0)
    assert assd(pred, truth, spacing=1.0) == pytest.approx(4 / 3)  # mean of [0, 4, 0]


def test_nested_squares_2d():
    truth = np.zeros((9, 9), dtype=bool)
    truth[2:7, 2:7] = True  # 5 x 5: 16 border pixels
    pred = np.zeros_like(truth)
    pred[3:6, 3:6] = True  # 3 x 3: 8 border pixels, 1 px inside truth's border
    # pred -> truth: 8 x 1; truth -> pred: 12 edges at 1, 4 corners at sqrt(2).
    # 24 pooled values, sorted index 0.95 * 23 = 21.85 falls among the four sqrt(2).
    assert hd95(pred, truth, spacing=1.0) == pytest.approx(math.sqrt(2))
    assert hausdorff(pred, truth, spacing=1.0) == pytest.approx(math.sqrt(2))
    # The mean of the 24 pooled values (MedPy 0.5's `assd`).
    assert assd(pred, truth, spacing=1.0) == pytest.approx((8 + 12 + 4 * math.sqrt(2)) / 24)
    assert dice(pred, truth) == pytest.approx(2 * 9 / (25 + 9))


def test_single_voxels_anisotropic_3d():
    truth, pred = _mask((4, 5, 4), (2, 2, 1)), _mask((4, 5, 4), (2, 3, 2))
    assert hd95(pred, truth, spacing=(1.5, 0.8, 6.0)) == pytest.approx(math.sqrt(0.8**2 + 6.0**2))


def test_slice_thickness_counts_in_3d():
    truth = _mask((3, 3, 4), (1, 1, 0), (1, 1, 1), (1, 1, 2))
    pred = _mask((3, 3, 4), (1, 1, 0), (1, 1, 1))
    # pred -> truth: [0, 0]; truth -> pred: [0, 0, 5]; pooled index 0.95 * 4 = 3.8: 0.8 * 5.
    assert hd95(pred, truth, spacing=(1.0, 1.0, 5.0)) == pytest.approx(4.0)
    assert dice(pred, truth) == pytest.approx(2 * 2 / 5)


def test_empty_mask_conventions():
    empty, filled = np.zeros((4, 4, 3), bool), _mask((4, 4, 3), (1, 1, 1))
    assert dice(empty, empty) == 1.0
    assert dice(empty, filled) == 0.0 and dice(filled, empty) == 0.0
    for metric in (hausdorff, hd95, assd):
        assert metric(empty, empty, spacing=(1, 1, 5)) == 0.0
        assert math.isnan(metric(empty, filled, spacing=1.0))
        assert math.isnan(metric(filled, empty, spacing=1.0))


def test_identical_masks():
    mask = np.zeros((10, 12, 3), dtype=np.uint8)
    mask[2:8, 3:9, :2] = 1
    assert dice(mask, mask) == 1.0
    for metric in (hausdorff, hd95, assd):
        assert metric(mask, mask, spacing=(1.3, 1.3, 10.0)) == 0.0


@pytest.mark.parametrize(
    ("pred", "truth", "spacing", "message"),
    [
        (np.zeros(4), np.zeros(4), 1.0, "2-D or 3-D"),
        (np.zeros((4, 4)), np.zeros((4, 5)), 1.0, "differs"),
        (np.ones((4, 4)), np.ones((4, 4)), (1.0, 0.0), "positive"),
    ],
)
def test_rejects_bad_arguments(pred, truth, spacing, message):
    for metric in (hausdorff, hd95, assd):
        with pytest.raises(ValueError, match=message):
            metric(pred, truth, spacing)


def test_dice_scores_of_label_maps():
    truths = np.array([[[0, 1], [2, 2]], [[0, 0], [1, 1]]])
    labels = np.array([[[0, 1], [2, 0]], [[0, 0], [0, 1]]])
    # Image 0: class 1 Dice 1, class 2 Dice 2/3; image 1: class 1 2/3, class 2 absent: 1.
    scores = dice_scores(labels, truths, classes=(1, 2))
    assert scores["dice_1"] == pytest.approx((1 + 2 / 3) / 2)
    assert scores["dice_2"] == pytest.approx((2 / 3 + 1) / 2)
    assert scores["per_image"] == pytest.approx([5 / 6, 5 / 6])
    assert scores["dice"] == pytest.approx(5 / 6)
    binary = dice_scores(labels > 0, truths > 0, classes=(1,))
    assert set(binary) == {"dice", "per_image"}
    assert binary["per_image"] == pytest.approx([2 * 2 / 5, 2 / 3])
    assert math.isnan(dice_scores(labels[:0], truths[:0], classes=(1,))["dice"])


def test_random_masks_match_medpy():
    """Blobs anywhere in the array, edges included, at an anisotropic spacing."""
    binary = pytest.importorskip("medpy.metric.binary")
    from scipy import ndimage

    rng = np.random.default_rng(7)
    spacing = (1.37, 1.37, 10.0)
    for _ in range(5):
        pred, truth = (ndimage.binary_opening(rng.random((14, 16, 5)) < 0.55) for _ in range(2))
        assert pred.any() and truth.any()
        assert hausdorff(pred, truth, spacing) == pytest.approx(binary.hd(pred, truth, spacing))
        assert hd95(pred, truth, spacing) == pytest.approx(binary.hd95(pred, truth, spacing))
        assert assd(pred, truth, spacing) == pytest.approx(binary.assd(pred, truth, spacing))
