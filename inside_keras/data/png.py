"""A fast PNG writer for 8-bit images (Pillow's encoder tries five filters per row).

Every row uses PNG's `Sub` filter (difference to the pixel on the left), which suits
smooth images and flat masks alike, and the data is deflated at a low level, by ISA-L
(package `isal`) where it is installed, else by zlib: the pixels are the same either
way, the bytes are not. The files are standard PNGs that any reader (Pillow included)
opens.
"""

import functools
import os
import struct
import zlib

import numpy as np

try:  # ISA-L's deflate: a third of zlib's instructions at level 1 on noisy images.
    from isal import isal_zlib as _isal_zlib
except ImportError:
    _isal_zlib = None

_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: PNG colour type by number of channels: gray, RGB, RGBA.
_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}

_SUB_FILTER = 1


#: zlib header of a deflate stream with a 32 KiB window (any level; checked by readers).
_ZLIB_HEADER = b"\x78\x01"

#: A final, empty deflate block (fixed Huffman codes): ends a stream of flushed pieces.
_LAST_BLOCK = b"\x03\x00"

_ADLER_BASE = 65521


def _chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _deflate(data, level, strategy):
    """zlib stream of `data`: ISA-L's where installed for levels 1 to 3 and the default
    strategy (same data, other bytes), else zlib's."""
    if _isal_zlib is not None and 1 <= level <= 3 and strategy == zlib.Z_DEFAULT_STRATEGY:
        return _isal_zlib.compress(data, level)
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
    return compressor.compress(data) + compressor.flush()


def _deflate_piece(data, level=1, strategy=zlib.Z_RLE):
    """Raw deflate blocks of `data` ending on a byte boundary (a sync flush), so that
    pieces compressed apart can be concatenated into one stream."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 8, strategy)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def adler32_combine(first, second, second_length):
    """Adler-32 of `a + b` from `adler32(a)`, `adler32(b)` and `len(b)` (zlib's
    `adler32_combine`, which Python's `zlib` does not expose)."""
    rem = second_length % _ADLER_BASE
    low = first & 0xFFFF
    sum1 = (low + (second & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    sum2 = (rem * low + (first >> 16) + (second >> 16) + _ADLER_BASE - rem) % _ADLER_BASE
    return sum1 | sum2 << 16


def _sub_filtered(pixels):
    """Scanlines of uint8 `(H, W, C)` pixels: each row prefixed with PNG's `Sub` filter
    byte and holding the differences to the pixel on the left."""
    height, width, channels = pixels.shape
    rows = pixels.reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), dtype=np.uint8)
    filtered[:, 0] = _SUB_FILTER
    filtered[:, 1 : channels + 1] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=filtered[:, channels + 1 :])
    return filtered


def _png(width, height, channels, zlib_stream):
    """A PNG file of 8-bit pixels from its zlib-compressed scanlines."""
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    return b"".join(
        (
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib_stream),
            _chunk(b"IEND", b""),
        )
    )


def encode_png(array, compress_level=1, strategy=zlib.Z_DEFAULT_STRATEGY):
    """PNG bytes of a uint8 `(H, W)`, `(H, W, 3)` or `(H, W, 4)` array.

    Args:
        array: the image; 2-D arrays are gray, 3 channels RGB, 4 channels RGBA.
        compress_level: zlib level, 0 (none) to 9 (smallest).
        strategy: zlib strategy; `zlib.Z_RLE` is faster on flat images such as masks.
    """
    array = np.asarray(array)
    pixels = array[..., None] if array.ndim == 2 else array
    channels = pixels.shape[-1] if pixels.ndim == 3 else 0
    if array.dtype != np.uint8 or channels not in _COLOUR_TYPES:
        raise ValueError(
            f"expected uint8 (H, W), (H, W, 3) or (H, W, 4), got {array.dtype} {array.shape}"
        )
    height, width = pixels.shape[:2]
    stream = _deflate(_sub_filtered(pixels), compress_level, strategy)
    return _png(width, height, channels, stream)


@functools.lru_cache(maxsize=1024)
def _flat_rows(width, value, count):
    """`(deflate piece, adler32, length)` of `count` `Sub`-filtered gray rows of `width`
    pixels all equal to `value` (cached: a mask repeats them at every height)."""
    row = bytes((_SUB_FILTER, value)) + bytes(width - 1)
    data = row * count
    return (_deflate_piece(data) if count else b""), zlib.adler32(data), len(data)


def encode_band_png(band, top, height, fill):
    """PNG bytes of a gray `(height, W)` image equal to `fill` outside rows `top` to
    `top + len(band)`, which hold the uint8 `(rows, W)` array `band`.

    It decodes to the same pixels as `encode_png` of the whole image, faster for masks:
    only `band` is filtered and compressed, the flat rows around it come from a cache of
    compressed pieces, and the pieces' checksums are combined.
    """
    rows, width = band.shape
    if band.dtype != np.uint8 or not 0 <= top <= height - rows:
        raise ValueError(f"expected uint8 rows inside {height} rows, got {band.dtype} at {top}")
    above = _flat_rows(width, fill, top)
    below = _flat_rows(width, fill, height - top - rows)
    scanlines = _sub_filtered(band[..., None])
    checksum = adler32_combine(above[1], zlib.adler32(scanlines), scanlines.size)
    checksum = adler32_combine(checksum, below[1], below[2])
    stream = (_ZLIB_HEADER, above[0], _deflate_piece(scanlines), below[0], _LAST_BLOCK)
    return _png(width, height, 1, b"".join(stream) + struct.pack(">I", checksum))


def write_png(path, array, compress_level=1, strategy=zlib.Z_DEFAULT_STRATEGY):
    """Write `array` (see `encode_png`) to `path` as a PNG file."""
    write_file(path, encode_png(array, compress_level, strategy))


def write_file(path, data):
    """Create or overwrite the file `path` with the bytes `data`, in as few system calls
    as possible (no buffered file object)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)
