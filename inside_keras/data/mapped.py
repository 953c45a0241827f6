"""Arrays of a `.npz` archive read from the file as they are used: memory-mapped
members, the rows of one split, and passes over an array one block of rows at a time.

NumPy maps `.npy` files only: `np.load(path, mmap_mode="r")` on a `.npz` returns an
`NpzFile` that reads each member whole into memory (the mode is ignored for zipped
files). But `np.savez`, which writes prepared datasets, stores its members
uncompressed (`ZIP_STORED`), so every member is a plain `.npy` lying at a fixed offset
of the archive. `map_member` finds it (the offset of the member's local file header,
from the central directory, plus the header's own length), reads the `.npy` header
there with `np.lib.format` (dtype, shape, order) and maps the data behind it with
`np.memmap`. So one format serves both ways of reading, and every prepared file
`inside-keras prepare` wrote can be mapped.

A mapped array takes no memory until it is read. The pages a read touches join the
process's resident set as file-backed pages: shared with the page cache and with every
other process mapping the file, and dropped by the kernel when memory runs short,
unlike the private copy an in-memory load makes. Nothing here copies a whole mapped
array or keeps its pages: `Rows` stands for the samples of a split and reads only the
rows a batch asks for, from the file at the mapping's offsets (see `Rows` for why not
through the mapping); `blocks` walks an array (to check or reduce it) through
short-lived mappings of one block each, so a full pass leaves no more than one block
resident.
"""

import mmap
import os
import struct
import zipfile

import numpy as np

from inside_keras.errors import InputError

#: The zip format's local file header (PKWARE APPNOTE 4.3.7): 30 bytes, the name and
#: extra-field lengths last; the member's data follows its name and extra field.
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
#: Bytes of rows `blocks` maps (or slices) at a time.
BLOCK_BYTES = 64 * 2**20
#: `.npy` header readers by format version; version 3.0 (UTF-8 field names of
#: structured dtypes) never holds a prepared array.
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def _rewrite_hint(path):
    return (
        f'rewrite it uncompressed: python -c "import numpy as np; '
        f"np.savez('OUT.npz', **np.load('{path}'))\""
    )


def map_member(path, name):
    """The array `name` of the `.npz` archive `path`, memory-mapped read-only.

    Args:
        path: a `.npz` file (written by `np.savez`, or by `inside-keras prepare`).
        name: the array's name (its member is `name.npy`).

    Returns:
        A read-only `np.memmap` with the stored dtype, shape and order (a read-only
        empty array for a member without data: there is nothing to map).

    Raises:
        InputError: naming the file and member: no such member, a compressed or
            encrypted one (only stored members lie in the file as they are), a damaged
            header, object data, or data shorter than its header says.
    """
    member = f"{name}.npy"
    try:
        with zipfile.ZipFile(path) as archive, open(path, "rb") as stream:
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise InputError(f"has no member {member}", path) from None
            if info.flag_bits & 0x1:
                raise InputError(f"member {member} is encrypted; it cannot be mapped", path)
            if info.compress_type != zipfile.ZIP_STORED:
                raise InputError(
                    f"member {member} is compressed, so it cannot be memory-mapped; "
                    + _rewrite_hint(path),
                    path,
                )
            stream.seek(info.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(
                stream.read(_LOCAL_HEADER.size)
            )
            if signature != _LOCAL_SIGNATURE:
                raise InputError(f"member {member} has a damaged zip header", path)
            start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
            stream.seek(start)
            version = np.lib.format.read_magic(stream)
            if version not in _HEADER_READERS:
                raise InputError(
                    f"member {member} is .npy format {version}; mapping reads "
                    f"{sorted(_HEADER_READERS)}",
                    path,
                )
            shape, fortran_order, dtype = _HEADER_READERS[version](stream)
            offset = stream.tell()
    except (OSError, ValueError, struct.error, zipfile.BadZipFile) as error:
        raise InputError(f"cannot map member {member} ({error})", path) from None
    if dtype.hasobject:
        raise InputError(f"member {member} holds Python objects; it cannot be mapped", path)
    size = dtype.itemsize * int(np.prod(shape))
    if info.file_size != offset - start + size:
        raise InputError(
            f"member {member} holds {info.file_size - (offset - start)} bytes of data, "
            f"its header says {size} ({dtype} {shape})",
            path,
        )
    if size == 0:
        empty = np.empty(shape, dtype)
        empty.flags.writeable = False
        return empty
    order = "F" if fortran_order else "C"
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)


def _stored_at(array):
    """`(filename, offset)` of a C-ordered array `map_member` returned (a whole
    mapping, not a view of one): where its rows lie in the file, one after the other;
    None for anything else."""
    whole = isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap)
    return (array.filename, array.offset) if whole and array.flags.c_contiguous else None


