"""A user's own data at its own sizes, as the installed `inside-keras` meets it, each step
in its own process: NIfTI volumes of 27x22x13 voxels (an anisotropic, rotated affine)
prepared at their native grid and a U-Net of depth 3; 2-D PNGs of 75x50 with three
classes; predictions on new cases, one larger than any training case, written on each
case's own grid."""

import subprocess

import nibabel as nib
import numpy as np
from PIL import Image

from tests.runs import CLI

#: Seconds a command may take (train compiles a 3-D network on two cores).
TIMEOUT = 900


def _run(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT)


def _ok(run):
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    return run


#: An anisotropic affine (0.9 x 1.3 x 6 mm voxels), rotated in-plane and shifted.
AFFINE = np.array([[0, -0.9, 0, 12.0], [1.3, 0, 0, -7.0], [0, 0, 6.0, 3.0], [0, 0, 0, 1]])


def _volume(shape, rng, quadrant):
    """A noisy volume whose bright box sits in the asked half of the first axis."""
    label = np.zeros(shape, np.int16)
    h, w, d = shape
    rows = slice(2, h // 2 - 1) if quadrant == "up" else slice(h // 2 + 1, h - 2)
    label[rows, 3 : w - 3, 2 : d - 2] = 1
    image = (label * 2.0 + rng.normal(0, 0.3, shape)).astype(np.float32)
    return image, label


def test_odd_sized_volumes_train_and_predict_on_their_grids(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    rows = ["id,side"]
    for i in range(10):
        side = "up" if i % 2 else "down"
        image, label = _volume((27, 22, 13), rng, side)
        nib.save(nib.Nifti1Image(image, AFFINE), images / f"c{i}_0000.nii.gz")
        nib.save(nib.Nifti1Image(label, AFFINE), labels / f"c{i}.nii.gz")
        rows.append(f"c{i},{side}")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    data = tmp_path / "volumes.npz"
    _ok(
        _run(
            "prepare", "folder", "--images", images, "--labels", labels,
            "--conditions", tmp_path / "c.csv", "--out", data, "--dims", "3",
            "--val-fraction", "0.2", "--test-fraction", "0.2",
        )
    )  # fmt: skip
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: unet, conditioning: inside, depth: 3, base_filters: 4}\n"
        f"training: {{epochs: 2, batch_size: 2}}\noutput: {{dir: {tmp_path / 'run'}}}\n"
    )
    _ok(_run("train", "--config", config, "--quiet"))
    model = tmp_path / "run" / "model.keras"
    evaluated = _ok(_run("evaluate", "--model", model, "--data", data))
    assert "on the source grids, at the source spacing:" in evaluated.stdout

    # New cases: one of the training size, one larger along every axis than any training
    # case (predicted by windows of the training size), one smaller.
    new = tmp_path / "new"
    new.mkdir()
    sizes = {"n0": (27, 22, 13), "n1": (41, 35, 19), "n2": (19, 30, 9)}
    for name, shape in sizes.items():
        image, _ = _volume(shape, rng, "up")
        nib.save(nib.Nifti1Image(image, AFFINE), new / f"{name}_0000.nii.gz")
    (tmp_path / "new.csv").write_text("id,side\nn0,up\nn1,up\nn2,down\n")
    out = tmp_path / "predicted"
    predicted = _ok(
        _run(
            "predict", "--model", model, "--data", data, "--images", new,
            "--conditions", tmp_path / "new.csv", "--out", out,
        )
    )  # fmt: skip
    assert "wrote 3 label volumes on their source grids" in predicted.stdout
    for name, shape in sizes.items():
        written = nib.load(out / f"{name}_pred.nii.gz")
        assert written.shape == shape, (name, written.shape)
        np.testing.assert_allclose(written.affine, AFFINE)
        assert set(np.unique(np.asarray(written.dataobj))) <= {0, 1}


def test_odd_sized_pngs_with_three_classes(tmp_path):
    rng = np.random.default_rng(1)
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    rows = ["id,size"]
    for i in range(12):
        label = np.zeros((75, 50), np.uint8)
        label[10:30, 8:20] = 1
        label[45:70, 25:45] = 2
        image = (label * 90 + rng.integers(0, 40, label.shape)).astype(np.uint8)
        Image.fromarray(image).save(images / f"p{i}.png")
        Image.fromarray(label).save(labels / f"p{i}.png")
        rows.append(f"p{i},{['small', 'large'][i % 2]}")
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    data = tmp_path / "pngs.npz"
    _ok(
        _run(
            "prepare", "folder", "--images", images, "--labels", labels,
            "--conditions", tmp_path / "c.csv", "--out", data,
            "--val-fraction", "0.2", "--test-fraction", "0.2",
        )
    )  # fmt: skip
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\n"
        "model: {architecture: unet, conditioning: film, depth: 3, base_filters: 4}\n"
        f"training: {{epochs: 2, batch_size: 4}}\noutput: {{dir: {tmp_path / 'run'}}}\n"
    )
    _ok(_run("train", "--config", config, "--quiet"))
    model = tmp_path / "run" / "model.keras"
    evaluated = _ok(_run("evaluate", "--model", model, "--data", data))
    assert "dice_1" in evaluated.stdout and "dice_2" in evaluated.stdout
    new = tmp_path / "new"
    new.mkdir()
    Image.fromarray(rng.integers(0, 255, (75, 50)).astype(np.uint8)).save(new / "q0.png")
    Image.fromarray(rng.integers(0, 255, (90, 61)).astype(np.uint8)).save(new / "q1.png")
    (tmp_path / "new.csv").write_text("id,size\nq0,small\nq1,large\n")
    out = tmp_path / "predicted"
    _ok(
        _run(
            "predict", "--model", model, "--data", data, "--images", new,
            "--conditions", tmp_path / "new.csv", "--out", out,
        )
    )  # fmt: skip
    for name, size in (("q0", (75, 50)), ("q1", (90, 61))):
        mask = np.asarray(Image.open(out / f"{name}_pred.png"))
        assert mask.shape == size and set(np.unique(mask)) <= {0, 1, 2}
