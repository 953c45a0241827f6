"""train -> evaluate -> predict as a user runs them: the installed command, each step in
its own process, on the model `train` wrote."""

import subprocess

from tests.runs import CLI, write_config


def _run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


def test_train_then_evaluate_then_predict_in_fresh_processes(tmp_path):
    out = tmp_path / "run"
    config = write_config(tmp_path, 2, out)
    trained = _run("train", "--config", str(config), "--quiet")
    assert trained.returncode == 0, trained.stderr[-2000:]
    model, data = out / "model.keras", tmp_path / "data.npz"

    evaluated = _run("evaluate", "--model", str(model), "--data", str(data))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "dice" in evaluated.stdout.lower()

    predictions = tmp_path / "predictions"
    predicted = _run(
        "predict",
        "--model",
        str(model),
        "--data",
        str(data),
        "--out",
        str(predictions),
        "--limit",
        "3",
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert len(list(predictions.rglob("*.png"))) >= 3
