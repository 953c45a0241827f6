"""ACDC evaluation: ground truth scores perfectly; errors show where they belong; the table."""

import csv
import math

import nibabel
import numpy as np
import pytest

from inside_keras.data.acdc.phantom import generate_acdc
from inside_keras.data.acdc.prepare import PrepareOptions, prepare_acdc
from inside_keras.data.acdc.reader import read_info
from inside_keras.data.prepared import select_split
from inside_keras.errors import InputError
from inside_keras.evaluation.acdc.scores import SCORE_FIELDS
from inside_keras.evaluation.acdc.slices import (
    CHALLENGE_FIELDS,
    EvaluationResult,
    challenge_markdown,
    class_probabilities,
    evaluate,
    interpolation_order,
    scores,
    to_source_slice,
)
from inside_keras.evaluation.acdc.submission import score_submission, write_submission
from tests.data import acdc_folders


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = acdc_folders.write_dataset(tmp_path_factory.mktemp("acdc"), patients=2)
    # 1.5 mm sources prepared at 1.2 mm: an upsampling, cropped to 28 px of the 25 x 30.
    arrays = prepare_acdc(
        root, options=PrepareOptions(spacing=1.2, size=28, test_fraction=0)
    ).arrays
    return root, arrays


def test_ground_truth_as_prediction_scores_dice_1_hd95_0(dataset):
    root, arrays = dataset
    assert arrays["resampled_shape"][0].tolist() == [25, 30] and arrays["y"].shape[1:] == (28, 28)
    result = evaluate(arrays["y"], arrays, root)
    assert len(result.rows) == 2 * 2 * 3
    for row in result.rows:
        assert row["dice"] == 1.0 and row["hd95"] == 0.0, row
    for entry in result.summary():
        assert (entry["dice_mean"], entry["dice_std"], entry["hd95_mean_mm"]) == (1.0, 0.0, 0.0)
        assert entry["volumes"] == 2 and entry["hd95_undefined"] == 0


def test_scores_accept_class_scores(dataset):
    root, arrays = dataset
    scores = np.eye(4, dtype=np.float32)[arrays["y"]]
    assert all(row["dice"] == 1.0 for row in evaluate(scores, arrays, root).rows)


def test_errors_are_scored_on_the_original_grid(dataset):
    root, arrays = dataset
    predictions = arrays["y"].copy()
    predictions[predictions == 1] = 0  # no RV anywhere
    ed_slice0 = (arrays["patient"] == "patient001") & (arrays["phase"] == 0)
    ed_slice0 &= arrays["slice_index"] == 0
    predictions[ed_slice0] = np.where(predictions[ed_slice0] == 3, 2, predictions[ed_slice0])
    result = evaluate(predictions, arrays, root)
    rows = {(r["patient"], r["phase"], r["structure"]): r for r in result.rows}
    for key, row in rows.items():
        if key[2] == "RV":
            assert row["dice"] == 0.0 and math.isnan(row["hd95"])
    # patient001 ED slice 0 lost its LV disc (radius 6 px: 113 px) to the MYO.
    truth = acdc_folders.labels(acdc_folders.SHAPE, 0.5)
    lv_total, lv_slice0 = (truth == 3).sum(), (truth[..., 0] == 3).sum()
    lv = rows[("patient001", "ED", "LV")]
    assert lv["dice"] == pytest.approx(2 * (lv_total - lv_slice0) / (2 * lv_total - lv_slice0))
    # The missing slice is 8 mm away from the next LV surface.
    assert lv["hd95"] > 0 and rows[("patient002", "ED", "LV")]["dice"] == 1.0
    summary = {(s["phase"], s["structure"]): s for s in result.summary()}
    assert summary[("ED", "RV")]["hd95_undefined"] == 2
    assert math.isnan(summary[("ED", "RV")]["hd95_mean_mm"])


def test_missing_slices_are_reported(dataset):
    root, arrays = dataset
    keep = arrays["name"] != "patient002_ES_slice03"
    subset = {key: value[keep] for key, value in arrays.items()}
    with pytest.raises(InputError, match=r"patient002 ES: predictions cover slices \[0, 1, 2, 4\]"):
        evaluate(subset["y"], subset, root)


