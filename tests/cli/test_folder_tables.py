"""Condition tables as they come, through the installed `inside-keras`: gaps stop
`prepare folder` (exit 2, one line) unless `--missing indicator`; a category unseen in
training stops `predict --images` unless `--unknown ignore`, which says so in one warning
line; prepared files written before gaps could be encoded behave as they did."""

import json

import numpy as np
import pytest
from PIL import Image

from inside_keras.data.folder.conditions import EncodingNotes
from inside_keras.data.folder.prepare import prepare_new_cases
from inside_keras.data.prepared import load_metadata, load_prepared, save_prepared
from inside_keras.errors import InputError
from tests.cli.test_bad_inputs import check_one_line
from tests.data.test_folder import _run, _write_table, rgb_folder

#: Ages of case0 ... case11 (rgb_folder's 40 + 2i), two of them gaps.
AGES = [40 + 2 * i for i in range(12)]
GAPS = {3: "", 8: "NA"}


def table_with_gaps(root):
    rows = [
        [f"case{i}", GAPS.get(i, AGES[i]), "right" if i % 2 else "left", f"p{i // 2}"]
        for i in range(12)
    ]
    return _write_table(root / "gaps.csv", ["id", "age", "side", "patient"], rows)


def prepare_args(root, table, out, *extra):
    return [
        "prepare", "folder", "--images", str(root / "images"), "--labels", str(root / "labels"),
        "--conditions", str(table), "--out", str(out), "--group-column", "patient",
        "--size", "16", "16", "--condition-columns", "age,side", *extra,
    ]  # fmt: skip


