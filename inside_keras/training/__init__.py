"""Training: the one loop (`loop`: `fit_experiment`, and `train`, the `train` command's
run), the network an experiment describes (`network`), its batches on the devices
(`batches`), the loop's callbacks, and the checkpoint format (`checkpoint`) that
`train --resume` and restored sweep trials read."""

from inside_keras.training.callbacks import TrainingDiverged
from inside_keras.training.loop import check_same_config, fit_experiment, run_is_finished, train
from inside_keras.training.network import (
    build_model,
    compile_model,
    num_classes_of,
    precision_optimizer,
)

__all__ = [
    "TrainingDiverged",
    "build_model",
    "check_same_config",
    "compile_model",
    "fit_experiment",
    "num_classes_of",
    "precision_optimizer",
    "run_is_finished",
    "train",
]
