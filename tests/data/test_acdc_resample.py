"""In-plane resampling and crop/pad: areas kept, exact round trips, no-op at the same spacing."""

import numpy as np
import pytest

from inside_keras.data.acdc.phantom import GROUPS, make_patient
from inside_keras.data.acdc.reader import STRUCTURES
from inside_keras.data.resample import (
    centred_start,
    resample,
    resampled_shape,
    window,
)


@pytest.mark.parametrize("index", range(len(GROUPS)))
def test_resampling_a_phantom_keeps_structure_areas_within_3_percent(index):
    group = list(GROUPS)[index]
    patient = make_patient(np.random.default_rng([7, index]), group, pixel_spacing=1.6)
    for number in (patient.info["ED"], patient.info["ES"]):
        labels = patient.labels[..., number - 1]
        resampled = resample(labels, (1.6, 1.6), (1.25, 1.25), order=0)
        assert resampled.shape == (round(labels.shape[0] * 1.28), round(labels.shape[1] * 1.28),
                                   labels.shape[2])  # fmt: skip
        for structure, class_id in STRUCTURES.items():
            before = (labels == class_id).sum() * 1.6**2
            after = (resampled == class_id).sum() * 1.25**2
            assert after == pytest.approx(before, rel=0.03), (group, number, structure)


def test_same_spacing_is_left_alone():
    image = np.random.default_rng(0).random((30, 40, 3)).astype(np.float32)
    assert resample(image, (1.5625, 1.5625), (1.5625, 1.5625), order=1) is image
    # Within 1 %: "1.56" typed for a 1.5625 mm header is the same spacing.
    assert resample(image, (1.5625, 1.5625), (1.56, 1.56), order=1) is image
    assert resampled_shape(image.shape, (1.5625, 1.5625), (1.56, 1.56)) == (30, 40)


def test_linear_resampling_of_a_ramp_is_exact_inside():
    ramp = np.tile(np.arange(16, dtype=np.float64)[:, None], (1, 4))
    resampled = resample(ramp, (2.0, 1.0), (1.0, 1.0), order=1)
    assert resampled.shape == (32, 4)
    # Output pixel i samples input coordinate (i + 0.5) / 2 - 0.5.
    np.testing.assert_allclose(resampled[1:-1, 0], (np.arange(1, 31) + 0.5) / 2 - 0.5)


def test_upsampled_labels_come_back_exactly():
    labels = np.random.default_rng(1).integers(0, 4, size=(37, 29, 2)).astype(np.uint8)
    fine = resample(labels, (1.7, 1.45), (1.25, 1.25), order=0)
    back = resample(fine, (1.25, 1.25), (1.7, 1.45), order=0, shape=(37, 29))
    np.testing.assert_array_equal(back, labels)


def test_window_crops_pads_and_inverts():
    array = np.arange(1, 31).reshape(5, 6)
    start = centred_start(array.shape, 4)
    assert start == (0, 1)
    padded_start = centred_start(array.shape, 9)
    assert padded_start == (-2, -2)
    padded = window(array, padded_start, (9, 9))
    assert padded.sum() == array.sum() and padded[2, 2] == array[0, 0]
    np.testing.assert_array_equal(window(padded, (2, 2), array.shape), array)
    cropped = window(array, start, (4, 4))
    np.testing.assert_array_equal(cropped, array[0:4, 1:5])
    restored = window(cropped, (-start[0], -start[1]), array.shape)
    np.testing.assert_array_equal(restored[0:4, 1:5], array[0:4, 1:5])
    assert restored[4].sum() == 0 and restored[:, [0, 5]].sum() == 0
