"""Unpack a dataset `.zip` without trusting it.

Refused: entries with absolute paths (or drive letters), entries with `..` parts,
symbolic links, archives of more than `MAX_ZIP_MEMBERS` entries, and archives that
would unpack to more than `MAX_UNPACKED_BYTES`. The byte bound is checked against the
declared sizes first and again while writing, so an entry that lies about its size is
stopped too. Both limits can be raised through the environment
(`inside_keras.runs.limits`).
"""

import contextlib
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from inside_keras.errors import InputError
from inside_keras.runs.limits import hint, limit

#: Default bound on the unpacked size of an archive (the published CLEVR-Seg is far less).
MAX_UNPACKED_BYTES = 8 * 2**30
#: Default bound on the entries of an archive (the published CLEVR-Seg has about 30,000).
MAX_ZIP_MEMBERS = 1_000_000

#: What `zipfile` raises for damaged archives and entries it cannot unpack (damaged
#: deflate streams, encrypted entries, unknown compression methods).
_READ_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    RuntimeError,
    NotImplementedError,
)

_CHUNK = 2**20


def _check_member(info, archive):
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (parts and parts[0].endswith(":")):
        raise InputError(f"refusing entry {info.filename!r}: absolute path", archive)
    if ".." in parts:
        raise InputError(f"refusing entry {info.filename!r}: `..` in its path", archive)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise InputError(f"refusing entry {info.filename!r}: symbolic link", archive)


def extract_zip(archive, destination, max_bytes=None):
    """Extract `archive` into `destination` after checking every entry.

    Args:
        archive: path of the `.zip` file.
        destination: folder to extract into (created if missing).
        max_bytes: bound on the total unpacked size in bytes (default: `MAX_UNPACKED_BYTES`
            or `$INSIDE_KERAS_MAX_UNPACKED_BYTES`).

    Raises:
        InputError: not a zip file, a damaged or unsafe entry, more than
            `MAX_ZIP_MEMBERS` entries or more than `max_bytes` unpacked; the message
            names the entry.
    """
    destination = Path(destination)
    if max_bytes is None:
        max_bytes = limit("MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            max_members = limit("MAX_ZIP_MEMBERS", MAX_ZIP_MEMBERS)
            if len(members) > max_members:
                raise InputError(
                    f"has {len(members)} entries, more than the limit of {max_members}; "
                    f"{hint('MAX_ZIP_MEMBERS')}",
                    archive,
                )
            for info in members:
                _check_member(info, archive)
            declared = sum(info.file_size for info in members)
            if declared > max_bytes:
                raise InputError(
                    f"would unpack to {declared} bytes, more than the limit of {max_bytes}; "
                    f"{hint('MAX_UNPACKED_BYTES')}",
                    archive,
                )
            written = 0
            for info in members:
                target = destination / info.filename.replace("\\", "/")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, open(target, "wb") as sink:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise InputError(
                                f"entry {info.filename!r} unpacks past the limit of "
                                f"{max_bytes} bytes; {hint('MAX_UNPACKED_BYTES')}",
                                archive,
                            )
                        sink.write(chunk)
    except _READ_ERRORS as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise InputError(f"unreadable zip archive ({reason})", archive) from None


def relabel(error, folder, archive):
    """`error` with paths under `folder` (where `archive` was unpacked) written as
    `ARCHIVE:inner/path`; unchanged when `folder` is `archive` itself."""
    if Path(folder) == Path(archive):
        return error
    folder = str(Path(folder))

    def show(text):
        if text is None:
            return None
        return text.replace(f"{folder}{os.sep}", f"{archive}:").replace(folder, str(archive))

    return InputError(show(error.message), show(error.source))


@contextlib.contextmanager
def folder_or_zip(path, max_bytes=None):
    """Yield a folder: `path` itself, or a temporary folder holding the unpacked `.zip`
    (removed afterwards). `InputError`s raised inside name files as `ARCHIVE:inner/path`.

    Args:
        path: a folder or a `.zip` file.
        max_bytes: bound on the unpacked size (see `extract_zip`).
    """
    path = Path(path)
    if not (path.is_file() and path.suffix.lower() == ".zip"):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="inside-keras-unzip-") as folder:
        extract_zip(path, folder, max_bytes)
        try:
            yield Path(folder)
        except InputError as error:
            raise relabel(error, folder, path) from None
