"""SIGKILL a command at a random moment, run it again: it completes, and its result
equals an uninterrupted run's. (`train` is killed in tests/test_training.py on each
backend, a sweep in tests/ray/test_sweeps.py.)"""

import json
import os
import random
import signal
import subprocess
import time

import numpy as np
import yaml

from tests.runs import CLI

#: Seeds of the kill moments (one run each); fixed so a failure can be replayed.
SEED = 7


def timed_run(command):
    """Run `command` to the end; returns its duration in seconds."""
    start = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return time.monotonic() - start


def killed_run(command, delay=None, when=None):
    """Start `command`; SIGKILL it and every process it started after `delay` seconds,
    or once `when()` is true. Returns whether it was killed before it ended."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + (delay if delay is not None else 600)
    while process.poll() is None:
        if time.monotonic() >= deadline or (when is not None and when()):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.05)
    return False  # it ended before the moment came


def tree(folder):
    """Relative path -> bytes of every file under `folder`, hidden files left out."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def kill_and_rerun(command, duration, rng):
    """Kill `command` at a random moment of a run of `duration` seconds, then run it
    again; returns whether the kill came before the end."""
    killed = killed_run(command, rng.uniform(0.15, 0.85) * duration)
    timed_run(command)
    return killed


def test_generate_clevr_seg(tmp_path):
    rng = random.Random(SEED)
    command = [*CLI, "generate", "clevr-seg", "--n", "150", "--size", "64", "--workers", "2"]
    duration = timed_run([*command, "--out", str(tmp_path / "whole")])
    killed = kill_and_rerun([*command, "--out", str(tmp_path / "killed")], duration, rng)
    assert killed
    assert tree(tmp_path / "killed") == tree(tmp_path / "whole")
    assert not (tmp_path / "killed" / ".inside-keras-partial").exists()


def test_generate_acdc(tmp_path):
    rng = random.Random(SEED + 1)
    command = [*CLI, "generate", "acdc", "--patients", "4"]
    duration = timed_run([*command, "--out", str(tmp_path / "whole")])
    kill_and_rerun([*command, "--out", str(tmp_path / "killed")], duration, rng)
    assert tree(tmp_path / "killed") == tree(tmp_path / "whole")


def test_prepare_clevr_seg(tmp_path):
    rng = random.Random(SEED + 2)
    source = tmp_path / "clevr"
    timed_run([*CLI, "generate", "clevr-seg", "--out", str(source), "--n", "150", "--size", "64"])
    command = [*CLI, "prepare", "clevr-seg", "--source", str(source), "--condition", "colour"]
    duration = timed_run([*command, "--out", str(tmp_path / "whole.npz")])
    kill_and_rerun([*command, "--out", str(tmp_path / "killed.npz")], duration, rng)
    with np.load(tmp_path / "whole.npz") as whole, np.load(tmp_path / "killed.npz") as killed:
        assert whole.files == killed.files
        for key in whole.files:
            np.testing.assert_array_equal(whole[key], killed[key])


def test_reproduce(tmp_path):
    """Killed while generating, preparing or training (any of the method runs), the rerun
    finishes every method with each epoch logged once."""
    epochs, images = 3, 120
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "evaluation": "clevr-seg",
                "experiment": {
                    "data": {"generate": {"dataset": "clevr-seg", "images": images, "size": 32}},
                    "model": {"architecture": "encoder_decoder"},
                    "training": {"epochs": epochs, "batch_size": 16, "patience": 10},
                },
                "methods": {
                    name: {"model.conditioning": name} for name in ("none", "film", "inside")
                },
            }
        )
    )
    out, data = tmp_path / "out", tmp_path / "data"
    command = [*CLI, "reproduce", "clevr-seg", "--config", str(spec), "--out", str(out)]
    command += ["--data", str(data), "--jobs", "2"]
    # The moment: while the data is generated, or once k epochs of all runs are logged.
    k = random.Random(SEED + 3).randint(-1, 3 * epochs - 1)

    def moment():
        if k < 0:
            return any(data.glob("**/*.partial/images/*.png"))
        logs = [path.read_text().count("\n") - 1 for path in out.glob("*/log.csv")]
        return bool(logs) and sum(logs) >= k

    assert killed_run(command, when=moment), "reproduce ended before the moment came"
    timed_run(command)
    results = json.loads((out / "results.json").read_text())
    assert sorted(results["methods"]) == ["film", "inside", "none"]
    for method in results["methods"]:
        lines = (out / method / "log.csv").read_text().splitlines()
        assert [line.split(",")[0] for line in lines[1:]] == [str(e) for e in range(epochs)]
    (prepared,) = data.rglob("*.npz")
    with np.load(prepared) as arrays:
        assert len(arrays["x"]) == images
