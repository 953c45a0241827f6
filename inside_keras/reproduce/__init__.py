"""The paper's comparison, regenerated: baseline, FiLM, Guide Me and INSIDE.

One module per job:

- `runner`: the dataset-independent part. A `Reproduction` describes one dataset
  (how to make sure prepared data exists, each method's experiment config, how test
  predictions are scored, which samples the figures show); `run_reproduction` trains
  the four methods under identical settings, scores them and writes `results.json`,
  `results.md` and the attention figures.
- `jobs`: the training itself, in parallel `inside-keras train` subprocesses.
- `clevr_seg`: CLEVR-Seg, coordinates condition, the paper's encoder-decoder
  (`reproduce_clevr_seg`, settings `QUICK` and `FULL`).
- `acdc`: ACDC (or phantoms), phase + slice-position condition, a U-Net, scored with
  the challenge's Dice and HD95 (`reproduce_acdc`, settings `ACDC_QUICK` and `ACDC_FULL`).

Finished runs are reused and unfinished ones resumed, so an interrupted `reproduce`
continues where it stopped.
"""

from inside_keras.reproduce.acdc import (
    ACDC_FULL,
    ACDC_QUICK,
    ACDCReproduction,
    ACDCSettings,
    reproduce_acdc,
)
from inside_keras.reproduce.clevr_seg import (
    FULL,
    QUICK,
    ClevrSegReproduction,
    ReproduceSettings,
    reproduce_clevr_seg,
)
from inside_keras.reproduce.runner import METHODS, PreparedData, Reproduction, run_reproduction

__all__ = [
    "ACDC_FULL",
    "ACDC_QUICK",
    "FULL",
    "METHODS",
    "QUICK",
    "ACDCReproduction",
    "ACDCSettings",
    "ClevrSegReproduction",
    "PreparedData",
    "ReproduceSettings",
    "Reproduction",
    "reproduce_acdc",
    "reproduce_clevr_seg",
    "run_reproduction",
]
