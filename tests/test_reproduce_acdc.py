"""`reproduce acdc` end to end on a few tiny phantoms: files, contract, challenge table."""

import json

import pytest

from inside_keras.cli import main
from inside_keras.data.acdc.reader import PHASES
from inside_keras.data.acdc_evaluation import TABLE_STRUCTURES
from inside_keras.errors import InputError
from inside_keras.reproduce import METHODS, ACDCSettings, reproduce_acdc
from inside_keras.reproduce.acdc import CHALLENGE_FIELDS

#: Four phantoms (two train, one val, one test patient), 32x32 slices at 5 mm, 1 epoch.
TINY = ACDCSettings(
    patients=4,
    size=32,
    spacing=5.0,
    epochs=1,
    depth=2,
    base_filters=4,
    batch_size=8,
    val_fraction=0.25,
    test_fraction=0.25,
)


def test_reproduce_acdc_writes_the_results_contract(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    results = reproduce_acdc(TINY, out, data, jobs=2, verbose=0)
    saved = json.loads((out / "results.json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert saved["dataset"] == "acdc" and saved["loss"] == "ce_dice"
    assert saved["settings"]["patients"] == 4 and saved["source"].endswith("phantoms_4_seed0")
    assert list(saved["methods"]) == ["baseline", "film", "guide_me", "inside"] == list(METHODS)
    for row in saved["methods"].values():
        assert 0.0 <= row["dice"] <= 1.0 and 0.0 <= row["slice_dice"] <= 1.0
        assert row["epochs"] == 1 and row["train_seconds"] > 0
        assert set(row["challenge"]) == set(PHASES) == set(row["phases"])
        assert set(row["structures"]) == set(TABLE_STRUCTURES)
        cells = [row["challenge"][p][s] for p in PHASES for s in TABLE_STRUCTURES]
        assert all(list(cell) == list(CHALLENGE_FIELDS) for cell in cells)
        assert all(cell["volumes"] == 1 for cell in cells)  # one test patient per phase
        dice = [cell["dice_mean"] for cell in cells]
        assert row["dice"] == pytest.approx(sum(dice) / len(dice))
        assert row["hd95_mm"] is None or row["hd95_mm"] >= 0

    table = (out / "results.md").read_text()
    assert "Test Dice on acdc" in table and "4 phantom patients" in table
    assert "| method | test Dice (mean ± std) | LV Dice | RV Dice | MYO Dice | HD95 (mm) |" in table
    for name in METHODS:
        assert f"| {name} |" in table and f"### {name}" in table
    assert table.count("| Structure | ED Dice | ES Dice | ED HD95 (mm) | ES HD95 (mm) |") == 4
    assert (out / "attention_inside.png").is_file() and (out / "attention_guide_me.png").is_file()
    for name in METHODS:
        assert (out / name / "model.keras").is_file()
    assert "conditioning: inside" in (out / "logs" / "inside.yaml").read_text()


def test_reproduce_acdc_settings_are_checked():
    with pytest.raises(InputError, match="size: must be divisible by 2\\*\\*depth = 8"):
        ACDCSettings(patients=4, size=36, spacing=5.0, epochs=1, depth=3)
    with pytest.raises(InputError, match="epochs: must be at least 1, got 0"):
        ACDCSettings(patients=4, size=32, spacing=5.0, epochs=0)


def test_reproduce_acdc_refuses_too_few_patients_for_every_split(tmp_path):
    two = ACDCSettings(patients=2, size=32, spacing=5.0, epochs=1, depth=2)
    with pytest.raises(InputError, match=r"no samples in split\(s\) \['val', 'test'\]"):
        reproduce_acdc(two, tmp_path / "out", tmp_path / "data", verbose=0)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--source", "{tmp}/missing"], "missing/training: no such folder"),
        (["--source", "{tmp}"], "training: no such folder"),
        (["--jobs", "0"], "--jobs: must be at least 1, got 0"),
    ],
)
def test_reproduce_acdc_bad_input_is_one_line(tmp_path, capsys, arguments, expected):
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    out = tmp_path / "out"
    assert main(["reproduce", "acdc", "--quick", "--out", str(out), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and expected in error
    assert error.startswith("inside-keras reproduce: error:")
    assert not out.exists()
