"""A small valid sweep spec for tests, as plain data, and a writer for spec files."""

import copy

import yaml

from inside_keras.sweep.spec import deep_merge

SMALL_SPEC = {
    "experiment": {
        "data": {"path": "data.npz"},
        "model": {"architecture": "unet", "depth": 2, "base_filters": 4, "norm": None},
        "training": {"epochs": 3, "batch_size": 8, "learning_rate": 0.01},
    },
    "metric": "val_dice",
    "mode": "max",
    "space": {
        "model.placement": {"grid": ["bottleneck", "all"]},
        "model.conditioning_options.sigma_penalty": {"loguniform": [1.0e-4, 1.0e-2]},
        "model.conditioning_options.kernel": {"choice": ["gaussian", "laplace"]},
    },
    "search": {"num_samples": 1, "seed": 0},
    "scheduler": {"name": "asha", "grace_period": 1, "reduction_factor": 2},
    "resources": {"cpus_per_trial": 1},
    "max_failures": 1,
}


def write_spec(folder, data_path, changes=None, spec=None):
    """Write `SMALL_SPEC` (or `spec`) with `changes` merged in to `folder/spec.yaml`."""
    data = deep_merge(copy.deepcopy(spec or SMALL_SPEC), changes or {})
    data["experiment"]["data"] = {"path": str(data_path)}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
