"""`inside-keras prepare clevr-seg` / `generate clevr-seg` through `cli.main`: bad input
gives exit code 2, one stderr line naming the file, and nothing at `--out`."""

import json
import pickle
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from inside_keras.cli import main
from inside_keras.data.prepared import load_prepared
from inside_keras.errors import InputError
from tests.data import clevr_folder
from tests.data.fresh_cli import run_cli


@pytest.fixture
def folder(tmp_path):
    return clevr_folder.write_folder(tmp_path / "clevr")


def prepare(source, out, *extra):
    # One process: forking this one, which may run JAX's threads, is unsafe.
    return main(
        [
            "prepare",
            "clevr-seg",
            "--source",
            str(source),
            "--condition",
            "colour",
            "--out",
            str(out),
            "--workers",
            "1",
            *extra,
        ]
    )


def _delete_scene(root):
    path = root / "scenes" / "scene_c.json"
    path.unlink()
    return path


def _delete_masks(root):
    shutil.rmtree(root / "segmentations" / "scene_c")
    return root / "segmentations" / "scene_c"


def _drop_one_mask(root):
    (root / "segmentations" / "scene_c" / "2.png").unlink()
    return root / "segmentations" / "scene_c"


def _bad_mask_value(root):
    path = root / "segmentations" / "scene_c" / "1.png"
    pixels = np.asarray(Image.open(path)).copy()
    pixels[0, 0] = 128
    Image.fromarray(pixels).save(path)
    return path


def _mask_size(root):
    path = root / "segmentations" / "scene_c" / "0.png"
    Image.fromarray(np.full((20, 24), 64, np.uint8)).save(path)
    return path


def _unreadable_image(root):
    path = root / "images" / "scene_c.png"
    path.write_bytes(path.read_bytes()[:60])
    return path


def _unreadable_mask(root):
    path = root / "segmentations" / "scene_c" / "1.png"
    path.write_bytes(b"not a png at all")
    return path


def _no_objects(root):
    path = root / "scenes" / "scene_c.json"
    path.write_text(json.dumps({"image_index": 2, "things": []}))
    return path


def _no_pixel_coords(root):
    path = root / "scenes" / "scene_c.json"
    scene = json.loads(path.read_text())
    del scene["objects"][1]["pixel_coords"]
    path.write_text(json.dumps(scene))
    return path


CORRUPTIONS = {
    "image without scene": _delete_scene,
    "scene without masks": _delete_masks,
    "mask count != object count": _drop_one_mask,
    "mask value outside {64, 255}": _bad_mask_value,
    "image/mask size mismatch": _mask_size,
    "unreadable image PNG": _unreadable_image,
    "unreadable mask PNG": _unreadable_mask,
    "JSON without objects": _no_objects,
    "JSON without pixel_coords": _no_pixel_coords,
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_file_exits_2_with_one_line(folder, tmp_path, capsys, kind):
    bad = CORRUPTIONS[kind](folder)
    out = tmp_path / "out.npz"
    assert prepare(folder, out) == 2
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert str(bad) in err
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.glob("*.tmp")) == [] and list(tmp_path.glob(".out.npz*")) == []


def test_skip_bad_skips_and_counts(folder, tmp_path, capsys):
    _bad_mask_value(folder)
    _no_objects_path = folder / "scenes" / "scene_a.json"
    _no_objects_path.write_text("{}")
    out = tmp_path / "out.npz"
    assert prepare(folder, out, "--skip-bad") == 0
    captured = capsys.readouterr()
    assert "3 samples" in captured.out and "2 bad images skipped" in captured.out
    assert "scene_a.json" in captured.err and "scene_c" in captured.err
    arrays = load_prepared(out)
    assert list(arrays["name"]) == ["scene_b", "scene_d", "scene_e"]


def test_prepare_from_zip_archive(folder, tmp_path):
    archive = tmp_path / "clevr-seg.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            zipped.write(path, path.relative_to(folder.parent))
    from_zip, from_folder = tmp_path / "zip.npz", tmp_path / "folder.npz"
    assert prepare(archive, from_zip, "--seed", "5") == 0
    assert prepare(folder, from_folder, "--seed", "5") == 0
    a, b = load_prepared(from_zip), load_prepared(from_folder)
    for key in ("x", "y", "z", "split", "name"):
        np.testing.assert_array_equal(a[key], b[key])


