"""ACDC from phantoms to scores as a user runs it: generate, prepare, train, predict, then
`score acdc` on predict's label volumes."""

import csv
import subprocess

import nibabel as nib
import numpy as np

from inside_keras.data.acdc.reader import read_info
from tests.runs import CLI


def run(*arguments):
    return subprocess.run([*CLI, *arguments], capture_output=True, text=True, timeout=600)


def test_predict_writes_the_submission_layout_that_score_acdc_reads(tmp_path):
    root, data, model_dir = tmp_path / "acdc", tmp_path / "acdc.npz", tmp_path / "run"
    assert run("generate", "acdc", "--out", str(root), "--patients", "4").returncode == 0
    prepare = ["prepare", "acdc", "--source", str(root), "--out", str(data)]
    prepare += ["--spacing", "5", "--size", "32", "--val-fraction", "0.25"]
    assert run(*prepare, "--test-fraction", "0.25").returncode == 0
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: unet, conditioning: inside, depth: 2, base_filters: 4}\n"
        "training: {epochs: 1, batch_size: 8, loss: ce_dice, seed: 0}\n"
        f"output: {{dir: {model_dir}}}\n"
    )
    trained = run("train", "--config", str(config), "--quiet")
    assert trained.returncode == 0, trained.stderr[-2000:]

    out = tmp_path / "pred"
    predict = ["predict", "--model", str(model_dir / "model.keras"), "--data", str(data)]
    predicted = run(*predict, "--source", str(root), "--out", str(out))
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    test_patients = sorted(set(np.load(data)["patient"][np.load(data)["split"] == "test"].tolist()))
    assert len(test_patients) == 1
    submission = out / "submission"
    names = [f"{patient}_{phase}.nii.gz" for patient in test_patients for phase in ("ED", "ES")]
    assert sorted(p.name for p in submission.iterdir()) == names
    for name in names:
        patient, phase = name.removesuffix(".nii.gz").split("_")
        number = read_info(root / "training" / patient / "Info.cfg")[phase]
        image = nib.load(root / "training" / patient / f"{patient}_frame{number:02d}.nii.gz")
        written = nib.load(submission / name)
        assert written.shape == image.shape and written.get_data_dtype() == np.uint8
        assert np.abs(written.affine - image.affine).max() < 1e-6
        assert set(np.unique(np.asarray(written.dataobj))) <= {0, 1, 2, 3}

    score = ["score", "acdc", "--predictions", str(submission), "--source", str(root)]
    every = run(*score, "--out", str(tmp_path / "every"))
    assert every.returncode == 2 and "missing prediction (and 5 more)" in every.stderr
    scored = run(*score, "--out", str(tmp_path / "scores"), "--only-predicted")
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert "scored 1 of the 4 patients of training" in scored.stdout
    with (tmp_path / "scores" / "scores.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {row["patient"] for row in rows} == set(test_patients) and len(rows) == 2 * 3
    assert all(0.0 <= float(row["dice"]) <= 1.0 for row in rows)
