"""Render a synthetic CLEVR-Seg in the published layout (see `clevr_seg.reader`).

Flat 2-D scenes of 3 to 10 objects: cubes (rotated squares), spheres (shaded discs)
and triangles, in the three colours and sizes of CLEVR-Seg, on a textured floor with
mild shading and noise. Objects are spaced so that overlaps stay small; nearer objects
(lower in the image) occlude farther ones and each mask holds the visible part only.
Every image is drawn from its own generator seeded with `(seed, index)`, so the output
is the same for a seed whatever the number of worker processes.
"""

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from inside_keras.data.clevr_seg.reader import FOLDERS, MASK_BACKGROUND, MASK_OBJECT
from inside_keras.data.parallel import ordered_map
from inside_keras.errors import InputError
from inside_keras.runs.limits import check_image_size

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
_LIGHT = tuple(c / math.hypot(-0.45, -0.55, 0.7) for c in (-0.45, -0.55, 0.7))

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

#: Farthest reach of a shape from its centre (circumradius), in object radii.
_REACH = {"cube": 1.2, "sphere": 1.0, "triangle": 1.35}

#: Object radius fractions in `SIZES` order, for indexing.
_RADIUS_FRACTIONS = np.array(list(SIZES.values()))

#: Seed of the noise tile that every image reads at its own offset (see `_noise_tile`).
_NOISE_SEED = 0x5EED

#: Brightness levels of the colour tables; 255 is an object's plain colour.
_LEVELS = 512


def _colour_table(rgb):
    """Packed RGBA (uint32 whose little-endian bytes are R, G, B, 255) of colour `rgb`
    at each brightness level `0 .. _LEVELS - 1`, channels clipped to 255."""
    level = np.arange(_LEVELS, dtype=np.float32)[:, None]
    channel = np.clip(level * (np.array(rgb, np.float32) / 255), 0, 255).astype(np.uint32)
    return channel[:, 0] | channel[:, 1] << 8 | channel[:, 2] << 16 | np.uint32(0xFF000000)


#: Packed RGBA by brightness level, by colour name.
_TABLES = {name: _colour_table(rgb) for name, rgb in COLOURS.items()}


#: Smallest image side `generate` renders (objects need room to stay apart).
MIN_SIZE = 32


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
        for name, low in (("n", 1), ("size", MIN_SIZE), ("seed", 0), ("workers", 1)):
            if getattr(self, name) < low:
                raise InputError(f"must be at least {low}, got {getattr(self, name)}", name)
        check_image_size(self.size, self.size, "size")


def image_name(index):
    """File stem of image `index`, as CLEVR names them."""
    return f"CLEVR_new_{index:06d}"


def _place_objects(rng, size):
    """Draw 3-10 objects whose centres keep clear of each other; a list of dicts.

    Each object takes the first of `_PLACEMENT_TRIES` candidate positions that keeps
    clear of every object placed before it, or is dropped if none does (the first
    three always find room).
    """
    count = int(rng.integers(3, 11))
    names = (tuple(SIZES), SHAPES, tuple(COLOURS), MATERIALS)
    picks = (rng.random((count, len(names))) * [len(choices) for choices in names]).astype(int)
    rotations = rng.uniform(0, 360, count).tolist()
    depth_noise = rng.normal(0, 0.2, count).tolist()
    radii = (_RADIUS_FRACTIONS[picks[:, 0]] * size).tolist()
    unit = rng.random((count, _PLACEMENT_TRIES, 2))
    placed = []
    for k, (pick, radius) in enumerate(zip(picks.tolist(), radii, strict=True)):
        centre = _first_clear(unit[k], radius, size, placed)
        if centre is None:
            continue
        size_name, shape, colour, material = (
            choices[index] for choices, index in zip(names, pick, strict=True)
        )
        placed.append(
            {
                "x": centre[0],
                "y": centre[1],
                "radius": radius,
                "size": size_name,
                "shape": shape,
                "color": colour,
                "material": material,
                "rotation": rotations[k],
                "depth": 6.0 + 8.0 * (1 - centre[1] / size) + depth_noise[k],
            }
        )
    return placed


