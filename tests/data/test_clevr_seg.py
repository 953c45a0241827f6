"""The CLEVR-Seg reader and preparation on a hand-written folder in the published layout."""

import numpy as np
import pytest
from PIL import Image

from inside_keras.data.clevr_seg import prepare as clevr_prepare
from inside_keras.data.clevr_seg import reader
from inside_keras.errors import InputError
from tests.data import clevr_folder

#: One-hot orders of DESIGN.md, written out again (not imported) on purpose.
ORDERS = {
    "coordinates": ["top_left", "top_right", "bottom_right", "bottom_left"],
    "colour": ["alizarin", "nephritis", "orange"],
    "shape": ["cube", "sphere", "triangle"],
    "size": ["small", "medium", "large"],
}


@pytest.fixture
def folder(tmp_path):
    return clevr_folder.write_folder(tmp_path / "clevr")


def prepared(folder, condition, **options):
    return clevr_prepare.prepare(folder, clevr_prepare.PrepareOptions(condition, **options)).arrays


def expected_mask(name, condition, value):
    objects = clevr_folder.SCENES[name]
    masks = clevr_folder.visible_masks(objects)
    chosen = [clevr_folder.attribute(item, condition) == value for item in objects]
    return masks[chosen].any(axis=0)


def test_orders_match_design():
    assert {k: list(v) for k, v in reader.CONDITIONS.items()} == ORDERS


def test_natural_key_orders_numbers_by_value():
    names = ["10.png", "9.png", "1.png", "0.png", "2.png"]
    want = ["0.png", "1.png", "2.png", "9.png", "10.png"]
    assert sorted(names, key=reader.natural_key) == want


def test_read_example_masks_in_natural_order(folder):
    scene = reader.read_example(folder, "scene_b")
    assert scene.image.shape == (40, 48, 3) and scene.image.dtype == np.uint8
    want = clevr_folder.visible_masks(clevr_folder.SCENES["scene_b"])
    np.testing.assert_array_equal(scene.masks, want)
    assert scene.masks.shape == (11, 40, 48)


@pytest.mark.parametrize("condition", list(ORDERS))
def test_prepare_masks_are_unions_of_matching_objects(folder, condition):
    prepared = clevr_prepare.prepare(folder, clevr_prepare.PrepareOptions(condition, seed=3))
    arrays = prepared.arrays
    assert prepared.skipped == []
    assert arrays["x"].shape == (5, 40, 48, 3) and arrays["x"].dtype == np.float32
    assert arrays["y"].shape == (5, 40, 48, 1) and arrays["y"].dtype == np.float32
    assert arrays["z"].shape == (5, len(ORDERS[condition]))
    assert list(arrays["name"]) == ["scene_a", "scene_b", "scene_c", "scene_d", "scene_e"]
    assert set(arrays["condition"]) == {condition}
    for i, name in enumerate(arrays["name"]):
        z = arrays["z"][i]
        assert z.sum() == 1.0 and set(np.unique(z)) == {0.0, 1.0}
        value = ORDERS[condition][int(z.argmax())]
        assert arrays["condition_value"][i] == z.argmax()
        want = expected_mask(name, condition, value)
        assert want.any(), "the chosen value must match at least one object"
        np.testing.assert_array_equal(arrays["y"][i, ..., 0], want.astype(np.float32))
    image = clevr_folder.SCENES["scene_a"][0]
    np.testing.assert_allclose(
        arrays["x"][0, image["y"], image["x"]], np.array([231, 76, 60]) / 255, atol=1e-6
    )


def test_prepare_draws_every_present_value_over_seeds(folder):
    seen = set()
    for seed in range(12):
        arrays = prepared(folder, "colour", seed=seed)
        seen.add(int(arrays["condition_value"][1]))
    assert seen == {0, 1, 2}


