"""The ACDC scorer, clinical indices and summary statistics against hand-worked values."""

import math

import numpy as np
import pytest

from inside_keras.evaluation.acdc.clinical import CLINICAL_FIELDS, clinical_rows
from inside_keras.evaluation.acdc.scores import SCORE_FIELDS, score_volume
from inside_keras.evaluation.acdc.summary import (
    agreement,
    metric_summary,
    summary,
    summary_markdown,
)
from tests.evaluation import acdc_cases


def _score_case():
    rows = []
    for phase, (pred, ref) in acdc_cases.volumes().items():
        rows += score_volume("patient001", phase, pred, ref, acdc_cases.SPACING)
    return rows


def _check(row, expected):
    for key, value in expected.items():
        if math.isnan(value):
            assert math.isnan(row[key]), (row, key)
        else:
            assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (row, key)


def test_scores_of_shifted_eroded_and_empty_structures():
    rows = _score_case()
    assert [list(row) for row in rows] == [list(SCORE_FIELDS)] * 6
    assert [(r["phase"], r["structure"]) for r in rows] == [
        (phase, structure) for phase in ("ED", "ES") for structure in ("LV", "RV", "MYO")
    ]
    expected = acdc_cases.expected_rows()
    for row in rows:
        _check(row, expected[(row["phase"], row["structure"])])


def test_hand_worked_distances():
    """The numbers of the case's docstring, written out."""
    rows = {(r["phase"], r["structure"]): r for r in _score_case()}
    lv, rv, myo = rows[("ED", "LV")], rows[("ED", "RV")], rows[("ED", "MYO")]
    assert (lv["dice"], lv["hd"], lv["hd95"]) == (0.75, pytest.approx(1.37), pytest.approx(1.37))
    assert lv["assd"] == pytest.approx(16 * 1.37 / 64)
    assert (rv["dice"], rv["hd"], rv["hd95"], rv["assd"]) == (0.5, 10.0, 10.0, 5.0)
    # Pooled and sorted, the 75 MYO distances hold 8 corners above/below at the top
    # (indices 67-74): HD95 at index 0.95 * 74 = 70.3 is one of them, as is HD.
    corner = math.sqrt(100 + 2 * 1.37**2)
    assert myo["hd"] == pytest.approx(corner) and myo["hd95"] == pytest.approx(corner)
    total = 20 * 1.37 + 4 * 1.37 * math.sqrt(2) + 2.74 + 18 * 10 + 24 * math.hypot(10, 1.37)
    assert myo["assd"] == pytest.approx((total + 8 * corner) / 75)
    assert myo["volume_ml_ref"] == pytest.approx(75 * 1.37 * 1.37 * 10 / 1000)


def test_scores_match_medpy():
    binary = pytest.importorskip("medpy.metric.binary")
    for row in _score_case():
        pred, ref = acdc_cases.volumes()[row["phase"]]
        label = {"LV": 3, "RV": 1, "MYO": 2}[row["structure"]]
        if not ((pred == label).any() and (ref == label).any()):
            continue
        args = (pred == label, ref == label, acdc_cases.SPACING)
        assert row["dice"] == pytest.approx(binary.dc(*args[:2]))
        assert row["hd"] == pytest.approx(binary.hd(*args))
        assert row["hd95"] == pytest.approx(binary.hd95(*args))
        assert row["assd"] == pytest.approx(binary.assd(*args))  # MedPy >= 0.5: pooled


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"prediction shape \(2, 2, 2\) differs"):
        score_volume("p", "ED", np.zeros((2, 2, 2)), np.zeros((2, 2, 3)), (1, 1, 1))


def _disc(shape, radius_px):
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    centre = (shape[0] - 1) / 2
    return (rows - centre) ** 2 + (cols - centre) ** 2 <= radius_px**2


def test_clinical_indices_of_known_volumes():
    # 0.25 mm pixels, 2 slices of 10 mm: LV cylinders of radius 25 mm (ED) and 15 mm (ES)
    # inside a myocardium ring to 35 mm; RV boxes of 10 x 20 mm (ED) and 10 x 10 mm (ES).
    spacing, shape = (0.25, 0.25, 10.0), (300, 400, 2)
    height = 2 * 10.0
    volumes = {}
    for phase, lv_radius, rv_columns in (("ED", 25.0, 80), ("ES", 15.0, 40)):
        labels = np.zeros(shape, np.uint8)
        labels[:, :300][_disc((300, 300), 35.0 / 0.25)] = 2
        labels[:, :300][_disc((300, 300), lv_radius / 0.25)] = 3
        labels[100:140, 310 : 310 + rv_columns] = 1
        volumes[phase] = labels
    rows = []
    for phase, labels in volumes.items():
        rows += score_volume("patient001", phase, labels, labels, spacing)
    (row,) = clinical_rows(rows)
    assert list(row) == list(CLINICAL_FIELDS)
    lv_edv, lv_esv = math.pi * 25**2 * height / 1000, math.pi * 15**2 * height / 1000
    myo_mass = math.pi * (35**2 - 25**2) * height / 1000 * 1.05
    analytic = {
        "lv_edv": lv_edv,
        "lv_esv": lv_esv,
        "lv_ef": 100 * (1 - 15**2 / 25**2),  # 64 %
        "rv_edv": 10 * 20 * height / 1000,
        "rv_esv": 10 * 10 * height / 1000,
        "rv_ef": 50.0,
        "myo_mass": myo_mass,
    }
    for index, value in analytic.items():
        assert row[f"{index}_pred"] == row[f"{index}_ref"] == pytest.approx(value, rel=1e-3)


