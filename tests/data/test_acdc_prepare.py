"""`prepare acdc` on hand-built published-layout folders: labels, phase, position, splits."""

import dataclasses

import numpy as np
import pytest

from inside_keras.cli import main
from inside_keras.data.acdc.prepare import PrepareOptions, condition_vector, prepare_acdc
from inside_keras.data.acdc.reader import PHASES, read_info, read_patient
from inside_keras.data.prepared import load_prepared
from inside_keras.data.splits import split_groups
from inside_keras.errors import InputError
from tests.data import acdc_folders


@pytest.fixture
def dataset(tmp_path):
    return acdc_folders.write_dataset(tmp_path / "acdc", patients=3)


def test_info_cfg_is_parsed_tolerantly(tmp_path):
    path = tmp_path / "Info.cfg"
    path.write_text("  ed :  12 \nes: 3\nGroup : DCM\nunknown line\nExtra: a: b\n")
    info = read_info(path)
    assert info["ED"] == 12 and info["ES"] == 3
    assert info["Group"] == "DCM" and info["Extra"] == "a: b"


def test_reader_returns_frames_labels_and_spacing(dataset):
    patient = read_patient(dataset / "training" / "patient002")
    assert patient.info["ED"] == acdc_folders.ED and patient.info["NbFrame"] == "4"
    ed, es = patient.frames
    assert (ed.phase, ed.number, es.phase, es.number) == ("ED", 1, "ES", 3)
    assert ed.image.shape == acdc_folders.SHAPE and ed.image.dtype == np.float32
    assert ed.label.dtype == np.uint8
    np.testing.assert_array_equal(ed.label, acdc_folders.labels(acdc_folders.SHAPE, 0.5))
    assert ed.spacing == pytest.approx(acdc_folders.SPACING)


def test_prepare_at_native_spacing_keeps_every_slice(dataset, tmp_path):
    out = tmp_path / "acdc.npz"
    code = main(
        ["prepare", "acdc", "--source", str(dataset), "--out", str(out),
         "--spacing", "1.5", "--size", "32"]
    )  # fmt: skip
    assert code == 0
    arrays = load_prepared(out)
    n_slices = acdc_folders.SHAPE[2]
    assert len(arrays["x"]) == 3 * 2 * n_slices
    assert arrays["x"].shape[1:] == (32, 32, 1) and arrays["y"].dtype == np.uint8
    for i in range(len(arrays["x"])):
        phase, index = arrays["phase"][i], arrays["slice_index"][i]
        truth = read_patient(dataset / "training" / arrays["patient"][i]).frames[phase].label
        counts = np.bincount(arrays["y"][i].ravel(), minlength=4)
        np.testing.assert_array_equal(
            counts[1:], np.bincount(truth[..., index].ravel(), minlength=4)[1:]
        )
        assert arrays["slice_position"][i] == pytest.approx(index / (n_slices - 1))
        expected_z = [phase == 0, phase == 1, index / (n_slices - 1)]
        np.testing.assert_allclose(arrays["z"][i], expected_z, atol=1e-6)
        assert arrays["name"][i] == f"{arrays['patient'][i]}_{PHASES[phase]}_slice{index:02d}"
    assert sorted(set(arrays["phase"].tolist())) == [0, 1]
    # Per-volume normalisation: the unpadded pixels of a volume have mean 0 and std 1.
    first = arrays["patient"] == "patient001"
    ed = arrays["x"][first & (arrays["phase"] == 0)][:, 6:26, 4:28, 0]
    assert ed.mean() == pytest.approx(0, abs=1e-4) and ed.std() == pytest.approx(1, abs=1e-4)


def test_crop_keeps_the_centre(dataset):
    arrays = prepare_acdc(dataset, options=PrepareOptions(spacing=1.5, size=8)).arrays
    truth = acdc_folders.labels(acdc_folders.SHAPE, 0.5)
    np.testing.assert_array_equal(arrays["y"][0], truth[6:14, 8:16, 0])
    np.testing.assert_array_equal(arrays["offset"][0], [6, 8])