def test_a_split_evaluates_only_its_patients(dataset):
    root, arrays = dataset
    val = select_split(arrays, "val")
    train = select_split(arrays, "train")
    assert len(val["x"]) + len(train["x"]) == len(arrays["x"])
    result = evaluate(train["y"], train, root)
    assert {r["patient"] for r in result.rows} == set(train["patient"].tolist())


def test_scores_of_the_ground_truth(dataset):
    root, arrays = dataset
    row = scores(arrays["y"], arrays, root)
    keys = ["dice", "dice_std", "hd95_mm", "structures", "phases", "challenge", "slice_dice"]
    assert list(row) == keys
    assert (row["dice"], row["dice_std"], row["hd95_mm"], row["slice_dice"]) == (1.0, 0.0, 0.0, 1.0)
    assert row["structures"]["RV"] == {"dice": 1.0, "hd95_mm": 0.0} == row["phases"]["ES"]
    cell = row["challenge"]["ED"]["LV"]
    assert list(cell) == list(CHALLENGE_FIELDS) and cell["volumes"] == 2


def test_scores_without_any_rv(dataset):
    root, arrays = dataset
    labels = np.where(arrays["y"] == 1, 0, arrays["y"])
    row = scores(labels, arrays, root)
    assert row["structures"]["RV"] == {"dice": 0.0, "hd95_mm": None}
    assert row["dice"] == pytest.approx(4 / 6) and row["hd95_mm"] == 0.0
    assert row["challenge"]["ES"]["RV"]["hd95_undefined"] == 2
    assert row["challenge"]["ES"]["RV"]["hd95_mean_mm"] is None


def _result():
    rows = tuple(
        {"patient": p, "phase": ph, "structure": s, "dice": d, "hd": 2 * h, "hd95": h}
        | {"assd": h / 2, "volume_ml_pred": 100.0, "volume_ml_ref": 90.0}
        for p, d, h in (("patient001", 0.9, 2.0), ("patient002", 0.7, float("nan")))
        for ph in ("ED", "ES")
        for s in ("LV", "RV", "MYO")
    )
    return EvaluationResult(rows=rows)


def test_challenge_markdown():
    table = challenge_markdown(_result().challenge())
    assert table[0] == "| Structure | ED Dice | ES Dice | ED HD95 (mm) | ES HD95 (mm) |"
    assert table[1] == "|---|---|---|---|---|"
    assert table[2] == "| LV | 0.800 ± 0.100 | 0.800 ± 0.100 | 2.00 ± 0.00 | 2.00 ± 0.00 |"
    assert [line.split(" ")[1] for line in table[2:5]] == ["LV", "RV", "MYO"]
    assert table[5:] == [
        "",
        "2 patients, mean ± std per volume.",
        "HD95 undefined (one mask empty) for 6 volume-structures, left out.",
    ]
    missing = _result().challenge()
    missing["ED"]["RV"].update(hd95_mean_mm=None, hd95_std_mm=None)
    assert challenge_markdown(missing)[3].endswith("| n/a | 2.00 ± 0.00 |")


def test_csv(tmp_path):
    result = _result()
    result.to_csv(tmp_path / "rows.csv")
    with (tmp_path / "rows.csv").open() as stream:
        written = list(csv.DictReader(stream))
    assert list(written[0]) == list(SCORE_FIELDS) and len(written) == 12
    assert written[0]["dice"] == "0.9" and written[-1]["hd95"] == "nan"
    result.summary_to_csv(tmp_path / "summary.csv")
    with (tmp_path / "summary.csv").open() as stream:
        summary = list(csv.DictReader(stream))
    assert summary[0]["structure"] == "LV" and float(summary[0]["dice_mean"]) == pytest.approx(0.8)
    assert summary[0]["hd95_undefined"] == "1"


def _one_slice(source_shape, source_spacing, pixel_spacing, resampled_shape, offset):
    """The geometry arrays of one prepared slice."""
    return {
        "source_shape": np.array([source_shape]),
        "source_spacing": np.array([source_spacing + (8.0,)], dtype=np.float32),
        "pixel_spacing": np.array([pixel_spacing], dtype=np.float32),
        "resampled_shape": np.array([resampled_shape]),
        "offset": np.array([offset]),
    }


