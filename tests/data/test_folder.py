"""`prepare folder` and `info` as a user runs them, on folders the tests write: 2-D RGB
with binary masks, 2-D grey with three classes, 3-D NIfTI with two channel files, an
anisotropic spacing and a non-identity affine; and every bad input as one line."""

import json
import subprocess

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from inside_keras.data.prepared import load_metadata, load_prepared
from tests.runs import CLI


def _run(*args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def _write_table(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n")
    return path


def rgb_folder(root, cases=12):
    """RGB PNGs with a bright square left or right; the mask marks it; the table says
    where (text), the age (number) and the patient (two cases each)."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    rows = []
    for i in range(cases):
        image = np.full((20, 24, 3), 30, np.uint8)
        label = np.zeros((20, 24), np.uint8)
        column = 2 + 12 * (i % 2)
        image[4:10, column : column + 6] = 250
        label[4:10, column : column + 6] = 1
        Image.fromarray(image).save(root / "images" / f"case{i}.png")
        Image.fromarray(label).save(root / "labels" / f"case{i}.png")
        rows.append([f"case{i}", 40 + 2 * i, "right" if i % 2 else "left", f"p{i // 2}"])
    _write_table(root / "conditions.csv", ["id", "age", "side", "patient"], rows)
    return root


def test_rgb_binary_encoding_from_the_training_split_and_groups(tmp_path):
    root = rgb_folder(tmp_path)
    out = tmp_path / "prepared.npz"
    run = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "conditions.csv"), "--out", str(out),
        "--group-column", "patient", "--condition-columns", "side,age",
        "--val-fraction", "0.2", "--test-fraction", "0.2", "--normalise", "minmax",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    arrays, metadata = load_prepared(out), load_metadata(out)
    assert arrays["x"].shape == (12, 20, 24, 3) and arrays["y"].shape == (12, 20, 24, 1)
    assert arrays["x"].min() == 0 and arrays["x"].max() == 1
    assert metadata["conditions"]["z"] == ["side=left", "side=right", "age"]
    # Both cases of a patient share a split.
    split = dict(zip(arrays["case"], arrays["split"], strict=True))
    for i in range(0, 12, 2):
        assert split[f"case{i}"] == split[f"case{i + 1}"]
    # age standardised with the training split's mean and std, sides one-hot, sorted.
    ages = {f"case{i}": 40 + 2 * i for i in range(12)}
    train = np.array([ages[c] for c, s in split.items() if s == "train"], np.float64)
    for case, z in zip(arrays["case"], arrays["z"], strict=True):
        side = int(case[4:]) % 2
        np.testing.assert_allclose(z[:2], [1 - side, side])
        np.testing.assert_allclose(z[2], (ages[case] - train.mean()) / train.std(), rtol=1e-5)
    info = _run("info", str(out))
    assert info.returncode == 0 and "side: one-hot over ['left', 'right']" in info.stdout
    assert f"age: numeric, (value - {train.mean():.4g}) / {train.std():.4g}" in info.stdout


def test_grey_three_classes_with_names_and_a_split_column(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    rows = []
    for i in range(6):
        label = np.zeros((16, 16), np.uint8)
        label[2:6, 2:6], label[9:14, 9:14] = 1, 2
        Image.fromarray((label * 100).astype(np.uint8)).save(tmp_path / "images" / f"c{i}.png")
        Image.fromarray(label).save(tmp_path / "labels" / f"c{i}.png")
        rows.append([f"c{i}", ["train", "train", "train", "train", "val", "test"][i], i % 3])
    table = _write_table(tmp_path / "t.csv", ["id", "split", "scanner"], rows)
    out = tmp_path / "p.npz"
    run = _run(
        "prepare", "folder", "--images", str(tmp_path / "images"),
        "--labels", str(tmp_path / "labels"), "--conditions", str(table), "--out", str(out),
        "--split-column", "split", "--labels-map", "0:background,1:lesion,2:oedema",
        "--size", "8", "8",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    arrays = load_prepared(out)
    assert arrays["y"].dtype == np.uint8 and arrays["y"].shape == (6, 8, 8)
    assert set(np.unique(arrays["y"])) == {0, 1, 2}
    assert arrays["split"].tolist() == ["train"] * 4 + ["val", "test"]
    assert load_metadata(out)["classes"] == {"0": "background", "1": "lesion", "2": "oedema"}
    # scanner 0, 1, 2, 0 in training: numbers, standardised.
    np.testing.assert_allclose(arrays["z"][:4, 0].mean(), 0, atol=1e-6)


def nifti_folder(root, cases=4):
    """3-D NIfTI cases of two channel files (nnU-Net naming), spacing (0.8, 0.8, 3.0) mm,
    a rotated and shifted affine."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    affine = np.array([[0, -0.8, 0, 10], [0.8, 0, 0, -5], [0, 0, 3.0, 2], [0, 0, 0, 1]])
    rows = []
    for i in range(cases):
        label = np.zeros((12, 10, 5), np.int16)
        label[3:8, 2:6, 1:4] = 1 + i % 2
        for channel in (0, 1):
            data = (label * (10 + channel) + channel).astype(np.float32)
            nib.save(nib.Nifti1Image(data, affine), root / "images" / f"v{i}_000{channel}.nii.gz")
        nib.save(nib.Nifti1Image(label, affine), root / "labels" / f"v{i}.nii.gz")
        rows.append([f"v{i}", "ED" if i % 2 else "ES"])
    _write_table(root / "c.csv", ["id", "phase"], rows)
    return root


def test_nifti_volumes_cut_into_slices_with_their_position(tmp_path):
    root = nifti_folder(tmp_path)
    out = tmp_path / "p.npz"
    run = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "c.csv"), "--out", str(out), "--slice-position",
        "--val-fraction", "0", "--test-fraction", "0.25",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    arrays = load_prepared(out)
    assert arrays["x"].shape == (20, 12, 10, 2) and arrays["y"].dtype == np.uint8
    assert arrays["name"][:5].tolist() == [f"v0_slice{k}" for k in range(5)]
    np.testing.assert_allclose(arrays["z"][:5, -1], [0, 0.25, 0.5, 0.75, 1])
    assert json.loads(json.dumps(load_metadata(out)))["conditions"]["z"] == [
        "phase=ED",
        "phase=ES",
        "slice_position",
    ]


def _bad_folder(tmp_path, damage):
    root = nifti_folder(tmp_path)
    damage(root)
    return root


BAD = {
    "missing label map": (lambda r: (r / "labels" / "v1.nii.gz").unlink(), "has no label map"),
    "id not in the table": (
        lambda r: _write_table(r / "c.csv", ["id", "phase"], [["v0", "ED"]]),
        "no row for the cases ['v1'",
    ),
    "empty value": (
        lambda r: _write_table(
            r / "c.csv", ["id", "phase"], [["v0", "ED"], ["v1", ""], ["v2", "ES"], ["v3", "ED"]]
        ),
        "no value in column 'phase'",
    ),
    "shapes differ": (
        lambda r: nib.save(
            nib.Nifti1Image(np.zeros((12, 10, 4), np.int16), np.eye(4)), r / "labels" / "v2.nii.gz"
        ),
        "differs from the image's",
    ),
    "affines differ": (
        lambda r: nib.save(
            nib.Nifti1Image(np.zeros((12, 10, 5), np.int16), np.diag([0.8, 0.8, 3.0, 1])),
            r / "labels" / "v2.nii.gz",
        ),
        "its affine differs from the image's",
    ),
    "NaN intensity": (
        lambda r: nib.save(
            nib.Nifti1Image(np.full((12, 10, 5), np.nan, np.float32), np.eye(4)),
            r / "images" / "v3_0001.nii.gz",
        ),
        "NaN or infinite",
    ),
    "not a table": (lambda r: (r / "c.csv").write_bytes(b"\xff\xfe\x00binary"), "not UTF-8"),
    "channel gap": (
        lambda r: (r / "images" / "v0_0001.nii.gz").rename(r / "images" / "v0_0002.nii.gz"),
        "channel files [0, 2]",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_naming_it(tmp_path, case):
    damage, expected = BAD[case]
    root = _bad_folder(tmp_path, damage)
    out = tmp_path / "p.npz"
    run = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "c.csv"), "--out", str(out),
    )  # fmt: skip
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert expected in run.stderr and "Traceback" not in run.stderr
    assert not out.exists()


def test_volumes_round_trip_to_the_source_grid(tmp_path):
    """--dims 3: volumes (D, H, W, C) resampled and padded; a perfect prediction put back
    equals each source label map voxel for voxel, with its affine."""
    from inside_keras.evaluation.source_grid import source_grid_scores, to_source_grid

    root = nifti_folder(tmp_path)
    out = tmp_path / "p.npz"
    run = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "c.csv"), "--out", str(out), "--dims", "3",
        "--spacing", "3", "0.4", "0.4", "--size", "6", "32", "32",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    arrays = load_prepared(out)
    assert arrays["x"].shape == (4, 6, 32, 32, 2) and arrays["y"].shape == (4, 6, 32, 32)
    assert arrays["resampled_shape"][0].tolist() == [5, 24, 20]
    for i, case in enumerate(arrays["case"]):
        source = nib.load(root / "labels" / f"{case}.nii.gz")
        back = to_source_grid(arrays["y"][i], arrays, i)
        np.testing.assert_array_equal(back, np.asarray(source.dataobj))
        np.testing.assert_allclose(arrays["affine"][i], source.affine)
    # Scored against the source label maps at the source spacing: perfect.
    rows = source_grid_scores(arrays["y"], arrays, (1, 2))
    assert len(rows) == 8 and all(row["dice"] == 1.0 and row["hd95"] == 0.0 for row in rows)


