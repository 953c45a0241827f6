"""Size limits on inputs, and the one way to raise them: `INSIDE_KERAS_<NAME>`.

A reader checks what a file *claims* (an image header's width and height, a NIfTI
header's shape, a zip's central directory, a text file's length) against a limit before
it allocates or expands anything, so a damaged or hostile file is refused with one line
instead of exhausting memory. Each limit is a named constant in the module that enforces
it (those shared by several readers are here); `limit(name, default)` returns the
constant, or the value of the environment variable `INSIDE_KERAS_<name>` when it is set:

    INSIDE_KERAS_MAX_IMAGE_PIXELS=400000000 inside-keras prepare clevr-seg ...

docs/limits.md lists every limit with its default.
"""

import os
from pathlib import Path

from inside_keras.errors import InputError

#: Prefix of the environment variables that replace a limit.
ENV_PREFIX = "INSIDE_KERAS_"
#: Largest image (width x height) read or made: 8192 x 8192.
MAX_IMAGE_PIXELS = 1 << 26
#: Largest small text file read (YAML configs and specs, scene JSON, Info.cfg), in bytes.
MAX_TEXT_BYTES = 1 << 20


def limit(name, default):
    """The limit `name`: `$INSIDE_KERAS_<name>` if set (a positive integer), else `default`.

    Raises:
        InputError: the variable is set to something other than a positive integer.
    """
    variable = ENV_PREFIX + name
    text = os.environ.get(variable)
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"must be a positive integer, got {text[:60]!r}", variable)
    return value


def hint(name):
    """How to raise the limit `name`, for the end of a message."""
    return f"set {ENV_PREFIX}{name} to raise it"


def check_image_size(width, height, source):
    """Raise `InputError` naming `source` if `width x height` is more than
    `MAX_IMAGE_PIXELS` (raisable) or not positive."""
    bound = limit("MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS)
    if width * height > bound:
        raise InputError(
            f"{width}x{height} is {width * height} pixels, more than the limit of {bound}; "
            f"{hint('MAX_IMAGE_PIXELS')}",
            source,
        )


def read_text(path, what):
    """The UTF-8 text of a small file, read no further than `MAX_TEXT_BYTES` (raisable).

    Args:
        path: the file.
        what: what the file should be, for messages (e.g. `"a scene JSON file"`).

    Raises:
        InputError: the file is missing or unreadable, larger than the limit, or not
            UTF-8 text.
    """
    path = Path(path)
    bound = limit("MAX_TEXT_BYTES", MAX_TEXT_BYTES)
    try:
        with open(path, "rb") as stream:
            data = stream.read(bound + 1)
    except OSError as error:
        raise InputError(f"cannot read it ({error.strerror}); expected {what}", path) from None
    if len(data) > bound:
        raise InputError(
            f"larger than the limit of {bound} bytes for {what}; {hint('MAX_TEXT_BYTES')}",
            path,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"not a text file (UTF-8); expected {what}", path) from None
