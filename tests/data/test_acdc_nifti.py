"""The NIfTI loader on nibabel's own test files (header and orientation variety) and bad files."""

from pathlib import Path

import numpy as np
import pytest
from nibabel.testing import data_path

from inside_keras.data.nifti import load_volume
from inside_keras.errors import InputError

#: nibabel's test NIfTI files -> (rank asked for, expected shape or the InputError text).
EXPECTED = {
    "anatomical.nii": (3, (33, 41, 25)),
    "example4d.nii.gz": (4, (128, 96, 24, 2)),
    "example_nifti2.nii.gz": (4, (32, 20, 12, 2)),
    "functional.nii": (4, (17, 21, 3, 20)),
    "reoriented_anat_moved.nii": (3, (21, 26, 22)),
    "resampled_anat_moved.nii": (3, "NaN voxels"),
    "row_major.dconn.nii": (3, "got a 2-D array"),
    "standard.nii.gz": (3, (4, 5, 7)),
}


#: Every NIfTI file shipped in the installed nibabel's test data.
FILES = sorted(path.name for path in Path(data_path).glob("*.nii*"))


def test_the_listed_files_are_shipped():
    assert set(EXPECTED) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_nibabel_test_data_loads_or_fails_cleanly(name):
    """Listed files load with their shape or fail with their message; any other file
    (a newer nibabel) loads at its own rank or raises InputError, nothing else."""
    path = Path(data_path) / name
    ndim, expected = EXPECTED.get(name, (None, None))
    if expected is None:
        for rank in (3, 4):
            try:
                assert load_volume(path, rank).data.ndim == rank
            except InputError as error:
                assert error.source == str(path)
        return
    if isinstance(expected, str):
        with pytest.raises(InputError, match=expected) as error:
            load_volume(path, ndim)
        assert error.value.source == str(path)
        return
    volume = load_volume(path, ndim)
    assert volume.data.shape == expected and volume.data.dtype == np.float32
    assert len(volume.spacing) == 3 and all(s > 0 for s in volume.spacing)
    assert np.isfinite(volume.data).all()


def test_spacing_comes_from_the_header():
    volume = load_volume(Path(data_path) / "standard.nii.gz", 3)
    assert volume.spacing == pytest.approx((1.0, 3.0, 2.0))
    assert load_volume(Path(data_path) / "functional.nii", 4).spacing == pytest.approx((4, 4, 8))


def test_four_d_where_three_d_is_expected():
    path = Path(data_path) / "example4d.nii.gz"
    with pytest.raises(InputError, match=r"expected a 3-D volume .* 4-D array"):
        load_volume(path, 3)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="not a readable NIfTI file") as error:
        load_volume(tmp_path / "absent.nii.gz", 3)
    assert error.value.source == str(tmp_path / "absent.nii.gz")
    (tmp_path / "empty.nii.gz").write_bytes(b"")
    with pytest.raises(InputError, match="not a readable NIfTI file"):
        load_volume(tmp_path / "empty.nii.gz", 3)
