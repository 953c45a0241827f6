"""`reproduce` end to end from a spec file, as a user runs it: contract, learning, reuse."""

import dataclasses
import json
import subprocess

import pytest
import yaml

from inside_keras.reproduce.spec import BUILT_IN, load_reproduction
from tests.runs import CLI, tiny_dataset

METHODS = ["baseline", "film", "guide_me", "inside"]


def tiny_spec(tmp_path, **training):
    """A CLEVR-Seg-scored reproduction on the tiny quadrant task (`tests.runs`)."""
    data = tiny_dataset(tmp_path / "quadrants.npz", n=160, size=16)
    spec = {
        "evaluation": "clevr-seg",
        "experiment": {
            "data": {"path": str(data)},
            "model": {"architecture": "encoder_decoder"},
            "training": {"epochs": 6, "batch_size": 16, "learning_rate": 0.01, **training},
        },
        "methods": {
            name: {"model.conditioning": name.replace("baseline", "none")} for name in METHODS
        },
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


#: Methods of built-in specs beyond the paper's four: their conditioning and its options.
RELATIVE = {"sigma_relative": True, "sigma_scale": 0.5, "sigma_penalty": 0}
EXTRA_METHODS = {
    "clevr_seg_full.yaml": {"inside_relative": ("inside", RELATIVE)},
    "clevr_seg_medium.yaml": {"inside_relative": ("inside", RELATIVE)},
}


def test_built_in_specs_differ_only_in_the_conditioning():
    for path in sorted(BUILT_IN.glob("*.yaml")):
        spec = load_reproduction(path)
        extra = EXTRA_METHODS.get(path.name, {})
        assert list(spec.methods) == METHODS + list(extra)
        configs = {m: spec.method_config(m, "out") for m in spec.methods}
        first = configs["baseline"]
        for config in configs.values():
            assert config.training == first.training and config.data == first.data
            assert config.model.architecture == first.model.architecture
        for method, (conditioning, options) in extra.items():
            model = configs[method].model
            assert (model.conditioning, model.conditioning_options) == (conditioning, options)


@pytest.mark.parametrize("name", ["clevr_seg_full.yaml", "clevr_seg_medium.yaml"])
def test_the_paper_scale_specs_train_as_the_authors_code(name):
    import keras
    import numpy as np

    from inside_keras.training import build_model

    spec = load_reproduction(BUILT_IN / name)
    config = spec.method_config("inside", "out")
    training = config.training
    assert (training.loss, training.monitor, training.final_model) == (
        "focal_sum",
        "val_pixel_loss",
        "last",
    )
    assert (training.batch_size, training.learning_rate, training.seed) == (32, 1e-3, 42)
    assert (training.patience, training.min_delta) == (25, 1e-4)
    assert config.data.generate.split == "by_name" and not config.data.augment
    # The authors' loop never adds model.losses: the configured INSIDE adds none, where
    # the layer's default (the penalty the authors' layer declares) adds one.
    inputs = {"image": np.zeros((2, 16, 16, 3), "float32"), "condition": np.eye(4)[:2]}
    for method in ("inside", "inside_relative"):
        model = build_model(spec.method_config(method, "out").model, (16, 16, 3), 4, 1)
        model(inputs)
        assert model.losses == [], method
    default = dataclasses.replace(config.model, conditioning_options={})
    model = build_model(default, (16, 16, 3), 4, 1)
    model(inputs)
    assert len(model.losses) == 1 and float(keras.ops.convert_to_numpy(model.losses[0])) > 0


def test_reproduce_writes_the_contract_learns_and_reuses_runs(tmp_path):
    out = tmp_path / "out"
    command = [*CLI, "reproduce", "clevr-seg", "--config", str(tiny_spec(tmp_path))]
    command += ["--out", str(out), "--data", str(tmp_path / "data"), "--jobs", "2"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    saved = json.loads((out / "results.json").read_text())
    assert saved["dataset"] == "clevr-seg" and saved["loss"] == "bce_dice"
    assert list(saved["methods"]) == METHODS
    dice = {name: row["dice"] for name, row in saved["methods"].items()}
    # Only the condition says which quadrant is the target: conditioning must help.
    assert min(dice["film"], dice["guide_me"], dice["inside"]) > dice["baseline"] + 0.1, dice
    assert dice["inside"] > 0.3, dice
    for name, row in saved["methods"].items():  # the authors' soft Dice beside ours
        assert 0.0 <= row["dice_soft"] < 1.0 and row["dice_soft_std"] >= 0.0
        if name != "baseline":  # a baseline that predicts nothing may round to 0.000
            assert row["dice_soft"] > 0.0, (name, row)
    table = (out / "results.md").read_text()
    assert all(f"| {name} |" in table for name in METHODS)
    assert "soft Dice, the authors'" in table
    assert (out / "attention_inside.png").is_file() and (out / "attention_guide_me.png").is_file()
    assert not (out / "attention_film.png").exists()

    # A second run reuses the finished runs: no training, same numbers.
    stamps = {name: (out / name / "model.keras").stat().st_mtime_ns for name in METHODS}
    again = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "results.json").read_text())["methods"] == saved["methods"]
    assert stamps == {name: (out / name / "model.keras").stat().st_mtime_ns for name in METHODS}

    # A changed experiment does not reuse (or touch) the runs of the old one.
    changed = subprocess.run(
        [*command, "--set", "training.learning_rate=0.02"], capture_output=True, text=True
    )
    assert changed.returncode == 2 and changed.stderr.count("\n") == 1, changed.stderr
    assert "holds a run of a different config (changed: training.learning_rate)" in changed.stderr
    assert stamps == {name: (out / name / "model.keras").stat().st_mtime_ns for name in METHODS}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--set", "training.epochs=0"], "training.epochs: must be at least 1, got 0"),
        (["--set", "training.epoch=1"], "no key 'epoch' in training"),
        (["--jobs", "0"], "--jobs: must be at least 1, got 0"),
        (["--config", "{tmp}/missing.yaml"], "missing.yaml: no such reproduction spec file"),
    ],
)
def test_bad_input_is_one_line(tmp_path, arguments, expected):
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    out = tmp_path / "out"
    run = subprocess.run(
        [*CLI, "reproduce", "clevr-seg", "--quick", "--out", str(out), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and expected in run.stderr, run.stderr
    assert not out.exists()


@pytest.mark.parametrize("folder", ["inside", "logs", "fold_1"])
def test_a_folder_of_yours_named_like_a_run_is_refused_even_with_overwrite(tmp_path, folder):
    """`--overwrite` writes beside a user's files, never into a folder of theirs that a
    reproduction would write (a method's run, `logs/`, a fold's runs)."""
    out = tmp_path / "out"
    (out / folder).mkdir(parents=True)
    (out / folder / "mine.txt").write_text("keep")
    folds = ["--folds", "2"] if folder.startswith("fold_") else []
    dataset = "acdc" if folds else "clevr-seg"
    run = subprocess.run(
        [*CLI, "reproduce", dataset, "--quick", "--out", str(out), "--overwrite", *folds],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "holds folders of yours where" in run.stderr
    assert f"writes its own ({folder})" in run.stderr
    assert sorted(p.name for p in out.iterdir()) == [folder]
    assert (out / folder / "mine.txt").read_text() == "keep"