def new_images(folder, names=("n1", "n2", "n3")):
    folder.mkdir()
    for name in names:
        Image.fromarray(np.full((30, 40, 3), 30, np.uint8)).save(folder / f"{name}.png")
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A folder whose table has gaps in `age`, prepared with `--missing indicator`, a
    model trained one epoch on it, and three new images."""
    tmp = tmp_path_factory.mktemp("tables")
    root = rgb_folder(tmp / "train")
    table = table_with_gaps(root)
    data = tmp / "prepared.npz"
    prepared = _run(*prepare_args(root, table, data, "--missing", "indicator"))
    assert prepared.returncode == 0, prepared.stderr
    config = tmp / "config.yaml"
    config.write_text(
        f"data: {{path: {data}}}\nmodel: {{architecture: encoder_decoder, conditioning: film}}\n"
        f"training: {{epochs: 1, batch_size: 4}}\noutput: {{dir: {tmp / 'run'}}}\n"
    )
    trained = _run("train", "--config", str(config), "--quiet")
    assert trained.returncode == 0, trained.stderr[-2000:]
    return {
        "root": root,
        "table": table,
        "data": data,
        "stdout": prepared.stdout,
        "model": tmp / "run" / "model.keras",
        "new": new_images(tmp / "new"),
    }


def test_gaps_stop_prepare_by_default(trained, tmp_path):
    out = tmp_path / "p.npz"
    run = _run(*prepare_args(trained["root"], trained["table"], out))
    check_one_line(run.stderr, 2, run.returncode)
    assert f"{trained['table']}: case 'case3': no value in column 'age'" in run.stderr
    assert "nor for 1 more" in run.stderr and "give --missing indicator" in run.stderr
    assert not out.exists()
    run = _run(*prepare_args(trained["root"], trained["table"], out, "--missing", "mean"))
    check_one_line(run.stderr, 2, run.returncode)
    assert "--missing: invalid choice: 'mean'" in run.stderr


def test_missing_indicator_fills_and_flags_the_gaps(trained):
    arrays, metadata = load_prepared(trained["data"]), load_metadata(trained["data"])
    conditions = metadata["conditions"]
    assert conditions["z"] == ["age", "age:missing", "side=left", "side=right"]
    assert conditions["gaps"] == {"age": 2} and conditions["encoding"]["missing"] == "indicator"
    assert metadata["options"]["missing"] == "indicator"
    assert "gaps filled and flagged in z (NAME:missing): age in 2 cases" in trained["stdout"]
    split = dict(zip(arrays["case"], arrays["split"], strict=True))
    train = np.array([AGES[i] for i in range(12) if i not in GAPS and split[f"case{i}"] == "train"])
    for case, z in zip(arrays["case"], arrays["z"], strict=True):
        i = int(case[4:])
        if i in GAPS:
            np.testing.assert_array_equal(z[:2], [0, 1])  # the training mean, flagged
        else:
            assert z[1] == 0
            np.testing.assert_allclose(z[0], (AGES[i] - train.mean()) / train.std(), rtol=1e-5)
        np.testing.assert_array_equal(z[2:], [1 - i % 2, i % 2])
    info = _run("info", str(trained["data"]))
    assert info.returncode == 0, info.stderr
    assert "z = [age, age:missing, side=left, side=right]" in info.stdout
    assert "; a gap: 0 and age:missing = 1" in info.stdout
    assert "gaps (--missing indicator): an empty cell or NA, N/A" in info.stdout


def test_new_cases_are_encoded_with_the_stored_treatment(trained, tmp_path):
    """In process: a gap in `age` is 0 and flagged, a gap in `side` (no gaps in training)
    all zeros and noted, an unseen side all zeros and noted."""
    table = _write_table(
        tmp_path / "new.csv",
        ["id", "age", "side"],
        [["n1", "nan", "up"], ["n2", "", ""], ["n3", "", "right"]],
    )
    notes = EncodingNotes()
    metadata = load_metadata(trained["data"])
    arrays = prepare_new_cases(trained["new"], table, metadata, unknown="ignore", notes=notes)
    assert arrays["name"].tolist() == ["n1", "n2", "n3"]
    np.testing.assert_array_equal(arrays["z"], [[0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 1]])
    assert notes.filled == {"side": {"n2"}} and list(notes.unknown) == ["side"]
    with pytest.raises(InputError, match="case 'n1', column 'side': unknown category 'up'"):
        prepare_new_cases(trained["new"], table, metadata)


def predict_args(trained, table, out, *extra):
    return [
        "predict", "--model", str(trained["model"]), "--data", str(trained["data"]),
        "--images", str(trained["new"]), "--conditions", str(table), "--out", str(out), *extra,
    ]  # fmt: skip


def test_an_unknown_category_stops_predict_or_is_ignored_with_one_warning(trained, tmp_path):
    table = _write_table(
        tmp_path / "new.csv",
        ["id", "age", "side"],
        [["n1", "45", "up"], ["n2", "NA", "down"], ["n3", "45", "left"]],
    )
    out = tmp_path / "pred"
    run = _run(*predict_args(trained, table, out))
    check_one_line(run.stderr, 2, run.returncode)
    assert f"{table}: case 'n1', column 'side': unknown category 'up'" in run.stderr
    assert "--unknown ignore" in run.stderr and not out.exists()

    run = _run(*predict_args(trained, table, out, "--unknown", "ignore"))
    check_one_line(run.stderr, 0, run.returncode)
    assert run.stderr == (
        f"inside-keras predict: warning: {table}: categories unseen in training, encoded as "
        "all zeros (--unknown ignore): column 'side': ['up', 'down'] in 2 cases\n"
    )
    assert "wrote 3 label maps" in run.stdout
    for name in ("n1", "n2", "n3"):
        mask = np.asarray(Image.open(out / f"{name}_pred.png"))
        assert mask.shape == (30, 40) and set(np.unique(mask)) <= {0, 1}


def test_a_gap_where_training_had_none_is_filled_with_a_warning(trained, tmp_path):
    table = _write_table(
        tmp_path / "new.csv",
        ["id", "age", "side"],
        [["n1", "45", "left"], ["n2", "50", "null"], ["n3", "", "right"]],
    )
    run = _run(*predict_args(trained, table, tmp_path / "pred"))
    check_one_line(run.stderr, 0, run.returncode)
    assert "warning" in run.stderr and "column 'side' in 1 case" in run.stderr
    assert "wrote 3 label maps" in run.stdout
    # Only the cases predicted are warned of: n1 alone has no gap.
    run = _run(*predict_args(trained, table, tmp_path / "one", "--limit", "1"))
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert "wrote 1 label maps" in run.stdout


def test_unknown_is_for_new_cases(trained, tmp_path):
    run = _run(
        "predict", "--model", str(trained["model"]), "--data", str(trained["data"]),
        "--out", str(tmp_path / "pred"), "--unknown", "ignore",
    )  # fmt: skip
    check_one_line(run.stderr, 2, run.returncode)
    assert "--unknown: is for new cases" in run.stderr


def old_prepared_file(path, trained):
    """A prepared file as written before gaps could be encoded: prepared from a table
    without gaps, the fields added since taken out of its metadata."""
    root = trained["root"]
    rows = [[f"case{i}", AGES[i], "right" if i % 2 else "left", f"p{i // 2}"] for i in range(12)]
    table = _write_table(path.parent / "full.csv", ["id", "age", "side", "patient"], rows)
    assert _run(*prepare_args(root, table, path)).returncode == 0
    arrays, metadata = load_prepared(path), load_metadata(path)
    conditions = metadata["conditions"]
    del conditions["gaps"], conditions["encoding"]["missing"], conditions["encoding"]["na_values"]
    del metadata["options"]["missing"]
    for column in conditions["encoding"]["columns"]:
        del column["indicator"]
    save_prepared(path, metadata=metadata, **arrays)
    return path


def test_an_old_prepared_file_behaves_as_before(trained, tmp_path):
    data = old_prepared_file(tmp_path / "old.npz", trained)
    metadata = load_metadata(data)
    assert "missing" not in json.dumps(metadata)
    info = _run("info", str(data))
    assert info.returncode == 0, info.stderr
    assert info.stdout.endswith("    side: one-hot over ['left', 'right']\n")
    assert "z = [age, side=left, side=right]" in info.stdout
    encoding = metadata["conditions"]["encoding"]["columns"][0]
    rows = [["n1", "50", "left"], ["n2", "44", "right"], ["n3", "60", "left"]]
    good = _write_table(tmp_path / "good.csv", ["id", "age", "side"], rows)
    arrays = prepare_new_cases(trained["new"], good, metadata)
    ages = (np.array([50, 44, 60]) - encoding["mean"]) / encoding["std"]
    np.testing.assert_allclose(arrays["z"][:, 0], ages, rtol=1e-5)
    np.testing.assert_array_equal(arrays["z"][:, 1:], [[1, 0], [0, 1], [1, 0]])
    # An empty cell is the one gap, and an error; "NA" is a category like any other.
    rows[1][2] = ""
    gap = _write_table(tmp_path / "gap.csv", ["id", "age", "side"], rows)
    with pytest.raises(InputError, match=r"case 'n2', column 'side': no value \(an empty cell\)"):
        prepare_new_cases(trained["new"], gap, metadata)
    rows[1][2] = "NA"
    na = _write_table(tmp_path / "na.csv", ["id", "age", "side"], rows)
    args = predict_args(trained, na, tmp_path / "pred")
    args[args.index("--data") + 1] = str(data)
    run = _run(*args)
    check_one_line(run.stderr, 2, run.returncode)
    assert "case 'n2', column 'side': unknown category 'NA'" in run.stderr
