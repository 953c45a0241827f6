"""The synthetic CLEVR-Seg writer: deterministic for a seed, and readable by the reader."""

import json

import numpy as np
import pytest

from inside_keras.data.clevr_seg import reader, synthetic
from inside_keras.data.clevr_seg.synthetic import GenerateOptions, generate, render_scene
from inside_keras.errors import InputError
from tests.data.fresh_cli import run_cli


def folder_bytes(root):
    """The dataset's files (the command's marker, `.inside-keras.json`, left out)."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".inside-keras.json")
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_generate_is_deterministic_and_independent_of_workers(tmp_path):
    generate(tmp_path / "a", GenerateOptions(n=6, size=64, seed=7, workers=1))
    done = run_cli(
        "generate",
        "clevr-seg",
        "--out",
        tmp_path / "b",
        "--n",
        6,
        "--size",
        64,
        "--seed",
        7,
        "--workers",
        2,
    )
    assert done.returncode == 0, done.stderr
    generate(tmp_path / "c", GenerateOptions(n=6, size=64, seed=8, workers=1))
    a, b, c = (folder_bytes(tmp_path / name) for name in "abc")
    assert len(a) > 6 * 5
    assert a == b
    assert a.keys() != c.keys() or any(a[k] != c[k] for k in a)


def test_generated_layout_is_read_back_exactly(tmp_path):
    generate(tmp_path, GenerateOptions(n=4, size=96, seed=3))
    assert reader.list_names(tmp_path) == [f"CLEVR_new_{i:06d}" for i in range(4)]
    for index, name in enumerate(reader.list_names(tmp_path)):
        scene = reader.read_example(tmp_path, name)
        image, masks, description = render_scene(index, 96, 3)
        np.testing.assert_array_equal(scene.image, image[..., :3])
        np.testing.assert_array_equal(scene.masks, masks)
        assert scene.objects == json.loads(json.dumps(description["objects"]))
        for condition in reader.CONDITIONS:
            values = reader.object_values(scene, condition)
            assert set(values) <= set(reader.CONDITIONS[condition])


@pytest.mark.parametrize("seed", range(3))
def test_scenes_follow_the_dataset_rules(seed):
    for index in range(20):
        image, masks, scene = render_scene(index, 200, seed)
        objects = scene["objects"]
        assert image.shape == (200, 200, 4) and image.dtype == np.uint8
        assert (image[..., 3] == 255).all()
        assert 3 <= len(objects) <= 10
        assert masks.shape == (len(objects), 200, 200)
        assert masks.sum(axis=0).max() <= 1, "visible masks never overlap"
        for item, mask in zip(objects, masks, strict=True):
            assert {
                "shape",
                "color",
                "size",
                "material",
                "3d_coords",
                "pixel_coords",
                "rotation",
            } <= item.keys()
            x, y = item["pixel_coords"][:2]
            assert mask[y, x], "the object's centre pixel is visible"
            full = {"small": 0.045, "medium": 0.065, "large": 0.085}[item["size"]] * 200
            assert mask.sum() > 0.5 * full**2, "overlaps are limited"
            colour = np.array(synthetic.COLOURS[item["color"]], float)
            mean = image[mask][:, :3].mean(axis=0)
            assert np.argmax(mean) == np.argmax(colour)


def test_options_are_checked():
    with pytest.raises(InputError, match="size: must be at least 32, got 8"):
        GenerateOptions(size=8)
