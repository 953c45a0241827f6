"""`ConditionedBatches`: batches for `model.fit`, flips that keep the condition true
(CLEVR-Seg quadrants swap, ACDC's phase and position stay)."""

import csv
import subprocess
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest

from inside_keras.data.acdc.prepare import PrepareOptions, prepare_acdc
from inside_keras.data.batching import ConditionedBatches, augmentation_for
from inside_keras.data.clevr_seg import prepare as clevr_prepare
from inside_keras.data.clevr_seg.augment import FLIP_RULES
from inside_keras.data.flips import FLIP_AXES, take_flipped
from inside_keras.data.mapped import Rows, map_member
from inside_keras.data.prepared import load_prepared, select_split
from inside_keras.errors import InputError
from tests.data import acdc_folders, clevr_folder
from tests.runs import CLI, tiny_dataset, write_config

QUADRANTS = ["top_left", "top_right", "bottom_right", "bottom_left"]


@pytest.fixture
def coordinates(tmp_path):
    root = clevr_folder.write_folder(tmp_path / "clevr")
    return clevr_prepare.prepare(root, clevr_prepare.PrepareOptions("coordinates", seed=2)).arrays


def flipped_union(name, quadrant, flips):
    """Union of the flipped masks of the objects whose flipped centre is in `quadrant`."""
    objects = clevr_folder.SCENES[name]
    masks = clevr_folder.visible_masks(objects)
    union = np.zeros_like(masks[0])
    for item, mask in zip(objects, masks, strict=True):
        moved = dict(item)
        if "horizontal" in flips:
            moved["x"] = clevr_folder.WIDTH - 1 - item["x"]
            mask = mask[:, ::-1]
        if "vertical" in flips:
            moved["y"] = clevr_folder.HEIGHT - 1 - item["y"]
            mask = mask[::-1]
        if clevr_folder.quadrant(moved) == quadrant:
            union |= mask
    return union


@pytest.mark.parametrize("flips", [("horizontal",), ("vertical",), ("horizontal", "vertical")])
def test_flipped_mask_is_union_of_objects_in_swapped_quadrant(coordinates, flips):
    before = {key: coordinates[key].copy() for key in ("y", "z")}
    batches = ConditionedBatches(
        coordinates,
        batch_size=5,
        flips=flips,
        flip_probability=1.0,
        flip_rule=augmentation_for(coordinates),
    )
    inputs, y = batches[0]
    for i, name in enumerate(coordinates["name"]):
        quadrant = QUADRANTS[int(inputs["condition"][i].argmax())]
        original = QUADRANTS[int(coordinates["z"][i].argmax())]
        want = flipped_union(name, quadrant, flips)
        assert want.any()
        np.testing.assert_array_equal(y[i, ..., 0], want.astype(np.float32))
        if flips == ("horizontal",):
            swap = {"top_left": "top_right", "bottom_left": "bottom_right"}
            swap.update({v: k for k, v in swap.items()})
            assert quadrant == swap[original]
        np.testing.assert_array_equal(
            inputs["image"][i],
            np.flip(coordinates["x"][i], [{"vertical": 0, "horizontal": 1}[f] for f in flips]),
        )
    np.testing.assert_array_equal(coordinates["y"], before["y"])
    np.testing.assert_array_equal(coordinates["z"], before["z"])


def test_clevr_rules_by_condition_type():
    z3 = np.array([[0.0, 1.0, 0.0]], np.float32)
    for condition in ("colour", "shape", "size"):
        rule = augmentation_for({"condition": np.array([condition])})
        for flip in ("horizontal", "vertical"):
            np.testing.assert_array_equal(rule.flip_condition(z3, flip), z3)
    z4 = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)
    rule = augmentation_for({"condition": np.array(["coordinates", "coordinates"])})
    assert rule is FLIP_RULES["coordinates"]
    assert rule.flip_condition(z4, "horizontal").argmax() == 1  # top_left -> top_right
    assert rule.flip_condition(z4, "vertical").argmax() == 3  # top_left -> bottom_left
    with pytest.raises(InputError, match=r"no flip rule for condition types \['hue'\]") as error:
        augmentation_for({"condition": np.array(["colour", "hue"])})
    assert error.value.source == "condition"
    with pytest.raises(InputError, match="change differently under flips"):
        augmentation_for({"condition": np.array(["colour", "coordinates"])})
    with pytest.raises(InputError, match=r"are of no known dataset") as error:
        augmentation_for({"x": None, "y": None, "z": None})
    assert error.value.source == "augmentation" and "slice_position" in error.value.message