def test_dims_3_needs_volumes_and_three_sides(tmp_path):
    root = rgb_folder(tmp_path)
    args = ["prepare", "folder", "--images", str(root / "images"), "--labels"]
    args += [str(root / "labels"), "--conditions", str(root / "conditions.csv")]
    args += ["--out", str(tmp_path / "p.npz"), "--dims", "3"]
    run = _run(*args)
    assert run.returncode == 2 and "--dims 3 needs 3-D volumes" in run.stderr
    run = _run(*args, "--size", "4", "4")
    assert run.returncode == 2 and "--size: must be 3 positive sides D H W" in run.stderr


def test_new_images_are_predicted_at_their_own_size(tmp_path):
    """2-D: a model trained on a prepared folder predicts new PNGs given only their
    conditions; the label maps come back at each image's own size."""
    root = rgb_folder(tmp_path / "train")
    data = tmp_path / "prepared.npz"
    prepared = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "conditions.csv"), "--out", str(data), "--size", "16", "16",
        "--condition-columns", "side",
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\nmodel: {{architecture: encoder_decoder, conditioning: film}}\n"
        f"training: {{epochs: 1, batch_size: 4}}\noutput: {{dir: {tmp_path / 'run'}}}\n"
    )
    assert _run("train", "--config", str(config), "--quiet").returncode == 0
    new = tmp_path / "new"
    new.mkdir()
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(new / "n1.png")
    table = _write_table(tmp_path / "new.csv", ["id", "side", "age"], [["n1", "left", 7]])
    run = _run(
        "predict", "--model", str(tmp_path / "run" / "model.keras"), "--data", str(data),
        "--images", str(new), "--conditions", str(table), "--out", str(tmp_path / "pred"),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    mask = np.asarray(Image.open(tmp_path / "pred" / "n1_pred.png"))
    assert mask.shape == (30, 40) and set(np.unique(mask)) <= {0, 1}


def test_slices_of_a_volume_go_back_to_its_grid(tmp_path):
    """`--dims 2` volumes: the prepared label slices stacked back by `slices_to_volumes`
    equal each source label map voxel for voxel (no resizing), with its affine."""
    from inside_keras.evaluation.source_grid import slices_to_volumes

    root = nifti_folder(tmp_path)
    out = tmp_path / "p.npz"
    run = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "c.csv"), "--out", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    arrays = load_prepared(out)
    volumes = list(slices_to_volumes(arrays["y"], arrays))
    assert [case for case, _, _ in volumes] == ["v0", "v1", "v2", "v3"]
    for case, volume, affine in volumes:
        source = nib.load(root / "labels" / f"{case}.nii.gz")
        np.testing.assert_array_equal(volume, np.asarray(source.dataobj))
        np.testing.assert_array_equal(affine, source.affine)


