"""Read CLEVR-Seg in its published layout and build conditioned segmentation samples.

The layout (Jacenków et al., "INSIDE", MICCAI 2020), under one root folder:

- `images/NAME.png`: the scene (RGBA in the published set; only RGB is used);
- `scenes/NAME.json`: CLEVR scene description; `objects[i]` has `pixel_coords`
  `[x (column), y (row), depth]`, `color`, `shape`, `size` and other CLEVR keys,
  which are ignored;
- `segmentations/NAME/*.png`: one mask per object, in object order; channel 0 is 64
  for background and 255 for the object (grayscale, RGB and RGBA masks are all read
  through channel 0).

Mask files are put in object order with a *natural* sort (`2.png` before `10.png`).
The paper's loader sorted names lexicographically; both orders agree on zero-padded or
single-digit names (`inside-keras generate` writes `0.png` ... `9.png`), and only the
natural order stays right for unpadded numbers past 9.

A sample conditions on one attribute (`CONDITIONS` lists each condition's values in
one-hot order): one value among those present in the scene is drawn, the target is the
union of the masks of the objects having that value, and `z` is its one-hot vector.
An object's quadrant comes from `pixel_coords`: top when `y < H / 2`, left when `x < W / 2`.
"""

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import PngImagePlugin

from inside_keras.errors import InputError
from inside_keras.runs.limits import check_image_size, read_text

#: Condition type -> its values, in one-hot order.
CONDITIONS = {
    "coordinates": ("top_left", "top_right", "bottom_right", "bottom_left"),
    "colour": ("alizarin", "nephritis", "orange"),
    "shape": ("cube", "sphere", "triangle"),
    "size": ("small", "medium", "large"),
}

#: Scene-JSON key of each attribute condition (`coordinates` comes from `pixel_coords`).
SCENE_KEYS = {"colour": "color", "shape": "shape", "size": "size"}

#: Channel-0 values of a mask PNG.
MASK_BACKGROUND = 64
MASK_OBJECT = 255

#: Sub-folders of a CLEVR-Seg root.
FOLDERS = ("images", "scenes", "segmentations")


def natural_key(name):
    """Sort key that orders the digit runs of `name` by value (`2.png` < `10.png`)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def is_layout(folder):
    """Whether `folder` holds the CLEVR-Seg sub-folders `FOLDERS`."""
    return all((Path(folder) / name).is_dir() for name in FOLDERS)


def find_root(path):
    """The CLEVR-Seg root: `path` itself or its one sub-folder with the layout (as
    archives unpack).

    Args:
        path: a folder holding `images/`, `scenes/` and `segmentations/`, or holding
            exactly one sub-folder that does.

    Raises:
        InputError: no such layout there, or several sub-folders with it.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError("expected a CLEVR-Seg folder or a .zip archive", path)

    if is_layout(path):
        return path
    found = sorted(p for p in path.iterdir() if p.is_dir() and is_layout(p))
    if len(found) > 1:
        raise InputError(
            f"several CLEVR-Seg folders here ({[p.name for p in found]}); pass one", path
        )
    if not found:
        raise InputError(
            f"not a CLEVR-Seg folder: expected sub-folders {list(FOLDERS)} here "
            "or in one sub-folder",
            path,
        )
    return found[0]


def list_names(root):
    """Names (file stems) of the images under `root/images`, in natural order."""
    return sorted((p.stem for p in (Path(root) / "images").glob("*.png")), key=natural_key)


@dataclass(frozen=True)
class Scene:
    """One image of a CLEVR-Seg folder, read and checked.

    Args:
        name: the file stem shared by image, scene and mask folder.
        image: uint8 `(H, W, 3)` RGB image.
        masks: bool `(n_objects, H, W)`, one mask per object in object order.
        objects: the scene JSON's `objects` list.
        scene_path: path of the scene JSON (named in errors about its content).
    """

    name: str
    image: np.ndarray
    masks: np.ndarray
    objects: list
    scene_path: Path


def read_png(path):
    """A PNG as a NumPy array (palette images converted to RGB).

    The size in the PNG header is checked against `inside_keras.runs.limits.MAX_IMAGE_PIXELS`
    before any pixel is decoded.

    Raises:
        InputError: the file is missing, not a readable PNG, or claims more pixels than
            the limit.
    """
    try:
        with PngImagePlugin.PngImageFile(path) as image:
            check_image_size(*image.size, path)
            if image.mode == "P":
                image = image.convert("RGB")
            return np.asarray(image)
    except SyntaxError:
        raise InputError("not a PNG file", path) from None
    except (OSError, ValueError, EOFError) as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise InputError(f"unreadable PNG ({reason})", path) from None


def _number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_scene_objects(path):
    """The `objects` list of a scene JSON, each with a valid `pixel_coords`.

    The file is read no further than `inside_keras.runs.limits.MAX_TEXT_BYTES`.

    Raises:
        InputError: too large, not text, invalid JSON, no `objects` list, or an object
            without `pixel_coords` `[x, y, ...]` finite numbers.
    """
    text = read_text(path, "a scene JSON file")
    try:
        scene = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"unreadable scene JSON ({error})", path) from None
    except RecursionError:
        raise InputError("scene JSON nested too deeply", path) from None
    objects = scene.get("objects") if isinstance(scene, dict) else None
    if not isinstance(objects, list) or not objects:
        raise InputError("scene JSON has no non-empty `objects` list", path)
    for index, item in enumerate(objects):
        coords = item.get("pixel_coords") if isinstance(item, dict) else None
        valid = isinstance(coords, list) and len(coords) >= 2 and all(map(_number, coords[:2]))
        if not valid:
            shown = repr(coords)[:60]
            raise InputError(
                f"objects[{index}] has no `pixel_coords` [x, y, depth] of finite numbers "
                f"(got {shown})",
                path,
            )
    return objects


