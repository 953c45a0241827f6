"""Safe extraction of dataset archives: unsafe entries and oversized archives are refused."""

import stat
import zipfile

import pytest

from inside_keras.data.safe_zip import extract_zip, folder_or_zip
from inside_keras.errors import InputError


def make_zip(path, entries):
    """Write `entries` (ZipInfo or name -> bytes) to a zip at `path`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries:
            zipped.writestr(name, data)
    return path


def symlink_entry(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def test_good_archive_extracts(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [("clevr/images/a.png", b"12345"), ("clevr/b", b"")])
    extract_zip(archive, tmp_path / "out")
    assert (tmp_path / "out" / "clevr" / "images" / "a.png").read_bytes() == b"12345"
    with folder_or_zip(archive) as folder:
        assert (folder / "clevr" / "images" / "a.png").read_bytes() == b"12345"
        unpacked = folder
    assert not unpacked.exists()
    with folder_or_zip(tmp_path / "out") as folder:
        assert folder == tmp_path / "out"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (("/etc/passwd_copy", b"x"), "absolute path"),
        (("C:/windows/x.txt", b"x"), "absolute path"),
        (("clevr/../../escape.txt", b"x"), "`..`"),
        (("..\\escape.txt", b"x"), "`..`"),
        (symlink_entry("clevr/images/link.png", "/etc/passwd"), "symbolic link"),
    ],
)
def test_unsafe_entries_are_refused(tmp_path, entry, reason):
    archive = make_zip(tmp_path / "bad.zip", [("clevr/ok.txt", b"fine"), entry])
    name = entry[0] if isinstance(entry[0], str) else entry[0].filename
    with pytest.raises(InputError, match=reason) as raised:
        extract_zip(archive, tmp_path / "out")
    assert repr(name) in str(raised.value) and str(archive) in str(raised.value)
    assert not (tmp_path / "out").exists(), "nothing is extracted from an unsafe archive"
    assert not (tmp_path / "escape.txt").exists()


def test_size_bound_on_declared_sizes(tmp_path):
    archive = make_zip(tmp_path / "big.zip", [("a", b"\0" * 6000), ("b", b"\0" * 6000)])
    with pytest.raises(InputError, match="12000 bytes, more than the limit of 10000"):
        extract_zip(archive, tmp_path / "out", max_bytes=10_000)
    extract_zip(archive, tmp_path / "out2", max_bytes=12_000)
    assert (tmp_path / "out2" / "b").stat().st_size == 6000


def test_size_bound_while_writing_catches_lying_headers(tmp_path):
    archive = make_zip(tmp_path / "liar.zip", [("bomb", b"\0" * 50_000)])
    data = bytearray(archive.read_bytes())
    # Patch the declared uncompressed size (local header and central directory) to 10.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at : at + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(InputError) as raised:
        extract_zip(archive, tmp_path / "out", max_bytes=1000)
    assert str(archive) in str(raised.value)


def test_not_a_zip(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"hello")
    with pytest.raises(InputError, match="unreadable zip archive"):
        extract_zip(path, tmp_path / "out")


def test_errors_inside_an_unpacked_archive_name_the_archive(tmp_path):
    archive = make_zip(tmp_path / "data.zip", [("deep/er/clevr/images/a.png", b"x")])
    with pytest.raises(InputError) as raised, folder_or_zip(archive) as folder:
        raise InputError(f"problem next to {folder / 'deep' / 'x.json'}", folder / "deep")
    assert raised.value.source == f"{archive}:deep"
    assert raised.value.message == f"problem next to {archive}:deep/x.json"
    with pytest.raises(InputError) as raised, folder_or_zip(archive) as folder:
        raise InputError("not a CLEVR-Seg folder", folder)
    assert str(raised.value) == f"{archive}: not a CLEVR-Seg folder"
