"""The comparison on CLEVR-Seg, coordinates condition, with the paper's encoder-decoder.

`reproduce_clevr_seg(settings, out_dir, data_dir)` makes sure prepared CLEVR-Seg data
exists (generating and preparing a synthetic set with the coordinates condition if
not), trains the encoder-decoder with each conditioning under identical settings,
scores the per-image test Dice and writes the files listed in
`inside_keras.reproduce.runner`.
"""

import dataclasses
from pathlib import Path

import numpy as np

from inside_keras.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    OutputConfig,
    TrainingConfig,
)
from inside_keras.reproduce.runner import METHODS, PreparedData, Reproduction, run_reproduction

#: Test samples shown in the attention figures.
FIGURE_SAMPLES = 6


@dataclasses.dataclass(frozen=True)
class ReproduceSettings:
    """Data and training settings shared by all four methods on CLEVR-Seg.

    Args:
        images: number of synthetic images generated when no data is prepared.
        size: image side in pixels.
        epochs: maximum epochs (early stopping as the paper: patience 25).
        batch_size: samples per step.
        learning_rate: Adam's learning rate.
        loss: loss name (`inside_keras.losses`).
        seed: data and training seed.
    """

    images: int
    size: int
    epochs: int
    batch_size: int = 32
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    seed: int = 0


#: The paper's setting: 4,000 images of 200x200, batch 32, up to 100 epochs, focal loss.
FULL = ReproduceSettings(images=4000, size=200, epochs=100, loss="focal")
#: Sized for a 2-core CPU (see README for times): 64x64 images, 10 epochs at a 3x
#: learning rate, BCE + soft Dice, since the paper's focal loss leaves INSIDE
#: all-background for the first epochs of a short run.
QUICK = ReproduceSettings(images=2000, size=64, epochs=10, learning_rate=3e-3)


def ensure_clevr_seg(data_dir, settings, workers=None, verbose=True):
    """Path of a prepared CLEVR-Seg (coordinates) file, generating it if missing.

    Args:
        data_dir: folder for the synthetic images and the prepared file.
        settings: `ReproduceSettings` (images, size, seed).
        workers: processes for generating and reading images; None uses every CPU.
            Workers are forked: pass 1 if a Keras backend is already loaded.
        verbose: print what is generated.
    """
    from inside_keras.data import clevr_prepare, clevr_seg, clevr_synthetic
    from inside_keras.data.parallel import default_workers
    from inside_keras.data.prepared import save_prepared

    workers = workers or default_workers()
    data_dir = Path(data_dir)
    prepared = data_dir / f"prepared_coordinates_{settings.size}px_{settings.images}.npz"
    if prepared.is_file():
        return prepared
    source = data_dir / f"synthetic_{settings.size}px_{settings.images}"
    if not (source / "images").is_dir():
        if verbose:
            print(f"generating {settings.images} synthetic CLEVR-Seg images in {source}")
        clevr_synthetic.generate(
            source,
            clevr_synthetic.GenerateOptions(
                n=settings.images, size=settings.size, seed=settings.seed, workers=workers
            ),
        )
    if verbose:
        print(f"preparing {prepared} (condition: coordinates)")
    options = clevr_prepare.PrepareOptions(
        "coordinates", size=settings.size, seed=settings.seed, workers=workers
    )
    result = clevr_prepare.prepare(clevr_seg.find_root(source), options)
    save_prepared(prepared, **result.arrays)
    return prepared


def method_config(method, data_path, settings, out_dir):
    """The experiment config of one method; all methods differ only in conditioning."""
    return ExperimentConfig(
        data=DataConfig(path=str(data_path)),
        model=ModelConfig(architecture="encoder_decoder", conditioning=METHODS[method]),
        training=TrainingConfig(
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            learning_rate=settings.learning_rate,
            loss=settings.loss,
            seed=settings.seed,
        ),
        output=OutputConfig(dir=str(Path(out_dir) / method)),
    )


def _quadrant_title(z):
    from inside_keras.data.clevr_seg import CONDITIONS

    return CONDITIONS["coordinates"][int(z.argmax())].replace("_", " ")


@dataclasses.dataclass(frozen=True)
class ClevrSegReproduction(Reproduction):
    """CLEVR-Seg with the coordinates condition and the paper's encoder-decoder.

    Args:
        settings: `ReproduceSettings` shared by all methods.
        workers: data worker processes (see `ensure_clevr_seg`).
    """

    settings: ReproduceSettings
    workers: int | None = None

    dataset = "clevr-seg"

    def ensure_data(self, data_dir, verbose):
        return PreparedData(ensure_clevr_seg(data_dir, self.settings, self.workers, verbose))

    def method_config(self, method, data, out_dir):
        return method_config(method, data.path, self.settings, out_dir)

    def score(self, labels, test, data):
        from inside_keras.evaluation import dice_scores, truth_labels

        scores = dice_scores(labels, truth_labels(test), num_classes=1)
        return {"dice": scores["dice"], "dice_std": float(np.std(scores["per_image"]))}

    def figure_samples(self, test):
        indices = np.arange(min(FIGURE_SAMPLES, len(test["x"])))
        return indices, [_quadrant_title(test["z"][i]) for i in indices]

    def describe(self):
        settings = self.settings
        return f"{settings.images} images of {settings.size}px, up to {settings.epochs} epochs"


def reproduce_clevr_seg(settings, out_dir, data_dir, workers=None, jobs=None, verbose=1):
    """Run the comparison on CLEVR-Seg; returns the results dict (see the runner's docstring).

    Args:
        settings: `ReproduceSettings` shared by all methods.
        out_dir: results folder.
        data_dir: folder for the generated and prepared data (reused when present).
        workers: data worker processes (see `ensure_clevr_seg`).
        jobs: methods trained at once (see `train_methods`); None: one per CPU.
        verbose: print progress (data, jobs starting and ending, test Dice).
    """
    return run_reproduction(
        ClevrSegReproduction(settings, workers), out_dir, data_dir, jobs=jobs, verbose=verbose
    )
