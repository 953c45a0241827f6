"""The PNG writer: files Pillow reads back exactly, for gray, RGB and RGBA."""

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from inside_keras.data.png import adler32_combine, encode_band_png, encode_png, write_png


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


def read_png(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return np.asarray(image)


def idat_stream(data):
    """The zlib stream of a one-IDAT PNG; `zlib.decompress` checks its Adler-32."""
    start = data.index(b"IDAT") + 4
    return data[start : start + int.from_bytes(data[start - 8 : start - 4], "big")]


@pytest.mark.parametrize(("top", "rows"), [(0, 3), (5, 4), (17, 3), (0, 20), (9, 0)])
def test_band_png_is_the_whole_image(rng, top, rows):
    band = rng.choice(np.array([64, 255], np.uint8), (rows, 13))
    image = np.full((20, 13), 64, np.uint8)
    image[top : top + rows] = band
    data = encode_band_png(band, top, 20, 64)
    np.testing.assert_array_equal(read_png(data), image)
    assert zlib.decompress(idat_stream(data)) == zlib.decompress(idat_stream(encode_png(image)))


def test_band_png_rejects_rows_outside_the_image():
    with pytest.raises(ValueError, match="inside 20 rows"):
        encode_band_png(np.zeros((4, 13), np.uint8), 18, 20, 64)


@pytest.mark.parametrize("split", [0, 1, 5551, 65521, 70000, 200000])
def test_adler32_combine_matches_zlib(rng, split):
    data = rng.integers(0, 256, 200000, dtype=np.uint8).tobytes()
    first, second = data[:split], data[split:]
    combined = adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(data)
