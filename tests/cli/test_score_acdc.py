"""`inside-keras score acdc` run as the installed command, on files written here with
nibabel in ACDC's published layout and the challenge's submission layout."""

import csv
import json
import math
import subprocess

import nibabel as nib
import numpy as np
import pytest

from tests.evaluation import acdc_cases
from tests.runs import CLI

#: Info.cfg frame numbers of the written patients.
FRAMES = {"ED": 1, "ES": 2}


def save(labels, path, spacing, affine=None):
    """Write a label volume with `affine` (default: the diagonal of `spacing`)."""
    affine = np.diag([*spacing, 1.0]) if affine is None else affine
    image = nib.Nifti1Image(np.asarray(labels, dtype=np.uint8), affine)
    image.header.set_zooms(spacing)
    nib.save(image, str(path))


def write_patient(root, name, references, spacing):
    """`root/training/<name>/` with Info.cfg, ED and ES frames and their `_gt`."""
    folder = root / "training" / name
    folder.mkdir(parents=True)
    (folder / "Info.cfg").write_text("ED: 1\nES: 2\nGroup: NOR\nNbFrame: 2\n")
    for phase, labels in references.items():
        stem = f"{name}_frame{FRAMES[phase]:02d}"
        save(labels * 80, folder / f"{stem}.nii.gz", spacing)
        save(labels, folder / f"{stem}_gt.nii.gz", spacing)


