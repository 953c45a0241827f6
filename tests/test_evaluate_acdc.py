"""`evaluate` and `predict` on a prepared ACDC set: challenge table, NIfTI volumes."""

import nibabel
import numpy as np

from inside_keras.cli import main
from inside_keras.data.prepared import save_prepared
from inside_keras.models import unet
from tests.data import acdc_folders


def test_acdc_evaluate_and_predict(tmp_path, capsys):
    root = acdc_folders.write_dataset(tmp_path / "acdc", patients=2)
    data = tmp_path / "acdc.npz"
    code = main(
        [
            "prepare",
            "acdc",
            "--source",
            str(root),
            "--out",
            str(data),
            "--spacing",
            "1.5",
            "--size",
            "32",
            "--val-fraction",
            "0",
            "--test-fraction",
            "1",
        ]
    )
    assert code == 0
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
        for phase in ("ED", "ES"):
            volume = nibabel.load(tmp_path / "pred" / f"{patient}_{phase}_pred.nii.gz")
            truth = nibabel.load(root / "training" / patient / f"{patient}_frame01_gt.nii.gz")
            assert volume.shape == truth.shape
            assert np.allclose(volume.header.get_zooms(), truth.header.get_zooms())
            assert set(np.unique(np.asarray(volume.dataobj))) <= {0, 1, 2, 3}


def test_predictions_equal_to_truth_score_perfectly(tmp_path):
    """The evaluate path itself: ground-truth slices reassembled give Dice 1, HD95 0."""
    from inside_keras.data.acdc_evaluation import evaluate
    from inside_keras.data.prepared import load_prepared

    root = acdc_folders.write_dataset(tmp_path / "acdc", patients=1)
    data = tmp_path / "acdc.npz"
    assert (
        main(
            [
                "prepare",
                "acdc",
                "--source",
                str(root),
                "--out",
                str(data),
                "--spacing",
                "1.5",
                "--size",
                "32",
                "--val-fraction",
                "0",
                "--test-fraction",
                "1",
            ]
        )
        == 0
    )
    arrays = load_prepared(data)
    result = evaluate(arrays["y"], arrays, root)
    assert all(r["dice"] == 1.0 and r["hd95_mm"] == 0.0 for r in result.rows)
    save_prepared(tmp_path / "copy.npz", **arrays)  # the format round-trips unchanged