def read_masks(folder, n_objects, shape):
    """The object masks of one scene, checked against the scene and image.

    Args:
        folder: `segmentations/NAME`.
        n_objects: number of objects in the scene JSON.
        shape: `(H, W)` of the image.

    Returns:
        bool array `(n_objects, H, W)`.

    Raises:
        InputError: wrong number of masks, unreadable PNG, wrong size, or channel-0
            values other than 64 and 255.
    """
    paths = sorted(Path(folder).glob("*.png"), key=lambda p: natural_key(p.name))
    if len(paths) != n_objects:
        raise InputError(
            f"has {len(paths)} mask PNGs but the scene lists {n_objects} objects", folder
        )
    masks = np.empty((n_objects, *shape), dtype=bool)
    for index, path in enumerate(paths):
        pixels = read_png(path)
        channel = pixels if pixels.ndim == 2 else pixels[..., 0]
        if channel.shape != tuple(shape):
            raise InputError(
                f"mask is {channel.shape[1]}x{channel.shape[0]} (WxH) but the image is "
                f"{shape[1]}x{shape[0]}",
                path,
            )
        masks[index] = channel == MASK_OBJECT
        stray = ~masks[index] & (channel != MASK_BACKGROUND)
        if stray.any():
            raise InputError(
                f"channel 0 has values {np.unique(channel[stray])[:5].tolist()}; expected only "
                f"{MASK_BACKGROUND} (background) and {MASK_OBJECT} (object)",
                path,
            )
    return masks


def read_example(root, name):
    """Read and check image, scene and masks of `name` under the CLEVR-Seg `root`.

    Raises:
        InputError: any missing or malformed file, named in the message.
    """
    root = Path(root)
    image_path = root / "images" / f"{name}.png"
    scene_path = root / "scenes" / f"{name}.json"
    mask_folder = root / "segmentations" / name
    if not scene_path.is_file():
        raise InputError(f"image has no scene file {scene_path}", image_path)
    if not mask_folder.is_dir() or not any(mask_folder.glob("*.png")):
        raise InputError(f"scene has no masks (no PNG files in {mask_folder})", scene_path)
    pixels = read_png(image_path)
    if pixels.ndim != 3 or pixels.shape[-1] < 3 or pixels.dtype != np.uint8:
        raise InputError(
            f"expected an 8-bit RGB or RGBA image, got {pixels.dtype} {pixels.shape}", image_path
        )
    objects = read_scene_objects(scene_path)
    masks = read_masks(mask_folder, len(objects), pixels.shape[:2])
    return Scene(name, np.ascontiguousarray(pixels[..., :3]), masks, objects, scene_path)


def check_condition(condition):
    """Raise `InputError` unless `condition` is one of `CONDITIONS`."""
    if condition not in CONDITIONS:
        raise InputError(
            f"unknown condition {condition!r}; allowed: {list(CONDITIONS)}", "condition"
        )


def quadrant(x, y, height, width):
    """The quadrant name of pixel position (`x` column, `y` row) in an image."""
    vertical = "top" if y < height / 2 else "bottom"
    horizontal = "left" if x < width / 2 else "right"
    return f"{vertical}_{horizontal}"


def object_values(scene, condition):
    """Each object's value of `condition` (a name from `CONDITIONS[condition]`).

    Raises:
        InputError: an object lacks the attribute or has a value not in `CONDITIONS`.
    """
    check_condition(condition)
    if condition == "coordinates":
        height, width = scene.image.shape[:2]
        return [quadrant(*item["pixel_coords"][:2], height, width) for item in scene.objects]
    key, allowed = SCENE_KEYS[condition], CONDITIONS[condition]
    values = [item.get(key) for item in scene.objects]
    for index, value in enumerate(values):
        if value not in allowed:
            raise InputError(
                f"objects[{index}] has {key}={value!r}; allowed: {list(allowed)}",
                scene.scene_path,
            )
    return values


def build_sample(scene, condition, rng):
    """One conditioned sample of a scene.

    Args:
        scene: a `Scene`.
        condition: a key of `CONDITIONS`.
        rng: NumPy generator that picks the value among those present in the scene.

    Returns:
        `(mask, value_index)`: bool `(H, W)` union of the masks of the objects whose
        value is `CONDITIONS[condition][value_index]`, and that index.
    """
    order = CONDITIONS[condition]
    indices = np.array([order.index(value) for value in object_values(scene, condition)])
    value_index = int(rng.choice(np.unique(indices)))
    return scene.masks[indices == value_index].any(axis=0), value_index


def one_hot(condition, value_index):
    """float32 one-hot vector of `CONDITIONS[condition][value_index]`."""
    vector = np.zeros(len(CONDITIONS[condition]), dtype=np.float32)
    vector[value_index] = 1.0
    return vector
