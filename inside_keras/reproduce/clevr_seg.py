"""The comparison on CLEVR-Seg, coordinates condition, with the paper's encoder-decoder.

`reproduce_clevr_seg(settings, out_dir, data_dir)` makes sure prepared CLEVR-Seg data
exists (generating and preparing a synthetic set with the coordinates condition if
not), trains the encoder-decoder with each conditioning under identical settings,
scores the per-image test Dice and writes the files listed in
`inside_keras.reproduce.runner`.
"""

import dataclasses

import numpy as np

from inside_keras.config import ModelConfig
from inside_keras.data.ready import ClevrSegData, ensure_clevr_seg
from inside_keras.reproduce.runner import (
    METHODS,
    PreparedData,
    Reproduction,
    TrainingSettings,
    run_reproduction,
)

#: Test samples shown in the attention figures.
FIGURE_SAMPLES = 6


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReproduceSettings(TrainingSettings):
    """Data and training settings shared by all four methods on CLEVR-Seg.

    Args:
        images: number of synthetic images generated when no data is prepared.
        size: image side in pixels.
        **training: `TrainingSettings` (epochs, batch_size, learning_rate, loss,
            patience, seed).
    """

    images: int
    size: int

    def __post_init__(self):
        super().__post_init__()
        self.data  # noqa: B018 -- building the data settings checks them

    @property
    def data(self):
        """The `ClevrSegData` these settings generate and prepare."""
        return ClevrSegData(images=self.images, size=self.size, seed=self.seed)


#: The paper's setting: 4,000 images of 200x200, batch 32, up to 100 epochs, focal loss.
FULL = ReproduceSettings(images=4000, size=200, epochs=100, loss="focal")
#: Sized for a 2-core CPU (see README for times): 64x64 images, 10 epochs at a 3x
#: learning rate, BCE + soft Dice, since the paper's focal loss leaves INSIDE
#: all-background for the first epochs of a short run.
QUICK = ReproduceSettings(images=2000, size=64, epochs=10, learning_rate=3e-3)


def _quadrant_title(z):
    from inside_keras.data.clevr_seg.reader import CONDITIONS

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
        return PreparedData(ensure_clevr_seg(data_dir, self.settings.data, self.workers, verbose))

    def model_config(self, method):
        return ModelConfig(architecture="encoder_decoder", conditioning=METHODS[method])

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