def test_quadrant_uses_x_as_column_and_y_as_row():
    assert reader.quadrant(x=40, y=5, height=40, width=48) == "top_right"
    assert reader.quadrant(x=5, y=30, height=40, width=48) == "bottom_left"
    assert reader.quadrant(x=24, y=20, height=40, width=48) == "bottom_right"


def test_prepare_resizes_images_bilinear_and_masks_nearest(folder):
    native = prepared(folder, "shape", seed=1)
    small = prepared(folder, "shape", size=24, seed=1)
    assert small["x"].shape == (5, 24, 24, 3) and small["y"].shape == (5, 24, 24, 1)
    np.testing.assert_array_equal(small["z"], native["z"])
    for i in range(5):
        mask = Image.fromarray(native["y"][i, ..., 0].astype(np.uint8))
        want = np.asarray(mask.resize((24, 24), Image.Resampling.NEAREST))
        np.testing.assert_array_equal(small["y"][i, ..., 0], want)
    assert set(np.unique(small["y"])) <= {0.0, 1.0}
    assert small["x"].min() >= 0.0 and small["x"].max() <= 1.0


def test_splits_follow_the_paper_and_the_seed():
    labels = clevr_prepare.split_labels(4000, seed=0)
    counts = {name: int((labels == name).sum()) for name in ("test", "train", "val")}
    assert counts == {"test": 800, "train": 2880, "val": 320}
    np.testing.assert_array_equal(labels, clevr_prepare.split_labels(4000, seed=0))
    assert (labels != clevr_prepare.split_labels(4000, seed=1)).any()


@pytest.mark.parametrize("n", [4000, 1000, 37])
def test_split_by_name_is_the_authors_blocks(n):
    labels = clevr_prepare.split_labels(n, seed=5, split="by_name")
    # inside/loaders/clevr.py: int(n * 0.72) train, then int(n * 0.08) val, then test
    train, val = int(n * 0.72), int(n * 0.08)
    expected = ["train"] * train + ["val"] * val + ["test"] * (n - train - val)
    assert labels.tolist() == expected


def test_limit_and_bad_options(folder):
    arrays = prepared(folder, "size", limit=2)
    assert list(arrays["name"]) == ["scene_a", "scene_b"]
    with pytest.raises(InputError, match="unknown condition 'hue'"):
        clevr_prepare.PrepareOptions("hue")
    with pytest.raises(InputError, match="positive"):
        clevr_prepare.PrepareOptions("size", size=0)
    with pytest.raises(InputError, match="got 'sorted'; allowed: shuffled, by_name"):
        clevr_prepare.PrepareOptions("size", split="sorted")


def test_find_root_accepts_one_nested_folder(tmp_path):
    clevr_folder.write_folder(tmp_path / "outer" / "clevr", names=["scene_a"])
    assert reader.find_root(tmp_path / "outer") == tmp_path / "outer" / "clevr"
    with pytest.raises(InputError, match="not a CLEVR-Seg folder"):
        reader.find_root(tmp_path)
    clevr_folder.write_folder(tmp_path / "outer" / "copy", names=["scene_a"])
    with pytest.raises(InputError, match=r"several CLEVR-Seg folders here \(\['clevr', 'copy'\]\)"):
        reader.find_root(tmp_path / "outer")


def test_skipping_an_image_changes_no_other_sample(folder):
    full = prepared(folder, "colour", seed=4)
    (folder / "scenes" / "scene_b.json").write_text('{"objects": []}')
    kept = clevr_prepare.prepare(
        folder, clevr_prepare.PrepareOptions("colour", seed=4, skip_bad=True)
    )
    assert [str(error.source) for error in kept.skipped] == [
        str(folder / "scenes" / "scene_b.json")
    ]
    rows = [0, 2, 3, 4]
    assert list(kept.arrays["name"]) == list(full["name"][rows])
    np.testing.assert_array_equal(kept.arrays["z"], full["z"][rows])
    np.testing.assert_array_equal(kept.arrays["y"], full["y"][rows])
