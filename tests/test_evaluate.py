"""`evaluate` and `predict` on a trained model; bad model files are one-line errors."""

import numpy as np
from PIL import Image

from inside_keras.cli import main
from inside_keras.data.prepared import load_prepared, save_prepared, select_split
from inside_keras.models import unet


def _data_path(finished_run):
    config, _ = finished_run
    return config.parent / "data.npz"


def test_evaluate_prints_dice_and_writes_csv(finished_run, tmp_path, capsys):
    _, out = finished_run
    csv_path = tmp_path / "scores.csv"
    args = [
        "evaluate",
        "--model",
        str(out / "model.keras"),
        "--data",
        str(_data_path(finished_run)),
    ]
    assert main([*args, "--csv", str(csv_path)]) == 0
    printed = capsys.readouterr().out
    assert "test: 8 samples, mean per-image Dice" in printed
    dice = float(printed.split("Dice")[1].split()[0].rstrip(","))
    soft = float(printed.split("soft Dice (the authors')")[1].split()[0])
    rows = csv_path.read_text().strip().splitlines()
    assert rows[0] == "name,dice,dice_soft" and len(rows) == 9
    assert abs(np.mean([float(r.split(",")[1]) for r in rows[1:]]) - dice) < 1e-4
    assert abs(np.mean([float(r.split(",")[2]) for r in rows[1:]]) - soft) < 1e-4


def _three_class_data(path):
    """Class ids 0..3 in train, only 0..2 in the test split."""
    rng = np.random.default_rng(0)
    split = np.array(["train"] * 2 + ["test"] * 4)
    y = rng.integers(0, 4, (6, 8, 8)).astype(np.uint8)
    y[split == "test"] = np.minimum(y[split == "test"], 2)
    save_prepared(
        path,
        x=rng.random((6, 8, 8, 1), dtype=np.float32),
        y=y,
        z=np.eye(2, dtype=np.float32)[rng.integers(0, 2, 6)],
        split=split,
        name=np.array([f"s{i}" for i in range(6)]),
    )
    return path


def test_evaluate_takes_the_classes_from_the_model(tmp_path, capsys):
    data = _three_class_data(tmp_path / "data.npz")
    unet((8, 8, 1), 4, 2, depth=1, base_filters=2).save(tmp_path / "model.keras")
    assert main(["evaluate", "--model", str(tmp_path / "model.keras"), "--data", str(data)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("test: 4 samples, mean per-image Dice")
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["dice_1", "dice_2", "dice_3"]


def test_evaluate_refuses_labels_the_model_cannot_predict(tmp_path, capsys):
    data = _three_class_data(tmp_path / "data.npz")
    unet((8, 8, 1), 1, 2, depth=1, base_filters=2).save(tmp_path / "model.keras")
    assert main(["evaluate", "--model", str(tmp_path / "model.keras"), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(data) in err[0]
    assert "class ids up to 2; the model is binary (one output channel)" in err[0]


def test_predict_writes_masks_and_attention(finished_run, tmp_path):
    _, out = finished_run
    data = _data_path(finished_run)
    target = tmp_path / "pred"
    args = ["predict", "--model", str(out / "model.keras"), "--data", str(data)]
    assert main([*args, "--out", str(target), "--limit", "3"]) == 0
    names = select_split(load_prepared(data), "test")["name"][:3]
    for name in names:
        mask = np.asarray(Image.open(target / f"{name}_mask.png"))
        assert mask.shape == (16, 16) and set(np.unique(mask)) <= {0, 255}
        attention = np.asarray(Image.open(target / f"{name}_attention_bottleneck.png"))
        assert attention.shape == (4, 4)  # the encoder-decoder's bottleneck resolution
    assert sorted(p.name for p in target.iterdir() if p.suffix != ".png") == [".inside-keras.json"]
    assert len(list(target.glob("*.png"))) == 6


def test_model_that_is_not_a_keras_archive(finished_run, tmp_path, capsys):
    bad = tmp_path / "model.keras"
    bad.write_text("not a zip")
    code = main(["evaluate", "--model", str(bad), "--data", str(_data_path(finished_run))])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a .keras model archive" in err[0] and str(bad) in err[0]


def test_missing_data_file(finished_run, tmp_path, capsys):
    _, out = finished_run
    missing = tmp_path / "none.npz"
    assert main(["evaluate", "--model", str(out / "model.keras"), "--data", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such prepared dataset" in err[0]
