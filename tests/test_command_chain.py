"""train -> evaluate -> predict as a user runs them: the installed command, each step in
its own process, on the model `train` wrote."""

import subprocess
import sys

import numpy as np

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

    # In a user's own code: Keras's loader, after `import inside_keras.models.custom_objects`.
    code = (
        "import keras, inside_keras.models.custom_objects, numpy as np\n"
        f"model = keras.saving.load_model({str(model)!r})\n"
        "x, z = np.zeros((1, 16, 16, 3), 'float32'), np.zeros((1, 4), 'float32')\n"
        "out = model.predict({'image': x, 'condition': z}, verbose=0)\n"
        "print(type(model.loss).__name__, tuple(out.shape))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split()[-4:] == ["(1,", "16,", "16,", "1)"], loaded.stdout
    assert "Loss" in loaded.stdout.split()[-5], loaded.stdout


def test_predict_keeps_names_from_the_data_inside_out(tmp_path):
    import numpy as np

    from inside_keras.data.prepared import load_prepared, save_prepared
    from inside_keras.runs.outputs import safe_stem

    out = tmp_path / "run"
    trained = _run("train", "--config", str(write_config(tmp_path, 1, out)), "--quiet")
    assert trained.returncode == 0, trained.stderr[-2000:]
    arrays = load_prepared(tmp_path / "data.npz")
    hostile = ["../../escaped", "/tmp/absolute", "..", "a/b", "same", "same"]
    names = arrays["name"].astype(object)
    test = np.flatnonzero(arrays["split"] == "test")[: len(hostile)]
    names[test] = hostile
    arrays["name"] = names.astype(str)
    save_prepared(tmp_path / "hostile.npz", **arrays)

    predictions = tmp_path / "deep" / "predictions"
    predicted = _run(
        "predict",
        "--model",
        str(out / "model.keras"),
        "--data",
        str(tmp_path / "hostile.npz"),
        "--out",
        str(predictions),
        "--limit",
        str(len(hostile)),
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    written = sorted(p.name for p in predictions.iterdir() if p.name.endswith("_mask.png"))
    assert written == sorted(
        [
            "escaped_mask.png",
            "tmp_absolute_mask.png",
            "unnamed_mask.png",
            "a_b_mask.png",
            "same_mask.png",
            "same_2_mask.png",
        ]
    ), written
    assert not (tmp_path / "escaped_mask.png").exists() and not list(tmp_path.glob("*.png"))
    assert safe_stem("../../x") == "x" and safe_stem("") == "unnamed"


def test_volumes_prepare_train_evaluate_predict(tmp_path):
    """3-D from the command line: NIfTI volumes prepared as volumes, the 3-D U-Net
    trained 2 epochs, evaluated, and its predictions written on the source grids."""
    import nibabel as nib

    from tests.data.test_folder import nifti_folder

    root = nifti_folder(tmp_path, cases=6)
    data = tmp_path / "volumes.npz"
    prepared = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "c.csv"), "--out", str(data), "--dims", "3",
        "--spacing", "3", "1.6", "1.6", "--size", "4", "8", "8",
        "--val-fraction", "0.2", "--test-fraction", "0.2",
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: unet, conditioning: inside, depth: 2, base_filters: 4}\n"
        f"training: {{epochs: 2, batch_size: 2}}\noutput: {{dir: {tmp_path / 'run'}}}\n"
    )
    trained = _run("train", "--config", str(config), "--quiet")
    assert trained.returncode == 0, trained.stderr[-2000:]
    model = tmp_path / "run" / "model.keras"
    evaluated = _run("evaluate", "--model", str(model), "--data", str(data))
    assert evaluated.returncode == 0 and "mean per-image Dice" in evaluated.stdout
    assert "on the source grids, at the source spacing:" in evaluated.stdout
    assert "class 1: Dice" in evaluated.stdout and "class 2: Dice" in evaluated.stdout
    predicted = _run(
        "predict", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "p")
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    (volume,) = (tmp_path / "p").glob("*_pred.nii.gz")
    source = nib.load(root / "labels" / volume.name.replace("_pred", ""))
    written = nib.load(volume)
    assert written.shape == source.shape and np.allclose(written.affine, source.affine)

    # New cases, images and conditions only, prepared as the dataset was.
    new = tmp_path / "new"
    new.mkdir()
    for channel in (0, 1):
        name = f"v5_000{channel}.nii.gz"
        (new / name).write_bytes((root / "images" / name).read_bytes())
    (tmp_path / "new.csv").write_text("id,phase\nv5,ES\n")
    args = ["predict", "--model", str(model), "--data", str(data), "--images", str(new)]
    args += ["--conditions", str(tmp_path / "new.csv"), "--out", str(tmp_path / "new_pred")]
    predicted = _run(*args)
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    written = nib.load(tmp_path / "new_pred" / "v5_pred.nii.gz")
    source = nib.load(root / "labels" / "v5.nii.gz")
    assert written.shape == source.shape and np.allclose(written.affine, source.affine)
    (tmp_path / "new.csv").write_text("id,phase\nv5,XX\n")
    refused = _run(*args[:-1], str(tmp_path / "refused"))
    assert (
        refused.returncode == 2 and "case 'v5', column 'phase': unknown category" in refused.stderr
    )
