"""`evaluate` and `predict` on a prepared ACDC set: challenge table, NIfTI volumes."""

import nibabel
import numpy as np

from inside_keras.cli import main
from inside_keras.models import unet
from tests.data import acdc_folders

#: Prepare every patient into the test split, at the source spacing, 32 x 32 slices.
PREPARE = [
    "prepare",
    "acdc",
    "--spacing",
    "1.5",
    "--size",
    "32",
    "--val-fraction",
    "0",
    "--test-fraction",
    "1",
]


def test_acdc_evaluate_and_predict(tmp_path, capsys):
    root = acdc_folders.write_dataset(tmp_path / "acdc", patients=2)
    data = tmp_path / "acdc.npz"
    assert main([*PREPARE, "--source", str(root), "--out", str(data)]) == 0
    model = unet((32, 32, 1), num_classes=4, condition_dim=3, depth=2, base_filters=4)
    model.save(tmp_path / "model.keras")
    capsys.readouterr()
    common = ["--model", str(tmp_path / "model.keras"), "--data", str(data), "--source", str(root)]
    assert main(["evaluate", *common, "--csv", str(tmp_path / "acdc.csv")]) == 0
    printed = capsys.readouterr().out
    assert "Structure | ED Dice" in printed and "dice_3:" in printed
    rows = (tmp_path / "acdc.csv").read_text().strip().splitlines()
    assert rows[0].startswith("patient,phase,structure,dice") and len(rows) == 1 + 2 * 2 * 3

    assert main(["predict", *common, "--out", str(tmp_path / "pred")]) == 0
    for patient in ("patient001", "patient002"):
        for phase, frame in (("ED", 1), ("ES", 3)):
            volume = nibabel.load(tmp_path / "pred" / "submission" / f"{patient}_{phase}.nii.gz")
            image = nibabel.load(root / "training" / patient / f"{patient}_frame0{frame}.nii.gz")
            assert volume.shape == image.shape and volume.get_data_dtype() == np.uint8
            assert np.abs(volume.affine - image.affine).max() < 1e-6
            assert volume.header.get_zooms() == image.header.get_zooms()
            assert set(np.unique(np.asarray(volume.dataobj))) <= {0, 1, 2, 3}
    assert "--only-predicted" in capsys.readouterr().out
