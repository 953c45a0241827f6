"""`reproduce clevr-seg` end to end on a tiny synthetic set: files, contract, reuse."""

import json

from inside_keras.reproduce import METHODS, ReproduceSettings, reproduce_clevr_seg

TINY = ReproduceSettings(images=30, size=32, epochs=1, batch_size=8)


def test_reproduce_writes_the_results_contract(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    results = reproduce_clevr_seg(TINY, out, data, workers=1, jobs=2, verbose=0)
    saved = json.loads((out / "results.json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert saved["dataset"] == "clevr-seg" and saved["loss"] == "bce_dice"
    assert list(saved["methods"]) == ["baseline", "film", "guide_me", "inside"] == list(METHODS)
    for row in saved["methods"].values():
        assert 0.0 <= row["dice"] <= 1.0 and row["epochs"] == 1
    table = (out / "results.md").read_text()
    assert all(f"| {name} |" in table for name in METHODS)
    assert (out / "attention_inside.png").is_file() and (out / "attention_guide_me.png").is_file()
    for name in METHODS:
        assert (out / name / "model.keras").is_file()

    for name in METHODS:
        assert "trained 1 epoch(s)" in (out / "logs" / f"{name}.log").read_text()

    # A second call reuses the data and the finished runs: no training, same numbers.
    stamps = {name: (out / name / "model.keras").stat().st_mtime_ns for name in METHODS}
    again = reproduce_clevr_seg(TINY, out, data, workers=1, jobs=2, verbose=0)
    assert again == results
    assert stamps == {name: (out / name / "model.keras").stat().st_mtime_ns for name in METHODS}
