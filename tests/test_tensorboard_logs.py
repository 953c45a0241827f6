"""`train`'s TensorBoard logs on the session's backend, read back with TensorBoard's own
reader (the `tensorboard` package, which needs no TensorFlow).

On JAX and PyTorch the command runs with TensorFlow blocked (importing it raises, as in
nox's venvs of those backends, which do not hold it): the writer (tensorboardX) and the
images need none. The images' size is one no network depth divides, so the maps come
from a padded network. What a run's logs hold in full, MLflow and sweeps:
tests/cli/test_watch.py.
"""

import os
import subprocess

from tests.runs import CLI, cli_without, tiny_dataset, write_config
from tests.tensorboard_events import check_epoch_scalars

#: Two epochs of a tiny U-Net, with its first compilation.
TIMEOUT = 600


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

    train, validation = check_epoch_scalars(out, epochs=2)

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