def test_new_volumes_of_a_slice_dataset_come_back_as_volumes(tmp_path):
    """A model trained on slices of volumes (`--dims 2`, resized) predicts new volumes
    given only their conditions: one NIfTI per volume, at its own shape and affine;
    `--limit` counts volumes."""
    root = nifti_folder(tmp_path / "train")
    data = tmp_path / "prepared.npz"
    prepared = _run(
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(root / "c.csv"), "--out", str(data), "--size", "8", "8",
        "--val-fraction", "0.25", "--test-fraction", "0",
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\nmodel: {{architecture: unet, depth: 2, base_filters: 4}}\n"
        f"training: {{epochs: 1, batch_size: 4}}\noutput: {{dir: {tmp_path / 'run'}}}\n"
    )
    assert _run("train", "--config", str(config), "--quiet").returncode == 0
    new = tmp_path / "new"
    new.mkdir()
    affine = np.array([[0.7, 0, 0, 3], [0, 0, -0.7, 1], [0, 2.5, 0, -4], [0, 0, 0, 1]])
    for case, shape in (("n1", (14, 9, 6)), ("n2", (10, 10, 3))):
        for channel in (0, 1):
            data_ = np.random.default_rng(channel).random(shape, dtype=np.float32)
            nib.save(nib.Nifti1Image(data_, affine), new / f"{case}_000{channel}.nii.gz")
    table = _write_table(tmp_path / "new.csv", ["id", "phase"], [["n1", "ED"], ["n2", "ES"]])
    predict = [
        "predict", "--model", str(tmp_path / "run" / "model.keras"), "--data", str(data),
        "--images", str(new), "--conditions", str(table),
    ]  # fmt: skip
    run = _run(*predict, "--out", str(tmp_path / "pred"))
    assert run.returncode == 0, run.stderr
    assert "wrote 2 label volumes on their source grids" in run.stdout
    for case, shape in (("n1", (14, 9, 6)), ("n2", (10, 10, 3))):
        written = nib.load(tmp_path / "pred" / f"{case}_pred.nii.gz")
        assert written.shape == shape
        image = nib.load(new / f"{case}_0000.nii.gz")  # its affine as stored (float32)
        np.testing.assert_array_equal(written.affine, image.affine)
        assert set(np.unique(np.asarray(written.dataobj))) <= {0, 1, 2}
    limited = _run(*predict, "--out", str(tmp_path / "one"), "--limit", "1")
    assert limited.returncode == 0, limited.stderr
    assert sorted(p.name for p in (tmp_path / "one").glob("*.nii.gz")) == ["n1_pred.nii.gz"]