def heart(lv_radius, rv_rows, shape=(20, 24, 3)):
    """Labels: an LV disc inside a MYO ring, an RV block of `rv_rows` rows, every slice."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    distance = np.hypot(rows - 10, cols - 14)
    labels = np.zeros(shape[:2], np.uint8)
    labels[distance < lv_radius + 2] = 2
    labels[distance < lv_radius] = 3
    labels[2 : 2 + rv_rows, 2:6] = 1
    return np.repeat(labels[..., None], shape[2], axis=2)


#: Three patients of different hearts and spacings: (ED, ES) (LV radius, RV rows), spacing.
PATIENTS = {
    "patient001": (((6, 6), (4, 3)), (1.5, 1.5, 8.0)),
    "patient002": (((5, 5), (4, 4)), (1.25, 1.25, 10.0)),
    "patient003": (((7, 6), (4, 2)), (1.8, 1.8, 6.0)),
}


@pytest.fixture
def perfect(tmp_path):
    """Three patients whose predictions are their references."""
    source, predictions = tmp_path / "acdc", tmp_path / "predictions"
    predictions.mkdir()
    for name, (hearts, spacing) in PATIENTS.items():
        references = {phase: heart(*shape) for phase, shape in zip(FRAMES, hearts, strict=True)}
        write_patient(source, name, references, spacing)
        for phase, labels in references.items():
            save(labels, predictions / f"{name}_{phase}.nii.gz", spacing)
    return source, predictions


def score(source, predictions, out, *extra):
    return subprocess.run(
        [*CLI, "score", "acdc", "--predictions", predictions, "--source", source, "--out", out]
        + list(extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_csv(path):
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_perfect_prediction(perfect, tmp_path):
    source, predictions = perfect
    (predictions / "notes.txt").write_text("not a prediction\n")
    result = score(source, predictions, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "not scored: 1 other entries" in result.stdout and "(notes.txt)" in result.stdout
    out = tmp_path / "out"
    rows = read_csv(out / "scores.csv")
    assert len(rows) == 3 * 2 * 3
    for row in rows:
        assert float(row["dice"]) == 1.0
        assert float(row["hd"]) == float(row["hd95"]) == float(row["assd"]) == 0.0
        assert row["volume_ml_pred"] == row["volume_ml_ref"] and float(row["volume_ml_ref"]) > 0
    clinical = read_csv(out / "clinical.csv")
    assert [row["patient"] for row in clinical] == list(PATIENTS)
    efs = [float(row["lv_ef_ref"]) for row in clinical]
    assert len(set(efs)) == 3 and all(row["lv_ef_pred"] == row["lv_ef_ref"] for row in clinical)
    numbers = json.loads((out / "summary.json").read_text())
    assert numbers["patients"] == 3
    for index, entry in numbers["clinical"].items():
        assert entry["n"] == 3, index
        assert entry["correlation"] == pytest.approx(1.0), index
        assert (entry["bias"], entry["sd"], entry["loa_low"], entry["loa_high"]) == (0, 0, 0, 0)
    assert numbers["segmentation"]["ES"]["MYO"]["dice"] == {
        "mean": 1.0,
        "std": 0.0,
        "n": 3,
        "undefined": 0,
    }
    markdown = (out / "summary.md").read_text()
    assert "| LV EF (%) | 1.000 | +0.00 | 0.00 to 0.00 | 3 |" in markdown
    assert (out / "bland_altman.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A rerun replaces its own files; the marker says the output is complete.
    assert score(source, predictions, out).returncode == 0
    assert json.loads((out / ".inside-keras.json").read_text())["complete"] is True


def _number(text):
    return float(text)  # "nan" included


def test_scores_and_clinical_indices_match_the_hand_worked_case(tmp_path):
    source, predictions = tmp_path / "acdc", tmp_path / "predictions"
    predictions.mkdir()
    volumes = acdc_cases.volumes()
    write_patient(
        source, "patient001", {p: ref for p, (_, ref) in volumes.items()}, acdc_cases.SPACING
    )
    for phase, (pred, _) in volumes.items():
        save(pred, predictions / f"patient001_{phase}.nii.gz", acdc_cases.SPACING)
    result = score(source, predictions, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    expected = acdc_cases.expected_rows()
    rows = read_csv(tmp_path / "out" / "scores.csv")
    assert len(rows) == len(expected)
    for row in rows:
        for key, value in expected[(row["phase"], row["structure"])].items():
            if math.isnan(value):
                assert row[key] == "nan", (row, key)
            else:
                assert _number(row[key]) == pytest.approx(value, rel=1e-6), (row, key)
    (row,) = read_csv(tmp_path / "out" / "clinical.csv")
    voxel = acdc_cases.VOXEL_ML
    # Prediction: LV 32 voxels at ED, 0 at ES; RV 24 and 0; MYO 9 at ED.
    # Reference: LV 32 and 8; RV 24 and 0; MYO 75 at ED.
    assert _number(row["lv_edv_pred"]) == pytest.approx(32 * voxel)
    assert _number(row["lv_ef_pred"]) == pytest.approx(100.0)
    assert _number(row["lv_ef_ref"]) == pytest.approx(75.0)
    assert _number(row["rv_ef_ref"]) == pytest.approx(100.0)
    assert _number(row["myo_mass_pred"]) == pytest.approx(9 * voxel * 1.05)
    assert _number(row["myo_mass_ref"]) == pytest.approx(75 * voxel * 1.05)


def _missing(predictions, spacing):
    (predictions / "patient002_ES.nii.gz").unlink()
    return "patient002_ES.nii.gz: missing prediction"


def _shape(predictions, spacing):
    save(np.zeros((20, 24, 4)), predictions / "patient002_ED.nii.gz", spacing)
    return "patient002 ED: shape (20, 24, 4) differs from the reference's (20, 24, 3)"


def _affine(predictions, spacing):
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = (-30.0, 12.0, 5.0)
    save(heart(5, 5), predictions / "patient002_ED.nii.gz", spacing, affine)
    return "patient002 ED: affine"


def _spacing(predictions, spacing):
    save(heart(5, 5), predictions / "patient002_ED.nii.gz", (1.25, 1.25, 8.0))
    return "patient002 ED: voxel spacing [1.25, 1.25, 8.0] mm differs from the reference's"


def _labels(predictions, spacing):
    labels = heart(5, 5)
    labels[0, 0, 0] = 4
    save(labels, predictions / "patient002_ED.nii.gz", spacing)
    return "patient002_ED.nii.gz: labels must be class ids 0..3"


@pytest.mark.parametrize("damage", [_missing, _shape, _affine, _spacing, _labels])
def test_bad_predictions_are_one_line_naming_the_patient(perfect, tmp_path, damage):
    source, predictions = perfect
    expected = damage(predictions, PATIENTS["patient002"][1])
    out = tmp_path / "work" / "out"
    result = score(source, predictions, out)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("inside-keras score: error: ") and expected in lines[0], lines[0]
    assert not out.exists() and not (tmp_path / "work").exists()