def _first_clear(unit, radius, size, placed, chunk=8):
    """The first candidate centre `(x, y)` (from `unit`, uniform `(tries, 2)` draws,
    scaled so that the object stays in the image) whose distance to each placed object
    is at least 1.25 times the sum of their radii, or None.

    Plain Python over a few candidates at a time: the first usually fits.
    """
    low, span = radius + 1, size - 2 * radius - 2
    for start in range(0, len(unit), chunk):
        for u, v in unit[start : start + chunk].tolist():
            x, y = low + u * span, low + v * span
            for other in placed:
                reach = 1.25 * (radius + other["radius"])
                if (x - other["x"]) ** 2 + (y - other["y"]) ** 2 < reach * reach:
                    break
            else:
                return x, y
    return None


@functools.lru_cache(maxsize=4)
def _noise_tile(size):
    """Uniform noise in [-4, 4) on a `(2 size, 2 size)` tile, the same in every process;
    each image reads a `(size, size)` window of it at a random offset."""
    rng = np.random.default_rng(_NOISE_SEED)
    return rng.random((2 * size, 2 * size), dtype=np.float32) * np.float32(8) - np.float32(4)


@functools.lru_cache(maxsize=4)
def _floor_basis(size, cells):
    """Linear-interpolation weights `(size, cells)` and the vertical light gradient."""
    position = np.linspace(0, cells - 1, size, dtype=np.float32)
    tent = np.clip(1 - np.abs(position[:, None] - np.arange(cells, dtype=np.float32)), 0, None)
    return tent, np.linspace(120, 150, size, dtype=np.float32)[:, None]


def _floor(rng, noise, cells=6):
    """Opaque gray floor as packed RGBA (see `_colour_table`): a vertical light gradient,
    smooth texture (a `cells` x `cells` grid of random values, interpolated linearly)
    and `noise`."""
    tent, gradient = _floor_basis(len(noise), cells)
    gray = tent @ rng.normal(0, 9, (cells, cells)).astype(np.float32) @ tent.T
    gray += gradient
    gray += noise
    np.clip(gray, 0, 255, out=gray)
    packed = gray.astype(np.uint32)
    packed *= np.uint32(0x010101)
    packed |= np.uint32(0xFF000000)
    return packed


def _inside(item, dx, dy):
    """Inside-mask `(len(dy), len(dx))` of an object, from pixel offsets to its centre."""
    radius = item["radius"]
    if item["shape"] == "sphere":
        return (dy * dy)[:, None] + dx * dx <= np.float32(radius**2)
    # A regular polygon: inside every edge, whose outer normals point half-way between
    # corners, at the apothem from the centre.
    corners = 4 if item["shape"] == "cube" else 3
    angles = [
        math.radians(item["rotation"]) + math.pi * (2 * k + 1) / corners for k in range(corners)
    ]
    cos, sin = (
        np.array(list(map(f, angles)), np.float32)[:, None, None] for f in (math.cos, math.sin)
    )
    reach = (sin * dy[:, None] + cos * dx).max(axis=0)
    apothem = _REACH[item["shape"]] * radius * math.cos(math.pi / corners)
    return reach <= np.float32(apothem)


def _brightness(item, dx, dy):
    """Object brightness `(len(dy), len(dx))` float32, 255 being its plain colour: sphere
    shading (Lambert, plus a highlight for metal) or a mild linear gradient."""
    u, v = dx / np.float32(item["radius"]), dy / np.float32(item["radius"])
    if item["shape"] != "sphere":
        return (234.6 - 30.6 * _LIGHT[1] * v)[:, None] - 30.6 * _LIGHT[0] * u
    nz = np.sqrt(np.maximum(1 - ((v * v)[:, None] + u * u), 0))
    lambert = (_LIGHT[1] * v)[:, None] + _LIGHT[0] * u
    lambert += _LIGHT[2] * nz
    np.maximum(lambert, 0, out=lambert)  # at most 1 inside the disc
    shade = 114.75 + 153 * lambert
    if item["material"] == "metal":
        power = lambert * lambert  # lambert ** 30, by squaring (faster than `**`)
        highlight = power.copy()
        for _ in range(3):
            power *= power
            highlight *= power
        shade += 153 * highlight
    return shade


