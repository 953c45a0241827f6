"""A folder full of a user's work, given as `--out` to every command: each command
refuses (exit 2, one line) and leaves every file byte-identical; with `--overwrite` it
writes beside them and still never replaces a folder of the user's."""

import hashlib
import subprocess

import pytest

from tests.runs import CLI, tiny_dataset, write_config


def users_folder(path):
    """A user's folder: a `backup/` folder, a `log.csv`, a dataset, a file named like a
    folder a command writes (`checkpoint`)."""
    (path / "backup").mkdir(parents=True)
    (path / "backup" / "model_v1.keras").write_bytes(b"weights of last year")
    (path / "log.csv").write_text("epoch,loss\n0,0.5\n")
    (path / "images").mkdir()
    (path / "images" / "scan.png").write_bytes(b"\x89PNG not really")
    (path / "checkpoint").write_text("not a folder")
    (path / "results.json").write_text('{"mine": true}')
    return path


def fingerprint(path):
    """Every file and folder under `path` with a hash of its bytes."""
    return {
        str(item.relative_to(path)): hashlib.sha256(item.read_bytes()).hexdigest()
        if item.is_file()
        else "folder"
        for item in sorted(path.rglob("*"))
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A prepared dataset, a config training on it, a trained model, a sweep spec."""
    tmp = tmp_path_factory.mktemp("inputs")
    data = tiny_dataset(tmp / "data.npz", n=32, size=16)
    config = write_config(tmp, epochs=1, out=tmp / "run", data=data)
    run = subprocess.run(
        [*CLI, "train", "--config", str(config), "--quiet"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    spec = tmp / "sweep.yaml"
    spec.write_text(
        f"experiment:\n  data: {{path: {data}}}\n  model: {{architecture: encoder_decoder}}\n"
        "  training: {epochs: 1, batch_size: 8}\n"
        "space: {model.conditioning: {choice: [none, inside]}}\n"
    )
    return {"data": data, "config": config, "model": tmp / "run" / "model.keras", "spec": spec}


#: Each command with `{out}` where the user's folder goes (a file inside it for commands
#: that write one file).
COMMANDS = {
    "generate clevr-seg": ["generate", "clevr-seg", "--out", "{out}", "--n", "4", "--size", "32"],
    "generate acdc": ["generate", "acdc", "--out", "{out}", "--patients", "1"],
    "prepare clevr-seg (folder)": [
        "prepare", "clevr-seg", "--source", "{clevr}", "--condition", "colour", "--out", "{out}",
    ],
    "prepare clevr-seg (user's file)": [
        "prepare", "clevr-seg", "--source", "{clevr}", "--condition", "colour",
        "--out", "{out}/results.json",
    ],
    "prepare acdc (user's file)": [
        "prepare", "acdc", "--source", "{acdc}", "--size", "32", "--out", "{out}/log.csv",
    ],
    "score acdc": [
        "score", "acdc", "--predictions", "{acdc}", "--source", "{acdc}", "--out", "{out}",
    ],
    "train": ["train", "--config", "{config}", "--out", "{out}", "--quiet"],
    "train --resume": ["train", "--config", "{config}", "--out", "{out}", "--resume"],
    "evaluate --csv": [
        "evaluate", "--model", "{model}", "--data", "{data}", "--csv", "{out}/log.csv",
    ],
    "predict": ["predict", "--model", "{model}", "--data", "{data}", "--out", "{out}"],
    "reproduce": ["reproduce", "clevr-seg", "--quick", "--out", "{out}", "--data", "{out}/data"],
    "sweep": ["sweep", "{spec}", "--out", "{out}"],
    "sweep --resume": ["sweep", "{spec}", "--out", "{out}", "--resume"],
    "bench --json": ["bench", "--backend", "jax", "--quick", "--json", "{out}/results.json"],
}  # fmt: skip


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Small CLEVR-Seg and ACDC folders in the published layouts."""
    tmp = tmp_path_factory.mktemp("sources")
    for command in (
        ["generate", "clevr-seg", "--out", str(tmp / "clevr"), "--n", "4", "--size", "32"],
        ["generate", "acdc", "--out", str(tmp / "acdc"), "--patients", "1"],
    ):
        assert subprocess.run([*CLI, *command], capture_output=True).returncode == 0
    return {"clevr": tmp / "clevr", "acdc": tmp / "acdc"}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_refuses_a_users_folder(name, tmp_path, inputs, sources):
    out = users_folder(tmp_path / "mine")
    before = fingerprint(out)
    values = {"out": out, **inputs, **sources}
    command = [part.format(**values) for part in COMMANDS[name]]
    run = subprocess.run([*CLI, *command], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert "--overwrite" in run.stderr or "is a folder" in run.stderr, run.stderr
    assert fingerprint(out) == before


def test_overwrite_writes_beside_the_users_files_and_keeps_their_folders(tmp_path, inputs):
    out = users_folder(tmp_path / "mine")
    (out / "checkpoint").unlink()  # a file where `train` writes a folder is refused below
    (out / "checkpoint").mkdir()
    (out / "checkpoint" / "mine.txt").write_text("mine")
    before = fingerprint(out)
    command = [*CLI, "train", "--config", str(inputs["config"]), "--out", str(out), "--quiet"]
    refused = subprocess.run([*command, "--overwrite"], capture_output=True, text=True)
    assert refused.returncode == 2 and "holds folders of yours" in refused.stderr
    assert fingerprint(out) == before

    predicted = subprocess.run(
        [*CLI, "predict", "--model", str(inputs["model"]), "--data", str(inputs["data"])]
        + ["--out", str(out), "--overwrite"],
        capture_output=True,
        text=True,
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    after = fingerprint(out)
    assert {key: after[key] for key in before} == before  # the user's files are untouched
    assert any(key.endswith("_mask.png") for key in after)
