"""`reproduce acdc` end to end on a few tiny phantoms: files, contract, challenge table."""

import json
import subprocess

import pytest
import yaml

from inside_keras.data.acdc.reader import PHASES
from inside_keras.evaluation.acdc.slices import CHALLENGE_FIELDS, TABLE_STRUCTURES
from tests.runs import CLI

METHODS = ["baseline", "film", "guide_me", "inside"]


def tiny_acdc_spec(tmp_path, patients=5, methods=METHODS, epochs=4, val_fraction=0.2):
    """Phantoms (by default three train, one val, one test patient), 32x32 slices at 5 mm."""
    generate = {"dataset": "acdc", "patients": patients, "size": 32, "spacing": 5.0}
    generate.update(val_fraction=val_fraction, test_fraction=0.2)
    training = {"epochs": epochs, "batch_size": 8, "learning_rate": 0.003, "loss": "ce_dice"}
    spec = {
        "evaluation": "acdc",
        "experiment": {
            "data": {"generate": generate},
            "model": {"architecture": "unet", "depth": 2, "base_filters": 8},
            "training": training,
        },
        "methods": {m: {"model.conditioning": m.replace("baseline", "none")} for m in methods},
    }
    path = tmp_path / "tiny_acdc.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _reproduce(tmp_path, spec, out):
    command = [*CLI, "reproduce", "acdc", "--config", str(spec), "--out", str(out)]
    command += ["--data", str(tmp_path / "data"), "--jobs", "2"]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def test_reproduce_acdc_writes_the_results_contract(tmp_path):
    out = tmp_path / "out"
    run = _reproduce(tmp_path, tiny_acdc_spec(tmp_path), out)
    assert run.returncode == 0, run.stderr[-3000:]
    saved = json.loads((out / "results.json").read_text())
    assert saved["dataset"] == "acdc" and saved["loss"] == "ce_dice"
    assert saved["experiment"]["data"]["generate"]["patients"] == 5
    assert saved["source"].endswith("phantoms_5_seed0")
    assert list(saved["methods"]) == METHODS
    for row in saved["methods"].values():
        assert 0.0 <= row["dice"] <= 1.0 and 0.0 <= row["slice_dice"] <= 1.0
        assert row["epochs"] == 4 and row["train_seconds"] > 0
        assert set(row["challenge"]) == set(PHASES) == set(row["phases"])
        assert set(row["structures"]) == set(TABLE_STRUCTURES)
        cells = [row["challenge"][p][s] for p in PHASES for s in TABLE_STRUCTURES]
        assert all(list(cell) == list(CHALLENGE_FIELDS) for cell in cells)
        assert all(cell["volumes"] == 1 for cell in cells)  # one test patient per phase
        dice = [cell["dice_mean"] for cell in cells]
        assert row["dice"] == pytest.approx(sum(dice) / len(dice))
        assert row["hd95_mm"] is None or row["hd95_mm"] >= 0
        # Four epochs on three phantoms find the heart (Dice 0.29-0.40 measured on JAX);
        # an empty or random prediction scores near 0.
        assert row["dice"] > 0.15, saved["methods"]

    table = (out / "results.md").read_text()
    assert "Test Dice on acdc" in table and "5 phantom patients" in table
    assert "| method | test Dice (mean ± std) | LV Dice | RV Dice | MYO Dice | HD95 (mm) |" in table
    for name in METHODS:
        assert f"| {name} |" in table and f"### {name}" in table
    assert table.count("| Structure | ED Dice | ES Dice | ED HD95 (mm) | ES HD95 (mm) |") == 4
    assert (out / "attention_inside.png").is_file() and (out / "attention_guide_me.png").is_file()
    for name in METHODS:
        assert (out / name / "model.keras").is_file()
    assert "conditioning: inside" in (out / "logs" / "inside.yaml").read_text()


def test_reproduce_acdc_refuses_too_few_patients_for_every_split(tmp_path):
    out = tmp_path / "out"
    run = _reproduce(tmp_path, tiny_acdc_spec(tmp_path, patients=2), out)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "no samples in split(s) ['val', 'test']" in run.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--source", "{tmp}/missing"], "missing/training: no such folder"),
        (["--source", "{tmp}"], "training: no such folder"),
        (["--jobs", "0"], "--jobs: must be at least 1, got 0"),
        (["--config", "{spec}"], "is a clevr-seg reproduction; run it with reproduce clevr-seg"),
    ],
)
def test_reproduce_acdc_bad_input_is_one_line(tmp_path, arguments, expected):
    from inside_keras.reproduce.spec import built_in_spec

    spec = built_in_spec("clevr-seg", quick=True)
    arguments = [a.format(tmp=tmp_path, spec=spec) for a in arguments]
    out = tmp_path / "out"
    run = subprocess.run(
        [*CLI, "reproduce", "acdc", "--quick", "--out", str(out), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and expected in run.stderr, run.stderr
    assert run.stderr.startswith("inside-keras reproduce: error:")
    assert not out.exists()
