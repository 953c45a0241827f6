"""Memory-mapped members of prepared `.npz` files (`inside_keras.data.mapped`): the same
values `np.load` reads, splits that are not copied, and members that cannot be mapped
refused with one line naming the file and the member."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from inside_keras.data.mapped import Rows, blocks, map_member
from inside_keras.data.prepared import load_prepared, select_split
from inside_keras.errors import InputError
from inside_keras.training import num_classes_of
from tests.runs import tiny_dataset


@pytest.fixture
def members(rng):
    """One array of every kind a prepared file holds, and a few it may."""
    return {
        "x": rng.random((5, 6, 7, 3), dtype=np.float32),
        "x3d": rng.random((3, 2, 6, 7, 1), dtype=np.float32),
        "labels": rng.integers(0, 4, (5, 6, 7)).astype(np.uint8),
        "split": np.array(["train", "val", "test", "train", "val"]),
        "name": np.array(["a", "bb", "ccc", "dddd", "é"]),
        "bytes": np.array([b"ab", b"c"]),
        "flag": np.array([True, False, True]),
        "index": np.arange(5, dtype=np.int32),
        "metadata": np.array('{"classes": {"1": "RV"}}'),
        "fortran": np.asfortranarray(rng.random((4, 3))),
        "empty": np.zeros((0, 6, 7, 3), np.float32),
    }


def test_every_member_maps_to_what_np_load_reads(tmp_path, members):
    path = tmp_path / "all.npz"
    np.savez(path, **members)
    with np.load(path, allow_pickle=False) as archive:
        loaded = {key: archive[key] for key in archive.files}
    for key, expected in members.items():
        mapped = map_member(path, key)
        assert mapped.dtype == loaded[key].dtype and mapped.shape == loaded[key].shape, key
        np.testing.assert_array_equal(mapped, loaded[key], err_msg=key)
        np.testing.assert_array_equal(mapped, expected, err_msg=key)
        assert not mapped.flags.writeable, key
        if key != "empty":  # no data: nothing to map
            assert isinstance(mapped, np.memmap), key


def test_compressed_member_is_refused_in_one_line(tmp_path, members):
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, **members)
    with pytest.raises(InputError) as error:
        map_member(path, "x")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: member x.npy is compressed, so it cannot be")
    # The rewrite it suggests makes a file that maps.
    command = message.split("python -c ")[1].strip('"').replace("OUT.npz", str(tmp_path / "o.npz"))
    exec(command)
    np.testing.assert_array_equal(map_member(tmp_path / "o.npz", "x"), members["x"])


def test_missing_and_truncated_members_are_refused(tmp_path, members):
    path = tmp_path / "a.npz"
    np.savez(path, x=members["x"])
    with pytest.raises(InputError, match=r"a\.npz: has no member y\.npy$"):
        map_member(path, "y")
    # A header of 5 samples over the data of 4.
    header = tmp_path / "header.npy"
    np.save(header, members["x"])
    data = header.read_bytes()[: -members["x"][0].nbytes]
    with zipfile.ZipFile(tmp_path / "short.npz", "w") as archive:
        archive.writestr("x.npy", data)
    with pytest.raises(InputError) as error:
        map_member(tmp_path / "short.npz", "x")
    assert str(error.value) == (
        f"{tmp_path / 'short.npz'}: member x.npy holds 2016 bytes of data, its header "
        "says 2520 (float32 (5, 6, 7, 3))"
    )


def test_blocks_cover_the_array_in_order(tmp_path, members):
    path = tmp_path / "a.npz"
    np.savez(path, x=members["x"])
    mapped = map_member(path, "x")
    row = members["x"][0].nbytes  # 504 bytes
    parts = list(blocks(mapped, block_bytes=2 * row + 1))
    assert [len(part) for part in parts] == [2, 2, 1]
    # Blocks of a whole mapping are mappings of their own rows, not views of it.
    assert all(isinstance(part, np.memmap) and part.base is not mapped.base for part in parts)
    np.testing.assert_array_equal(np.concatenate(parts), members["x"])
    in_memory = list(blocks(members["x"], block_bytes=3 * row))
    assert [len(part) for part in in_memory] == [3, 2]
    assert all(part.base is members["x"] for part in in_memory)


def test_rows_index_like_the_copy_they_stand_for(tmp_path, members):
    path = tmp_path / "a.npz"
    np.savez(path, x=members["x"])
    rows = np.array([4, 1, 3])
    view, copy = Rows(map_member(path, "x"), rows), members["x"][rows]
    assert (len(view), view.shape, view.dtype, view.ndim) == (3, copy.shape, np.float32, 4)
    for index in ([2, 0, 1], [1, 1], np.array([0, 2]), slice(None), slice(1, 3), 2, -1):
        got = view[index]
        assert type(got) is np.ndarray and got.flags.writeable
        np.testing.assert_array_equal(got, copy[index], err_msg=str(index))
    np.testing.assert_array_equal(np.asarray(view), copy)
    # Rows of an array in memory are indexed, to the same values.
    np.testing.assert_array_equal(Rows(members["x"], rows)[[2, 0]], copy[[2, 0]])
    with pytest.raises(IndexError, match=r"rows must be in \[0, 5\)"):
        Rows(members["x"], [0, 5])


def test_mapped_load_and_split_equal_the_in_memory_ones(tmp_path):
    path = tiny_dataset(tmp_path / "data.npz", n=40)
    read, mapped = load_prepared(path), load_prepared(path, mmap=True)
    assert sorted(read) == sorted(mapped)
    assert isinstance(mapped["x"], np.memmap) and isinstance(mapped["y"], np.memmap)
    assert type(mapped["z"]) is np.ndarray and type(mapped["split"]) is np.ndarray
    for split in ("train", "val", "test"):
        expected, got = select_split(read, split), select_split(mapped, split)
        assert isinstance(got["x"], Rows) and isinstance(got["y"], Rows)
        for key in read:
            np.testing.assert_array_equal(got[key][:], expected[key], err_msg=f"{split} {key}")


def test_mapped_checks_and_class_count_read_block_by_block(tmp_path, rng):
    labels = rng.integers(0, 3, (6, 4, 4)).astype(np.uint8)
    labels[5, 0, 0] = 6
    arrays = {
        "x": rng.random((6, 4, 4, 1), dtype=np.float32),
        "y": labels,
        "z": np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 0, 1]],
        "split": np.array(["train", "train", "val", "val", "test", "test"]),
        "name": np.array(list("abcdef")),
    }
    np.savez(tmp_path / "ok.npz", **arrays)
    assert num_classes_of(load_prepared(tmp_path / "ok.npz", mmap=True)) == 7
    arrays["x"][[1, 4], 2, 3, 0] = [np.nan, np.inf]
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(InputError, match=r"nan\.npz: `x` has 2 NaN or infinite values$"):
        load_prepared(tmp_path / "nan.npz", mmap=True)


def _resident_file_kib():
    with open("/proc/self/status", encoding="ascii") as stream:
        return int(next(line for line in stream if line.startswith("RssFile:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux's /proc")
def test_reading_rows_leaves_no_page_of_the_file_resident(tmp_path, rng):
    np.savez(tmp_path / "big.npz", x=rng.random((64, 256, 256), dtype=np.float32))
    rows = Rows(map_member(tmp_path / "big.npz", "x"), np.arange(64))
    rows[[0, 1]]  # the code paths of a gather, paged in once
    before = _resident_file_kib()
    batch = rows[rng.permutation(64)[:16]]  # 16 samples of 256 KiB: 4 MiB read
    assert batch.shape == (16, 256, 256)
    assert _resident_file_kib() - before < 1024
