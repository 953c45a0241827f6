"""What a sweep leaves: the best trial's config for `inside-keras train --config`, the figure."""

import math

import yaml

from inside_keras.config import load_config
from inside_keras.sweep.report import TrialRow, plot_sweep, write_best_config
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


def test_plot_sweep_writes_a_png_atomically(tmp_path):
    spec = load_spec(write_spec(tmp_path, tmp_path / "d.npz"))
    rows = [
        TrialRow(
            f"t{i}",
            "TERMINATED",
            {
                "model.placement": placement,
                "model.conditioning_options.sigma_penalty": penalty,
                "model.conditioning_options.kernel": kernel,
            },
            3 - i % 2,
            bool(i % 2),
            best,
            {},
            ("n",),
        )
        for i, (placement, penalty, kernel, best) in enumerate(
            [
                ("all", 1e-3, "laplace", 0.6),
                ("bottleneck", 1e-4, "gaussian", 0.4),
                ("all", 5e-3, "gaussian", math.nan),
            ]
        )
    ]
    out = tmp_path / "figures"
    out.mkdir()
    path = plot_sweep(rows, spec, out / "sweep.png")
    assert path == out / "sweep.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert [p.name for p in out.iterdir()] == ["sweep.png"]  # no temporary file left
