"""Each kind of corrupted ACDC input: exit code 2, one stderr line naming the file, no output."""

import gzip

import numpy as np
import pytest

from inside_keras.cli import main
from inside_keras.data.prepared import load_prepared
from tests.data import acdc_folders

NAME = "patient002"


def _frame(folder, gt=False):
    return folder / f"{NAME}_frame{acdc_folders.ED:02d}{'_gt' if gt else ''}.nii.gz"


def _missing_info(folder):
    (folder / "Info.cfg").unlink()
    return folder / "Info.cfg"


def _info_without_es(folder):
    (folder / "Info.cfg").write_text("ED: 1\nGroup: NOR\n")
    return folder / "Info.cfg"


def _missing_frame(folder):
    _frame(folder).unlink()
    return _frame(folder)


def _missing_gt(folder):
    _frame(folder, gt=True).unlink()
    return _frame(folder, gt=True)


def _shape_mismatch(folder):
    acdc_folders.save_nifti(np.zeros((20, 24, 4), np.uint8), _frame(folder, gt=True))
    return _frame(folder, gt=True)


def _labels_outside(folder):
    label = acdc_folders.labels(acdc_folders.SHAPE, 0.5)
    label[0, 0, 0] = 4
    acdc_folders.save_nifti(label, _frame(folder, gt=True))
    return _frame(folder, gt=True)


def _nan_voxels(folder):
    image = np.ones(acdc_folders.SHAPE, np.float32)
    image[3, 4, 2] = np.nan
    acdc_folders.save_nifti(image, _frame(folder))
    return _frame(folder)


def _two_d(folder):
    acdc_folders.save_nifti(np.ones((20, 24), np.float32), _frame(folder), spacing=(1.5, 1.5))
    return _frame(folder)


def _five_d(folder):
    acdc_folders.save_nifti(np.ones((20, 24, 5, 2, 2), np.float32), _frame(folder))
    return _frame(folder)


def _not_gzip(folder):
    _frame(folder).write_bytes(b"not a nifti file")
    return _frame(folder)


def _truncated(folder):
    data = _frame(folder).read_bytes()
    _frame(folder).write_bytes(data[: len(data) // 2])
    return _frame(folder)


def _data_cut_short(folder):
    header_only = gzip.decompress(_frame(folder).read_bytes())[:400]
    _frame(folder).write_bytes(gzip.compress(header_only))
    return _frame(folder)


def _gzip_of_garbage(folder):
    _frame(folder, gt=True).write_bytes(gzip.compress(b"\0" * 100))
    return _frame(folder, gt=True)


def _cine_not_gzip(folder):
    (folder / f"{NAME}_4d.nii.gz").write_bytes(b"\x1f\x8b broken")
    return folder / f"{NAME}_4d.nii.gz"


def _cine_too_short(folder):
    acdc_folders.save_nifti(
        np.zeros(acdc_folders.SHAPE + (2,), np.int16), folder / f"{NAME}_4d.nii.gz"
    )
    return folder / f"{NAME}_4d.nii.gz"


CORRUPTIONS = {
    "missing Info.cfg": (_missing_info, "missing Info.cfg"),
    "Info.cfg without ES": (_info_without_es, "no `ES` entry"),
    "missing frame": (_missing_frame, "missing ED frame"),
    "missing _gt": (_missing_gt, "missing ED ground truth"),
    "shape mismatch": (_shape_mismatch, "differs from image shape"),
    "labels outside 0..3": (_labels_outside, "found 4"),
    "NaN voxels": (_nan_voxels, "1 NaN voxels"),
    "2-D volume": (_two_d, "got a 2-D array"),
    "5-D volume": (_five_d, "got a 5-D array"),
    "not gzip": (_not_gzip, "not a readable NIfTI file"),
    "truncated": (_truncated, "not a readable NIfTI file"),
    "gzip of garbage": (_gzip_of_garbage, "not a readable NIfTI file"),
    "data cut short": (_data_cut_short, "could the file be damaged?"),
    "cine not gzip": (_cine_not_gzip, "not a readable NIfTI file"),
    "cine without ES": (_cine_too_short, "ES: 3 but the cine has 2 frames"),
}


@pytest.fixture
def corrupt(tmp_path):
    def make(kind):
        root = acdc_folders.write_dataset(tmp_path / "acdc", patients=3)
        bad_file = CORRUPTIONS[kind][0](root / "training" / NAME)
        return root, bad_file

    return make


def _prepare(root, out, *extra):
    return main(["prepare", "acdc", "--source", str(root), "--out", str(out), "--spacing", "1.5",
                 "--size", "32", *extra])  # fmt: skip


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupted_input_fails_with_one_line(kind, corrupt, tmp_path, capsys):
    root, bad_file = corrupt(kind)
    out = tmp_path / "out" / "acdc.npz"
    assert _prepare(root, out) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert str(bad_file) in lines[0] and CORRUPTIONS[kind][1] in lines[0]
    assert "Traceback" not in captured.err
    assert not out.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["NaN voxels", "missing Info.cfg", "truncated"])
def test_skip_bad_skips_and_counts_the_patient(kind, corrupt, tmp_path, capsys):
    root, bad_file = corrupt(kind)
    out = tmp_path / "acdc.npz"
    assert _prepare(root, out, "--skip-bad") == 0
    captured = capsys.readouterr()
    assert "skipped 1 bad patients" in captured.out
    assert captured.err.startswith(f"skipped {NAME}: {bad_file}")
    arrays = load_prepared(out)
    assert sorted(set(arrays["patient"].tolist())) == ["patient001", "patient003"]


def test_every_patient_bad_is_an_error(tmp_path, capsys):
    root = tmp_path / "acdc"
    (root / "training" / "patient001").mkdir(parents=True)
    assert _prepare(root, tmp_path / "acdc.npz", "--skip-bad") == 2
    assert "none of 1 patient folders is usable" in capsys.readouterr().err


def test_missing_source_folder(tmp_path, capsys):
    assert _prepare(tmp_path / "nowhere", tmp_path / "acdc.npz") == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and str(tmp_path / "nowhere" / "training") in err


def test_unwritable_out_is_one_line(tmp_path, capsys):
    root = acdc_folders.write_dataset(tmp_path / "acdc", patients=1)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert _prepare(root, blocker / "acdc.npz") == 2
    assert main(["generate", "acdc", "--out", str(blocker), "--patients", "1"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert f"--out {blocker / 'acdc.npz'}: cannot be made: {blocker} is a file" in lines[0]
    assert f"--out {blocker}: is a file; expected a folder" in lines[1]