def test_acdc_flips_keep_phase_and_position(tmp_path):
    root = acdc_folders.write_dataset(tmp_path / "acdc", patients=2)
    for position in ("continuous", "bins"):
        options = PrepareOptions(spacing=1.5, size=16, position=position)
        arrays = prepare_acdc(root, options=options).arrays
        for flips, axes in ((("horizontal",), (1,)), (("horizontal", "vertical"), (0, 1))):
            batches = ConditionedBatches(
                arrays,
                batch_size=len(arrays["x"]),
                flips=flips,
                flip_probability=1.0,
                flip_rule=augmentation_for(arrays),
            )
            inputs, y = batches[0]
            assert y.dtype == np.uint8 and y.shape == arrays["y"].shape
            np.testing.assert_array_equal(inputs["condition"], arrays["z"])
            np.testing.assert_array_equal(y, np.flip(arrays["y"], [a + 1 for a in axes]))
            np.testing.assert_array_equal(
                inputs["image"], np.flip(arrays["x"], [a + 1 for a in axes])
            )


@pytest.mark.parametrize("mapped", [False, True], ids=["in-memory", "mapped"])
@pytest.mark.parametrize(
    ("shape", "spatial_dims"),
    [((6, 5, 7, 3), 2), ((6, 5, 7), 2), ((6, 4, 5, 7, 2), 3), ((6, 4, 5, 7), 3)],
    ids=["2d-channels", "2d", "3d-channels", "3d"],
)
def test_take_flipped_equals_np_flip_per_sample(tmp_path, shape, spatial_dims, mapped):
    """Images with channels flip like `np.flip`, and so do label maps flipped with them,
    whether the samples are in memory or read from a mapped file."""
    rng = np.random.default_rng(3)
    images = rng.random(shape).astype(np.float32)
    labels = (images * 4).astype(np.uint8)
    rows = np.array([5, 0, 3, 3, 1])
    chosen = {"vertical": rng.random(5) < 0.5, "horizontal": rng.random(5) < 0.5}
    chosen["vertical"][0], chosen["horizontal"][0] = True, True
    chosen["vertical"][1], chosen["horizontal"][1] = False, False
    if mapped:
        np.savez(tmp_path / "samples.npz", images=images, labels=labels)
        every = np.arange(len(images))
        sources = [
            Rows(map_member(tmp_path / "samples.npz", name), every) for name in ("images", "labels")
        ]
    else:
        sources = [images, labels]
    for source, array in zip(sources, (images, labels), strict=True):
        want = np.stack(
            [
                np.flip(array[row], [FLIP_AXES[f] for f, mask in chosen.items() if mask[k]])
                for k, row in enumerate(rows)
            ]
        )
        got = take_flipped(source, rows, chosen, spatial_dims)
        assert got.dtype == array.dtype and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def shuffled_flipped(arrays, batch_size):
    """Batches as `train` builds them with `data.augment`: shuffled, both flips."""
    return ConditionedBatches(
        arrays,
        batch_size=batch_size,
        shuffle=True,
        flips=("horizontal", "vertical"),
        flip_rule=augmentation_for(arrays),
    )


def test_batches_from_threads_equal_batches_in_order(coordinates):
    batches = shuffled_flipped(coordinates, batch_size=2)
    in_order = [batches[i] for i in range(len(batches))]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(pool.map(batches.__getitem__, range(len(batches))))
    for (inputs, y), (want_inputs, want_y) in zip(threaded, in_order, strict=True):
        np.testing.assert_array_equal(inputs["image"], want_inputs["image"])
        np.testing.assert_array_equal(inputs["condition"], want_inputs["condition"])
        np.testing.assert_array_equal(y, want_y)


