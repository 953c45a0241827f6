"""A small conditioned task: segment the object in the quadrant named by a one-hot `z`."""

import numpy as np


def quadrant_task(num_images=2, size=64, seed=0):
    """Images with one square per quadrant; each image appears once per quadrant.

    Returns:
        `(inputs, masks)`: `inputs = {"image": (N, size, size, 1), "condition": (N, 4)}`
        float32 with `N = 4 * num_images`; `masks` `(N, size, size, 1)` float32, the
        square in the quadrant given by the condition (top-left, top-right,
        bottom-right, bottom-left, the CLEVR-Seg order).
    """
    rng = np.random.default_rng(seed)
    half = size // 2
    corners = [(0, 0), (0, half), (half, half), (half, 0)]
    images, conditions, masks = [], [], []
    for _ in range(num_images):
        image = np.zeros((size, size, 1), "float32")
        objects = []
        for row0, col0 in corners:
            side = int(rng.integers(size // 8, size // 4))
            row = row0 + int(rng.integers(1, half - side - 1))
            col = col0 + int(rng.integers(1, half - side - 1))
            mask = np.zeros((size, size, 1), "float32")
            mask[row : row + side, col : col + side] = 1.0
            image += mask * rng.uniform(0.5, 1.0)
            objects.append(mask)
        for quadrant, mask in enumerate(objects):
            images.append(image)
            conditions.append(np.eye(4, dtype="float32")[quadrant])
            masks.append(mask)
    inputs = {"image": np.stack(images), "condition": np.stack(conditions)}
    return inputs, np.stack(masks)
