"""`ConditionedBatches`: batches for `model.fit`, flips that keep the condition true."""

import keras
import numpy as np
import pytest

from inside_keras.data import clevr_prepare
from inside_keras.data.batching import FLIP_RULES, ConditionedBatches, FlipRule, flip_sample
from tests.data import clevr_folder

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
    batches = ConditionedBatches(coordinates, batch_size=5, flips=flips, flip_probability=1.0)
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


def test_attribute_conditions_are_flip_invariant():
    image, mask = np.arange(24.0).reshape(2, 4, 3), np.eye(2, 4)[..., None]
    z = np.array([0.0, 1.0, 0.0], np.float32)
    for condition in ("colour", "shape", "size"):
        for flip in ("horizontal", "vertical"):
            flipped_image, flipped_mask, flipped_z = flip_sample(image, mask, z, condition, flip)
            np.testing.assert_array_equal(flipped_z, z)
            axis = 1 if flip == "horizontal" else 0
            np.testing.assert_array_equal(flipped_image, np.flip(image, axis))
            np.testing.assert_array_equal(flipped_mask, np.flip(mask, axis))
    z4 = np.array([1.0, 0.0, 0.0, 0.0], np.float32)
    assert flip_sample(image, mask, z4, "coordinates", "horizontal")[2].argmax() == 1
    assert flip_sample(image, mask, z4, "coordinates", "vertical")[2].argmax() == 3
    with pytest.raises(ValueError, match=r"no flip rule for conditions \['phase'\]"):
        flip_sample(image, mask, z, "phase", "vertical")
    rules = {**FLIP_RULES, "phase": FlipRule()}
    np.testing.assert_array_equal(flip_sample(image, mask, z, "phase", "vertical", rules)[2], z)


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
    with pytest.raises(ValueError, match="flips need the `condition` array"):
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
    batches = ConditionedBatches(coordinates, batch_size=5, shuffle=True,
                                 flips=("horizontal", "vertical"))
    history = model.fit(batches, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and all(np.isfinite(losses)) and 0 < losses[-1] < 2
