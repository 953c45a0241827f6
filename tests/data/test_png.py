"""The PNG writer: files Pillow reads back exactly, for gray, RGB and RGBA."""

import numpy as np
import pytest
from PIL import Image

from inside_keras.data.png import write_png


@pytest.mark.parametrize(
    ("shape", "mode"), [((7, 5), "L"), ((7, 5, 3), "RGB"), ((7, 5, 4), "RGBA")]
)
def test_round_trip(tmp_path, rng, shape, mode):
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "a.png"
    write_png(path, array)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == mode
        np.testing.assert_array_equal(np.asarray(image), array)


def test_rejects_other_arrays(tmp_path):
    with pytest.raises(ValueError, match="expected uint8"):
        write_png(tmp_path / "a.png", np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(4, 4, 2\)"):
        write_png(tmp_path / "a.png", np.zeros((4, 4, 2), np.uint8))
