"""Render a synthetic CLEVR-Seg in the published layout (see `inside_keras.data.clevr_seg`).

Flat 2-D scenes of 3 to 10 objects: cubes (rotated squares), spheres (shaded discs)
and triangles, in the three colours and sizes of CLEVR-Seg, on a textured floor with
mild shading and noise. Objects are spaced so that overlaps stay small; nearer objects
(lower in the image) occlude farther ones and each mask holds the visible part only.
Every image is drawn from its own generator seeded with `(seed, index)`, so the output
is the same for a seed whatever the number of worker processes.
"""

import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inside_keras.data.clevr_seg import FOLDERS, MASK_BACKGROUND, MASK_OBJECT
from inside_keras.data.parallel import ordered_map
from inside_keras.data.png import write_png
from inside_keras.errors import InputError

#: Object colours (RGB) by CLEVR-Seg colour name.
COLOURS = {
    "alizarin": (0xE7, 0x4C, 0x3C),
    "nephritis": (0x27, 0xAE, 0x60),
    "orange": (0xF3, 0x9C, 0x12),
}

#: Object radius as a fraction of the image side, by size name.
SIZES = {"small": 0.045, "medium": 0.065, "large": 0.085}

#: CLEVR's 3-D radius (scene units) by size name, for `3d_coords`.
RADII_3D = {"small": 0.35, "medium": 0.5, "large": 0.7}

SHAPES = ("cube", "sphere", "triangle")
MATERIALS = ("rubber", "metal")

#: Light direction (x right, y down, z towards the viewer) for sphere shading.
_LIGHT = np.array([-0.45, -0.55, 0.7]) / np.linalg.norm([-0.45, -0.55, 0.7])

#: CLEVR's camera directions, copied into each scene JSON.
_DIRECTIONS = {
    "behind": [-0.754, 0.657, 0.0],
    "front": [0.754, -0.657, -0.0],
    "left": [-0.657, -0.754, 0.0],
    "right": [0.657, 0.754, -0.0],
    "above": [0.0, 0.0, 1.0],
    "below": [-0.0, -0.0, -1.0],
}

_PLACEMENT_TRIES = 200


@dataclass(frozen=True)
class GenerateOptions:
    """What `generate` writes.

    Args:
        n: number of images.
        size: image side in pixels.
        seed: base seed; image `i` is drawn from a generator seeded with `(seed, i)`.
        workers: worker processes (1 renders in this process; see
            `inside_keras.data.parallel.ordered_map` about forking).
    """

    n: int = 4000
    size: int = 200
    seed: int = 0
    workers: int = 1

    def __post_init__(self):
        for name, low in (("n", 1), ("size", 32), ("workers", 1)):
            if getattr(self, name) < low:
                raise InputError(f"must be at least {low}, got {getattr(self, name)}", f"--{name}")


def image_name(index):
    """File stem of image `index`, as CLEVR names them."""
    return f"CLEVR_new_{index:06d}"


def _place_objects(rng, size):
    """Draw 3-10 objects whose centres keep clear of each other; a list of dicts.

    An object that finds no room among `_PLACEMENT_TRIES` candidate positions is
    dropped (the first three always find room).
    """
    count = int(rng.integers(3, 11))
    size_names, shapes, colours, materials = (
        [names[k] for k in rng.integers(0, len(names), count).tolist()]
        for names in (tuple(SIZES), SHAPES, tuple(COLOURS), MATERIALS)
    )
    rotations = rng.uniform(0, 360, count)
    depth_noise = rng.normal(0, 0.2, count)
    unit = rng.random((count, _PLACEMENT_TRIES, 2))
    placed = []
    for k in range(count):
        radius = SIZES[size_names[k]] * size
        span = size - 2 * radius - 2
        # The first candidate clear of every placed object (few objects: plain Python).
        for u, v in unit[k].tolist():
            x, y = radius + 1 + u * span, radius + 1 + v * span
            if all(
                math.hypot(x - o["x"], y - o["y"]) >= 1.25 * (radius + o["radius"]) for o in placed
            ):
                break
        else:
            continue
        placed.append(
            {
                "x": x,
                "y": y,
                "radius": radius,
                "size": size_names[k],
                "shape": shapes[k],
                "color": colours[k],
                "material": materials[k],
                "rotation": float(rotations[k]),
                "depth": 6.0 + 8.0 * (1 - y / size) + float(depth_noise[k]),
            }
        )
    return placed


def _polygon(columns, rows, x, y, radius, corners, angle):
    """Inside-mask of a regular polygon with `corners` corners on a pixel grid: the pixels
    on the inner side of every edge."""
    theta = math.radians(angle) + 2 * np.pi * np.arange(corners) / corners
    px, py = x + radius * np.cos(theta), y + radius * np.sin(theta)
    ex, ey = np.roll(px, -1) - px, np.roll(py, -1) - py
    px, py, ex, ey = (value[:, None, None] for value in (px, py, ex, ey))
    return (ex * (rows - py) - ey * (columns - px) >= 0).all(axis=0)


def _shade(item, columns, rows):
    """Per-pixel brightness factor of an object over its bounding box."""
    dx, dy = (columns - item["x"]) / item["radius"], (rows - item["y"]) / item["radius"]
    if item["shape"] == "sphere":
        nz = np.sqrt(np.clip(1 - dx**2 - dy**2, 0, 1))
        lambert = np.clip(dx * _LIGHT[0] + dy * _LIGHT[1] + nz * _LIGHT[2], 0, 1)
        shade = 0.45 + 0.6 * lambert
        if item["material"] == "metal":
            shade = shade + 0.6 * lambert**30
        return shade
    return 0.92 - 0.12 * (dx * _LIGHT[0] + dy * _LIGHT[1])