def test_unsafe_zip_exits_2(tmp_path, capsys):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../escape.txt", "x")
    out = tmp_path / "out.npz"
    assert prepare(archive, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "evil.zip" in err and "../escape.txt" in err
    assert not out.exists() and not (tmp_path.parent / "escape.txt").exists()


def test_no_data_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INSIDE_KERAS_DATA", str(tmp_path / "nowhere"))
    out = str(tmp_path / "o.npz")
    code = main(["prepare", "clevr-seg", "--condition", "shape", "--out", out])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(tmp_path / "nowhere" / "clevr-seg") in err
    assert "drive.google.com" in err and "inside-keras generate clevr-seg" in err
    (tmp_path / "nowhere" / "clevr-seg").mkdir(parents=True)
    assert main(["prepare", "clevr-seg", "--condition", "shape", "--out", out]) == 2
    assert "drive.google.com" in capsys.readouterr().err


def test_prepared_file_is_loadable_and_complete(folder, tmp_path, capsys):
    out = tmp_path / "sub" / "p.npz"
    assert prepare(folder, out, "--size", "32") == 0
    arrays = load_prepared(out)
    assert arrays["x"].shape == (5, 32, 32, 3)
    assert set(arrays["split"]) <= {"train", "val", "test"}
    assert "wrote" in capsys.readouterr().out


def test_generate_then_prepare(tmp_path, capsys):
    out = tmp_path / "gen"
    assert (
        main(
            [
                "generate",
                "clevr-seg",
                "--out",
                str(out),
                "--n",
                "5",
                "--size",
                "64",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert len(list((out / "images").glob("*.png"))) == 5
    npz = tmp_path / "gen.npz"
    assert (
        main(
            [
                "prepare",
                "clevr-seg",
                "--source",
                str(out),
                "--condition",
                "coordinates",
                "--out",
                str(npz),
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert load_prepared(npz)["x"].shape == (5, 64, 64, 3)
    by_name = tmp_path / "by_name.npz"
    command = ["prepare", "clevr-seg", "--source", str(out), "--condition", "coordinates"]
    assert main([*command, "--split", "by-name", "--out", str(by_name), "--workers", "1"]) == 0
    arrays = load_prepared(by_name)
    assert arrays["name"].tolist() == sorted(arrays["name"].tolist())
    assert arrays["split"].tolist() == ["train"] * 3 + ["test"] * 2  # int(3.6), int(0.4)
    assert main(["generate", "clevr-seg", "--out", str(tmp_path / "g2"), "--n", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("--n: must be at least 1, got 0")


def test_bad_file_in_zip_is_named_inside_the_archive(folder, tmp_path, capsys):
    _bad_mask_value(folder)
    archive = tmp_path / "clevr-seg.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*")):
            zipped.write(path, path.relative_to(folder.parent))
    out = tmp_path / "out.npz"
    assert prepare(archive, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{archive}:clevr/segmentations/scene_c/1.png" in err, err
    assert not out.exists()
    assert prepare(archive, out, "--skip-bad") == 0
    assert f"skipped {archive}:clevr/segmentations/scene_c/1.png" in capsys.readouterr().err


def test_source_that_is_neither_folder_nor_zip(tmp_path, capsys):
    source = tmp_path / "clevr.tar"
    source.write_bytes(b"x")
    assert prepare(source, tmp_path / "o.npz") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{source}: expected a CLEVR-Seg folder or a .zip" in err


def test_unwritable_out_exits_2(folder, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "out.npz"
    assert prepare(folder, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "cannot be made" in err


def test_prepare_with_two_workers_matches_one(folder, tmp_path):
    _bad_mask_value(folder)
    one = tmp_path / "one.npz"
    assert prepare(folder, one, "--skip-bad", "--seed", "9") == 0
    two = tmp_path / "two.npz"
    done = run_cli(
        "prepare",
        "clevr-seg",
        "--source",
        folder,
        "--condition",
        "colour",
        "--out",
        two,
        "--skip-bad",
        "--seed",
        "9",
        "--workers",
        "2",
    )
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stderr and str(folder / "segmentations" / "scene_c") in done.stderr
    a, b = load_prepared(one), load_prepared(two)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_input_error_survives_pickling():
    error = pickle.loads(pickle.dumps(InputError("bad value", "scenes/a.json")))
    assert (error.message, error.source) == ("bad value", "scenes/a.json")
    assert str(error) == "scenes/a.json: bad value"


def _generate(out, n, *extra):
    return main(
        ["generate", "clevr-seg", "--out", str(out), "--n", str(n), "--size", "32"]
        + ["--workers", "1", *extra]
    )


def test_generate_refuses_a_users_folder_and_replaces_only_its_own_dataset(tmp_path, capsys):
    unrelated = tmp_path / "photos"
    unrelated.mkdir()
    (unrelated / "holiday.jpg").write_bytes(b"x")
    assert _generate(unrelated, 2) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{unrelated}: holds files that inside-keras generate clevr-seg did not" in err
    assert sorted(p.name for p in unrelated.iterdir()) == ["holiday.jpg"]

    out = tmp_path / "gen"
    assert _generate(out, 3) == 0
    assert _generate(out, 3) == 0
    assert "already holds this dataset" in capsys.readouterr().out
    assert _generate(out, 2) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err
    (out / "notes.txt").write_text("mine")
    assert _generate(out, 2, "--overwrite") == 0
    assert len(list((out / "images").iterdir())) == 2  # no image of the earlier set is left
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / ".inside-keras-partial").exists()