def _paint(image, owner, number, item, noise):
    """Draw object `number` over `image` (packed RGBA) and give it its pixels in `owner`;
    returns its bounding box (a pair of slices)."""
    size = len(owner)
    extent = item["radius"] * _REACH[item["shape"]]
    top, bottom = max(int(item["y"] - extent), 0), min(int(item["y"] + extent) + 2, size)
    left, right = max(int(item["x"] - extent), 0), min(int(item["x"] + extent) + 2, size)
    dy = np.arange(top, bottom, dtype=np.float32) - np.float32(item["y"])
    dx = np.arange(left, right, dtype=np.float32) - np.float32(item["x"])
    box = (slice(top, bottom), slice(left, right))
    inside = _inside(item, dx, dy)
    lit = _brightness(item, dx, dy)
    lit += noise[box]
    colour = _TABLES[item["color"]].take(lit.astype(np.intp), mode="clip")
    np.copyto(image[box], colour, where=inside)
    np.copyto(owner[box], np.int8(number), where=inside)
    return box


def _render(index, size, seed):
    """Image `index` as packed RGBA `(size, size)` uint32, the owner of each pixel
    (int8, object number or -1 for the floor), the placed objects and their bounding
    boxes (pairs of slices, in object order)."""
    rng = np.random.default_rng([seed, index])
    top, left = rng.integers(0, size + 1, 2).tolist()
    noise = _noise_tile(size)[top : top + size, left : left + size]
    image = _floor(rng, noise)
    owner = np.full((size, size), -1, dtype=np.int8)
    placed = _place_objects(rng, size)
    boxes = [None] * len(placed)
    # Farther objects first, so that nearer ones (lower in the image) hide them.
    for number in sorted(range(len(placed)), key=lambda i: -placed[i]["depth"]):
        boxes[number] = _paint(image, owner, number, placed[number], noise)
    return image, owner, placed, boxes


def _scene(index, placed, size):
    """The CLEVR scene JSON dict of image `index`."""
    return {
        "split": "new",
        "image_index": index,
        "image_filename": f"{image_name(index)}.png",
        "directions": _DIRECTIONS,
        "objects": [_scene_object(item, size) for item in placed],
        "relationships": _relationships(placed),
    }


def _rgba(packed):
    """uint8 `(H, W, 4)` view of packed RGBA."""
    return packed.view(np.uint8).reshape(*packed.shape, 4)


def render_scene(index, size, seed):
    """Render image `index` of the dataset seeded with `seed`.

    Returns:
        `(image, masks, scene)`: uint8 `(size, size, 4)` RGBA image (opaque), bool
        `(n_objects, size, size)` visible masks in object order, and the scene JSON dict.
    """
    image, owner, placed, _ = _render(index, size, seed)
    masks = owner[None] == np.arange(len(placed), dtype=np.int8)[:, None, None]
    return _rgba(image), masks, _scene(index, placed, size)


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
    image, owner, placed, boxes = _render(index, size, seed)
    name = image_name(index)
    root = Path(root)
    Image.fromarray(_rgba(image)).save(root / "images" / f"{name}.png", compress_level=1)
    scene = json.dumps(_scene(index, placed, size))
    (root / "scenes" / f"{name}.json").write_text(scene, encoding="utf-8")
    folder = root / "segmentations" / name
    folder.mkdir(exist_ok=True)
    mask = np.full((size, size), MASK_BACKGROUND, dtype=np.uint8)
    for number, box in enumerate(boxes):
        inside = owner[box] == number
        mask[box][inside] = MASK_OBJECT
        Image.fromarray(mask).save(folder / f"{number}.png", compress_level=1)
        mask[box][inside] = MASK_BACKGROUND


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
