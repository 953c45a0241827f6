"""`train`'s TensorBoard logs on the session's backend, read back with TensorBoard's own
reader (the `tensorboard` package, which needs no TensorFlow).

On JAX and PyTorch the command runs with TensorFlow blocked (importing it raises, as in
nox's venvs of those backends, which do not hold it): the writer (tensorboardX) and the
images need none. The images' size is one no network depth divides, so the maps come
from a padded network. What a run's logs hold in full, MLflow and sweeps:
tests/cli/test_watch.py.
"""

import csv
import os
import subprocess

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.runs import CLI, cli_without, tiny_dataset, write_config

#: Two epochs of a tiny U-Net, with its first compilation.
TIMEOUT = 600


def _events(folder):
    accumulator = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def _scalars(accumulator, tag):
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def test_train_logs_scalars_and_images_on_this_backend(tmp_path):
    out = tmp_path / "run"
    data = tiny_dataset(tmp_path / "data.npz", n=40, size=18)  # 18 px: padded to 20
    config = write_config(tmp_path, 2, out, data=data, images_every=1)
    config.write_text(
        config.read_text().replace(
            "{architecture: encoder_decoder, conditioning: inside}",
            "{architecture: unet, depth: 2, base_filters: 4, placement: "
            "{enc0: film, dec0: inside, dec1: inside}}",
        )
    )
    backend = os.environ["KERAS_BACKEND"]
    command = CLI if backend == "tensorflow" else cli_without("tensorflow")
    run = subprocess.run(
        [*command, "train", "--config", str(config), "--quiet"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr == ""

    with open(out / "log.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 2
    train, validation = _events(out / "tensorboard/train"), _events(out / "tensorboard/validation")
    metrics = ("loss", "dice", "dice_soft")
    assert sorted(train.Tags()["scalars"]) == sorted(
        [*(f"epoch_{name}" for name in metrics), "epoch_learning_rate"]
    )
    assert sorted(validation.Tags()["scalars"]) == sorted(f"epoch_{name}" for name in metrics)
    for name in metrics:  # the epochs' values of log.csv, at the number of finished epochs
        assert _scalars(train, f"epoch_{name}") == [
            (int(row["epoch"]) + 1, pytest.approx(float(row[name]))) for row in rows
        ]
        assert _scalars(validation, f"epoch_{name}") == [
            (int(row["epoch"]) + 1, pytest.approx(float(row[f"val_{name}"]))) for row in rows
        ]
    assert _scalars(train, "epoch_learning_rate") == [
        (step, pytest.approx(1e-3)) for step in (1, 2)
    ]

    # One attention image per INSIDE level (FiLM has none), and the predictions figure.
    assert train.Tags()["images"] == []
    assert sorted(validation.Tags()["images"]) == [
        "attention/dec0",
        "attention/dec1",
        "predictions",
    ]
    for tag in validation.Tags()["images"]:
        images = validation.Images(tag)
        assert [image.step for image in images] == [1, 2]
        assert all(image.encoded_image_string.startswith(b"\x89PNG") for image in images)
    for tag in ("attention/dec0", "attention/dec1"):  # 4 square maps side by side
        image = validation.Images(tag)[0]
        assert image.width == 4 * image.height
