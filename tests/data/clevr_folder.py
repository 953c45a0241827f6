"""A tiny CLEVR-Seg folder in the published layout, written by hand (PIL + json).

It does not use the package's generator, so the reader is checked independently.
Objects are axis-aligned rectangles; the image is 40 rows x 48 columns so that a
swapped x/y or H/W shows. Scene `scene_b` has 11 objects with masks `0.png` ... `10.png`
(natural order differs from lexicographic), RGBA masks and extra JSON keys; the others
use grayscale masks.
"""

import json

import numpy as np
from PIL import Image

HEIGHT, WIDTH = 40, 48

COLOURS = {"alizarin": (231, 76, 60), "nephritis": (39, 174, 96), "orange": (243, 156, 18)}


def _obj(x, y, half, color, shape, size):
    """An object: centre (x column, y row), half side, attributes."""
    return {"x": x, "y": y, "half": half, "color": color, "shape": shape, "size": size}


#: name -> objects (drawn in order; later objects cover earlier ones in the image,
#: but each mask is the object's full rectangle minus what later objects cover).
SCENES = {
    "scene_a": [
        _obj(8, 8, 4, "alizarin", "cube", "small"),
        _obj(38, 9, 5, "nephritis", "sphere", "large"),
        _obj(36, 30, 4, "alizarin", "triangle", "medium"),
        _obj(10, 31, 3, "orange", "sphere", "small"),
    ],
    "scene_b": [
        _obj(3 + 4 * (k % 11), 4 + 3 * k, 1, colour, shape, size)
        for k, (colour, shape, size) in enumerate(
            [
                ("alizarin", "cube", "small"),
                ("nephritis", "sphere", "medium"),
                ("orange", "triangle", "large"),
                ("alizarin", "sphere", "large"),
                ("nephritis", "triangle", "small"),
                ("orange", "cube", "medium"),
                ("alizarin", "triangle", "medium"),
                ("nephritis", "cube", "large"),
                ("orange", "sphere", "small"),
                ("alizarin", "cube", "large"),
                ("nephritis", "sphere", "small"),
            ]
        )
    ],
    "scene_c": [
        _obj(12, 10, 5, "orange", "triangle", "large"),
        _obj(14, 12, 4, "nephritis", "cube", "medium"),
        _obj(40, 33, 4, "orange", "cube", "large"),
    ],
    "scene_d": [
        _obj(30, 6, 3, "nephritis", "triangle", "small"),
        _obj(6, 35, 3, "alizarin", "sphere", "medium"),
        _obj(42, 22, 3, "orange", "cube", "small"),
    ],
    "scene_e": [
        _obj(20, 20, 3, "orange", "sphere", "medium"),
        _obj(28, 20, 3, "alizarin", "cube", "large"),
        _obj(20, 28, 3, "nephritis", "triangle", "medium"),
    ],
}


def rectangle(item):
    """bool (H, W) rectangle of an object (before occlusion)."""
    mask = np.zeros((HEIGHT, WIDTH), bool)
    h = item["half"]
    mask[max(item["y"] - h, 0) : item["y"] + h + 1, max(item["x"] - h, 0) : item["x"] + h + 1] = 1
    return mask


def visible_masks(objects):
    """bool (n, H, W): each object's rectangle minus the rectangles drawn after it."""
    masks = np.array([rectangle(item) for item in objects])
    for k in range(len(objects)):
        for later in masks[k + 1 :]:
            masks[k] &= ~later
    return masks


def quadrant(item, height=HEIGHT, width=WIDTH):
    """Quadrant name of an object's centre (the DESIGN.md rule, written out again)."""
    top = item["y"] < height / 2
    left = item["x"] < width / 2
    return ("top_" if top else "bottom_") + ("left" if left else "right")


def attribute(item, condition):
    """An object's value for a condition type."""
    if condition == "coordinates":
        return quadrant(item)
    return item[{"colour": "color", "shape": "shape", "size": "size"}[condition]]


def write_folder(root, names=None):
    """Write the scenes (all, or `names`) under `root`; returns `root`."""
    for folder in ("images", "scenes", "segmentations"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in names or SCENES:
        objects = SCENES[name]
        image = np.full((HEIGHT, WIDTH, 4), (128, 128, 128, 255), np.uint8)
        for item in objects:
            image[rectangle(item), :3] = COLOURS[item["color"]]
        Image.fromarray(image, "RGBA").save(root / "images" / f"{name}.png")
        scene = {
            "image_index": 0,
            "image_filename": f"{name}.png",
            "split": "val",
            "objects": [
                {
                    "color": item["color"],
                    "shape": item["shape"],
                    "size": item["size"],
                    "material": "rubber",
                    "rotation": 12.5,
                    "3d_coords": [0.1, -0.2, 0.35],
                    "pixel_coords": [item["x"], item["y"], 11.25],
                }
                for item in objects
            ],
        }
        if name == "scene_b":
            scene["relationships"] = {"left": [[] for _ in objects]}
            scene["extra"] = {"anything": [1, 2]}
        (root / "scenes" / f"{name}.json").write_text(json.dumps(scene))
        folder = root / "segmentations" / name
        folder.mkdir(exist_ok=True)
        for k, mask in enumerate(visible_masks(objects)):
            channel = np.where(mask, 255, 64).astype(np.uint8)
            if name == "scene_b":
                rgba = np.stack([channel, channel, channel, np.full_like(channel, 255)], -1)
                Image.fromarray(rgba, "RGBA").save(folder / f"{k}.png")
            else:
                Image.fromarray(channel, "L").save(folder / f"{k}.png")
    return root
