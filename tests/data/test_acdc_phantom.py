"""`generate acdc`: the published layout, ACDC's ranges, anatomy that follows slice and phase."""

import numpy as np
import pytest

from inside_keras.cli import main
from inside_keras.data.acdc.phantom import contraction
from inside_keras.data.acdc.reader import patient_folders, read_cine, read_patient


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    root = tmp_path_factory.mktemp("phantoms")
    assert main(["generate", "acdc", "--out", str(root), "--patients", "3", "--seed", "5"]) == 0
    return root


def _area(label, class_id):
    return (label == class_id).sum(axis=(0, 1))


def test_published_layout_and_ranges(phantoms):
    folders = patient_folders(phantoms)
    assert [f.name for f in folders] == ["patient001", "patient002", "patient003"]
    for folder in folders:
        patient = read_patient(folder)
        info = patient.info
        assert {"Group", "Height", "NbFrame", "Weight"} <= set(info)
        assert info["ED"] == 1 and 1 < info["ES"] < int(info["NbFrame"])
        cine = read_cine(folder)
        assert cine.data.shape[3] == int(info["NbFrame"])
        ed, es = patient.frames
        np.testing.assert_array_equal(ed.image, cine.data[..., 0])
        np.testing.assert_array_equal(es.image, cine.data[..., info["ES"] - 1])
        height, width, slices = ed.image.shape
        assert 128 <= height <= 192 and 128 <= width <= 192 and 6 <= slices <= 21
        assert 1.3 <= ed.spacing[0] == ed.spacing[1] <= 1.9 and 5 <= ed.spacing[2] <= 10
        assert set(np.unique(ed.label)) == {0, 1, 2, 3}


def test_structures_shrink_from_base_to_apex_and_with_systole(phantoms):
    for folder in patient_folders(phantoms):
        ed, es = read_patient(folder).frames
        for frame in (ed, es):
            for class_id in (1, 2, 3):
                area = _area(frame.label, class_id)
                assert area[0] > area[-1] and np.all(np.diff(area) <= 2), (folder.name, class_id)
        # ES: smaller LV cavity, thicker myocardium (same area over a smaller cavity).
        assert _area(es.label, 3).sum() < 0.8 * _area(ed.label, 3).sum()
        lv_ed, myo_ed = _area(ed.label, 3)[0], _area(ed.label, 2)[0]
        lv_es, myo_es = _area(es.label, 3)[0], _area(es.label, 2)[0]
        thickness_ed = np.sqrt((lv_ed + myo_ed) / np.pi) - np.sqrt(lv_ed / np.pi)
        thickness_es = np.sqrt((lv_es + myo_es) / np.pi) - np.sqrt(lv_es / np.pi)
        assert thickness_es > 1.05 * thickness_ed  # DCM contracts least
        assert myo_es == pytest.approx(myo_ed, rel=0.1)


def test_mri_like_intensities(phantoms):
    ed = read_patient(patient_folders(phantoms)[0]).frames[0]
    blood = ed.image[ed.label == 3].mean()
    myocardium = ed.image[ed.label == 2].mean()
    assert blood > 2.5 * myocardium
    assert ed.image.min() >= 0 and ed.image[ed.label == 3].std() > 0


def test_same_seed_same_patient(phantoms, tmp_path):
    assert main(["generate", "acdc", "--out", str(tmp_path), "--patients", "1", "--seed", "5"]) == 0
    again = read_patient(tmp_path / "training" / "patient001")
    first = read_patient(phantoms / "training" / "patient001")
    np.testing.assert_array_equal(again.frames[1].image, first.frames[1].image)
    assert again.info == first.info


def test_contraction_cycle_is_smooth():
    cycle = contraction(12, 5)
    assert cycle[0] == 0 and cycle[4] == pytest.approx(1)
    assert np.all(np.diff(cycle[:5]) > 0) and np.all(np.diff(cycle[4:]) < 0)
    assert np.abs(np.diff(cycle)).max() < 0.5


def test_patients_must_be_positive(tmp_path, capsys):
    assert main(["generate", "acdc", "--out", str(tmp_path), "--patients", "0"]) == 2
    assert "--patients" in capsys.readouterr().err