def test_batches_cover_the_data_and_shuffle_per_epoch():
    n, size = 10, 8
    arrays = {
        "x": np.arange(n * size * size * 3, dtype=np.float32).reshape(n, size, size, 3),
        "y": (np.arange(n * size * size) % 2).astype(np.float32).reshape(n, size, size, 1),
        "z": np.eye(n, 4, dtype=np.float32),
    }
    plain = ConditionedBatches(arrays, batch_size=4)
    assert len(plain) == 3
    inputs, y = plain[2]
    assert inputs["image"].shape == (2, size, size, 3) and y.shape == (2, size, size, 1)
    np.testing.assert_array_equal(inputs["image"], arrays["x"][8:])
    np.testing.assert_array_equal(inputs["condition"], arrays["z"][8:])
    shuffled = ConditionedBatches(arrays, batch_size=4, shuffle=True, seed=1)
    first = np.concatenate([shuffled[i][0]["image"][:, 0, 0, 0] for i in range(3)])
    assert sorted(first.tolist()) == sorted(arrays["x"][:, 0, 0, 0].tolist())
    shuffled.on_epoch_end()
    second = np.concatenate([shuffled[i][0]["image"][:, 0, 0, 0] for i in range(3)])
    assert first.tolist() != second.tolist()
    again = ConditionedBatches(arrays, batch_size=4, shuffle=True, seed=1)
    np.testing.assert_array_equal(again[0][0]["image"], shuffled_first_batch(arrays))
    with pytest.raises(IndexError):
        plain[3]
    with pytest.raises(ValueError, match="flips need a `flip_rule`"):
        ConditionedBatches(arrays, flips=("horizontal",))
    with pytest.raises(ValueError, match="unknown flips \\['diagonal'\\]"):
        ConditionedBatches(arrays, flips=("diagonal",))


def shuffled_first_batch(arrays):
    order = np.random.default_rng([1, 0]).permutation(len(arrays["x"]))
    return arrays["x"][order[:4]]


def test_fit_on_batches(coordinates):
    height, width = coordinates["x"].shape[1:3]
    image = keras.Input((height, width, 3), name="image")
    condition = keras.Input((4,), name="condition")
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    bias = keras.layers.Reshape((1, 1, 4))(keras.layers.Dense(4)(condition))
    output = keras.layers.Conv2D(1, 1, activation="sigmoid")(features + bias)
    model = keras.Model({"image": image, "condition": condition}, output)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    batches = shuffled_flipped(coordinates, batch_size=5)
    history = model.fit(batches, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and all(np.isfinite(losses)) and 0 < losses[-1] < 2


def test_flipped_batches_of_a_mapped_file_equal_those_in_memory(tmp_path):
    """`train` maps its prepared file: its flipped batches, read sample by sample from
    the file, equal those of the same arrays in memory."""
    path = tiny_dataset(tmp_path / "data.npz", n=40)
    in_memory = select_split(load_prepared(path), "train")
    mapped = select_split(load_prepared(path, mmap=True), "train")
    assert isinstance(mapped["x"], Rows) and isinstance(mapped["y"], Rows)
    for epoch in range(2):
        want, got = shuffled_flipped(in_memory, 5), shuffled_flipped(mapped, 5)
        want.set_epoch(epoch), got.set_epoch(epoch)
        for index in range(len(want)):
            (want_inputs, want_y), (inputs, y) = want[index], got[index]
            np.testing.assert_array_equal(inputs["image"], want_inputs["image"])
            np.testing.assert_array_equal(inputs["condition"], want_inputs["condition"])
            np.testing.assert_array_equal(y, want_y)


def test_train_with_augment_on_a_mapped_file(tmp_path):
    """The installed `train` with `data.augment` flips the batches of the file it maps."""
    out = tmp_path / "run"
    config = write_config(tmp_path, 2, out)
    trained = subprocess.run(
        [*CLI, "train", "--config", str(config), "--set", "data.augment=true", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    with open(out / "log.csv", newline="") as stream:
        losses = [float(row["loss"]) for row in csv.DictReader(stream)]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert (out / "model.keras").is_file()
