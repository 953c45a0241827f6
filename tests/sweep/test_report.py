"""The best trial's config, written for `inside-keras train --config`."""

import yaml

from inside_keras.config import load_config
from inside_keras.sweep.report import TrialRow, write_best_config
from inside_keras.sweep.spec import load_spec
from tests.sweep.specs import write_spec


def test_best_config_is_yaml_for_train(tmp_path):
    spec = load_spec(write_spec(tmp_path, tmp_path / "d.npz"))
    row = TrialRow(
        "t1",
        "TERMINATED",
        {
            "model.placement": "all",
            "model.conditioning_options.sigma_penalty": 1e-3,
            "model.conditioning_options.kernel": "laplace",
        },
        3,
        False,
        0.5,
        {},
        ("n",),
    )
    write_best_config(row, spec, tmp_path / "d.npz", tmp_path, tmp_path / "best.yaml")
    data = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert set(data) == {"data", "model", "training", "output"}
    assert data["model"]["conditioning_options"] == {"sigma_penalty": 1e-3, "kernel": "laplace"}
    config = load_config(tmp_path / "best.yaml")
    assert config.model.placement == "all" and config.output.dir == str(tmp_path / "best_run")
    assert config.data.path == str((tmp_path / "d.npz").resolve())
