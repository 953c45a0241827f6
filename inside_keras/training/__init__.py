"""Training: the one loop (`loop`: `fit_experiment`, and `train`, the `train` command's
run), the network an experiment describes (`network`), its batches on the devices
(`batches`), the loop's callbacks, and the checkpoint format (`checkpoint`) that
`train --resume` and restored sweep trials read.

The names below are imported when first used, as `inside_keras` does its layers, so that
importing a light submodule (`inside_keras.training.checkpoint`) imports no Keras."""

import importlib

#: Public name -> the submodule that defines it.
_DEFINED_IN = {
    "TrainingDiverged": "callbacks",
    "check_same_config": "loop",
    "fit_experiment": "loop",
    "run_is_finished": "loop",
    "train": "loop",
    "build_model": "network",
    "compile_model": "network",
    "num_classes_of": "network",
    "precision_optimizer": "network",
}

__all__ = sorted(_DEFINED_IN)


def __getattr__(name):
    if name in _DEFINED_IN:
        module = importlib.import_module(f"inside_keras.training.{_DEFINED_IN[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'inside_keras.training' has no attribute {name!r}")