def test_position_bins_and_condition_order():
    bins = PrepareOptions(condition=("position", "phase"), position="bins")
    np.testing.assert_array_equal(condition_vector("ES", 0.0, bins), [1, 0, 0, 0, 1])
    np.testing.assert_array_equal(condition_vector("ED", 0.5, bins), [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(condition_vector("ED", 1.0, bins), [0, 0, 1, 1, 0])
    phase_only = PrepareOptions(condition=("phase",))
    np.testing.assert_array_equal(condition_vector("ES", 0.7, phase_only), [0, 1])


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"condition": ("phase", "colour")}, "condition"),
        ({"position": "thirds"}, "position"),
        ({"size": 0}, "size"),
        ({"spacing": -1.0}, "spacing"),
    ],
)
def test_bad_options_name_the_field(options, field):
    with pytest.raises(InputError) as error:
        PrepareOptions(**options)
    assert error.value.source == field


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--spacing", "-1"], "--spacing: must be a positive finite number of mm, got -1.0"),
        (["--val-fraction", "0.9"], "--val-fraction: val + test fractions must be at most 1"),
        (["--split", "validation"], "--split: unknown source split 'validation'"),
    ],
)
def test_the_command_names_the_flag(dataset, tmp_path, capsys, flags, error):
    out = tmp_path / "acdc.npz"
    assert main(["prepare", "acdc", "--source", str(dataset), "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and error in err, err
    assert not out.exists()


def test_splits_keep_each_patient_whole_and_follow_the_seed(tmp_path):
    root = tmp_path / "acdc"
    for number in range(1, 11):
        acdc_folders.write_patient(root, number, shape=(8, 8, 3))
    options = PrepareOptions(spacing=1.5, size=8, val_fraction=0.2, test_fraction=0.3, seed=3)
    arrays = prepare_acdc(root, options=options).arrays
    by_patient = {}
    for patient, split in zip(arrays["patient"], arrays["split"], strict=True):
        by_patient.setdefault(patient, set()).add(split)
    assert all(len(splits) == 1 for splits in by_patient.values())
    counts = [sum(s == {name} for s in by_patient.values()) for name in ("train", "val", "test")]
    assert counts == [5, 2, 3]
    again = prepare_acdc(root, options=options).arrays
    np.testing.assert_array_equal(arrays["split"], again["split"])
    other = prepare_acdc(root, options=dataclasses.replace(options, seed=4)).arrays
    assert not np.array_equal(arrays["split"], other["split"])


def test_fractions_of_one_and_bad_fractions():
    patients = [f"patient{i:03d}" for i in range(1, 8)]
    assert set(split_groups(patients, 0.0, 1.0, seed=0).values()) == {"test"}
    assert set(split_groups(patients, 0.0, 0.0, seed=0).values()) == {"train"}
    with pytest.raises(InputError, match=r"at most 1, got 0.6 \+ 0.5") as error:
        split_groups(patients, 0.6, 0.5, seed=0)
    assert error.value.source == "val_fraction"
    with pytest.raises(InputError, match=r"in \[0, 1\], got -0.1"):
        split_groups(patients, 0.1, -0.1, seed=0)


def test_prepare_with_folds_records_each_patients_fold(tmp_path):
    from collections import Counter

    from inside_keras.data.acdc.phantom import generate_acdc

    root = tmp_path / "phantoms"
    generate_acdc(root, 10, seed=0)  # two patients of each of the five groups
    out = tmp_path / "folds.npz"
    command = ["prepare", "acdc", "--source", str(root), "--out", str(out), "--spacing", "5"]
    assert main([*command, "--size", "32", "--folds", "5", "--val-fraction", "0.25"]) == 0
    arrays = load_prepared(out)
    assert arrays["fold"].dtype == np.int32
    fold_of = dict(zip(arrays["patient"].tolist(), arrays["fold"].tolist(), strict=True))
    assert len(fold_of) == 10 and Counter(fold_of.values()) == {k: 2 for k in range(5)}
    groups = {p: read_info(root / "training" / p / "Info.cfg")["Group"] for p in fold_of}
    for k in range(5):  # two groups' patients in each fold, never two of one group
        assert len({groups[p] for p, f in fold_of.items() if f == k}) == 2
    split_of = dict(zip(arrays["patient"].tolist(), arrays["split"].tolist(), strict=True))
    assert {p for p, s in split_of.items() if s == "test"} == {
        p for p, f in fold_of.items() if f == 0
    }
    assert Counter(split_of.values()) == {"test": 2, "val": 2, "train": 6}


@pytest.mark.parametrize(
    ("folds", "message"),
    [
        ("1", "--folds: must be at least 2, got 1"),
        ("4", "--folds: must be from 2 to the number of patients (3), got 4"),
    ],
)
def test_impossible_folds_are_refused(dataset, tmp_path, capsys, folds, message):
    out = tmp_path / "folds.npz"
    code = main(["prepare", "acdc", "--source", str(dataset), "--out", str(out), "--folds", folds])
    assert code == 2 and message in capsys.readouterr().err and not out.exists()