def test_interpolation_order_is_linear_only_where_the_way_back_upsamples():
    assert interpolation_order((3.0, 3.0), (1.5, 1.5)) == 1
    assert interpolation_order((1.25, 1.25), (1.5, 1.5)) == 0
    assert interpolation_order((1.5, 1.5), (1.5, 1.5)) == 0


def test_probabilities_go_back_linearly_before_the_argmax():
    # 3 mm prepared pixels back to 1.5 mm: source column j samples prepared column
    # (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (edges repeated).
    arrays = _one_slice((2, 4), (1.5, 1.5), (3.0, 3.0), (1, 2), (0, 0))
    probabilities = np.zeros((1, 2, 4), np.float32)
    probabilities[0, 0, [3, 2]] = 0.55, 0.45  # LV, a little MYO
    probabilities[0, 1, [0, 2]] = 0.55, 0.45  # background, a little MYO
    back = to_source_slice(probabilities, arrays, 0)
    assert back.shape == (2, 4, 4)
    np.testing.assert_allclose(back[0, 1], [0.1375, 0, 0.45, 0.4125], atol=1e-6)
    np.testing.assert_allclose(back[1, 2], [0.4125, 0, 0.45, 0.1375], atol=1e-6)
    # Labels by nearest neighbour would lose the myocardium: LV, LV, bg, bg.
    assert back.argmax(-1).tolist() == [[3, 2, 2, 0]] * 2


def test_what_the_crop_cut_away_comes_back_as_background():
    # A 4 x 4 source slice at its own spacing, centre cropped to 2 x 2 (offset 1, 1).
    arrays = _one_slice((4, 4), (1.5, 1.5), (1.5, 1.5), (4, 4), (1, 1))
    lv = np.zeros((2, 2, 4), np.float32)
    lv[..., 3] = 1.0
    back = to_source_slice(lv, arrays, 0)
    expected = np.zeros((4, 4), np.uint8)
    expected[1:3, 1:3] = 3
    assert back.argmax(-1).tolist() == expected.tolist()
    assert back[0, 0].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_sigmoid_outputs_count_as_binary_and_ids_as_one_hot():
    sigmoid = np.full((1, 1, 2, 1), 0.7, np.float32)
    np.testing.assert_allclose(class_probabilities(sigmoid, 1)[0, 0, 0], [0.3, 0.7], atol=1e-6)
    ids = np.array([[[0, 3]]], np.uint8)
    assert class_probabilities(ids, 1)[0, 0].tolist() == [[1, 0, 0, 0], [0, 0, 0, 1]]
    with pytest.raises(InputError, match=r"expected \(N=2, H, W\) class ids"):
        class_probabilities(ids, 2)


def test_a_perfect_prediction_of_phantoms_is_written_exactly_and_scores_dice_1(tmp_path):
    root = tmp_path / "acdc"
    generate_acdc(root, 3, seed=0)  # in-plane pixels of 1.3-1.9 mm
    arrays = prepare_acdc(
        root, options=PrepareOptions(spacing=1.25, size=192, val_fraction=0, test_fraction=0)
    ).arrays
    folder = tmp_path / "submission"
    folder.mkdir()
    one_hot = np.eye(4, dtype=np.float32)[arrays["y"]]
    paths = write_submission(one_hot, arrays, root, "training", folder)
    assert [p.name for p in paths[:2]] == ["patient001_ED.nii.gz", "patient001_ES.nii.gz"]
    for path in paths:
        patient, phase = path.name.removesuffix(".nii.gz").split("_")
        info = read_info(root / "training" / patient / "Info.cfg")
        stem = root / "training" / patient / f"{patient}_frame{info[phase]:02d}"
        written, image = nibabel.load(path), nibabel.load(f"{stem}.nii.gz")
        truth = np.asarray(nibabel.load(f"{stem}_gt.nii.gz").dataobj)
        assert np.array_equal(np.asarray(written.dataobj), truth)
        assert np.abs(written.affine - image.affine).max() < 1e-6
        assert written.header.get_zooms() == image.header.get_zooms()
        for code in ("qform_code", "sform_code"):
            assert written.header[code] == image.header[code]
    rows, ignored = score_submission(folder, root)
    assert len(rows) == 3 * 2 * 3 and ignored == []
    assert all(row["dice"] == 1.0 and row["hd95"] == 0.0 for row in rows)
