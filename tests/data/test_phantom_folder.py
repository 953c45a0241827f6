"""docs/acdc_phantom_folder.py, the worked example of docs/own_data.md: the folder it
writes is one that `prepare folder` reads, for both tasks."""

import csv
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

from inside_keras.data.prepared import load_prepared
from tests.runs import CLI

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "acdc_phantom_folder.py"


def _script(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300
    )


def test_structure_task_folder_prepares_as_volumes(tmp_path):
    out = tmp_path / "folder"
    run = _script(str(out), "--patients", "2", "--task", "structure")
    assert run.returncode == 0, run.stderr
    with open(out / "conditions.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 12 and {row["structure"] for row in rows} == {"RV", "MYO", "LV"}
    for row in rows[:3]:  # one frame, three structures: the ACDC label map split up
        label = nib.load(out / "labels" / f"{row['id']}.nii.gz")
        source = nib.load(next((out / "source" / "training" / row["patient"]).glob("*_gt.nii.gz")))
        np.testing.assert_array_equal(label.affine, source.affine)
        assert set(np.unique(np.asarray(label.dataobj))) == {0, 1}
    again = _script(str(out), "--patients", "2")
    assert again.returncode == 2 and "exists" in again.stderr
    prepared = subprocess.run(
        [*CLI, "prepare", "folder", "--images", str(out / "images"), "--labels",
         str(out / "labels"), "--conditions", str(out / "conditions.csv"),
         "--condition-columns", "structure", "--group-column", "patient", "--dims", "3",
         "--spacing", "12", "4", "4", "--size", "8", "32", "32",
         "--out", str(tmp_path / "s.npz"), "--val-fraction", "0", "--test-fraction", "0.5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    arrays = load_prepared(tmp_path / "s.npz")
    assert arrays["x"].shape == (12, 8, 32, 32, 1) and arrays["z"].shape == (12, 3)
    for split in ("train", "test"):  # a patient's cases stay in one split
        patients = {str(c).split("_")[0] for c in arrays["case"][arrays["split"] == split]}
        assert len(patients) == 1
