"""Ray Tune sweeps over conditioning placement and INSIDE's Gaussian parametrisation.

- `spec`: the sweep specification (YAML), validated into a `SweepSpec`;
- `data`: the prepared data the trials share;
- `trainable`: the function trainable and its per-epoch Tune report callback;
- `runner`: Ray connection, Tuner (or restore), resources, fault tolerance;
- `report`: `trials.csv`, `best_config.yaml`, `sweep.png` and the printed table.

Needs the `tune` extra: `pip install "inside-keras[tune]"`.
"""