def test_ejection_fraction_without_a_cavity_is_undefined():
    rows = []
    for phase, (pred, ref) in acdc_cases.volumes().items():
        pred = np.where(pred == 3, 0, pred) if phase == "ED" else pred
        rows += score_volume("patient001", phase, pred, ref, acdc_cases.SPACING)
    (row,) = clinical_rows(rows)
    assert row["lv_edv_pred"] == 0.0 and math.isnan(row["lv_ef_pred"])
    # Reference: 32 voxels at ED, 8 at ES. RV: 24 at ED, none at ES.
    assert (row["lv_ef_ref"], row["rv_ef_ref"]) == (pytest.approx(75.0), pytest.approx(100.0))
    assert row["myo_mass_ref"] == pytest.approx(75 * acdc_cases.VOXEL_ML * 1.05)


def test_clinical_rows_need_both_phases():
    rows = score_volume("patient001", "ED", *acdc_cases.volumes()["ED"], acdc_cases.SPACING)
    with pytest.raises(ValueError, match=r"patient001: no score row for \('ES', 'LV'\)"):
        clinical_rows(rows)


def test_agreement_by_hand():
    pred, ref = [110.0, 95.0, 130.0, 50.0], [100.0, 100.0, 120.0, math.nan]
    stats = agreement(pred, ref)
    # Differences 10, -5, 10: bias 5; sample SD sqrt((25 + 100 + 25) / 2).
    sd = math.sqrt(75)
    assert (stats["n"], stats["undefined"]) == (3, 1)
    assert stats["bias"] == pytest.approx(5.0) and stats["sd"] == pytest.approx(sd)
    assert stats["loa_low"] == pytest.approx(5 - 1.96 * sd)
    assert stats["loa_high"] == pytest.approx(5 + 1.96 * sd)
    # Pearson: centred pred (-5/3, -50/3, 55/3), ref (-20/3, -20/3, 40/3).
    covariance = (100 + 1000 + 2200) / 9
    r = covariance / math.sqrt((25 + 2500 + 3025) / 9 * (400 + 400 + 1600) / 9)
    assert stats["correlation"] == pytest.approx(r)


def test_agreement_undefined_cases():
    one = agreement([1.0], [2.0])
    assert one["bias"] == -1.0 and math.isnan(one["sd"]) and math.isnan(one["correlation"])
    assert math.isnan(agreement([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])["correlation"])
    none = agreement([math.nan], [1.0])
    assert (none["n"], none["undefined"]) == (0, 1) and math.isnan(none["bias"])


def test_metric_summary_leaves_undefined_out():
    rows = [
        {"phase": "ED", "structure": "LV", "dice": d, "hd": h, "hd95": h, "assd": h}
        for d, h in ((0.8, 2.0), (0.6, 4.0), (0.0, math.nan))
    ]
    cell = metric_summary(rows)["ED"]["LV"]
    assert cell["dice"] == {
        "mean": pytest.approx(1.4 / 3),
        "std": pytest.approx(
            math.sqrt(((0.8 - 1.4 / 3) ** 2 + (0.6 - 1.4 / 3) ** 2 + (1.4 / 3) ** 2) / 3)
        ),
        "n": 3,
        "undefined": 0,
    }
    assert cell["hd95"] == {"mean": 3.0, "std": 1.0, "n": 2, "undefined": 1}
    assert math.isnan(metric_summary(rows)["ES"]["RV"]["dice"]["mean"])


def test_summary_and_markdown():
    rows = _score_case()
    numbers = summary(rows, clinical_rows(rows))
    assert numbers["patients"] == 1
    assert numbers["segmentation"]["ES"]["LV"]["hd"] == {
        "mean": None,
        "std": None,
        "n": 0,
        "undefined": 1,
    }
    lv_ef = numbers["clinical"]["lv_ef"]
    assert (lv_ef["name"], lv_ef["unit"], lv_ef["n"]) == ("LV EF", "%", 1)
    # Predicted LV: 32 voxels at ED, none at ES (EF 100 %); reference 32 and 8 (75 %).
    assert lv_ef["bias"] == pytest.approx(25.0) and lv_ef["correlation"] is None
    lines = summary_markdown(numbers, figure="plots.png")
    assert lines[0] == "Segmentation of 1 patients, mean ± std per volume:"
    assert lines[2] == "| Phase | Structure | Dice | HD (mm) | HD95 (mm) | ASSD (mm) |"
    assert lines[4] == "| ED | LV | 0.750 ± 0.000 | 1.37 ± 0.00 | 1.37 ± 0.00 | 0.34 ± 0.00 |"
    assert "| ES | LV | 0.000 ± 0.000 | n/a | n/a | n/a |" in lines
    assert any(line.endswith("left out of the means: ES LV: 1, ES MYO: 1.") for line in lines)
    assert "| LV EF (%) | n/a | +25.00 | n/a | 1 |" in lines
    assert lines[-1] == "![Bland–Altman plots of the clinical indices](plots.png)"
