"""`reproduce acdc --folds K` end to end on six tiny phantoms: every patient held out and
scored once, per-fold means beside the pooled scores, resumable per fold and method."""

import csv
import json
import shutil
import subprocess

import numpy as np
import pytest

from inside_keras.data.acdc.reader import PHASES
from inside_keras.evaluation.acdc.slices import TABLE_STRUCTURES
from tests.runs import CLI
from tests.test_reproduce_acdc import tiny_acdc_spec

METHODS = ["baseline", "inside"]
PATIENTS = [f"patient{i:03d}" for i in range(1, 7)]


def _reproduce(tmp_path, spec, out, folds):
    command = [*CLI, "reproduce", "acdc", "--config", str(spec), "--out", str(out)]
    command += ["--folds", str(folds), "--data", str(tmp_path / "data"), "--jobs", "2"]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def _trained(stdout):
    return sorted(line.split()[1] for line in stdout.splitlines() if line.startswith("training "))


def test_reproduce_acdc_folds_scores_every_patient_once_and_resumes(tmp_path):
    # Six patients in two folds of three; of the other fold's three, one (0.25 * 3,
    # rounded) validates and two train. One epoch: the test is about the bookkeeping.
    spec = tiny_acdc_spec(tmp_path, patients=6, methods=METHODS, epochs=1, val_fraction=0.25)
    out = tmp_path / "out"
    run = _reproduce(tmp_path, spec, out, folds=2)
    assert run.returncode == 0, run.stderr[-3000:]
    assert _trained(run.stdout) == [f"fold_{k}/{m}" for k in (0, 1) for m in METHODS]
    saved = json.loads((out / "results.json").read_text())
    assert saved["folds"] == 2 and list(saved["methods"]) == METHODS
    held_out = []
    for path in saved["fold_data"]:
        with np.load(path) as arrays:
            patients, split = arrays["patient"], arrays["split"]
        held_out.append(sorted(set(patients[split == "test"].tolist())))
        assert set(patients[split == "val"].tolist()).isdisjoint(held_out[-1])
    assert sorted(held_out[0] + held_out[1]) == PATIENTS and len(held_out[0]) == 3
    for method, row in saved["methods"].items():
        assert [entry["patients"] for entry in row["folds"]] == held_out
        assert row["epochs"] == [1, 1] and row["train_seconds"] > 0
        files = sorted(p.name for p in (out / method / "submission").iterdir())
        assert files == sorted(f"{p}_{phase}.nii.gz" for p in PATIENTS for phase in PHASES)
        with open(out / method / "scores" / "scores.csv") as handle:
            scored = [(r["patient"], r["phase"], r["structure"]) for r in csv.DictReader(handle)]
        every = [(p, phase, s) for p in PATIENTS for phase in PHASES for s in TABLE_STRUCTURES]
        assert sorted(scored) == sorted(every)  # each patient, phase and structure once
        summary = json.loads((out / method / "scores" / "summary.json").read_text())
        assert summary["patients"] == 6 and row["clinical"] == summary["clinical"]
        cells = [row["challenge"][p][s] for p in PHASES for s in TABLE_STRUCTURES]
        assert all(cell["volumes"] == 6 for cell in cells)
        assert row["dice"] == pytest.approx(np.mean([cell["dice_mean"] for cell in cells]))
        # Folds of equal size: the mean of the folds' Dice is the pooled Dice.
        fold_dice = [entry["dice"] for entry in row["folds"]]
        assert row["fold_mean"]["dice"]["mean"] == pytest.approx(np.mean(fold_dice))
        assert row["fold_mean"]["dice"]["std"] == pytest.approx(np.std(fold_dice))
        assert row["fold_mean"]["dice"]["mean"] == pytest.approx(row["dice"])
        for fold in (0, 1):
            assert (out / f"fold_{fold}" / method / "model.keras").is_file()
    table = (out / "results.md").read_text()
    assert "Held-out Dice of 2-fold cross-validation on acdc" in table
    assert "| method | pooled Dice (mean ± std) | Dice over folds (mean ± std) |" in table
    assert table.count("| fold | patients | Dice | HD95 (mm) |") == 2

    # A rerun trains nothing and scores the same; a deleted run alone is trained again.
    model = out / "fold_0" / "baseline" / "model.keras"
    stamp = model.stat().st_mtime_ns
    again = _reproduce(tmp_path, spec, out, folds=2)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _trained(again.stdout) == [] and model.stat().st_mtime_ns == stamp
    rerun = json.loads((out / "results.json").read_text())
    assert [r["dice"] for r in rerun["methods"].values()] == [
        r["dice"] for r in saved["methods"].values()
    ]
    shutil.rmtree(out / "fold_1" / "inside")
    resumed = _reproduce(tmp_path, spec, out, folds=2)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _trained(resumed.stdout) == ["fold_1/inside"] and model.stat().st_mtime_ns == stamp
    assert (out / "fold_1" / "inside" / "model.keras").is_file()

    other = _reproduce(tmp_path, spec, out, folds=3)
    assert other.returncode == 2 and other.stderr.count("\n") == 1, other.stderr
    assert "holds a reproduction with folds 2, not 3" in other.stderr


@pytest.mark.parametrize(
    ("folds", "expected"),
    [
        (0, "--folds: must be at least 2, got 0"),
        (1, "--folds: must be at least 2, got 1"),
        (7, "folds: must be from 2 to the number of patients (6), got 7"),
    ],
)
def test_reproduce_acdc_bad_folds_is_one_line(tmp_path, folds, expected):
    out = tmp_path / "out"
    run = _reproduce(tmp_path, tiny_acdc_spec(tmp_path, patients=6), out, folds)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and expected in run.stderr, run.stderr
    assert not out.exists()