def blocks(array, block_bytes=BLOCK_BYTES):
    """Consecutive blocks of rows of `array`, each about `block_bytes` (at least a row).

    Blocks of a C-ordered array `map_member` returned are mapped one at a time, each
    unmapped once the caller moves on, so a pass over the whole array (a check, a
    maximum) never holds more than one block of it in memory. Blocks of anything else
    are views (`array[start:stop]`).

    Args:
        array: an array with at least one axis.
        block_bytes: the size of a block in bytes.

    Yields:
        Arrays of `array.shape[1:]` rows, in order.
    """
    row_bytes = array.dtype.itemsize * int(np.prod(array.shape[1:]))
    rows = max(1, block_bytes // max(1, row_bytes))
    stored = _stored_at(array)
    for start in range(0, len(array), rows):
        stop = min(start + rows, len(array))
        if stored is not None:
            filename, offset = stored
            yield np.memmap(
                filename,
                dtype=array.dtype,
                mode="r",
                offset=offset + start * row_bytes,
                shape=(stop - start, *array.shape[1:]),
            )
        else:
            yield array[start:stop]


class Rows:
    """The samples `rows` of an array, read only when indexed.

    Stands in for `array[rows]` where that copy would read a whole split of a
    memory-mapped array into memory: `len`, `shape`, `dtype` and `ndim` are those of
    the copy, and indexing it gives what indexing the copy would, as an in-memory array.

    The rows of an array `map_member` returned are read from the file, in ascending
    order (the order they lie in), straight into the batch: a positional read copies
    them out of the page cache and leaves nothing mapped. Reading them through the
    mapping would leave every page touched in the process's resident set, and Linux
    maps a whole large folio of the page cache on a fault (2 MiB on this project's
    ext4, kernel 6.18: reading one 64 KiB sample left 2 MiB resident), so over an
    epoch the run would hold pages up to the size of the file: pages the kernel can
    drop, but counted as the process's memory. Rows of any other array are indexed.

    Args:
        array: the array (typically a `np.memmap` from `map_member`).
        rows: indices of the samples, in `[0, len(array))`.

    Raises:
        IndexError: a row outside the array.
    """

    def __init__(self, array, rows):
        self.array = array
        self.rows = np.asarray(rows, dtype=np.intp)
        if self.rows.size and not 0 <= self.rows.min() <= self.rows.max() < len(array):
            raise IndexError(f"rows must be in [0, {len(array)}), got {self.rows}")
        self._stored = _stored_at(array)

    @property
    def shape(self):
        return (len(self.rows), *self.array.shape[1:])

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self):
        return self.array.ndim

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        wanted = self.rows[index]
        if self._stored is None:
            return np.array(self.array[wanted])
        gathered = np.empty((wanted.size, *self.array.shape[1:]), self.array.dtype)
        for _ in self._read_rows(wanted.reshape(-1), gathered.__getitem__):
            pass
        return gathered[0] if np.ndim(wanted) == 0 else gathered

    def read_each(self, positions, buffer_for):
        """Read the samples at `positions` one at a time, each into a buffer the caller
        gives, in the order they lie in the file.

        After each read the sample's number is yielded, so the caller can move it on (flip
        it out of a scratch buffer, say) before the next read reuses that buffer.

        Args:
            positions: indices into these rows (any shape; taken flat).
            buffer_for: `k` -> a writable C-contiguous array of one sample, where the
                sample at `positions.flat[k]` is to be read.

        Yields:
            Each `k` once, after its sample is in `buffer_for(k)`.
        """
        return self._read_rows(self.rows[np.reshape(positions, -1)], buffer_for)

    def _read_rows(self, wanted, buffer_for):
        """`read_each` for rows `wanted` (1-D) of the underlying array."""
        if self._stored is None:
            for k, row in enumerate(wanted):
                buffer_for(k)[...] = self.array[row]
                yield k
            return
        row_bytes = self.array.dtype.itemsize * int(np.prod(self.array.shape[1:]))
        filename, offset = self._stored
        with open(filename, "rb", buffering=0) as stream:
            for k in np.argsort(wanted, kind="stable").tolist():
                target = buffer_for(k)
                at = offset + int(wanted[k]) * row_bytes
                if hasattr(os, "preadv"):  # one call a sample: measured 1.8x faster
                    read = os.preadv(stream.fileno(), [target], at)
                else:  # Windows
                    stream.seek(at)
                    read = stream.readinto(target)
                if read != row_bytes:
                    raise InputError(f"ends before sample {wanted[k]}", filename)
                yield k

    def __array__(self, dtype=None, copy=None):
        """Every row in memory (what `np.asarray(rows)` gives)."""
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype, copy=False)