def _floor(rng, size, cells=6):
    """Floor luminance `(size, size)`: a vertical light gradient plus smooth texture
    (a `cells` x `cells` grid of random values, interpolated linearly)."""
    position = np.linspace(0, cells - 1, size, dtype=np.float32)
    tent = np.clip(1 - np.abs(position[:, None] - np.arange(cells, dtype=np.float32)), 0, None)
    texture = tent @ rng.normal(0, 9, (cells, cells)).astype(np.float32) @ tent.T
    return texture + np.linspace(120, 150, size, dtype=np.float32)[:, None]


def _rasterise(item, size):
    """Bounding box (a tuple of slices), inside-mask and brightness of one object."""
    extent = item["radius"] * 1.4
    top, bottom = max(int(item["y"] - extent), 0), min(int(item["y"] + extent) + 2, size)
    left, right = max(int(item["x"] - extent), 0), min(int(item["x"] + extent) + 2, size)
    rows = np.arange(top, bottom, dtype=np.float32)[:, None]
    columns = np.arange(left, right, dtype=np.float32)[None, :]
    if item["shape"] == "sphere":
        inside = (columns - item["x"]) ** 2 + (rows - item["y"]) ** 2 <= item["radius"] ** 2
    else:
        corners, scale = (4, 1.2) if item["shape"] == "cube" else (3, 1.35)
        inside = _polygon(
            columns, rows, item["x"], item["y"], scale * item["radius"], corners, item["rotation"]
        )
    box = (slice(top, bottom), slice(left, right))
    return box, inside, _shade(item, columns, rows)


def render_scene(index, size, seed):
    """Render image `index` of the dataset seeded with `seed`.

    Returns:
        `(image, masks, scene)`: uint8 `(size, size, 4)` RGBA image (opaque), bool
        `(n_objects, size, size)` visible masks in object order, and the scene JSON dict.
    """
    rng = np.random.default_rng([seed, index])
    noise = rng.random((size, size), dtype=np.float32) * np.float32(8) - np.float32(4)
    floor = np.clip(_floor(rng, size) + noise, 0, 255).astype(np.uint32)
    # Gray to opaque RGBA in one pass: bytes (g, g, g, 255) of a little-endian uint32.
    image = (floor * np.uint32(0x010101) | np.uint32(0xFF000000)).astype("<u4", copy=False)
    image = image.view(np.uint8).reshape(size, size, 4)
    owner = np.full((size, size), -1, dtype=np.int8)
    placed = _place_objects(rng, size)
    for number in sorted(range(len(placed)), key=lambda i: -placed[i]["depth"]):
        item = placed[number]
        box, inside, shade = _rasterise(item, size)
        lit = shade[inside] * np.float32(255) + noise[box][inside]
        colour = np.array(COLOURS[item["color"]], dtype=np.float32) / np.float32(255)
        image[(*box, slice(0, 3))][inside] = np.clip(lit[:, None] * colour, 0, 255)
        owner[box][inside] = number
    masks = owner[None] == np.arange(len(placed), dtype=np.int8)[:, None, None]
    scene = {
        "split": "new",
        "image_index": index,
        "image_filename": f"{image_name(index)}.png",
        "directions": _DIRECTIONS,
        "objects": [_scene_object(item, size) for item in placed],
        "relationships": _relationships(placed),
    }
    return image, masks, scene


def _scene_object(item, size):
    """The CLEVR scene-JSON entry of one placed object."""
    scale = 6.0 / size
    return {
        "shape": item["shape"],
        "color": item["color"],
        "size": item["size"],
        "material": item["material"],
        "rotation": round(item["rotation"], 3),
        "3d_coords": [
            round(item["x"] * scale - 3.0, 4),
            round(3.0 - item["y"] * scale, 4),
            RADII_3D[item["size"]],
        ],
        "pixel_coords": [int(round(item["x"])), int(round(item["y"])), round(item["depth"], 4)],
    }


def _relationships(placed):
    """CLEVR's `relationships`: for each direction, per object the objects beyond it."""
    def beyond(key, sign):
        return [
            [j for j, other in enumerate(placed) if sign * (other[key] - item[key]) > 0]
            for item in placed
        ]

    return {
        "left": beyond("x", -1),
        "right": beyond("x", 1),
        "front": beyond("y", 1),
        "behind": beyond("y", -1),
    }


def write_scene(root, index, size, seed):
    """Render image `index` and write its image, scene JSON and masks under `root`."""
    image, masks, scene = render_scene(index, size, seed)
    name = image_name(index)
    root = Path(root)
    write_png(root / "images" / f"{name}.png", image)
    (root / "scenes" / f"{name}.json").write_text(json.dumps(scene), encoding="utf-8")
    folder = root / "segmentations" / name
    folder.mkdir(exist_ok=True)
    step = np.uint8(MASK_OBJECT - MASK_BACKGROUND)
    for number, mask in enumerate(masks.view(np.uint8) * step + np.uint8(MASK_BACKGROUND)):
        write_png(folder / f"{number}.png", mask, strategy=zlib.Z_RLE)


def _write_one(task):
    write_scene(*task)


def generate(out, options, progress=None):
    """Write a synthetic CLEVR-Seg of `options.n` images under `out`.

    Args:
        out: root folder (created; `images/`, `scenes/`, `segmentations/` inside).
        options: `GenerateOptions`.
        progress: optional callable `progress(done, total)`.
    """
    out = Path(out)
    for folder in FOLDERS:
        (out / folder).mkdir(parents=True, exist_ok=True)
    tasks = [(out, index, options.size, options.seed) for index in range(options.n)]
    for done, _ in enumerate(ordered_map(_write_one, tasks, options.workers), start=1):
        if progress is not None:
            progress(done, options.n)
